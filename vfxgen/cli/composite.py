"""`vfxgen composite FG --over PLATE -o OUT`: put an RGBA element over a background, in linear light.

vfxgen composite shot/ --over plate.png -o comp.mp4                 # a quick look, H.264
vfxgen composite shot/ --over bg.####.exr --fit fill --length hold -o comp/
vfxgen composite rgb.mp4 --alpha-video alpha.mp4 --over plate.jpg -o comp.mov

FG: anything `vfxgen export` reads. PLATE: a still (PNG, EXR, JPEG, TIFF, ...), an image sequence or a
movie; alpha in a plate is flattened over black. The result is opaque (alpha 1), "over" done on
premultiplied scene-linear colour (Nuke's Merge), written sRGB-encoded (EXR: linear, as always).

Choices:
- --fit (default error): a plate of another size is refused naming both sizes, because a silent resize
  hides a wrong plate. The comp is made at the plate's resolution, so the element is scaled: fit (the
  whole element inside the plate), fill (the element covers the plate, cropped), center (no scaling) or
  stretch (distorted to the plate's size).
- --length (default error): a still plate is always held; a moving plate must have the element's frame
  count unless --length hold (hold its last frame; a longer plate is cut to the element's length).
- Output format from OUT unless --format: `.mp4` H.264 (preview of the opaque result), `.mov` ProRes 4444,
  `.webm` WebM, a single `.png`/`.exr` file for a one-frame result, `NAME.####.png|exr` that sequence,
  and a directory (no suffix) a 16-bit PNG sequence `OUT/{OUT name}.####.png`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.cli.console import log
from vfxgen.cli.export import AlphaVideo, describe
from vfxgen.errors import UsageError
from vfxgen.io.registry import formats_help


def composite(
    fg: Annotated[
        str,
        typer.Argument(metavar="FG", help="RGBA element: shot directory, sequence (shot.####.exr), movie or rgb.mp4."),
    ],
    plate: Annotated[
        str | None,
        typer.Option("--over", metavar="PLATE", help="Background: still image, image sequence or movie."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="OUT", help="Output file, directory or pattern.")
    ] = None,
    fit: Annotated[
        str,
        typer.Option(
            "--fit", help="Element of another size than the plate: error, fit, fill (crop), center or stretch it."
        ),
    ] = "error",
    length: Annotated[
        str,
        typer.Option("--length", help="Moving plate of another length: error, or hold (hold last frame / cut)."),
    ] = "error",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help=f"{formats_help(shot=False)} (default: from OUT; a directory gets png)."),
    ] = None,
    alpha_video: AlphaVideo = None,
    plate_colorspace: Annotated[
        str | None,
        typer.Option("--plate-colorspace", help="The plate's OCIO colour space (ACEScg, ARRI LogC4, sRGB...)."),
    ] = None,
    colorspace: opt.ColorSpace = "lin_rec709_scene",
    nk: Annotated[
        bool, typer.Option("--nk/--no-nk", help="Also write OUT.nk: Read element, Merge over Read plate (EXR FG).")
    ] = True,
    start_frame: opt.StartFrame = 1001,
    overwrite: opt.Overwrite = False,
    json_out: opt.JsonOut = False,
) -> None:
    """Composite an RGBA element over a plate ("over" in scene-linear light) and write the opaque result.

    \b
    Examples:
      vfxgen composite shots/fireball --over plate.####.exr -o comp/
      vfxgen composite shots/fireball --over plate.mov --fit fit --length hold -o comp.mp4
    """
    import numpy as np

    from vfxgen.clip import Clip
    from vfxgen.compositing import FIT_POLICIES, LENGTH_POLICIES, fit_element, match_length, over
    from vfxgen.io import check_output, format_for_output, plan_output, read_clip, read_plate, source_paths, write_clip

    if plate is None:
        raise UsageError("no plate given", "pass --over PLATE (a still, an image sequence or a movie)")
    if output is None:
        raise UsageError("no output given", "pass -o OUT (comp.mp4, comp.mov, a directory or NAME.####.png)")
    if fit not in FIT_POLICIES:
        raise UsageError(f"unknown --fit {fit!r}", f"use one of {', '.join(FIT_POLICIES)}")
    if length not in LENGTH_POLICIES:
        raise UsageError(f"unknown --length {length!r}", f"use one of {', '.join(LENGTH_POLICIES)}")
    fmt = fmt.strip().lower() if fmt else format_for_output(output, directory="png", png_file="png")
    target = plan_output(output, fmt)
    inputs = [*source_paths(fg, alpha_video), *source_paths(plate)]
    check_output(target, overwrite, inputs)
    if nk:
        from vfxgen.io.nuke import check_comp_script_free

        check_comp_script_free(target, overwrite)

    element = read_clip(fg, alpha_video=alpha_video)
    if plate_colorspace is not None:
        from vfxgen.colorspaces import colorspace as lookup_colorspace

        lookup_colorspace(plate_colorspace)  # unknown names refused before the read
    background = read_plate(plate, colorspace=plate_colorspace)
    plate_size = f"{background.shape[2]}x{background.shape[1]}"
    # The comp is made at plate resolution: the element is scaled to the plate, never the plate down.
    source_element = element  # the .nk reads the element's own files, at their own size
    fitted = fit_element(element.pixels, background.shape[1], background.shape[2], fit)
    if fitted is not element.pixels:
        element = Clip(None, element.fps, element.metadata, pixels=fitted, colorspace=element.colorspace)
    held = background.shape[0] < element.num_frames
    background = match_length(background, element.num_frames, length)
    linear = over(element, background, linear=True)  # premultiplied, scene-linear: glow at alpha 0 adds on
    opaque = np.concatenate([linear, np.ones_like(linear[..., :1])], axis=-1)
    result = Clip(None, element.fps, {**element.metadata, "composite_over": str(plate)}, pixels=opaque)
    written = write_clip(
        result, output, fmt, start_frame=start_frame, overwrite=overwrite, inputs=inputs, colorspace=colorspace
    )
    script = None
    if nk:
        from vfxgen.io.nuke import write_comp_script

        script = write_comp_script(
            fg,
            plate,
            target,
            source_element,
            fit=fit,
            plate_colorspace=plate_colorspace,
            overwrite=overwrite,
            plate_size=(background.shape[2], background.shape[1]),
        )

    where = target.describe() if len(written) > 1 else str(written[0])
    notes = [f"plate {plate_size}"] + ([f"--fit {fit}"] if fit != "error" else []) + (["held"] if held else [])
    notes += [f"Nuke script {script}"] if script is not None else []
    log(
        f"composite: wrote {fmt} {where} "
        f"({describe(result.num_frames, result.width, result.height, result.fps)}; {', '.join(notes)})"
    )
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "format": fmt,
                    "output": str(target.path),
                    "files": [str(p) for p in written],
                    "frames": result.num_frames,
                    "width": result.width,
                    "height": result.height,
                    "fps": result.fps,
                    "source": fg,
                    "plate": plate,
                    "nk": str(script) if script else None,
                }
            )
        )
