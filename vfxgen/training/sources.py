"""What `vfxgen dataset prepare` reads, found and checked before anything is decoded.

* **matting** - a directory with `fgr/` (colour) and `pha/` (alpha) holding videos (or directories of
  numbered images, as in VideoMatte240K_JPEG) with matching names. Alpha is the grey level of the pha
  video (the mean of its decoded channels, which averages out chroma noise of 4:2:0 files). The paper's
  preprocessing (supplement Sec. 8) is applied later, see `vfxgen.training.decontaminate`.
* **rgba** - an EXR or PNG sequence (pattern `shot.####.exr` or its directory), a movie with alpha
  (ProRes 4444, WebM VP9 alpha), or a folder of any of these. Such sources already carry clean straight
  colour and a real matte, so they are only cut, cropped and resized.

Discovery checks what it can without decoding (a missing fgr/pha partner, frame counts the containers
announce that disagree, a VideoMatte240K root given instead of its train/ or test/ folder), so a bad
source fails before a clip is written. Captions files (`load_captions`) map source names to captions.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxgen.errors import InputError, UsageError
from vfxgen.io.registry import suffixes_read
from vfxgen.training.frames import (
    centre_crop,
    image_frame_count,
    image_frames,
    movie_frames,
    rgba_sequence_frames,
)

MOVIE_EXTENSIONS = suffixes_read("movie")  # the format registry's one list
RGBA_IMAGE_EXTENSIONS = (".exr", ".png")
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\.[^.]+)$")


# --------------------------------------------------------------------------------------------------
# captions
# --------------------------------------------------------------------------------------------------
def load_captions(path: str | os.PathLike) -> dict[str, str]:
    """A captions file: a JSON object `{name: caption}` or lines `name<TAB>caption` (`#` comments)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read captions file {path}: {exc}", "give a UTF-8 text or JSON file") from exc
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"captions file {path} is not valid JSON: {exc}", "fix the JSON object") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InputError(f"captions file {path} maps names to non-strings", 'write {"name": "caption", ...}')
        return {k.strip(): v.strip() for k, v in data.items()}
    captions: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, tab, caption = line.partition("\t")
        if not tab or not name.strip() or not caption.strip():
            raise InputError(
                f"captions file {path} line {number} is not `name<TAB>caption`",
                "separate the name and the caption with one tab, or write a JSON object",
            )
        captions[name.strip()] = caption.strip()
    return captions


# --------------------------------------------------------------------------------------------------
# matting sources (VideoMatte240K layout)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MattingPair:
    name: str
    fgr: Path
    pha: Path


def _matting_entries(directory: Path) -> dict[str, Path]:
    entries: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() or path.suffix.lower() in MOVIE_EXTENSIONS:
            name = path.stem if path.is_file() else path.name
            if name in entries:
                raise InputError(
                    f"{directory} holds two sources named {name!r} ({entries[name].name}, {path.name})",
                    "keep one video (or image folder) per name",
                )
            entries[name] = path
    return entries


def is_matting_source(src: str | os.PathLike) -> bool:
    """A directory holding `fgr/` or `pha/` (the VideoMatte240K layout)."""
    src = Path(src)
    return src.is_dir() and ((src / "fgr").is_dir() or (src / "pha").is_dir())


def _count(path: Path) -> int:
    from vfxgen.io.video import announced_frame_count

    return image_frame_count(path) if path.is_dir() else announced_frame_count(path)


def find_matting_pairs(src: str | os.PathLike) -> list[MattingPair]:
    """The fgr/pha pairs of `src`, checked up front: every fgr has its pha (by name) and the frame
    counts the containers announce agree."""
    src = Path(src)
    for part in ("fgr", "pha"):
        if not (src / part).is_dir():
            other = "pha" if part == "fgr" else "fgr"
            raise InputError(
                f"{src} has {other}/ but no {part}/",
                "matting data needs fgr/ (colour) and pha/ (alpha) folders with matching file names",
            )
    fgr, pha = _matting_entries(src / "fgr"), _matting_entries(src / "pha")
    for have, lack, names in (("fgr", "pha", fgr.keys() - pha.keys()), ("pha", "fgr", pha.keys() - fgr.keys())):
        if names:
            listed = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
            raise InputError(
                f"{len(names)} {have}/ source(s) in {src} have no {lack}/ partner: {listed}",
                f"add the matching {lack}/ files (same name) or remove the unpaired ones",
            )
    if not fgr:
        raise InputError(f"{src}/fgr and {src}/pha hold no videos", f"put {', '.join(MOVIE_EXTENSIONS)} files there")
    pairs = [MattingPair(name, fgr[name], pha[name]) for name in sorted(fgr)]
    for pair in pairs:
        n_fgr, n_pha = _count(pair.fgr), _count(pair.pha)
        if n_fgr and n_pha and n_fgr != n_pha:
            raise _count_mismatch(pair, n_fgr, n_pha)
    return pairs


