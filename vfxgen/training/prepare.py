"""Turn real footage into a training dataset: matting pairs (VideoMatte240K) and RGBA sources.

Two kinds of source, both cut into consecutive windows of `frames` frames (a window starts every
`stride` frames; a tail shorter than `frames` is dropped), centre-cropped to the target aspect and
resized with `cv2.INTER_AREA`:

* **matting** - `fgr/` (colour) and `pha/` (alpha) folders; the paper's preprocessing is applied
  (`vfxgen.training.decontaminate`).
* **rgba** - EXR/PNG sequences or movies with alpha: only cut, cropped and resized.

The work is split by responsibility: `sources` finds and checks the inputs (and reads captions files),
`frames` decodes them one frame at a time and cuts windows, `decontaminate` holds the paper's maths.
This module turns them into `(rgba, caption, element)` items for `vfxgen.training.data.write_dataset`,
counts what happened in a `PrepareReport` and describes the run for the dataset's `source` field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from vfxgen.errors import InputError
from vfxgen.shapes import check_clip_shape, check_stride
from vfxgen.training.decontaminate import BLUR_KSIZE, CHOKE, GAIN, preprocess_matting
from vfxgen.training.frames import centre_crop, fit_frames, sliding
from vfxgen.training.sources import (
    MattingPair,
    find_matting_pairs,
    find_rgba_sources,
    is_matting_source,
    load_captions,
    pair_frames,
)

__all__ = [
    "Item",
    "PrepareReport",
    "describe",
    "iter_items",
    "iter_matting_items",
    "iter_rgba_items",
    "load_captions",  # re-exported: `vfxgen dataset prepare` reads captions files through this module
]

Item = tuple[np.ndarray, str, str]  # (rgba float32 [T, H, W, 4] straight sRGB, caption, element)


@dataclass
class PrepareReport:
    """What a run did, filled in while the items are consumed; `summary()` is the CLI's one line."""

    kind: str = ""
    sources: int = 0
    used: int = 0
    clips: int = 0
    too_short: list[tuple[str, int]] = field(default_factory=list)
    captions_from_names: int = 0

    def summary(self) -> str:
        parts = [f"{self.clips} clips from {self.used} of {self.sources} {self.kind} sources"]
        if self.too_short:
            parts.append(f"{len(self.too_short)} too short, skipped")
        if self.captions_from_names:
            parts.append(f"{self.captions_from_names} captions from file names")
        return "; ".join(parts)


@dataclass(frozen=True)
class _Captions:
    caption: str | None = None
    table: dict[str, str] | None = None

    def __call__(self, name: str, filename: str, report: PrepareReport) -> str:
        if self.caption is not None:
            return self.caption
        for key in (name, filename):
            if self.table and key in self.table:
                return self.table[key]
        report.captions_from_names += 1
        return name.replace("_", " ").strip() or name


# --------------------------------------------------------------------------------------------------
# matting sources
# --------------------------------------------------------------------------------------------------
def iter_matting_items(
    src: str | os.PathLike,
    frames: int = 9,
    height: int = 64,
    width: int = 64,
    stride: int | None = None,
    caption: str | None = None,
    captions: dict[str, str] | None = None,
    decontaminate_colour: bool = True,
    blur_background: bool = True,
    gain: float = GAIN,
    choke: float = CHOKE,
    blur_ksize: int = BLUR_KSIZE,
    report: PrepareReport | None = None,
) -> Iterator[Item]:
    """Items for `write_dataset` from a VideoMatte240K-style directory (see the module doc).

    Pairs are found and checked when this is called (missing partner, announced frame counts); the
    clips are made lazily. Element = `name:first-last` (0-based source frames of the window). Sources
    shorter than `frames` are skipped and listed in `report.too_short`; if no source gives a clip the
    iterator raises `InputError`.
    """
    check_clip_shape(frames, height, width)
    check_stride(stride, frames)
    pairs = find_matting_pairs(src)
    report = report if report is not None else PrepareReport()
    report.kind, report.sources = "matting", len(pairs)
    name_caption = _Captions(caption, captions)

    def items() -> Iterator[Item]:
        for pair in pairs:

            def make(window: list, pair: MattingPair = pair) -> np.ndarray:
                rgb, alpha = np.stack([w[0] for w in window]), np.stack([w[1] for w in window])
                return preprocess_matting(rgb, alpha, decontaminate_colour, blur_background, gain, choke, blur_ksize)

            frames_of = pair_frames(pair, height, width)
            yield from _clips(
                pair.name, pair.fgr.name, frames_of, make, frames, stride, height, width, name_caption, report
            )
        _no_clips(report, frames)

    return items()


