"""The shot commands' options, derived from the settings table (`vfxgen.request.SETTINGS`), and the split of
a command's parsed values into the library's option objects.

`@with_settings("generate")` gives a command function (`def generate(ctx, prompt, ..., **settings)`) one
Typer option per setting that command offers, with the table's flag, type, default and help: a new setting
is declared once, never typed into a command signature. Request settings are None on the command line
when not given, so a preset or the model's recipe can still fill them (`vfxgen.settings.resolve_request`).
Other commands reuse single options through `option("colorspace")` and the aliases below.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vfxgen.request import Setting, setting, settings_of, split_settings

if TYPE_CHECKING:
    from vfxgen.pipelines.conditioning import Conditioning
    from vfxgen.request import LoadOptions
    from vfxgen.shot import ShotOptions


def option(name: str, command: str = "") -> Any:
    """The `Annotated` Typer type of one setting's option (its flag and help from the table)."""
    return _annotated(setting(name), command)


def _annotated(decl: Setting, command: str) -> Any:
    kind = decl.kind
    if decl.layer == "request" and decl.default is not None:
        kind = kind | None  # not given = None: the preset, then the recipe, then the default decide
    return Annotated[kind, typer.Option(decl.flag, help=_help(decl, command))]


def _help(decl: Setting, command: str) -> str:
    """The setting's help; `--format` lists the shot formats the registry has (plugins included)."""
    if decl.name == "formats":
        from vfxgen.io.registry import formats_help

        return f"Comma list of outputs: {formats_help(shot=True)}."
    return decl.help_for(command)


def with_settings(command: str) -> Callable:
    """Give `command`'s function a Typer option for every setting it offers; its own `**settings` receives them.

    Typer reads parameters from `inspect.signature`, so the derived ones are written into `__signature__`
    after the function's own (prompt, -o, ...); the function is called with all of them as keywords.
    """

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        derived = [
            inspect.Parameter(
                decl.parameter,
                inspect.Parameter.KEYWORD_ONLY,
                default=None if decl.layer == "request" else decl.default,
                annotation=_annotated(decl, command),
            )
            for decl in settings_of(command)
        ]
        func.__signature__ = signature.replace(parameters=[*own, *derived])
        func.__annotations__ = {**func.__annotations__, **{p.name: p.annotation for p in derived}}
        return func

    return decorate


@dataclass
class CommandSettings:
    """A shot command's settings, split by layer and each built once: `request` holds only what was given
    (field name -> value) for `resolve_request`; the others are the library's option objects."""

    request: dict[str, Any]
    load: LoadOptions
    shot: ShotOptions
    conditioning: dict[str, Any]
    run: dict[str, Any]

    def make_conditioning(self, **fixed: Any) -> Conditioning:
        from vfxgen.pipelines.conditioning import Conditioning

        return Conditioning(**{**self.conditioning, **fixed})


def command_settings(command: str, values: Mapping[str, Any]) -> CommandSettings:
    """Split a command's `**settings` (parameter names) into the layers, checking the load and shot
    options once (every refusal before any file is read or weights load)."""
    from vfxgen.request import LoadOptions
    from vfxgen.shot import ShotOptions, parse_formats

    layers = split_settings(values, command, f"vfxgen {command}")
    shot = layers["shot"]
    return CommandSettings(
        request={name: value for name, value in layers["request"].items() if value is not None},
        load=LoadOptions(**layers["load"]).checked(),
        shot=ShotOptions(**{**shot, "formats": parse_formats(shot["formats"])}).checked(),
        conditioning=layers["conditioning"],
        run=layers["run"],
    )


# Single options for the commands that take a few of the shot settings (export, composite, presets, qc).
Overwrite = option("overwrite")
JsonOut = option("json")
Model = option("model")
Lora = option("lora")
PresetsDir = option("presets_dir")
ColorSpace = option("colorspace")
StartFrame = option("start_frame")
Compression = option("compression")
AllowLossy = option("allow_lossy")
AlphaMode = option("alpha")
Fps = option("fps", "matte")  # export relabels like matte: the source's own rate unless given
