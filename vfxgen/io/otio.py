"""`shots.otio`: a batch of shots as an OpenTimelineIO timeline, for editorial and review tools.

One video track, one clip per shot in order, each clip an `ImageSequenceReference` on the shot's EXR
sequence (`target_url_base` a `file://` URL of its `rgba/` directory, `name_prefix` `NAME.`, `.exr`,
start frame, rate, 4-digit padding) with the clip's `source_range` its frames at the shot's delivery rate
(`shot.json`'s `fps`, the same the EXR header, ProRes and `.nk` carry). Shots without EXR frames get a
`MissingReference`. Each clip's metadata holds `vfxgen` (prompt, seed, model, the shot's relative path).

The JSON is written here (OTIO's documented serialisation, schemas Timeline.1, Stack.1, Track.1, Clip.2,
ImageSequenceReference.1, TimeRange.1, RationalTime.1) rather than through the `opentimelineio` package,
which would add a compiled dependency for a fixed, small document; the tests read it back with
`opentimelineio` itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vfxgen.atomic import atomic_path

__all__ = ["TIMELINE_NAME", "shot_clip", "timeline", "write_timeline"]

TIMELINE_NAME = "shots.otio"


def _time(value: float, rate: float) -> dict[str, Any]:
    from vfxgen.framerate import frame_rate

    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(frame_rate(rate)), "value": float(value)}


def _range(start: float, duration: float, rate: float) -> dict[str, Any]:
    return {"OTIO_SCHEMA": "TimeRange.1", "duration": _time(duration, rate), "start_time": _time(start, rate)}


def _item(schema: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"OTIO_SCHEMA": schema, "metadata": extra.pop("metadata", {}), "name": name, **extra}


def shot_clip(shot: Path, manifest: dict[str, Any], root: Path) -> dict[str, Any]:
    """The Clip.2 of one shot directory from its manifest."""
    from vfxgen.io.exr import fps_rational

    numerator, denominator = fps_rational(float(manifest["fps"]))
    fps = numerator / denominator  # 23.976 -> 24000/1001, as the EXR header and the ProRes stream carry it
    start, frames = int(manifest["start_frame"]), int(manifest["frames"])
    name = str(manifest.get("name") or shot.name)
    generation = manifest.get("generation") if isinstance(manifest.get("generation"), dict) else {}
    meta = {k: generation[k] for k in ("prompt", "seed", "model", "preset") if k in generation}
    meta["shot"] = Path(os.path.relpath(shot, root)).as_posix()
    exr = (manifest.get("files") or {}).get("exr")
    available = _range(start, frames, fps)
    if isinstance(exr, list) and exr:
        first = shot / exr[0]
        reference = _item(
            "ImageSequenceReference.1",
            "",
            available_range=available,
            available_image_bounds=None,
            target_url_base=Path(os.path.abspath(first.parent)).as_uri() + "/",
            name_prefix=first.name.rsplit(".", 2)[0] + ".",
            name_suffix=".exr",
            start_frame=start,
            frame_step=1,
            rate=fps,
            frame_zero_padding=len(first.name.rsplit(".", 2)[1]),
            missing_frame_policy="error",
        )
    else:
        reference = _item("MissingReference.1", "", available_range=available, available_image_bounds=None)
    return _item(
        "Clip.2",
        name,
        metadata={"vfxgen": meta},
        source_range=_range(start, frames, fps),
        effects=[],
        markers=[],
        enabled=True,
        color=None,
        media_references={"DEFAULT_MEDIA": reference},
        active_media_reference_key="DEFAULT_MEDIA",
    )


def timeline(shots: list[tuple[Path, dict[str, Any]]], root: Path, name: str = "vfxgen shots") -> dict[str, Any]:
    """A Timeline.1 with one video track holding the shots' clips in the given order."""
    track = _item(
        "Track.1",
        "vfxgen",
        source_range=None,
        effects=[],
        markers=[],
        enabled=True,
        color=None,
        children=[shot_clip(path, manifest, root) for path, manifest in shots],
        kind="Video",
    )
    stack = _item(
        "Stack.1", "tracks", source_range=None, effects=[], markers=[], enabled=True, color=None, children=[track]
    )
    return _item("Timeline.1", name, global_start_time=None, tracks=stack)


def write_timeline(root: str | os.PathLike[str], shots: list[Path], name: str | None = None) -> Path:
    """Write `root/shots.otio` for the complete shots among `shots` (in that order), atomically."""
    from vfxgen.io.manifest import MANIFEST, read_manifest

    root = Path(root)
    entries = [(shot, read_manifest(shot)) for shot in shots if (shot / MANIFEST).is_file()]
    path = root / TIMELINE_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(timeline(entries, root, name or root.name or "vfxgen shots"), indent=4) + "\n")
    return path
