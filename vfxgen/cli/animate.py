"""`vfxgen animate`: an image (its alpha too, if it has one) to an RGBA shot, with an image-to-video model.

vfxgen animate element.png -o shots/element "gentle flicker" --model CogVideoX-5b-I2V --lora i2v.safetensors
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.cli.app import register


def animate(
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
) -> None:
    """Animate a still into an RGBA element; the shot size is the image's size."""
    from vfxgen.cli.shots import build_jobs, run_and_report
    from vfxgen.io.images import read_image

    still = read_image(image)
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=None,
        output=output,
        preset=preset,
        presets_dir=presets_dir,
        settings=dict(
            frames=frames,
            height=int(still.shape[0]),
            width=int(still.shape[1]),
            steps=steps,
            guidance=guidance,
            seed=seed,
            negative_prompt=negative,
            fps=fps,
            alpha_reduce=alpha_reduce,
            rgb=rgb,
            noise=noise,
            dynamic_cfg=dynamic_cfg,
        ),
        image=still,
        model=model,
    )
    jobs[0].request.extra["input_image"] = str(image)
    run_and_report(
        jobs,
        load=dict(
            model=model,
            lora=lora,
            attention=attention,
            recipe=recipe,
            scheduler=scheduler,
            timestep_spacing=timestep_spacing,
            device=device,
            dtype=dtype,
            offload=offload,
            vae_tiling=vae_tiling,
            vae_slicing=vae_slicing,
            cache=cache,
            compile=compile_model,
        ),
        shot=dict(
            formats=formats,
            start_frame=start_frame,
            exr_compression=compression,
            allow_lossy=allow_lossy,
            prores_alpha=alpha,
            colorspace=colorspace,
        ),
        overwrite=overwrite,
        resume=resume,
        json_out=json_out,
        image_to_video=True,
    )


register("animate", animate)
