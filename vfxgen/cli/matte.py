"""`vfxgen matte`: an RGB clip (an element shot on black) in, the same colour plus a generated alpha out.

vfxgen matte stock/fire.####.exr "burning fire" -o shots/fire_matte
vfxgen matte smoke_on_black.mov --preset smoke -o shots/smoke_matte
vfxgen matte plume.mov "black smoke" -o shots/restyled --strength 0.6

The RGB half of the TransPixar latents is pinned to the footage at every denoising step while the alpha
half is generated attending to it (`vfxgen.pipelines.conditioning`). Clips of another size are fitted to
the model's native size (--fit) and the alpha mapped back; longer clips run in windows of the model's
frame count that share --overlap frames, cross-faded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.errors import OutputError


def matte(
    ctx: typer.Context,
    clip: Annotated[
        str,
        typer.Argument(
            help="RGB footage: a movie, an image sequence (shot.####.exr, dir/), a shot directory; "
            "path:first-last for a range. Colour over black (an element shot on black)."
        ),
    ],
    prompt: Annotated[str | None, typer.Argument(help="What the element is, e.g. 'burning fire' (optional).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Shot directory.")] = Path("shot"),
    preset: opt.Preset = None,
    presets_dir: opt.PresetsDir = None,
    model: opt.Model = None,
    lora: opt.Lora = None,
    steps: opt.Steps = None,
    guidance: opt.Guidance = None,
    seed: opt.Seed = None,
    negative: opt.Negative = None,
    fps: Annotated[float | None, typer.Option("--fps", help="Frame rate (default: the clip's own).")] = None,
    attention: opt.Attention = "transpixar",
    device: opt.Device = None,
    dtype: opt.Dtype = None,
    offload: opt.Offload = "none",
    vae_tiling: opt.VaeTiling = False,
    vae_slicing: opt.VaeSlicing = False,
    formats: opt.Formats = "exr,nk,preview,contact",
    colorspace: opt.ColorSpace = "lin_rec709_scene",
    start_frame: opt.StartFrame = 1001,
    compression: opt.Compression = "zip",
    allow_lossy: opt.AllowLossy = False,
    alpha: opt.AlphaMode = "straight",
    alpha_reduce: opt.AlphaReduce = None,
    noise: opt.Noise = None,
    dynamic_cfg: opt.DynamicCfg = None,
    recipe: opt.Recipe = None,
    scheduler: opt.Scheduler = None,
    timestep_spacing: opt.TimestepSpacing = None,
    strength: opt.Strength = 1.0,
    resample: opt.Resample = 0,
    fit: opt.Fit = "pad",
    overlap: Annotated[
        int | None,
        typer.Option("--overlap", help="Frames shared by consecutive windows (default: a quarter of the model's)."),
    ] = None,
    replace_alpha: Annotated[
        bool,
        typer.Option(
            "--replace-alpha", help="The clip has an alpha already: flatten it over black and generate a new one."
        ),
    ] = False,
    overwrite: opt.Overwrite = False,
    resume: opt.Resume = False,
    json_out: opt.JsonOut = False,
) -> None:
    """Pull a matte: RGB footage in, the same colour plus a generated matching alpha out, as a shot.

    The colour is the input's bit for bit (at --strength 1); a clip that already has alpha is refused
    unless --replace-alpha.

    \b
    Examples:
      vfxgen matte fire_on_black.mov "burning fire" -o shots/fire
      vfxgen matte plates/fire.####.exr "burning fire" -o shots/fire --overlap 2
    """
    from vfxgen.cli.shots import build_jobs, run_and_report
    from vfxgen.io import read_footage, source_paths
    from vfxgen.io.safety import refuse_unsafe_output
    from vfxgen.pipelines.conditioning import (
        Conditioning,
        default_overlap,
        footage_over_black,
        plan_windows,
        pull_matte,
    )
    from vfxgen.pipelines.model_dirs import resolve_model

    cond = Conditioning(mode="replace", strength=strength, resample=resample, fit=fit, overlap=overlap).checked()
    inputs = source_paths(clip)
    refuse_unsafe_output(output, inputs)
    if any(Path(p).resolve() == output.resolve() for p in inputs):
        raise OutputError(f"-o {output} is the input itself", "write the shot somewhere else")
    inside = [p for p in inputs if Path(p).is_dir() and Path(p).resolve() in output.resolve().parents]
    if inside:  # as export refuses: a shot among the footage's frames mixes deliverables into the plates
        raise OutputError(f"-o {output} is inside the input {inside[0]}", "write the shot outside the footage folder")
    footage = read_footage(clip, fps)
    from vfxgen.shapes import check_conditioning_image

    check_conditioning_image(footage.height, footage.width, f"the clip {clip}")
    footage_over_black(footage, replace_alpha)  # refuse a clip with alpha before the model loads
    frames = resolve_model(model).sample_frames  # cheap: the windows are checked before the model loads
    plan_windows(footage.num_frames, frames, default_overlap(frames) if overlap is None else overlap)
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=None,
        output=output,
        preset=preset,
        presets_dir=presets_dir,
        settings=opt.request_settings(ctx.params, fps=footage.fps),
        model=model,
        run=lambda pipeline, request, progress: pull_matte(pipeline, footage, request, progress, cond, replace_alpha),
        # --resume compares these with the finished shot (the clip by its resolved path, not its content).
        extra={"input_clip": str(Path(clip).resolve()), "conditioning": cond.record(replace_alpha=replace_alpha)},
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
        image_to_video=None,  # any model: the I2V pipeline also gets the first frame as its image
    )

