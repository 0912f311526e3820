"""Write to a hidden temporary, rename into place: the one way vfxgen puts a file or directory down.

A reader (Nuke, a resumed farm job, a user's `ls`) must never see half a deliverable, and a killed job
must never leave one: every writer in vfxgen - frames, movies, scripts, shots, datasets, LoRAs, model
folders, checkpoints - writes into `atomic_path(final)` and lets it rename.

Temporaries are named `.NAME.tmp-TOKEN[SUFFIX]` beside the final path: hidden, recognisable (the
output-safety checks skip them, `remove_stale_temporaries` sweeps them), unique per process and call,
and ending in the final suffix so OpenImageIO and FFmpeg still pick the format from the name.
This module sits at the bottom layer (no vfxgen imports but errors) so `models/` and `training/` may
use it as well as `io/`.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vfxgen.errors import OutputError, OutputExistsError

__all__ = ["TEMPORARY_MARKER", "atomic_path", "move_into_place", "remove_stale_temporaries", "temporary_name"]

TEMPORARY_MARKER = ".tmp-"
_ASIDE_MARKER = ".old-"


def temporary_name(final: str | os.PathLike[str], *, token: str | None = None) -> Path:
    """`.NAME.tmp-TOKEN[SUFFIX]` beside `final`; `token` defaults to `PID-RANDOM` (give a shared token when
    several processes must write into one temporary, as accelerate's checkpoints do)."""
    final = Path(final)
    token = token or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return final.parent / f".{final.name}{TEMPORARY_MARKER}{token}{final.suffix}"


def remove(path: Path) -> None:
    """Delete a file or directory tree if it exists (a temporary, a moved-aside old version)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:  # e.g. its parent is a file: there is nothing to remove
        pass


def move_into_place(
    tmp: Path, final: Path, *, overwrite: bool = True, before_rename: Callable[[], None] | None = None
) -> None:
    """Rename the finished `tmp` onto `final`.

    An existing file is replaced by the rename itself (atomic). An existing directory is moved aside first
    and deleted only after the new one is in place, so `final` is always the old whole or the new whole; if
    the second rename fails (or a signal lands between the two) the old one is put back. A file never
    replaces a directory (refused, nothing touched). `overwrite=False` refuses (exit 4) when `final`
    appeared meanwhile; `before_rename` is the caller's last check (e.g. "is the directory I replace still
    only mine?"), run just before.
    """
    if before_rename is not None:
        before_rename()
    aside = None
    if final.exists() or final.is_symlink():
        if not overwrite:
            raise OutputExistsError(f"{final} appeared while writing", "pass --overwrite to replace it")
        final_is_dir = final.is_dir() and not final.is_symlink()
        if final_is_dir and not (tmp.is_dir() and not tmp.is_symlink()):
            # A file never replaces a folder (the folder may hold anything of the user's).
            raise OutputError(f"{final} is a folder", "choose another output name; nothing was touched")
        if final_is_dir:
            aside = final.parent / f".{final.name}{_ASIDE_MARKER}{uuid.uuid4().hex[:8]}"
            os.replace(final, aside)
    try:
        os.replace(tmp, final)
    except BaseException:  # an OSError, or a signal between the two renames: put the old one back
        if aside is not None:
            os.replace(aside, final)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def atomic_path(
    final: str | os.PathLike[str],
    *,
    overwrite: bool = True,
    before_rename: Callable[[], None] | None = None,
    token: str | None = None,
    what: str | None = None,
) -> Iterator[Path]:
    """Yield a temporary path beside `final`; write a file or a directory there.

    When the block ends normally the temporary is renamed onto `final` (`move_into_place`); on any error,
    or Ctrl-C, it is removed and `final` is left as it was. An `OSError` (disk full, permissions) becomes
    one `OutputError` line naming `what` (default: `final`). The parent folder is created.
    """
    final = Path(final)
    name = what or str(final)
    tmp = temporary_name(final, token=token)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        move_into_place(tmp, final, overwrite=overwrite, before_rename=before_rename)
    except OSError as exc:
        remove(tmp)
        hint = "check free disk space and permissions"
        raise OutputError(f"cannot write {name}: {exc.strerror or exc}", hint) from None
    except BaseException:
        remove(tmp)
        raise


def remove_stale_temporaries(
    final: str | os.PathLike[str], complete: Callable[[Path], bool] | None = None
) -> list[Path]:
    """Clean up after killed jobs for `final`; returns what was removed. Call only while no live job can
    own them (under the shot lock, or for a path the caller alone writes).

    Only names vfxgen itself makes are touched: `.NAME.tmp-PID-XXXXXXXX[SUFFIX]` temporaries are deleted,
    `.NAME.old-XXXXXXXX` moved-aside old versions are deleted when `final` exists. When `final` is missing
    and exactly one old version is `complete` (a job died between its two renames), that one is put back
    instead; several complete ones are left alone (which is newest is not knowable safely).
    """
    final = Path(final)
    if not final.parent.is_dir():
        return []
    name = re.escape(f".{final.name}")
    temporary = re.compile(name + re.escape(TEMPORARY_MARKER) + r"\d+-[0-9a-f]{8}" + re.escape(final.suffix))
    aside = re.compile(name + re.escape(_ASIDE_MARKER) + r"[0-9a-f]{8}")
    entries = sorted(final.parent.iterdir())
    asides = [p for p in entries if aside.fullmatch(p.name)]
    removed: list[Path] = []
    if asides and not (final.exists() or final.is_symlink()):
        whole = [p for p in asides if complete is not None and complete(p)]
        if len(whole) > 1:
            asides = [p for p in asides if p not in whole]
        elif whole:
            os.replace(whole[0], final)  # the only copy of the previous version: restore it
            asides.remove(whole[0])
    for path in asides + [p for p in entries if temporary.fullmatch(p.name)]:
        remove(path)
        removed.append(path)
    return removed
