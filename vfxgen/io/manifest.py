"""Reading a shot's manifest (`shot.json`): what every reader of a shot needs, below `vfxgen.shot`.

`vfxgen.shot` writes shots; `io/read.py`, `io/nuke.py`, `io/otio.py` and `qc.py` only read them, and
import this module instead of reaching up into `shot.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vfxgen.errors import InputError

__all__ = [
    "MANIFEST",
    "SCHEMA",
    "changed_files",
    "file_sha256_hex",
    "is_complete_shot",
    "listed_exr_pattern",
    "listed_paths",
    "listed_top_names",
    "read_manifest",
]

MANIFEST = "shot.json"
SCHEMA = "vfxgen.shot/1"


def read_manifest(path: str | os.PathLike[str]) -> dict:
    """Load `shot.json` of a shot directory (or the file itself), parsed as data, never executed."""
    file = Path(path) / MANIFEST if Path(path).is_dir() else Path(path)
    try:
        return json.loads(file.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"{file} does not exist", "pass a shot directory written by vfxgen") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest {file}: {exc}", "the shot is damaged; regenerate it") from exc


def is_complete_shot(path: str | os.PathLike[str]) -> bool:
    """A shot is complete when its manifest exists (it is the last thing written before the rename)."""
    return (Path(path) / MANIFEST).is_file()


def listed_top_names(files: object) -> set[str]:
    """The top-level names of a shot that its manifest's `files` lists (`rgba`, `shot.nk`, ...)."""
    names: set[str] = set()
    values = files.values() if isinstance(files, dict) else []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                names.add(Path(item).parts[0])
    return names


def listed_paths(files: object) -> list[str]:
    """Every file path a manifest's `files` lists, relative to the shot (frames one by one)."""
    paths: list[str] = []
    for value in files.values() if isinstance(files, dict) else []:
        paths += [item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str) and item]
    return paths


def file_sha256_hex(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (read in 1 MB blocks)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_files(shot: str | os.PathLike[str], manifest: dict) -> list[str]:
    """Listed files whose content is not what `shot.json`'s `sha256` recorded when the shot was delivered
    (a frame replaced afterwards); missing files are reported elsewhere. Shots older than the record: []."""
    recorded = manifest.get("sha256")
    if not isinstance(recorded, dict):
        return []
    root = Path(shot)
    return [rel for rel, digest in recorded.items() if (root / rel).is_file() and file_sha256_hex(root / rel) != digest]


def listed_exr_pattern(shot: str | os.PathLike[str], manifest: dict) -> Path | None:
    """The EXR frames a shot's manifest lists, as a pattern (`shot/rgba/elem.####.exr`); None if it lists none."""
    from vfxgen.io.sequence import pattern_for_frame

    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    exr = files.get("exr")
    if not (isinstance(exr, list) and exr and isinstance(exr[0], str)):
        return None
    return pattern_for_frame(Path(shot) / exr[0])
