"""The shot directory: what a compositor receives, written atomically with a reproducible manifest.

Layout of `shot/` (name = the directory's name):

    rgba/shot.1001.exr ...      scene-linear Rec.709, premultiplied, half, R,G,B,A (Nuke)
    shot_prores4444.mov         ProRes 4444, straight alpha by default (After Effects)
    png/shot.1001.png ...       16-bit straight PNG
    shot.webm                   VP9 with alpha (web)
    preview.mp4                 H.264 over a checkerboard
    contact.png                 contact sheet over a checkerboard
    shot.json                   manifest: everything needed to reproduce and read the shot

Everything is written into a hidden temporary sibling and renamed into place when complete, so a shot
directory exists only when whole. An existing shot is never touched without `overwrite=True`; a lock
file stops two live jobs from writing the same shot (a dead job's lock is taken over).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vfxgen import __version__
from vfxgen.clip import Clip
from vfxgen.errors import LockedError, OutputError, OutputExistsError, UsageError
from vfxgen.io.safety import check_replaceable, foreign_entries, refuse_unsafe_output

FORMATS = ("exr", "nk", "prores", "png", "webm", "preview", "contact")
DEFAULT_FORMATS = ("exr", "nk", "preview", "contact")
MANIFEST = "shot.json"
SCHEMA = "vfxgen.shot/1"


@dataclass(frozen=True)
class ShotOptions:
    """How a shot is written (all deliverables share one clip)."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    start_frame: int = 1001
    exr_compression: str = "zip"
    allow_lossy: bool = False
    prores_alpha: str = "straight"
    name: str | None = None
    colorspace: str = "lin_rec709_scene"  # of the EXR (and the .nk's Read): any scene-linear OCIO space

    def checked(self) -> ShotOptions:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise UsageError(
                f"unknown output format {unknown[0] if unknown else '(none)'!r}", f"use {', '.join(FORMATS)}"
            )
        if self.start_frame < 0:
            raise UsageError(f"--start-frame must be >= 0, got {self.start_frame}", "use e.g. --start-frame 1001")
        if self.prores_alpha not in ("straight", "premultiplied"):
            raise UsageError(f"unknown --alpha {self.prores_alpha!r}", "use straight or premultiplied")
        from vfxgen.io.exr import check_compression

        check_compression(self.exr_compression, self.allow_lossy)
        if "nk" in self.formats and "exr" not in self.formats:
            raise UsageError("--format nk writes a Nuke script that reads the EXR", "add exr: --format exr,nk")
        from vfxgen.colorspaces import exr_colorspace

        exr_colorspace(self.colorspace)
        return self


def parse_formats(text: str) -> tuple[str, ...]:
    """`"exr,prores"` -> `("exr", "prores")`, checked."""
    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    return ShotOptions(formats=formats).checked().formats


def is_complete_shot(path: Path) -> bool:
    """A shot is complete when its manifest exists (it is the last thing written before the rename)."""
    return (Path(path) / MANIFEST).is_file()


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
    ours = {MANIFEST, *_manifest_top_names(manifest.get("files", {}))}
    strangers = foreign_entries(path, lambda name: name in ours)
    return f"it holds {strangers[0]}, which vfxgen did not write" if strangers else None


def _manifest_top_names(files: object) -> set[str]:
    names: set[str] = set()
    values = files.values() if isinstance(files, dict) else []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                names.add(Path(item).parts[0])
    return names


def check_output_free(path: Path, overwrite: bool = False, resume: bool = False, expected: dict | None = None) -> str:
    """Decide before any heavy work: 'write', or 'skip' (resume and complete). Raises if it would clobber.

    `expected`: the generation settings the shot must have been made with for `--resume` to skip it
    (prompt, seed, model, LoRA hash, sizes, steps, ...); a complete shot made otherwise is refused, never
    skipped silently.
    """
    path = Path(path)
    refuse_unsafe_output(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} exists and is not a shot directory", "choose another -o path")
    if path.is_dir() and foreign_entries(path, lambda name: False):
        check_replaceable(path, shot_foreign_entry, "shot")
        if resume and is_complete_shot(path):
            differences = _settings_differences(read_manifest(path).get("generation", {}), expected or {})
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


def _settings_differences(made: dict, expected: dict) -> str:
    """`"steps 40 -> 2, seed 1 -> 3"` for every expected setting the manifest does not match."""
    changes = []
    for key, want in expected.items():
        have = made.get(key)
        if isinstance(want, float) and isinstance(have, int | float):
            same = abs(float(have) - want) <= 1e-9
        else:
            same = have == want or (isinstance(want, list | tuple) and list(want) == have)
        if not same:
            changes.append(f"{key} {_short(have)} -> {_short(want)}")
    return ", ".join(changes)


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
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
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
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(lock, stop), daemon=True)
    beat.start()
    try:
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


