"""RGBA clip datasets on disk: fixed frame count and size, one `.npy` per clip, captions in a manifest.

Layout of a dataset directory:

    dataset.json          {"schema", "frames", "height", "width", "count", "source"[, "highlights"]}
    manifest.jsonl        one {"file": "clips/000000.npy", "caption": "...", "element": "..."} per line
    clips/000000.npy      uint8 [T, H, W, 4], straight sRGB colour + alpha (np.load, no pickle)

uint8 keeps a 2,000-clip 64x64x9 dataset under 300 MB and loads with no decoding; the clips are
already preprocessed (decontaminated, fixed size), so training reads them as they are. A dataset whose
colour carries hot cores (`vfxgen dataset synth --hot-cores`) stores it in that encoding and names it in
`highlights` (`vfxgen.highlights`); `vfxgen train` records it in the model it writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxgen.atomic import atomic_path
from vfxgen.errors import InputError, OutputExistsError
from vfxgen.highlights import NO_HIGHLIGHTS, Highlights, highlights_from
from vfxgen.io.safety import check_replaceable, foreign_entries, marked_foreign_entry, refuse_unsafe_output

SCHEMA = "vfxgen.dataset/1"


@dataclass(frozen=True)
class DatasetInfo:
    path: Path
    frames: int
    height: int
    width: int
    count: int
    highlights: Highlights = NO_HIGHLIGHTS  # how the stored colour carries values above 1.0


def _dataset_foreign_entry(path: Path) -> str | None:
    return marked_foreign_entry(path, "dataset.json", lambda meta: meta.get("schema") == SCHEMA)


def write_dataset(
    items: Iterable[tuple[np.ndarray, str, str]],
    output: str | os.PathLike,
    source: str,
    overwrite: bool = False,
    progress=None,
    highlights: Highlights = NO_HIGHLIGHTS,
) -> DatasetInfo:
    """Write `(rgba float [T,H,W,4] straight sRGB, caption, element)` items as a dataset; atomic rename.
    `highlights`: the encoding the items' colour is already in (recorded, not applied)."""
    output = Path(output)
    refuse_unsafe_output(output)
    if output.exists() and foreign_entries(output, lambda name: False):
        check_replaceable(output, _dataset_foreign_entry, "dataset")
        if not overwrite:
            raise OutputExistsError(f"dataset {output} already exists", "pass --overwrite or choose another -o")

    def still_ours() -> None:  # the folder may have changed while clips were made
        if output.exists() and foreign_entries(output, lambda name: False):
            check_replaceable(output, _dataset_foreign_entry, "dataset")
            if not overwrite:
                raise OutputExistsError(f"dataset {output} appeared while writing", "pass --overwrite to replace it")

    shape = None
    count = 0
    # An empty folder (or one holding only our temporaries) is simply replaced; `still_ours` refuses the rest.
    with atomic_path(output, before_rename=still_ours, what=f"dataset {output}") as tmp:
        (tmp / "clips").mkdir(parents=True)
        with open(tmp / "manifest.jsonl", "w", encoding="utf-8") as manifest:
            for rgba, caption, element in items:
                rgba = np.asarray(rgba)
                if shape is None:
                    shape = rgba.shape
                elif rgba.shape != shape:
                    raise InputError(
                        f"clip {count} has shape {list(rgba.shape)}, the dataset {list(shape)}",
                        "prepare every clip at one frame count and size (--frames, --size)",
                    )
                name = f"clips/{count:06d}.npy"
                np.save(tmp / name, to_uint8(rgba), allow_pickle=False)
                manifest.write(json.dumps({"file": name, "caption": caption, "element": element}) + "\n")
                count += 1
                if progress:
                    progress(1)
        if count == 0:
            raise InputError("no clips were produced", "check the source and the --count/--frames options")
        frames, height, width = shape[:3]
        # Every dataset stores straight colour + alpha (synth and prepare alike); `vfxgen train --rgb` decides
        # once, for all of them, whether the model sees colour x alpha over black or the stored colour.
        meta = {
            "schema": SCHEMA,
            "colour": "straight",
            "frames": frames,
            "height": height,
            "width": width,
            "count": count,
            "source": source,
        }
        if highlights.hdr:
            meta["highlights"] = highlights.to_dict()
        (tmp / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    return DatasetInfo(output, frames, height, width, count, highlights)


def to_uint8(rgba: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 with rounding; colour is zeroed where alpha quantises to 0 (no hidden garbage)."""
    out = np.round(np.clip(rgba, 0.0, 1.0) * 255.0).astype(np.uint8)
    out[..., :3][out[..., 3] == 0] = 0
    return out


def read_dataset_info(path: str | os.PathLike) -> DatasetInfo:
    path = Path(path)
    try:
        meta = json.loads((path / "dataset.json").read_text())
    except FileNotFoundError as exc:
        raise InputError(f"{path} is not a vfxgen dataset (no dataset.json)", "make one with `vfxgen dataset`") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}/dataset.json: {exc}", "re-create the dataset") from exc
    highlights = highlights_from(meta.get("highlights"), f"{path}/dataset.json")
    return DatasetInfo(
        path, int(meta["frames"]), int(meta["height"]), int(meta["width"]), int(meta["count"]), highlights
    )


class RGBAClipDataset:
    """Map-style dataset: item i -> (rgba float32 [T, H, W, 4] straight sRGB, caption)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.info = read_dataset_info(path)
        self.root = Path(path)
        lines = (self.root / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        self.entries = [json.loads(line) for line in lines if line.strip()]
        if not self.entries:
            raise InputError(f"dataset {path} is empty", "re-create it")

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> tuple[np.ndarray, str]:
        entry = self.entries[index]
        clip = np.load(self.root / entry["file"], allow_pickle=False)
        return clip.astype(np.float32) / 255.0, entry["caption"]
