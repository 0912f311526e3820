"""What was delivered, read back as stored: the pixels `vfxgen qc` judges and the rates each file states.

    load_element(src)   a shot directory, EXR sequence or anything `read_clip` reads -> `Element`

Unlike `read_clip` (which gives the canonical `Clip` and refuses NaN/inf), EXR values are kept exactly as
stored, NaN included, because finding them is QC's job; a shot's listed files that are missing are
recorded as problems instead of failing the read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vfxgen.framerate import DEFAULT_FPS
from vfxgen.io.registry import suffixes_read

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

    A shot directory's manifest names the frames (EXR, else the other deliverables through `read_clip`);
    the frame rates stated by its EXR header, ProRes/WebM streams and Nuke script are collected so
    `check_manifest` can compare them with `shot.json`.
    """
    from vfxgen.io.sequence import exr_pattern_in, find_sequence, is_pattern

    text = os.fspath(src)
    path = Path(text)
    if path.is_dir() and (path / "shot.json").is_file():
        return _load_shot(path)
    if is_pattern(text) or (path.is_dir() and exr_pattern_in(path) is not None):
        pattern = text if is_pattern(text) else exr_pattern_in(path)
        if str(pattern).lower().endswith(".exr"):
            sequence = find_sequence(pattern)
            premult, fps = _read_exr_frames(sequence)
            return Element(premult, fps or DEFAULT_FPS, sequence.frames[0], rates={"exr header": fps})
    from vfxgen.io import read_clip

    clip = read_clip(text)
    movie = path.suffix.lower() in suffixes_read("movie")  # movie frames count from 0
    return Element(clip.to_linear_premultiplied(), clip.fps, 0 if movie else 1001)


def _read_exr_frames(sequence) -> tuple[np.ndarray, float | None]:
    """Raw RGBA of every frame (values as stored; converted to lin_rec709 when tagged another space)."""
    from vfxgen.io.exr import header_fps, read_exr_header, read_raw_rgba

    frames = [read_raw_rgba(sequence.path(frame), frame) for frame in sequence.frames]
    header = read_exr_header(sequence.path(sequence.frames[0]))
    return np.stack(frames), header_fps(header)


def _load_shot(path: Path) -> Element:
    from vfxgen.io.manifest import listed_exr_pattern, read_manifest
    from vfxgen.io.sequence import find_sequence

    manifest = read_manifest(path)
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    problems: list[str] = []
    rates: dict[str, float | None] = {}
    exr = files.get("exr")
    first_frame = manifest.get("start_frame", 1001)
    if isinstance(exr, list) and exr:
        missing = [f for f in exr if not (path / f).is_file()]
        if missing:
            problems.append(f"{len(missing)} listed EXR frame(s) missing (first {missing[0]})")
        sequence = find_sequence(listed_exr_pattern(path, manifest))
        premult, rates["exr header"] = _read_exr_frames(sequence)
        first_frame = sequence.frames[0]
        fps = rates["exr header"] or manifest.get("fps") or DEFAULT_FPS
    else:
        from vfxgen.io import read_clip

        clip = read_clip(path)
        premult, fps = clip.to_linear_premultiplied(), clip.fps
    for key in ("prores", "webm"):
        name = files.get(key)
        if isinstance(name, str):
            if (path / name).is_file():
                from vfxgen.io.video import stream_frame_rate

                rates[key] = stream_frame_rate(path / name)
            else:
                problems.append(f"listed {key} file {name} missing")
    from vfxgen.io.manifest import changed_files

    changed = changed_files(path, manifest)
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        problems.append(f"{changed[0]}{more} changed after delivery (sha256 differs from shot.json)")
    nk = files.get("nk")
    if isinstance(nk, str):
        if (path / nk).is_file():
            from vfxgen.io.nuke import script_fps

            rates["nuke script"] = script_fps(path / nk)
        else:
            problems.append(f"listed Nuke script {nk} missing")
    return Element(premult, float(fps), first_frame, manifest, rates, problems)
