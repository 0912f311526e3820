"""`vfxgen dataset`: build RGBA clip datasets for `vfxgen train`.

vfxgen dataset synth -o data/vfx --count 2000 --frames 9 --size 64
vfxgen dataset prepare VideoMatte240K/train -o data/matting --frames 9 --size 64 --captions captions.tsv
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli.console import log, progress_bar

dataset_app = typer.Typer(help="Build RGBA clip datasets for training.", no_args_is_help=True)


@dataset_app.command("synth")
def synth(
    output: Annotated[Path, typer.Option("-o", "--output", help="Dataset directory to create.")],
    count: Annotated[int, typer.Option("--count", help="Number of clips.")] = 1000,
    frames: Annotated[int, typer.Option("--frames", help="Frames per clip (4k+1).")] = 9,
    size: Annotated[int, typer.Option("--size", help="Width and height in pixels.")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Seed; clip i depends only on (seed, i).")] = 0,
    elements: Annotated[str | None, typer.Option("--elements", help="Comma list (default: all).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing dataset.")] = False,
    hot_cores: Annotated[
        bool,
        typer.Option(
            "--hot-cores/--no-hot-cores",
            help="Fire, sparks, lightning and muzzle-flash cores above 1.0 in scene-linear, stored in the "
            "srgb-shoulder encoding (recorded in dataset.json; `vfxgen train` records it in the model).",
        ),
    ] = False,
) -> None:
    """Procedural VFX elements with exact alpha: fire, smoke, explosion, sparks, dust, magic, lightning, ...

    \b
    Examples:
      vfxgen dataset synth -o data/vfx --count 2000 --frames 9 --size 64
      vfxgen dataset synth -o data/hdr --count 2000 --hot-cores
    """
    from vfxgen.errors import UsageError
    from vfxgen.highlights import HOT_CORES, NO_HIGHLIGHTS
    from vfxgen.shapes import check_clip_shape
    from vfxgen.training.data import write_dataset
    from vfxgen.training.synth import ELEMENTS, synth_dataset_items

    check_clip_shape(frames, size, size)
    if count < 1:
        raise UsageError(f"--count must be positive, got {count}", "use e.g. --count 1000")
    chosen = tuple(e.strip() for e in elements.split(",")) if elements else ELEMENTS
    unknown = [e for e in chosen if e not in ELEMENTS]
    if unknown:
        raise UsageError(f"unknown element {unknown[0]!r}", f"use some of {', '.join(ELEMENTS)}")
    highlights = HOT_CORES if hot_cores else NO_HIGHLIGHTS
    items = (
        (rgba, caption, element)
        for element, caption, rgba in synth_dataset_items(count, frames, size, size, seed, chosen, highlights)
    )
    with progress_bar("synthesising", count) as advance:
        info = write_dataset(
            items, output, source=f"synth seed={seed}", overwrite=overwrite, progress=advance, highlights=highlights
        )
    log(f"wrote {info.count} clips of {info.frames}x{info.width}x{info.height} to {info.path}")


@dataset_app.command("prepare")
def prepare(
    source: Annotated[
        str,
        typer.Argument(
            help="fgr/+pha/ matting folder (VideoMatte240K), EXR/PNG sequence pattern or directory, "
            "movie with alpha, or a folder of them.",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Dataset directory to create.")],
    frames: Annotated[int, typer.Option("--frames", help="Frames per clip (4k+1).")] = 9,
    size: Annotated[int, typer.Option("--size", help="Width and height in pixels (multiple of 16).")] = 64,
    width: Annotated[int | None, typer.Option("--width", help="Width, overrides --size.")] = None,
    height: Annotated[int | None, typer.Option("--height", help="Height, overrides --size.")] = None,
    stride: Annotated[
        int | None, typer.Option("--stride", help="Frames from one clip's start to the next (default --frames).")
    ] = None,
    caption: Annotated[str | None, typer.Option("--caption", help="One caption for every clip.")] = None,
    captions: Annotated[
        Path | None,
        typer.Option("--captions", help="name<TAB>caption lines or a JSON object; default: the file name."),
    ] = None,
    decontaminate: Annotated[
        bool,
        typer.Option(
            "--decontaminate/--no-decontaminate", help="Matting: colour decontamination (gain 1.1, choke 0.5)."
        ),
    ] = True,
    blur_background: Annotated[
        bool,
        typer.Option(
            "--blur-background/--no-blur-background",
            help="Matting: blend each clip over its first frame blurred with a 201 px Gaussian.",
        ),
    ] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing dataset.")] = False,
) -> None:
    """Cut real footage into clips: matting pairs get the paper's preprocessing, RGBA sources are cut as they are.

    \b
    Examples:
      vfxgen dataset prepare VideoMatte240K/train -o data/matting --frames 9 --size 64 --captions captions.tsv
    """
    from vfxgen.errors import UsageError
    from vfxgen.training.data import write_dataset
    from vfxgen.training.prepare import PrepareReport, describe, iter_items, load_captions

    if caption is not None and captions is not None:
        raise UsageError("--caption and --captions cannot be used together", "give one of them")
    report = PrepareReport()
    items = iter_items(
        source,
        frames=frames,
        height=height or size,
        width=width or size,
        stride=stride,
        caption=caption,
        captions=load_captions(captions) if captions is not None else None,
        decontaminate_colour=decontaminate,
        blur_background=blur_background,
        report=report,
    )
    with progress_bar("preparing", None) as advance:
        info = write_dataset(
            items, output, describe(source, report, decontaminate, blur_background), overwrite, advance
        )
    log(f"wrote {info.count} clips of {info.frames}x{info.width}x{info.height} to {info.path} ({report.summary()})")
