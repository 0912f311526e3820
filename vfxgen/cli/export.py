"""`vfxgen export SRC -o OUT`: convert any RGBA clip vfxgen reads into ONE deliverable.

vfxgen export shot/ -o delivery/fireball_prores.mov                      # ProRes 4444 for After Effects
vfxgen export shot/rgba/shot.####.exr:1001-1010 -o plates/fb --format exr --start-frame 1
vfxgen export rgb.mp4 --alpha-video alpha.mp4 -o fireball/elem.####.exr  # import a TransPixar pair

SRC: a shot directory, an image sequence (`shot.####.exr`, `%04d`, `@@@@`, optional `:A-B`), a movie with
alpha, or a TransPixar rgb/alpha pair (`--alpha-video`). OUT and --format:

- exr, png: a directory (frames `OUT/{OUT name}.####.ext`), a pattern `dir/NAME.####.ext`, or a single
  `NAME.ext` file when the clip has one frame;
- prores -> `.mov`, webm -> `.webm`, preview -> `.mp4` (H.264 over a checkerboard), contact -> `.png`.

Without --format the format follows OUT: `.mov` prores, `.webm` webm, `.mp4` preview, `.png` contact
sheet, `NAME.####.exr|png` that sequence, a directory exr. An existing OUT is never touched without
--overwrite (exit 4); OUT inside SRC is refused (exit 5). One line on stderr says what was written;
stdout stays empty unless --json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.cli.console import log
from vfxgen.errors import InputError, UsageError
from vfxgen.io.registry import formats_help

FormatOption = Annotated[
    str | None,
    typer.Option("--format", help=f"{formats_help(shot=False)} (default: from OUT; a directory gets exr)."),
]
AlphaVideo = Annotated[
    Path | None,
    typer.Option("--alpha-video", metavar="FILE", help="TransPixar alpha.mp4; SRC is then the rgb.mp4 of the pair."),
]
FrameRange = Annotated[
    str | None,
    typer.Option(
        "--frames", metavar="A-B", help="Frames to take: frame numbers of a sequence/shot, 0-based indices of a movie."
    ),
]


def parse_range_option(text: str | None, option: str = "--frames") -> tuple[int, int] | None:
    """`"1001-1010"` -> (1001, 1010) as a usage error (exit 2) when malformed."""
    if text is None:
        return None
    from vfxgen.io.sequence import parse_frame_range

    try:
        return parse_frame_range(text)
    except InputError as exc:
        raise UsageError(f"{option} {text}: {exc.message}", exc.hint) from None


def describe(clip_frames: int, width: int, height: int, fps: float) -> str:
    return f"{clip_frames} frame{'s' if clip_frames != 1 else ''} {width}x{height} at {fps:g} fps"


def export(
    src: Annotated[
        str,
        typer.Argument(
            metavar="SRC", help="Shot directory, image sequence (shot.####.exr[:A-B]), movie with alpha, or rgb.mp4."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="OUT", help="Output directory, pattern or file.")
    ] = None,
    fmt: FormatOption = None,
    start_frame: opt.StartFrame = 1001,
    compression: opt.Compression = "zip",
    allow_lossy: opt.AllowLossy = False,
    alpha: opt.AlphaMode = "straight",
    fps: opt.Fps = None,
    colorspace: opt.ColorSpace = "lin_rec709_scene",
    alpha_video: AlphaVideo = None,
    frames: FrameRange = None,
    overwrite: opt.Overwrite = False,
    json_out: opt.JsonOut = False,
) -> None:
    """Write an RGBA clip as one deliverable: EXR or PNG sequence, ProRes 4444, WebM, preview or contact sheet.

    \b
    Examples:
      vfxgen export shots/fireball -o fireball_prores4444.mov
      vfxgen export shots/fireball/rgba/fireball.####.exr -o png/ --format png
      vfxgen export rgb.mp4 --alpha-video alpha.mp4 -o fireball/ --format exr
    """
    from vfxgen.io import check_output, format_for_output, plan_output, read_clip, source_paths, write_clip

    if output is None:
        raise UsageError("no output given", "pass -o OUT (a directory, NAME.####.exr, or a .mov/.webm/.mp4/.png file)")
    frame_range = parse_range_option(frames)
    fmt = fmt.strip().lower() if fmt else format_for_output(output)
    target = plan_output(output, fmt)
    # Everything that can be refused is refused before the (slow) read.
    inputs = source_paths(src, alpha_video)
    check_output(target, overwrite, inputs)
    clip = read_clip(src, alpha_video=alpha_video, frame_range=frame_range, fps=fps)
    written = write_clip(
        clip,
        output,
        fmt,
        start_frame=start_frame,
        compression=compression,
        allow_lossy=allow_lossy,
        alpha=alpha,
        overwrite=overwrite,
        inputs=inputs,
        colorspace=colorspace,
    )
    where = target.describe() if len(written) > 1 else str(written[0])
    log(f"export: wrote {fmt} {where} ({describe(clip.num_frames, clip.width, clip.height, clip.fps)})")
    if json_out:
        result = {
            "format": fmt,
            "output": str(target.path),
            "files": [str(p) for p in written],
            "frames": clip.num_frames,
            "width": clip.width,
            "height": clip.height,
            "fps": clip.fps,
            "source": src,
        }
        typer.echo(json.dumps(result))
