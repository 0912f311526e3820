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
from typing import Annotated, Any

import typer

from vfxgen.cli import options as opt
from vfxgen.errors import OutputError


@opt.with_settings("matte")
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
    **settings: Any,
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
        MATTE_CLEARS_BLACK,
        default_overlap,
        footage_over_black,
        plan_windows,
        pull_matte,
    )
    from vfxgen.pipelines.model_dirs import resolve_model
    from vfxgen.request import check_settings_apply

    given = opt.command_settings("matte", settings)  # every option from vfxgen.request.SETTINGS, checked once
    run = given.run
    cond = given.make_conditioning(mode="replace").checked()
    check_settings_apply(given.conditioning, resolve_model(run["model"]))  # --resample on Wan: refused now
    inputs = source_paths(clip)
    refuse_unsafe_output(output, inputs)
    if any(Path(p).resolve() == output.resolve() for p in inputs):
        raise OutputError(f"-o {output} is the input itself", "write the shot somewhere else")
    inside = [p for p in inputs if Path(p).is_dir() and Path(p).resolve() in output.resolve().parents]
    if inside:  # as export refuses: a shot among the footage's frames mixes deliverables into the plates
        raise OutputError(f"-o {output} is inside the input {inside[0]}", "write the shot outside the footage folder")
    footage = read_footage(clip, given.request.get("fps"))
    from vfxgen.shapes import check_conditioning_image

    check_conditioning_image(footage.height, footage.width, f"the clip {clip}")
    footage_over_black(footage, cond.replace_alpha)  # refuse a clip with alpha before the model loads
    frames = resolve_model(run["model"]).sample_frames  # cheap: the windows are checked before the model loads
    plan_windows(footage.num_frames, frames, default_overlap(frames) if cond.overlap is None else cond.overlap)
    jobs = build_jobs(
        prompt=prompt,
        prompts_file=None,
        output=output,
        preset=run["preset"],
        presets_dir=run["presets_dir"],
        settings={"clear_black": MATTE_CLEARS_BLACK, **given.request, "fps": footage.fps},  # unless --keep-black
        model=run["model"],
        run=lambda pipeline, request, progress: pull_matte(pipeline, footage, request, progress, cond),
        # --resume compares these with the finished shot (the clip by its resolved path, not its content).
        extra={"input_clip": str(Path(clip).resolve()), "conditioning": cond.record()},
    )
    run_and_report(jobs, given, image_to_video=None)  # any model: an I2V pipeline also gets frame 0 as its image
