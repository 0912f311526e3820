"""`vfxgen generate`: text to an RGBA shot (EXR + manifest + preview + contact sheet by default).

vfxgen generate "burning fireball" -o shots/fireball
vfxgen generate --preset smoke -o shots/smoke --seed 3
vfxgen generate --prompts shots.txt -o shots/ --format exr,prores
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vfxgen.cli import options as opt
from vfxgen.errors import UsageError


@opt.with_settings("generate")
def generate(
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Argument(help="What to generate, e.g. 'burning fireball'.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Shot directory (with --prompts: a root).")] = Path(
        "shot"
    ),
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help="Shot list: .txt (one prompt per line), .toml ([[shot]]) or .json."),
    ] = None,
    seeds: Annotated[
        str | None, typer.Option("--seeds", help="Seed wedge, e.g. 1-8: one shot per seed, named NAME_seedNNNN.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option("--shard", help="I/N: this farm task makes shard I of N of the shot list.")
    ] = None,
    **settings: Any,
) -> None:
    """Generate an RGBA element from text and write it as a shot directory.

    \b
    Examples:
      vfxgen generate "burning fireball" -o shots/fireball
      vfxgen generate --preset smoke --seed 3 -o shots/smoke --format exr,nk,prores,preview,contact
      vfxgen generate --prompts shots.toml -o elements/ --seeds 0-3 --resume
    """
    from vfxgen.cli.shots import build_jobs, run_and_report

    given = opt.command_settings("generate", settings)  # every option from vfxgen.request.SETTINGS, checked once
    run = given.run
    if prompts is None and not prompt and run["preset"] is None:
        raise UsageError("no prompt given", 'pass a prompt ("burning fireball"), --preset NAME or --prompts FILE')
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=prompts,
        output=output,
        preset=run["preset"],
        presets_dir=run["presets_dir"],
        settings=given.request,
        seeds=seeds,
        shard=shard,
        model=run["model"],
    )
    run_and_report(
        jobs,
        given,
        image_to_video=False,
        timeline=output if prompts is not None else None,
    )