def _count_mismatch(pair: MattingPair, n_fgr: int, n_pha: int) -> InputError:
    return InputError(
        f"{pair.fgr} has {n_fgr} frames but {pair.pha} has {n_pha}",
        "fgr and pha videos of one shot must have the same frames; re-export or remove the pair",
    )


def pair_frames(pair: MattingPair, height: int, width: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(cropped colour `[h, w, 3]`, cropped alpha `[h, w]`) per frame of a pair, checked for agreement."""

    def frames(path: Path) -> Iterator[np.ndarray]:
        return image_frames(path) if path.is_dir() else movie_frames(path, require_alpha=False)

    colour, matte = frames(pair.fgr), frames(pair.pha)
    n = 0
    while True:
        rgb, pha = next(colour, None), next(matte, None)
        if rgb is None or pha is None:
            if rgb is None and pha is None:
                return
            rest = sum(1 for _ in (colour if pha is None else matte)) + 1
            n_fgr, n_pha = (n + rest, n) if pha is None else (n, n + rest)
            raise _count_mismatch(pair, n_fgr, n_pha)
        if rgb.shape[:2] != pha.shape[:2]:
            raise InputError(
                f"{pair.fgr} is {rgb.shape[1]}x{rgb.shape[0]} but {pair.pha} is {pha.shape[1]}x{pha.shape[0]}",
                "fgr and pha of one shot must have the same size",
            )
        n += 1
        alpha = pha[..., :3].mean(axis=-1) if pha.shape[-1] >= 3 else pha[..., 0]
        yield (
            np.ascontiguousarray(centre_crop(rgb[..., :3], height, width)),
            np.ascontiguousarray(centre_crop(alpha[..., None], height, width)[..., 0]),
        )


# --------------------------------------------------------------------------------------------------
# RGBA sources
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RGBASource:
    name: str
    filename: str
    open: Callable[[], Iterator[np.ndarray]]


def _sequence_source(sequence) -> RGBASource:
    name = sequence.prefix.rstrip("._- ") or sequence.directory.name
    return RGBASource(name, Path(sequence.pattern).name, lambda: rgba_sequence_frames(sequence))


def _movie_source(path: Path) -> RGBASource:
    return RGBASource(path.stem, path.name, lambda: movie_frames(path, require_alpha=True))


def find_rgba_sources(src: str | os.PathLike) -> list[RGBASource]:
    """The RGBA sources under `src`: a pattern, one sequence file's directory, a movie, or a folder
    (searched recursively, hidden entries skipped) of movies and EXR/PNG sequences."""
    from vfxgen.io.sequence import find_sequence, is_pattern

    text = os.fspath(src)
    if is_pattern(text):
        suffix = Path(text.rsplit(":", 1)[0] if ":" in Path(text).name else text).suffix.lower()
        if suffix not in RGBA_IMAGE_EXTENSIONS:
            raise UsageError(f"cannot read {suffix or 'extensionless'} sequences as RGBA", "give .exr or .png frames")
        return [_sequence_source(find_sequence(text, extensions=RGBA_IMAGE_EXTENSIONS))]
    path = Path(text)
    if not path.exists():
        raise InputError(f"source {path} does not exist", "give a directory, a movie or a sequence pattern")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in MOVIE_EXTENSIONS:
            return [_movie_source(path)]
        if suffix in RGBA_IMAGE_EXTENSIONS and _NUMBERED.fullmatch(path.name):
            raise UsageError(
                f"{path} is one frame",
                f"give the sequence as a pattern (e.g. {path.parent / (_NUMBERED.fullmatch(path.name)['prefix'])}"
                f"####{suffix}) or its directory",
            )
        raise UsageError(
            f"cannot prepare {path}: {suffix or 'no extension'} is not a known source kind",
            "give fgr/+pha/ matting folders, an EXR/PNG sequence, a movie with alpha "
            f"({', '.join(MOVIE_EXTENSIONS)}) or a folder of them",
        )
    for split in ("train", "test"):
        if (path / split / "fgr").is_dir():
            raise InputError(
                f"{path} looks like the root of VideoMatte240K (it has {split}/fgr)",
                f"give the folder that holds fgr/ and pha/, e.g. {path / split}",
            )
    sources: list[RGBASource] = []
    for directory, subdirs, files in os.walk(path):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        groups: dict[tuple[str, str], None] = {}
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = Path(name).suffix.lower()
            if suffix in MOVIE_EXTENSIONS:
                sources.append(_movie_source(Path(directory) / name))
            elif suffix in RGBA_IMAGE_EXTENSIONS and (match := _NUMBERED.fullmatch(name)):
                groups.setdefault((match["prefix"], match["suffix"]), None)
        for prefix, suffix in groups:
            pattern = Path(directory) / f"{prefix}#{suffix}"
            sources.append(_sequence_source(find_sequence(pattern, extensions=RGBA_IMAGE_EXTENSIONS)))
    if not sources:
        raise InputError(
            f"found no sources in {path}",
            "matting data needs fgr/ and pha/ folders; RGBA data EXR/PNG sequences or movies with alpha",
        )
    return sources
