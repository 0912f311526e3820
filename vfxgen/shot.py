"""The shot directory: what a compositor receives, written atomically with a reproducible manifest.

Layout of `shot/` (name = the directory's name):

    rgba/shot.1001.exr ...      scene-linear Rec.709, premultiplied, half, R,G,B,A (Nuke)
    shot_prores4444.mov         ProRes 4444, straight alpha by default (After Effects)
    png/shot.1001.png ...       16-bit straight PNG
    shot.webm                   VP9 with alpha (web)
    preview.mp4                 H.264 over a checkerboard
    contact.png                 contact sheet over a checkerboard
    shot.json                   manifest: everything needed to reproduce and read the shot

Each deliverable is written by `vfxgen.io.write_clip` through its registered writer (`io/registry.py`:
a format registered there with a `shot_file` is a shot format); the whole shot is built in a hidden
temporary sibling and renamed into place when complete (`vfxgen.atomic.atomic_path`), so a shot
directory exists only when whole. An existing shot is never touched without `overwrite=True`; a lock
file stops two live jobs from writing the same shot (a dead job's lock is taken over).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from vfxgen import __version__
from vfxgen.alpha_bounds import CLEAR_FULL_LUMINANCE
from vfxgen.atomic import atomic_path, remove_stale_temporaries
from vfxgen.clip import Clip
from vfxgen.errors import LockedError, OutputError, OutputExistsError, UsageError
from vfxgen.io.manifest import MANIFEST, SCHEMA, is_complete_shot, listed_top_names, read_manifest
from vfxgen.io.registry import Writer, WriteSettings, shot_conventions, writers
from vfxgen.io.safety import check_replaceable, foreign_entries, refuse_unsafe_output
from vfxgen.io.write import OutputTarget, write_clip
from vfxgen.request import SETTING

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "MANIFEST",
    "SCHEMA",
    "ShotOptions",
    "check_output_free",
    "is_complete_shot",
    "parse_formats",
    "read_manifest",
    "shot_foreign_entry",
    "shot_lock",
    "write_shot",
]

FORMATS = tuple(w.name for w in writers(shot=True, plugins=False))  # built in; `writers(shot=True)` has all
DEFAULT_FORMATS = tuple(SETTING["formats"].default.split(","))


@dataclass(frozen=True)
class ShotOptions:
    """How a shot is written (all deliverables share one clip)."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    start_frame: int = SETTING["start_frame"].default
    compression: str = SETTING["compression"].default  # of the EXR
    allow_lossy: bool = SETTING["allow_lossy"].default
    alpha: str = SETTING["alpha"].default  # of the ProRes: straight or premultiplied
    name: str | None = None
    colorspace: str = SETTING["colorspace"].default  # of the EXR (and the .nk's Read): any scene-linear OCIO space
    _valid: bool = field(default=False, init=False, compare=False, repr=False)  # set by `checked()`; not copied

    def checked(self) -> ShotOptions:
        """These options validated (once: the result is marked, and checking it again costs nothing)."""
        if self._valid:
            return self
        offered = _check_formats(self.formats)
        if self.start_frame < 0:
            raise UsageError(f"--start-frame must be >= 0, got {self.start_frame}", "use e.g. --start-frame 1001")
        if self.name is not None:
            check_shot_name(self.name)
        SETTING["alpha"].check_choice(self.alpha)
        from vfxgen.io.exr import check_compression

        check_compression(self.compression, self.allow_lossy)
        for fmt in self.formats:
            missing = [need for need in offered[fmt].requires if need not in self.formats]
            if missing:
                raise UsageError(
                    f"--format {fmt} writes a {offered[fmt].label} that reads the {offered[missing[0]].label}",
                    f"add {missing[0]}: --format {','.join([*missing, *self.formats])}",
                )
        from vfxgen.colorspaces import exr_colorspace

        exr_colorspace(self.colorspace)
        checked = replace(self)  # a copy (`replace` resets `_valid`: a changed copy is checked again)
        object.__setattr__(checked, "_valid", True)
        return checked

    def write_settings(self, shot: Path) -> WriteSettings:
        """The `WriteSettings` every deliverable of this shot is written with."""
        return WriteSettings(
            start_frame=self.start_frame,
            compression=self.compression,
            allow_lossy=self.allow_lossy,
            colorspace=self.colorspace,
            alpha=self.alpha,
            shot=shot,
        )

    def writers(self) -> list[Writer]:
        """The requested deliverables' writers, in registration order (a script after the EXR it reads)."""
        return [w for w in writers(shot=True) if w.name in self.formats]


