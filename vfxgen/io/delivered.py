"""What was delivered, read back as stored: the pixels `vfxgen qc` judges and the rates each file states.

    load_element(src)   a shot directory, EXR sequence or anything `read_clip` reads -> `Element`

Unlike `read_clip` (which gives the canonical `Clip` and refuses NaN/inf), EXR values are kept exactly as
stored, NaN included, because finding them is QC's job; a shot's listed files that are missing are
recorded as problems instead of failing the read. Which deliverable gives the pixels, and which files state
a frame rate, the format table says (`Writer.read_as`, `read_stored`, `stated_fps` in `io/registry.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vfxgen.framerate import DEFAULT_FPS
from vfxgen.io.registry import Writer, shot_clip_writers, suffixes_read, writers
from vfxgen.io.sequence import FrameSequence

__all__ = ["Element", "load_element"]


@dataclass
class Element:
    """The delivered pixels (premultiplied scene-linear Rec.709, as stored) and what describes them."""

    premult: np.ndarray
    fps: float
    first_frame: int = 1001
    manifest: dict[str, Any] | None = None
    rates: dict[str, float | None] = field(default_factory=dict)  # frame rate each file states
    problems: list[str] = field(default_factory=list)  # listed files missing, unreadable

    @property
    def frames(self) -> int:
        return int(self.premult.shape[0])

    @property
    def height(self) -> int:
        return int(self.premult.shape[1])

    @property
    def width(self) -> int:
        return int(self.premult.shape[2])


def load_element(src: str | os.PathLike[str]) -> Element:
    """Read a shot directory, EXR sequence or anything `read_clip` reads, keeping EXR values as stored.

    A shot directory's manifest names the frames (its first listed sequence that can be read as stored,
    the EXR, else the other deliverables through `read_clip`); the frame rates its files state (EXR header,
    ProRes/WebM streams, Nuke script) are collected so `check_manifest` can compare them with `shot.json`.
    """
    from vfxgen.io.sequence import exr_pattern_in, find_sequence, is_pattern

    text = os.fspath(src)
    path = Path(text)
    if path.is_dir() and (path / "shot.json").is_file():
        return _load_shot(path)
    if is_pattern(text) or (path.is_dir() and exr_pattern_in(path) is not None):
        pattern = text if is_pattern(text) else exr_pattern_in(path)
        writer = _stored_writer(Path(str(pattern)).suffix)  # `.exr`; a pattern with a range goes to read_clip
        if writer is not None:
            sequence = find_sequence(pattern)
            premult, rates = _read_stored(writer, sequence)
            return Element(premult, rates.get(writer.rate_source) or DEFAULT_FPS, sequence.frames[0], rates=rates)
    from vfxgen.io import read_clip

    clip = read_clip(text)
    movie = path.suffix.lower() in suffixes_read("movie")  # movie frames count from 0
    return Element(clip.to_linear_premultiplied(), clip.fps, 0 if movie else 1001)


def _stored_writer(suffix: str) -> Writer | None:
    """The writer whose sequences of this suffix can be read as stored (`.exr`), None for the others."""
    matches = (w for w in shot_clip_writers() if w.read_stored is not None and w.suffix == suffix.lower())
    return next(matches, None)


def _read_stored(writer: Writer, sequence: FrameSequence) -> tuple[np.ndarray, dict[str, float | None]]:
    """A sequence's frames as stored, and the rate its first frame states (under the writer's source name)."""
    assert writer.read_stored is not None
    premult = writer.read_stored(sequence)
    if writer.stated_fps is None:
        return premult, {}
    return premult, {writer.rate_source: writer.stated_fps(sequence.path(sequence.frames[0]))}


def _load_shot(path: Path) -> Element:
    from vfxgen.io.manifest import read_manifest

    manifest = read_manifest(path)
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    problems: list[str] = []
    rates: dict[str, float | None] = {}
    source = _stored_source(files)
    if source is not None:
        premult, first_frame, rates = _load_stored(path, files[source.name], source, problems)
        fps = rates.get(source.rate_source) or manifest.get("fps") or DEFAULT_FPS
    else:
        from vfxgen.io import read_clip

        clip = read_clip(path)
        premult, fps, first_frame = clip.to_linear_premultiplied(), clip.fps, manifest.get("start_frame", 1001)
    # Rates in a stable order: the other clips, then (after the content check) the sidecars such as the .nk.
    clips = [w for w in shot_clip_writers() if w is not source]
    rates.update(_stated_rates(path, files, clips, problems))
    problems.extend(_changed(path, manifest))
    sidecars = [w for w in writers(shot=True) if w.read_as is None]
    rates.update(_stated_rates(path, files, sidecars, problems))
    return Element(premult, float(fps), first_frame, manifest, rates, problems)


def _stored_source(files: dict) -> Writer | None:
    """The first sequence the shot lists whose frames can be read as stored (the EXR), else None."""
    for writer in shot_clip_writers():
        listed = files.get(writer.name)
        if writer.read_stored is not None and isinstance(listed, list) and listed:
            return writer
    return None


def _load_stored(
    path: Path, listed: list[str], writer: Writer, problems: list[str]
) -> tuple[np.ndarray, int, dict[str, float | None]]:
    """The listed sequence's frames as stored, its first frame number and stated rate; listed frames that
    are missing become a problem (the frames on disk are still read)."""
    from vfxgen.io.sequence import find_sequence, pattern_for_frame

    missing = [f for f in listed if not (path / f).is_file()]
    if missing:
        problems.append(f"{len(missing)} listed {writer.label} frame(s) missing (first {missing[0]})")
    sequence = find_sequence(pattern_for_frame(path / listed[0]))
    premult, rates = _read_stored(writer, sequence)
    return premult, sequence.frames[0], rates


def _stated_rates(
    path: Path, files: dict, listed_writers: list[Writer], problems: list[str]
) -> dict[str, float | None]:
    """The frame rate each listed deliverable that states one gives (a sequence: its first listed frame); a
    missing file is a problem instead."""
    rates: dict[str, float | None] = {}
    for writer in listed_writers:
        entry = files.get(writer.name)
        first = entry[0] if isinstance(entry, list) and entry else entry
        if writer.stated_fps is None or not isinstance(first, str):
            continue
        if (path / first).is_file():
            rates[writer.rate_source] = writer.stated_fps(path / first)
        else:
            kind = "frame" if isinstance(entry, list) else "file"
            what = f"{writer.name} {kind}" if writer.read_as else writer.label  # "prores file", "Nuke script"
            problems.append(f"listed {what} {first} missing")
    return rates


def _changed(path: Path, manifest: dict) -> list[str]:
    """One problem line for listed files whose content changed after delivery (sha256 differs)."""
    from vfxgen.io.manifest import changed_files

    changed = changed_files(path, manifest)
    if not changed:
        return []
    more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
    return [f"{changed[0]}{more} changed after delivery (sha256 differs from shot.json)"]
