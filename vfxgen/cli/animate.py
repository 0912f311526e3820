"""`vfxgen animate`: an image (its alpha too, if it has one) to an RGBA shot, with any CogVideoX model.

vfxgen animate element.png "burning fire" -o shots/element
vfxgen animate element.png -o shots/element "gentle flicker" --model CogVideoX-5b-I2V --lora i2v.safetensors

Image-to-video models use their native image conditioning; text-to-video models (the bundled demo,
CogVideoX-2B/5B with the released LoRA) pin the first frame by replacement (`vfxgen.pipelines.conditioning`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vfxgen.cli import options as opt


@opt.with_settings("animate")
def animate(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="Input still: PNG/EXR/TIFF/JPEG; RGBA keeps its alpha.")],
    prompt: Annotated[str | None, typer.Argument(help="What should happen, e.g. 'flames flicker'.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Shot directory.")] = Path("shot"),
    **settings: Any,
) -> None:
    """Animate a still into an RGBA element.

    Image-to-video models: native conditioning, the shot size is the image's. Text-to-video models (the
    bundled demo, CogVideoX-5B + the released LoRA): the first frame is pinned to the still by replacement
    at every step, the shot has the model's native size (the still is fitted to it, --fit).

    \b
    Examples:
      vfxgen animate fire.png "burning fire" -o shots/fire
      vfxgen animate fire.exr "burning fire" -o shots/fire --strength 0.8 --fit stretch
    """
    from vfxgen.cli.shots import build_jobs, run_and_report
    from vfxgen.io.images import read_image
    from vfxgen.pipelines.model_dirs import file_sha256, resolve_model
    from vfxgen.request import check_settings_apply

    given = opt.command_settings("animate", settings)  # every option from vfxgen.request.SETTINGS, checked once
    run = given.run
    info = resolve_model(run["model"])  # cheap: every conditioning choice is checked before weights load
    check_settings_apply(given.conditioning, info)
    cond = given.make_conditioning().resolved(info.image_to_video)
    still = read_image(image)
    _check_still(still, image)  # before any shot starts: nothing half-made for a still that cannot work
    native = cond.mode == "native"
    size = {"height": int(still.shape[0]), "width": int(still.shape[1])} if native else {}
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=None,
        output=output,
        preset=run["preset"],
        presets_dir=run["presets_dir"],
        settings={**given.request, **size},
        image=still,
        model=run["model"],
        run=lambda pipeline, request, progress: pipeline.animate(still, request, progress, cond),
        # --resume compares these with the finished shot: where the still is, what it holds, how it was pinned.
        extra={
            "input_image": str(Path(image).resolve()),
            "input_sha256": file_sha256(Path(image)),
            "conditioning": cond.record(),
        },
    )
    run_and_report(jobs, given, image_to_video=None)  # the model's own kind


def _check_still(still, image) -> None:
    import numpy as np

    from vfxgen.errors import InputError
    from vfxgen.shapes import check_conditioning_image

    if not np.isfinite(still).all():
        raise InputError(f"{image} has NaN or inf pixels", "fix or clamp the still (e.g. in Nuke: Expression isnan)")
    check_conditioning_image(still.shape[0], still.shape[1], f"the still {image}")