def _check_formats(formats: tuple[str, ...]) -> dict[str, Writer]:
    """The shot writers on offer, once `formats` is known to name only those (and at least one)."""
    offered = {w.name: w for w in writers(shot=True)}
    unknown = [f for f in formats if f not in offered]
    if unknown or not formats:
        raise UsageError(f"unknown output format {unknown[0] if unknown else '(none)'!r}", f"use {', '.join(offered)}")
    return offered


def check_shot_name(name: str) -> str:
    """A shot's name becomes its file names (`rgba/NAME.1001.exr`, `NAME.nk`): `#`, `@` and `%` would read
    as frame tokens there (in vfxgen, Nuke and most tools), so they are refused before any work."""
    bad = sorted({c for c in name if c in "#@%"})
    if bad:
        raise UsageError(
            f"shot name {name!r} contains {' '.join(bad)}, which file patterns read as frame numbers",
            "choose a name without # @ % (e.g. shot_3 instead of shot#3)",
        )
    return name


def parse_formats(text: str) -> tuple[str, ...]:
    """`"exr,prores"` -> `("exr", "prores")`, checked."""
    parts = [part.strip().lower() for part in text.split(",")]
    if "" in parts:
        raise UsageError(
            f"--format {text!r} has an empty entry", f"list formats without gaps: {','.join(filter(None, parts))}"
        )
    formats = tuple(dict.fromkeys(parts))
    _check_formats(formats)
    return formats


def shot_foreign_entry(path: Path) -> str | None:
    """None when `path` is a vfxgen shot holding only what its manifest lists; else what is not ours.

    `--overwrite` and `--resume` may replace or skip only such a directory: a folder without our
    `shot.json` (a project folder, a plate folder) or a shot with a user's own files added (a `comp.nk`)
    is never touched.
    """
    path = Path(path)
    entries = foreign_entries(path, lambda name: False)
    if not entries:
        return None  # empty, or only our own temporaries
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return f"it has no vfxgen {MANIFEST} and holds {entries[0]}"
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        return f"its {MANIFEST} is not a vfxgen shot manifest"
    ours = {MANIFEST, *listed_top_names(manifest.get("files", {}))}
    strangers = foreign_entries(path, lambda name: name in ours)
    return f"it holds {strangers[0]}, which vfxgen did not write" if strangers else None


def check_output_free(
    path: Path,
    overwrite: bool = False,
    resume: bool = False,
    expected: dict | None = None,
    options: ShotOptions | None = None,
) -> str:
    """Decide before any heavy work: 'write', or 'skip' (resume and complete). Raises if it would clobber.

    `expected`: the generation settings the shot must have been made with for `--resume` to skip it
    (prompt, seed, model, LoRA hash, sizes, steps, ...); `options`: how its files must have been written
    (formats, start frame, colour space, compression, ProRes alpha, name). A complete shot made otherwise is
    refused, never skipped silently.
    """
    path = Path(path)
    refuse_unsafe_output(path)
    check_shot_name(path.name)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a shot directory", "choose another -o path")
    if path.is_dir() and foreign_entries(path, lambda name: False):
        check_replaceable(path, shot_foreign_entry, "shot")
        if resume and is_complete_shot(path):
            manifest = read_manifest(path)
            differences = _settings_differences(manifest.get("generation", {}), expected or {})
            if options is not None:
                differences = ", ".join(filter(None, [differences, output_differences(manifest, options, path)]))
            if differences:
                raise OutputExistsError(
                    f"shot {path} was made with other settings ({differences})",
                    "pass --overwrite to redo it, or choose another -o",
                )
            return "skip"
        if not overwrite:
            raise OutputExistsError(
                f"shot {path} already exists", "pass --overwrite to replace it or --resume to skip it"
            )
    return "write"


