"""The suffix -> reader registry behind `read_clip` (OpenTimelineIO-style adapters).

A `Reader` turns one kind of file into a `Clip`: `"sequence"` readers take a `FrameSequence` (one
file per frame), `"movie"` readers one file. `register_reader` maps suffixes (case-insensitive) to a
reader, so another format is one function away; `reader_for` looks one up. The built-in readers
(EXR and PNG sequences, movies) load their codec modules on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfxgen.clip import Clip
from vfxgen.errors import InputError
from vfxgen.io.sequence import FrameSequence

__all__ = ["DEFAULT_FPS", "PLATE_STILL_SUFFIXES", "Reader", "reader_for", "readers", "register_reader"]

DEFAULT_FPS = 8.0  # the model's frame rate, for inputs that carry none


@dataclass(frozen=True)
class Reader:
    """How to read one kind of file into a `Clip`.

    `kind` is `"sequence"` (one file per frame: `read(sequence: FrameSequence, fps, require_alpha)`) or
    `"movie"` (one file: `read(path: Path, fps, require_alpha)`). `fps=None` means "what the file says".
    """

    name: str
    kind: str
    suffixes: tuple[str, ...]
    read: Callable[[Any, float | None, bool], Clip]


_READERS: dict[str, Reader] = {}


def _suffix_key(suffix: str) -> str:
    suffix = suffix.lower()
    return suffix if suffix.startswith(".") else "." + suffix


def register_reader(reader: Reader, *, replace: bool = False) -> Reader:
    """Make `read_clip` dispatch `reader.suffixes` (case-insensitive) to `reader`."""
    if reader.kind not in ("sequence", "movie"):
        raise ValueError(f"reader kind must be 'sequence' or 'movie', got {reader.kind!r}")
    keys = [_suffix_key(s) for s in reader.suffixes]
    taken = [k for k in keys if k in _READERS and _READERS[k].name != reader.name]
    if taken and not replace:
        raise ValueError(f"suffix {taken[0]} is already read by {_READERS[taken[0]].name!r}; pass replace=True")
    for key in keys:
        _READERS[key] = reader
    return reader


def readers() -> list[Reader]:
    """The registered readers, each once, in registration order."""
    return list(dict.fromkeys(_READERS.values()))


def reader_for(path: str | os.PathLike[str], kinds: Sequence[str] = ("sequence", "movie")) -> Reader:
    """The reader for a file name (or bare suffix such as `.exr`); `InputError` naming what is readable."""
    text = os.fspath(path)
    suffix = text if text.startswith(".") and os.sep not in text else Path(text).suffix
    reader = _READERS.get(_suffix_key(suffix)) if suffix else None
    if reader is None or reader.kind not in kinds:
        known = " ".join(sorted(k for k, r in _READERS.items() if r.kind in kinds))
        what = f"suffix {suffix!r}" if suffix else "no suffix"
        raise InputError(f"cannot read {text}: {what} is not a clip format vfxgen reads", f"use one of: {known}")
    return reader


def _read_exr(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.exr import read_exr_sequence

    return read_exr_sequence(sequence, fps=fps)  # EXR always needs A: the reader says so per frame


def _read_png(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.images import read_png_sequence

    return read_png_sequence(sequence, fps=fps or DEFAULT_FPS, require_alpha=require_alpha)


def _read_movie(path: Path, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.video import read_movie

    return read_movie(path, fps=fps, require_alpha=require_alpha)


register_reader(Reader("exr", "sequence", (".exr",), _read_exr))
register_reader(Reader("png", "sequence", (".png",), _read_png))
register_reader(Reader("movie", "movie", (".mov", ".webm", ".mkv", ".mp4", ".m4v", ".avi", ".mxf"), _read_movie))

# Stills a plate may be (OpenImageIO reads them; colour handled by `vfxgen.io.images.read_image`).
PLATE_STILL_SUFFIXES = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".cin", ".tga", ".bmp", ".webp")