def clean_stale_temporaries(path: Path) -> None:
    """Remove temporary siblings left by killed jobs for this shot (only called while holding the lock)."""
    for tmp in Path(path).parent.glob(f".{Path(path).name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


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
    check_output_free(path, overwrite=overwrite)
    if not lock:
        return _write_locked(clip, path, options, overwrite, progress)
    with shot_lock(path):
        return _write_locked(clip, path, options, overwrite, progress)


def _write_locked(clip: Clip, path: Path, options: ShotOptions, overwrite: bool, progress) -> dict:
    from vfxgen.io.contact import write_contact_sheet
    from vfxgen.io.exr import write_exr_sequence
    from vfxgen.io.images import write_png_sequence
    from vfxgen.io.video import write_preview, write_prores, write_webm

    name = options.name or path.name or "shot"
    clean_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        files: dict[str, object] = {}
        meta = {k: v for k, v in clip.metadata.items() if isinstance(v, str | int | float | bool)}
        for fmt in options.formats:
            if progress:
                progress(fmt)
            if fmt == "exr":
                frames = write_exr_sequence(
                    clip,
                    tmp / "rgba",
                    name,
                    options.start_frame,
                    options.exr_compression,
                    meta,
                    allow_lossy=options.allow_lossy,
                    colorspace=options.colorspace,
                )
                files["exr"] = [str(p.relative_to(tmp)) for p in frames]
            elif fmt == "png":
                frames = write_png_sequence(clip, tmp / "png", name, options.start_frame)
                files["png"] = [str(p.relative_to(tmp)) for p in frames]
            elif fmt == "prores":
                files["prores"] = write_prores(clip, tmp / f"{name}_prores4444.mov", alpha=options.prores_alpha).name
            elif fmt == "webm":
                files["webm"] = write_webm(clip, tmp / f"{name}.webm").name
            elif fmt == "preview":
                files["preview"] = write_preview(clip, tmp / "preview.mp4").name
            elif fmt == "contact":
                files["contact"] = write_contact_sheet(clip, tmp / "contact.png").name
        if "nk" in options.formats:  # after the EXR it reads
            from vfxgen.io.nuke import write_shot_script

            exr = files["exr"]
            files["nk"] = write_shot_script(tmp, path, name, exr, clip, options.start_frame, options.colorspace)
        manifest = build_manifest(clip, name, options, files)
        _write_json(tmp / MANIFEST, manifest)
        _replace_dir(tmp, path, overwrite)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"cannot write shot {path}: {exc.strerror or exc}", "check free disk space and permissions"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def build_manifest(clip: Clip, name: str, options: ShotOptions, files: dict) -> dict:
    """Everything needed to reproduce the shot and to read it correctly."""
    return {
        "schema": SCHEMA,
        "name": name,
        "vfxgen_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "generation": dict(clip.metadata),
        "frames": clip.num_frames,
        "width": clip.width,
        "height": clip.height,
        "fps": clip.fps,
        "start_frame": options.start_frame,
        "end_frame": options.start_frame + clip.num_frames - 1,
        "conventions": {
            "exr": {
                **_exr_colorspace_entry(options.colorspace),
                "alpha": "premultiplied",
                "pixel_type": "half",
                "channels": "R,G,B,A",
                "compression": options.exr_compression,
            },
            "prores": {
                "profile": "4444",
                "alpha": options.prores_alpha,
                "matrix": "bt709",
                "transfer": "srgb-encoded",
            },
            "png": {"bit_depth": 16, "alpha": "straight", "colorspace": "srgb_rec709_scene"},
        },
        "files": files,
    }


def _exr_colorspace_entry(name: str) -> dict:
    """`colorspace` (the interop ID in the EXR header, e.g. lin_ap1_scene) and `ocio_name` (e.g. ACEScg)."""
    from vfxgen.colorspaces import exr_colorspace

    space = exr_colorspace(name)
    return {"colorspace": space.interop_id, "ocio_name": space.name}


def read_manifest(path: str | os.PathLike) -> dict:
    """Load `shot.json` (parsed as data, never executed)."""
    from vfxgen.errors import InputError

    file = Path(path) / MANIFEST if Path(path).is_dir() else Path(path)
    try:
        return json.loads(file.read_text())
    except FileNotFoundError as exc:
        raise InputError(f"{file} does not exist", "pass a shot directory written by vfxgen") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest {file}: {exc}", "the shot is damaged; regenerate it") from exc


def _write_json(path: Path, data: dict) -> None:
    # allow_nan=False: NaN is not JSON; a non-finite setting must have been refused long before this.
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n")


def _replace_dir(tmp: Path, final: Path, overwrite: bool) -> None:
    """Rename the finished temporary into place; an overwritten shot is moved aside first, then deleted."""
    old = None
    if final.exists():
        if foreign_entries(final, lambda name: False):
            check_replaceable(final, shot_foreign_entry, "shot")  # it may have changed while we computed
            if not overwrite:
                raise OutputExistsError(f"shot {final} appeared while writing", "pass --overwrite to replace it")
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
