"""`vfxgen generate`: text to an RGBA shot (EXR + manifest + preview + contact sheet by default).

vfxgen generate "burning fireball" -o shots/fireball
vfxgen generate --preset smoke -o shots/smoke --seed 3
vfxgen generate --prompts shots.txt -o shots/ --format exr,prores
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.errors import UsageError


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
    preset: opt.Preset = None,
    presets_dir: opt.PresetsDir = None,
    model: opt.Model = None,
    lora: opt.Lora = None,
    frames: opt.Frames = None,
    height: opt.Height = None,
    width: opt.Width = None,
    steps: opt.Steps = None,
    guidance: opt.Guidance = None,
    seed: opt.Seed = None,
    negative: opt.Negative = None,
    fps: opt.Fps = None,
    attention: opt.Attention = "transpixar",
    official_mask: opt.OfficialMask = False,
    device: opt.Device = None,
    dtype: opt.Dtype = None,
    offload: opt.Offload = "none",
    vae_tiling: opt.VaeTiling = False,
    vae_slicing: opt.VaeSlicing = False,
    cache: opt.Cache = "none",
    compile_model: opt.Compile = False,
    formats: opt.Formats = "exr,nk,preview,contact",
    colorspace: opt.ColorSpace = "lin_rec709_scene",
    start_frame: opt.StartFrame = 1001,
    compression: opt.Compression = "zip",
    allow_lossy: opt.AllowLossy = False,
    alpha: opt.AlphaMode = "straight",
    alpha_reduce: opt.AlphaReduce = None,
    rgb: opt.RgbConvention = None,
    noise: opt.Noise = None,
    dynamic_cfg: opt.DynamicCfg = None,
    recipe: opt.Recipe = None,
    scheduler: opt.Scheduler = None,
    timestep_spacing: opt.TimestepSpacing = None,
    overwrite: opt.Overwrite = False,
    resume: opt.Resume = False,
    json_out: opt.JsonOut = False,
) -> None:
    """Generate an RGBA element from text and write it as a shot directory.

    \b
    Examples:
      vfxgen generate "burning fireball" -o shots/fireball
      vfxgen generate --preset smoke --seed 3 -o shots/smoke --format exr,nk,prores,preview,contact
      vfxgen generate --prompts shots.toml -o elements/ --seeds 0-3 --resume
    """
    from vfxgen.cli.shots import build_jobs, run_and_report

    if prompts is None and not prompt and preset is None:
        raise UsageError("no prompt given", 'pass a prompt ("burning fireball"), --preset NAME or --prompts FILE')
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=prompts,
        output=output,
        preset=preset,
        presets_dir=presets_dir,
        settings=opt.request_settings(ctx.params),
        seeds=seeds,
        shard=shard,
        model=model,
    )
    run_and_report(
        jobs,
        model,
        lora,
        opt.load_options(ctx.params),  # --attention, --device, --offload, ... picked by name
        opt.shot_options(ctx.params),
        overwrite=overwrite,
        resume=resume,
        json_out=json_out,
        image_to_video=False,
        timeline=output if prompts is not None else None,
    )
