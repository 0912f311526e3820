"""Output safety: which paths vfxgen may create, and which existing directories it may replace.

A user's files must never be lost. Two rules, applied by every command before any heavy work:

1. `refuse_unsafe_output(path, inputs)`: no output at `-o ""`, `.`, `/`, `~`, the home directory, the
   current directory or any of its parents, any input or any directory above an input, nor under
   `/proc`, `/sys` or `/dev`; and the nearest existing folder must really accept a new file (a probe
   file is created and removed: `os.access` says yes to root even on read-only mounts).
2. `check_replaceable(path, owned)`: `--overwrite` / `--resume` may replace a directory only when vfxgen
   wrote everything in it (`owned` names what it may hold); any other non-empty directory is refused
   with exit 4, whatever the flags.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from vfxgen.errors import OutputError, OutputExistsError, UsageError

_SYSTEM_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_TEMP_MARKERS = (".tmp-", ".old-", ".lock")


def is_vfxgen_temporary(name: str) -> bool:
    """Hidden names vfxgen itself creates beside or inside outputs (`.shot.tmp-123-ab`, `.shot.lock`)."""
    return name.startswith(".") and any(marker in name for marker in _TEMP_MARKERS)


def refuse_unsafe_output(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Refuse an output path that could only end in tears; returns it absolute (not resolved).

    UsageError (exit 2) for an empty path, the filesystem root, the home directory, the current directory
    or one of its parents; OutputError (exit 5) for a directory above an input, system trees and places
    that cannot be written.
    """
    text = os.fspath(path)
    if not text.strip():
        raise UsageError("-o is empty", "give an output path such as -o shots/fireball")
    if text.strip() == "~" or text.startswith("~"):
        text = os.path.expanduser(text)
    absolute = Path(os.path.abspath(text))
    resolved = absolute.resolve()
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        raise UsageError(f"-o {path} is the filesystem root", "give a new directory name such as -o shots/fireball")
    if resolved == Path.home().resolve():
        raise UsageError(f"-o {path} is your home directory", "give a new directory name such as -o ~/shots/fireball")
    if resolved == cwd or resolved in cwd.parents:
        raise UsageError(
            f"-o {path} is the current directory (or above it)", "give a new directory name such as -o shot"
        )
    for source in inputs:
        src = Path(source).resolve()
        if resolved in src.parents:
            raise OutputError(
                f"-o {path} contains the input {source}; replacing it could delete the input",
                "write the result somewhere else",
            )
    if any(resolved == root or root in resolved.parents for root in _SYSTEM_ROOTS):
        raise OutputError(f"cannot write under {resolved}: it is a system directory", "choose a normal folder")
    check_writable(absolute)
    return absolute


def check_writable(path: Path) -> None:
    """The nearest existing folder of `path` accepts a new file (probed: create and remove one)."""
    folder = path.parent
    while not folder.exists():
        if folder.is_symlink():  # a dangling link in the way
            raise OutputError(f"cannot create {path}: {folder} is a broken link", "choose another output path")
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot create {path}: {folder} is a file, not a folder", "choose another output path")
    try:
        fd, probe = tempfile.mkstemp(prefix=".vfxgen-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write into {folder}: {exc.strerror or exc}", "choose a writable output directory"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_replaceable(path: Path, owned: Callable[[Path], str | None], what: str = "output") -> None:
    """Refuse (exit 4) to replace a non-empty directory vfxgen did not write.

    `owned(path)` returns None when everything in `path` is vfxgen's, else a short description of the
    first thing that is not (shown to the user).
    """
    foreign = owned(path)
    if foreign is not None:
        raise OutputExistsError(
            f"{path} is not a vfxgen {what} ({foreign}); nothing was touched",
            "choose a new -o path (vfxgen replaces only directories it wrote, even with --overwrite)",
        )


def foreign_entries(directory: Path, allowed: Callable[[str], bool]) -> list[str]:
    """Names in `directory` that `allowed` does not accept and that are not vfxgen temporaries."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in names if not allowed(n) and not is_vfxgen_temporary(n)]


def marked_foreign_entry(path: Path, marker: str, accept: Callable[[dict], bool]) -> str | None:
    """None when `path` is empty or holds vfxgen's JSON `marker` file that `accept`s; else why not.

    For directories vfxgen fills with many files of its own (datasets, training runs, model folders):
    the marker written with them is what proves vfxgen made the directory.
    """
    entries = foreign_entries(path, lambda name: False)
    if not entries:
        return None
    try:
        data = json.loads((path / marker).read_text())
    except (OSError, ValueError):
        return f"it has no vfxgen {marker} and holds {entries[0]}"
    return None if isinstance(data, dict) and accept(data) else f"its {marker} was not written by vfxgen"