def output_differences(manifest: dict, options: ShotOptions, path: Path) -> str:
    """`"start_frame 1001 -> 1, formats + png"`: every way the shot's files differ from what `options` would
    write. A shot that holds more deliverables than asked for is complete for the request (nothing in it is
    wrong); one that lacks a requested deliverable is not, and is refused like any other difference: adding
    a format to a finished shot is `vfxgen export SHOT/rgba -o ... --format F`, or `--overwrite`."""
    changes = []
    missing = [f for f in options.formats if f not in manifest.get("files", {})]
    if missing:
        changes.append(f"formats + {','.join(missing)}")
    if manifest.get("name") != (options.name or path.name):
        changes.append(f"name {_short(manifest.get('name'))} -> {_short(options.name or path.name)}")
    if manifest.get("start_frame") != options.start_frame:
        changes.append(f"start_frame {manifest.get('start_frame')} -> {options.start_frame}")
    conventions = manifest.get("conventions", {})
    exr = conventions.get("exr", {})
    if "exr" in options.formats:
        from vfxgen.colorspaces import exr_colorspace

        want = exr_colorspace(options.colorspace).name
        if exr.get("ocio_name") != want:
            changes.append(f"colorspace {_short(exr.get('ocio_name'))} -> {_short(want)}")
        if exr.get("compression") != options.compression:
            changes.append(f"compression {_short(exr.get('compression'))} -> {_short(options.compression)}")
    if "prores" in options.formats and conventions.get("prores", {}).get("alpha") != options.alpha:
        have = conventions.get("prores", {}).get("alpha")
        changes.append(f"alpha {_short(have)} -> {_short(options.alpha)}")
    return ", ".join(changes)


#: Record keys older shots lack, with the value they were made with (None: unknown): a shot without the key is
#: compared by everything else when the request asks for that value (or the value is unknown).
RECORDED_SINCE = {"model_files_sha256": None, "key_black": 0.0, "key_white": CLEAR_FULL_LUMINANCE}


def _settings_differences(made: dict, expected: dict) -> str:
    """`"steps 40 -> 2, seed 1 -> 3"` for every expected setting the manifest does not match."""
    changes = []
    for key, want in expected.items():
        if key in RECORDED_SINCE and key not in made and RECORDED_SINCE[key] in (None, want):
            continue  # a shot from before vfxgen recorded it: compared by everything else
        have = made.get(key)
        if isinstance(want, dict):  # e.g. conditioning: the manifest may record more (what it pinned)
            inner = have if isinstance(have, dict) else {}
            changes += [
                f"{key}.{k} {_short(inner.get(k))} -> {_short(v)}"
                for k, v in want.items()
                if not _same(inner.get(k), v)
            ]
        elif not _same(have, want):
            changes.append(f"{key} {_short(have)} -> {_short(want)}")
    return ", ".join(changes)


def _same(have: object, want: object) -> bool:
    if isinstance(want, float) and isinstance(have, int | float):
        return abs(float(have) - want) <= 1e-9
    return have == want or (isinstance(want, list | tuple) and list(want) == have)


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


LOCK_HEARTBEAT_S = 30.0
LOCK_STALE_S = 300.0