def _clips(
    name: str,
    filename: str,
    source: Iterator,
    make: Callable[[list], np.ndarray],
    frames: int,
    stride: int | None,
    height: int,
    width: int,
    captions: _Captions,
    report: PrepareReport,
) -> Iterator[Item]:
    """The clips of one source; a source too short for one window is recorded, not an error."""
    seen = 0

    def counted() -> Iterator:
        nonlocal seen
        for item in source:
            seen += 1
            yield item

    text = None
    for start, window in sliding(counted(), frames, stride):
        if text is None:
            text = captions(name, filename, report)
        report.clips += 1
        yield fit_frames(make(window), height, width), text, f"{name}:{start}-{start + frames - 1}"
    if text is None:
        report.too_short.append((name, seen))
    else:
        report.used += 1


def _no_clips(report: PrepareReport, frames: int) -> None:
    if report.clips:
        return
    if report.too_short:
        name, n = max(report.too_short, key=lambda s: s[1])
        raise InputError(
            f"no clips: all {len(report.too_short)} sources are shorter than --frames {frames} "
            f"(the longest, {name}, has {n})",
            "lower --frames (4k+1, e.g. 5) or give longer sources",
        )
    raise InputError("no clips were produced", "check the source")


# --------------------------------------------------------------------------------------------------
# RGBA sources
# --------------------------------------------------------------------------------------------------
def iter_rgba_items(
    src: str | os.PathLike,
    frames: int = 9,
    height: int = 64,
    width: int = 64,
    stride: int | None = None,
    caption: str | None = None,
    captions: dict[str, str] | None = None,
    report: PrepareReport | None = None,
) -> Iterator[Item]:
    """Items for `write_dataset` from RGBA sources: cut, centre-cropped and resized, colour untouched.

    Sources are found when this is called; frames are read lazily, one window at a time. Caption:
    `caption`, else `captions[name]`, else the name with `_` as spaces (name = file stem, or the
    sequence name before its frame number).
    """
    check_clip_shape(frames, height, width)
    check_stride(stride, frames)
    sources = find_rgba_sources(src)
    report = report if report is not None else PrepareReport()
    report.kind, report.sources = "rgba", len(sources)
    name_caption = _Captions(caption, captions)

    def items() -> Iterator[Item]:
        for source in sources:
            cropped = (np.ascontiguousarray(centre_crop(frame, height, width)) for frame in source.open())
            yield from _clips(
                source.name, source.filename, cropped, np.stack, frames, stride, height, width, name_caption, report
            )
        _no_clips(report, frames)

    return items()


def iter_items(src: str | os.PathLike, **options) -> Iterator[Item]:
    """Matting items for a directory with fgr/ or pha/, RGBA items for anything else."""
    matting_only = ("decontaminate_colour", "blur_background", "gain", "choke", "blur_ksize")
    if is_matting_source(src):
        return iter_matting_items(src, **options)
    return iter_rgba_items(src, **{k: v for k, v in options.items() if k not in matting_only})


def describe(src: str | os.PathLike, report: PrepareReport, decontaminate_colour: bool, blur_background: bool) -> str:
    """The dataset's `source` field: where the clips came from and how they were preprocessed."""
    if report.kind != "matting":
        return f"prepare {os.fspath(src)} (rgba)"
    steps = [f"decontaminate gain={GAIN} choke={CHOKE}" if decontaminate_colour else "no decontamination"]
    steps.append(f"blurred first-frame background k={BLUR_KSIZE}" if blur_background else "no background blur")
    return f"prepare {os.fspath(src)} (matting: {', '.join(steps)})"
