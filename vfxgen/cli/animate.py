"""`vfxgen animate`: an image (its alpha too, if it has one) to an RGBA shot, with any CogVideoX model.

vfxgen animate element.png "burning fire" -o shots/element
vfxgen animate element.png -o shots/element "gentle flicker" --model CogVideoX-5b-I2V --lora i2v.safetensors

Image-to-video models use their native image conditioning; text-to-video models (the bundled demo,
CogVideoX-2B/5B with the released LoRA) pin the first frame by replacement (`vfxgen.pipelines.conditioning`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt


def animate(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="Input still: PNG/EXR/TIFF/JPEG; RGBA keeps its alpha.")],
    prompt: Annotated[str | None, typer.Argument(help="What should happen, e.g. 'flames flicker'.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Shot directory.")] = Path("shot"),
    preset: opt.Preset = None,
    presets_dir: opt.PresetsDir = None,
    model: opt.Model = None,
    lora: opt.Lora = None,
    frames: opt.Frames = None,
    steps: opt.Steps = None,
    guidance: opt.Guidance = None,
    seed: opt.Seed = None,
    negative: opt.Negative = None,
    fps: opt.Fps = None,
    attention: opt.Attention = "transpixar",
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
    conditioning: opt.ConditioningMode = "auto",
    strength: opt.Strength = 1.0,
    resample: opt.Resample = 0,
    fit: opt.Fit = "pad",
) -> None:
    """Animate a still into an RGBA element.

    Image-to-video models: native conditioning, the shot size is the image's. Text-to-video models (the
    bundled demo, CogVideoX-5B + the released LoRA): the first frame is pinned to the still by replacement
    at every step, the shot has the model's native size (the still is fitted to it, --fit).

    \b
    Examples:
      vfxgen animate fire.png "burning fire" -o shots/fire
      vfxgen animate fire.exr "burning fire" -o shots/fire --strength 0.8 --fit fill
    """
    from vfxgen.cli.shots import build_jobs, run_and_report
    from vfxgen.io.images import read_image
    from vfxgen.pipelines.conditioning import Conditioning
    from vfxgen.pipelines.model_dirs import file_sha256, resolve_model

    cond = Conditioning(mode=conditioning, strength=strength, resample=resample, fit=fit)
    cond = cond.resolved(resolve_model(model).image_to_video)  # cheap: checked before any weights load
    still = read_image(image)
    _check_still(still, image)  # before any shot starts: nothing half-made for a still that cannot work
    native = cond.mode == "native"
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=None,
        output=output,
        preset=preset,
        presets_dir=presets_dir,
        settings=opt.request_settings(
            ctx.params,
            height=int(still.shape[0]) if native else None,
            width=int(still.shape[1]) if native else None,
        ),
        image=still,
        model=model,
        run=lambda pipeline, request, progress: pipeline.animate(still, request, progress, cond),
        # --resume compares these with the finished shot: where the still is, what it holds, how it was pinned.
        extra={
            "input_image": str(Path(image).resolve()),
            "input_sha256": file_sha256(Path(image)),
            "conditioning": cond.record(),
        },
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
        image_to_video=None,  # the model's own kind
    )


def _check_still(still, image) -> None:
    import numpy as np

    from vfxgen.errors import InputError
    from vfxgen.shapes import check_conditioning_image

    if not np.isfinite(still).all():
        raise InputError(f"{image} has NaN or inf pixels", "fix or clamp the still (e.g. in Nuke: Expression isnan)")
    check_conditioning_image(still.shape[0], still.shape[1], f"the still {image}")