@contextmanager
def shot_lock(path: Path) -> Iterator[Path]:
    """Hold `.NAME.lock` beside the shot for the duration.

    The holder touches the lock every 30 s. A lock is stale (and taken over) when its process is dead
    on this host, or when nobody has touched it for 5 minutes (a job killed on another farm host).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {path.parent}: {exc.strerror or exc}", "choose a writable output path"
        ) from None
    lock = path.parent / f".{path.name}.lock"
    me = f"{socket.gethostname()} {os.getpid()}"
    # A farm cancel (SIGTERM, raised as an exception at the next Python call) between creating the lock and the
    # `try` that removes it would leave a lock behind: `created` is set right after the creating system call
    # (no signal is raised between the two statements), and the lock is removed if anything fails after it.
    created = False
    try:
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                created = True
            except FileExistsError:
                if _lock_is_stale(lock):
                    lock.unlink(missing_ok=True)
                    continue
                owner = lock.read_text().strip() if lock.exists() else "another job"
                raise LockedError(
                    f"shot {path} is being written by {owner}",
                    f"wait for that job, or delete {lock} if it is dead on another host",
                ) from None
            with os.fdopen(fd, "w") as handle:
                handle.write(me)
            break
        else:
            raise LockedError(f"cannot take the lock {lock}", "retry the job")
    except BaseException:
        if created:
            lock.unlink(missing_ok=True)
        raise
    stop = threading.Event()
    try:
        threading.Thread(target=_heartbeat, args=(lock, stop), daemon=True).start()
        # Ours now: clear what killed jobs left (and put back a shot one died while replacing) before the
        # caller decides anything about the shot.
        remove_stale_temporaries(path, complete=is_complete_shot)
        yield lock
    finally:
        stop.set()
        lock.unlink(missing_ok=True)


def _heartbeat(lock: Path, stop: threading.Event) -> None:
    while not stop.wait(LOCK_HEARTBEAT_S):
        try:
            os.utime(lock)
        except OSError:
            return


def _lock_is_stale(lock: Path) -> bool:
    try:
        age = time.time() - lock.stat().st_mtime
        host, pid = lock.read_text().split()
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return time.time() - lock.stat().st_mtime > 60 if lock.exists() else True
    if age > LOCK_STALE_S:
        return True
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def write_shot(
    clip: Clip,
    path: str | os.PathLike,
    options: ShotOptions = ShotOptions(),
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    lock: bool = True,
) -> dict:
    """Write every requested deliverable of `clip` into the shot directory `path`; returns the manifest.

    `lock=False` is for callers that already hold `shot_lock(path)` (a farm job holds it from before
    generation until the shot is in place, so a second job on the same shot refuses early).
    """
    options = options.checked()
    path = Path(path)
    check_output_free(path, overwrite=overwrite)  # refuse before creating anything
    if not lock:
        return _write_locked(clip, path, options, overwrite, progress)
    with shot_lock(path):
        check_output_free(path, overwrite=overwrite)  # again: taking the lock may have restored a shot
        return _write_locked(clip, path, options, overwrite, progress)


def _write_locked(clip: Clip, path: Path, options: ShotOptions, overwrite: bool, progress) -> dict:
    name = options.name or path.name or "shot"
    settings = options.write_settings(shot=path)

    def still_replaceable() -> None:  # the folder may have changed while we computed
        if path.exists() and foreign_entries(path, lambda entry: False):
            check_replaceable(path, shot_foreign_entry, "shot")
            if not overwrite:
                raise OutputExistsError(f"shot {path} appeared while writing", "pass --overwrite to replace it")

    with atomic_path(path, before_rename=still_replaceable, what=f"shot {path}") as tmp:
        tmp.mkdir()
        files: dict[str, object] = {}
        for writer in options.writers():
            if progress:
                progress(writer.name)
            written = write_clip(clip, _shot_target(writer, tmp, name), settings=replace(settings, written=files))
            relative = [p.relative_to(tmp).as_posix() for p in written]
            files[writer.name] = relative if writer.layout == "sequence" else relative[0]
        manifest = build_manifest(clip, name, options, files, settings)
        manifest["sha256"] = content_hashes(tmp, files)
        _write_json(tmp / MANIFEST, manifest)
    return manifest


def _shot_target(writer: Writer, shot_dir: Path, name: str) -> OutputTarget:
    """Where `writer` puts its deliverable inside the shot being built, planned directly: a shot name with
    `#`, `@` or `%d` in it is a name here, never a frame pattern."""
    if writer.layout == "sequence":  # shot_file "rgba/{name}.####.exr": frames named `name` in `rgba/`
        return OutputTarget(writer.name, "pattern", shot_dir / Path(writer.shot_file).parent, name, shot=True)
    return OutputTarget(writer.name, "file", shot_dir / writer.shot_file.format(name=name), shot=True)


def content_hashes(shot_dir: Path, files: dict) -> dict[str, str]:
    """sha256 of every delivered file, by its path in the shot: `vfxgen qc` finds a frame replaced after
    delivery (same size, other pixels), which a count-and-size check cannot."""
    from vfxgen.io.manifest import file_sha256_hex, listed_paths

    return {rel: file_sha256_hex(shot_dir / rel) for rel in listed_paths(files)}


def build_manifest(clip: Clip, name: str, options: ShotOptions, files: dict, settings: WriteSettings) -> dict:
    """Everything needed to reproduce the shot and to read it correctly.

    `conventions` come from the format table (`shot_conventions`): each writer says how its files are to be
    read, from the `settings` they were written with, so a new format needs no change here."""
    generation = dict(clip.metadata)
    relaxed = generation.pop("qc_limits", None) or {}
    return {
        "schema": SCHEMA,
        "name": name,
        "vfxgen_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "generation": generation,
        # The QC limits this element relaxes (a preset's [qc] table; the rest are vfxgen.qc.Thresholds'
        # defaults): `vfxgen qc SHOT` applies them.
        "qc": {"limits": relaxed, "relaxed_by": f"preset {generation.get('preset')}" if relaxed else None},
        "frames": clip.num_frames,
        "width": clip.width,
        "height": clip.height,
        "fps": clip.fps,
        "start_frame": options.start_frame,
        "end_frame": options.start_frame + clip.num_frames - 1,
        "conventions": shot_conventions(list(files), settings),
        "files": files,
    }


def _write_json(path: Path, data: dict) -> None:
    # allow_nan=False: NaN is not JSON; a non-finite setting must have been refused long before this.
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n")
