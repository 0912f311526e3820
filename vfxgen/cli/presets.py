"""`vfxgen presets list|show`: see which presets exist (built-in, `$VFXGEN_PRESETS`, --presets-dir)
and exactly what a preset will do before spending GPU time on it.

vfxgen presets list
vfxgen presets list --presets-dir ~/show/presets
vfxgen presets show fire
vfxgen presets show fire --subject "dragon breath" --json
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from vfxgen.cli import options as opt

presets_app = typer.Typer(
    name="presets",
    help="List and inspect presets: prompt templates with generation defaults and look hints (TOML).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def list_cmd(
    presets_dir: opt.PresetsDir = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print every preset's settings as JSON.")] = False,
) -> None:
    """List presets: name and description (a table on a terminal, plain lines otherwise).

    \b
    Examples:
      vfxgen presets list
      vfxgen presets list --presets-dir ~/show/presets --json
    """
    from vfxgen.presets import list_presets

    presets = list_presets(presets_dir)
    if json_out:
        typer.echo(json.dumps([p.to_dict() for p in presets], indent=2))
        return
    if sys.stdout is not None and sys.stdout.isatty():  # None: stdout closed (>&-)
        from rich.console import Console
        from rich.table import Table

        table = Table("name", "description", "source", box=None, header_style="bold")
        for p in presets:
            table.add_row(p.name, p.description, "built-in" if p.builtin else p.source)
        Console(highlight=False, emoji=False, markup=False).print(table)
        return
    width = max((len(p.name) for p in presets), default=0)
    for p in presets:
        typer.echo(f"{p.name:<{width}}  {p.description}")


def show_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Preset name, or a path to a .toml file.")],
    presets_dir: opt.PresetsDir = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Render the prompt with this subject (default: the preset's).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
    model: opt.Model = None,
    lora: opt.Lora = None,
    resolve: Annotated[
        bool,
        typer.Option(
            "--resolve", help="Print the request `generate --preset NAME` makes with --model (default: bundled)."
        ),
    ] = False,
) -> None:
    """Show a preset's settings: where it comes from, its prompt (rendered), negative, defaults and look.

    With --model (or --resolve for the bundled model): exactly what `vfxgen generate --preset NAME` would
    run with that model: its prompt style, the preset's defaults and the model's RGBA recipe applied.

    \b
    Examples:
      vfxgen presets show fire
      vfxgen presets show fire --subject "dragon breath" --resolve
    """
    from vfxgen.presets import describe, load_preset

    preset = load_preset(name, presets_dir)
    if resolve or model is not None or lora is not None:
        rows = resolved_rows(preset, subject, model, lora)
        if json_out:
            typer.echo(json.dumps(dict(rows), indent=2))
            return
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            typer.echo(f"{key:<{width}}  {value if value is not None else 'model native'}")
        return
    if json_out:
        typer.echo(json.dumps({**preset.to_dict(), "rendered_prompt": preset.render_prompt(subject)}, indent=2))
        return
    rows = describe(preset)
    if subject:
        rows = [("example", preset.render_prompt(subject)) if k == "example" else (k, v) for k, v in rows]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")


def resolved_rows(preset, subject, model, lora) -> list[tuple[str, object]]:
    """(field, value) of the request `generate` makes: the same `resolve_request` + model recipe."""
    from vfxgen.pipelines.model_dirs import resolve_lora, resolve_model
    from vfxgen.request import LoadOptions
    from vfxgen.settings import resolve_request

    info = resolve_model(model)
    recipe = LoadOptions().recipe_for(info, resolve_lora(lora, info))
    request = resolve_request(subject, info, preset=preset).resolved(info, recipe)
    fields = ("prompt", "negative_prompt", "seed", "steps", "guidance", "dynamic_cfg", "frames", "width", "height")
    rows = [("model", info.name), *((f, getattr(request, f)) for f in fields)]
    shaping = ("fps", "alpha_reduce", "rgb", "noise", "clear_black", "key_black", "key_white")
    rows += [(f, getattr(request, f)) for f in shaping]
    return [*rows, ("recipe", recipe.source), ("preset", preset.name)]


presets_app.command("list")(list_cmd)
presets_app.command("show")(show_cmd)
