"""Planning and writing one deliverable: `write_clip(clip, out, fmt)`.

format_for_output(out)   the format OUT's name implies (exr, png, prores, webm, preview, contact)
plan_output(out, fmt)    an `OutputTarget`: how OUT will be laid out (no file-system changes)
check_output(target)     refuse, before any heavy work, clobbering or writing into an input
write_clip(clip, out)    write it through the format's `Writer` (`vfxgen.io.registry`), atomically
                         (`vfxgen.atomic.atomic_path`); codecs load on first use

`vfxgen.shot.write_shot` writes every deliverable of a shot with `write_clip`, so this is the one
writer path: a format registered in `io/registry.py` is offered by `export`, `composite` and shots.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vfxgen.atomic import atomic_path, remove, temporary_name
from vfxgen.clip import Clip
from vfxgen.errors import OutputError, OutputExistsError, UsageError
from vfxgen.io.registry import FORMAT_SETTINGS, PLATE_STILL_SUFFIXES, Writer, WriteSettings, writer_for, writers
from vfxgen.io.safety import check_replaceable, foreign_entries, refuse_unsafe_output
from vfxgen.io.sequence import frame_file_regex, is_pattern, parse_pattern

__all__ = [
    "OUTPUT_FORMATS",
    "OutputTarget",
    "WriteSettings",
    "check_output",
    "format_for_output",
    "plan_output",
    "write_clip",
]

OUTPUT_FORMATS = tuple(w.name for w in writers(standalone=True, plugins=False))  # built in; `writers()` has all


@dataclass(frozen=True)
class OutputTarget:
    """Where one deliverable goes.

    `layout`: `"directory"` (a sequence written whole into a new directory `path`, named after it),
    `"pattern"` (a sequence `name.####.ext` added to the directory `path`, which may hold other files),
    `"still"` (one image file `path`: a one-frame clip as EXR/PNG) or `"file"` (a movie or contact sheet).
    """

    format: str
    layout: str
    path: Path
    name: str | None = None
    shot: bool = False  # inside a shot: shot-only writers (the .nk) are allowed

    @property
    def writer(self) -> Writer:
        return writer_for(self.format, shot=self.shot)

    @property
    def suffix(self) -> str:
        return self.writer.suffix

    def describe(self) -> str:
        """`out/elem.####.exr` for sequences, the file otherwise (for log lines)."""
        if self.layout in ("directory", "pattern"):
            return str(self.path / f"{self.name}.####{self.suffix}")
        return str(self.path)


def format_for_output(out: str | os.PathLike[str], *, directory: str = "exr", png_file: str = "contact") -> str:
    """Infer the format from OUT: `name.####.exr|png` -> exr|png, `.mov` -> prores, `.webm` -> webm,
    `.mp4` -> preview, a plain `.png` file -> `png_file`, `.exr` file -> exr (one-frame still), anything
    without a known suffix (a directory) -> `directory`."""
    text = os.fspath(out)
    if is_pattern(text):
        suffix = parse_pattern(text).suffix.lower()
        for writer in writers(standalone=True):
            if writer.layout == "sequence" and suffix == writer.suffix:
                return writer.name
        raise UsageError(f"cannot tell the format of {text}", "write sequences as NAME.####.exr or NAME.####.png")
    suffix = Path(text).suffix.lower()
    for writer in writers(standalone=True):
        if suffix in writer.implied_by:
            return writer.name
    if suffix == ".png":
        return png_file
    if suffix == ".exr":
        return "exr"
    if suffix in _KNOWN_FILE_SUFFIXES:
        raise UsageError(
            f"vfxgen does not write {suffix} files",
            "name OUT .mov (ProRes), .webm, .mp4 (preview), .png, NAME.####.exr or NAME.####.png, or a directory",
        )
    return directory


_KNOWN_FILE_SUFFIXES = {*PLATE_STILL_SUFFIXES, ".mov", ".webm", ".mkv", ".mp4", ".m4v", ".avi", ".mxf", ".gif"}


def plan_output(out: str | os.PathLike[str], fmt: str, *, shot: bool = False) -> OutputTarget:
    """Check that OUT suits `fmt` and say how it will be written (no file-system changes).

    `shot=True` also accepts the deliverables only a shot carries (the `.nk`)."""
    writer = writer_for(fmt, shot=shot)
    fmt = writer.name
    text = os.fspath(out)
    want = writer.suffix
    if writer.layout == "file":
        if is_pattern(text) or Path(text).suffix.lower() != want:
            raise UsageError(f"--format {fmt} writes one {want} file, got -o {text}", f"name the output like out{want}")
        return OutputTarget(fmt, "file", Path(text), shot=shot)
    if is_pattern(text):
        parsed = parse_pattern(text)
        if parsed.frame_range is not None:
            raise UsageError(f"output pattern {text} has a frame range", "drop the range; use --start-frame")
        name = parsed.prefix[:-1] if parsed.prefix.endswith(".") else ""
        if parsed.suffix.lower() != want or not name or parsed.padding not in (None, 4):
            raise UsageError(
                f"cannot write --format {fmt} frames as {text}",
                f"write the pattern as NAME.####{want} (4-digit frame numbers), or give a directory",
            )
        return OutputTarget(fmt, "pattern", parsed.directory, name, shot=shot)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == want and not path.is_dir():
        return OutputTarget(fmt, "still", path, shot=shot)
    if suffix in _KNOWN_FILE_SUFFIXES and not path.is_dir():
        raise UsageError(
            f"--format {fmt} writes a frame sequence, got -o {text}",
            f"give a directory, a pattern such as out/NAME.####{want}, or a single NAME{want} for one frame",
        )
    absolute = Path(os.path.abspath(path))
    cwd = Path.cwd()
    if absolute == cwd or absolute in cwd.parents:
        raise UsageError(
            f"-o {text} is the current directory (or above it); a sequence directory is written whole",
            f"give a new directory name, or a pattern such as ./NAME.####{want} to add frames here",
        )
    return OutputTarget(fmt, "directory", path, absolute.name, shot=shot)


def _existing_frames(target: OutputTarget) -> list[Path]:
    regex = frame_file_regex(target.name, target.suffix)
    try:
        return sorted(target.path / n for n in os.listdir(target.path) if regex.fullmatch(n))
    except OSError:
        return []


def _foreign_in_sequence_dir(target: OutputTarget) -> str | None:
    frame = frame_file_regex(target.name, target.suffix)
    strangers = foreign_entries(target.path, lambda name: frame.fullmatch(name) is not None)
    return f"it holds {strangers[0]}, which is not a frame of {target.describe()}" if strangers else None


def check_output(target: OutputTarget, overwrite: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse, before any heavy work, an output that is (inside) an input or would clobber without --overwrite.

    `OutputError` (exit 5) when OUT equals or lies inside an input, or would replace a directory holding
    an input; `OutputExistsError` (exit 4) when OUT exists and `overwrite` is false. Creates OUT's parent.
    """
    inputs = list(inputs)
    # A pattern adds named frames into an existing folder (even `.`); every other layout creates OUT itself.
    refuse_unsafe_output(target.path / "frame" if target.layout == "pattern" else target.path, inputs)
    out = target.path.resolve()
    replaces = target.layout == "directory"
    for source in inputs:
        src = Path(source).resolve()
        if out == src:
            raise OutputError(f"output {target.path} is the input itself", "write the result somewhere else")
        if src in out.parents:
            raise OutputError(
                f"output {target.path} is inside the input {source}", "write the result outside the input"
            )
        if replaces and out in src.parents and overwrite:
            raise OutputError(
                f"output {target.path} contains the input {source}; replacing it would delete the input",
                "write the result somewhere else",
            )
    path = target.path
    if target.layout in ("file", "still"):
        if path.is_dir():
            raise OutputError(f"{path} is a directory", f"give a file name ending in {target.suffix}")
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path} already exists", "pass --overwrite to replace it")
    elif path.exists():
        if not path.is_dir():
            raise OutputExistsError(f"{path} exists and is not a directory", "choose another output path")
        if target.layout == "directory" and foreign_entries(path, lambda name: False):
            # Even with --overwrite, only a directory holding nothing but this sequence's frames is replaced.
            check_replaceable(path, lambda p: _foreign_in_sequence_dir(target), "sequence directory")
            if not overwrite:
                raise OutputExistsError(f"{path} already exists", "pass --overwrite to replace it")
        if target.layout == "pattern" and not overwrite and (frames := _existing_frames(target)):
            raise OutputExistsError(
                f"{target.describe()} already exists ({len(frames)} frames)", "pass --overwrite to replace them"
            )
    parent = path.parent if target.layout != "pattern" else path
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {parent}: {exc.strerror or exc}", "choose a writable output path") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write into {parent}", "choose a writable output path")


def write_clip(
    clip: Clip,
    out: str | os.PathLike[str] | OutputTarget,
    fmt: str | None = None,
    settings: WriteSettings | None = None,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    shot: bool = False,
    **fields: Any,
) -> list[Path]:
    """Write `clip` as ONE deliverable at OUT; returns the files written (frames in order, or one file).

    `fmt`: exr, png (sequences: OUT a directory -> `OUT/{OUT.name}.####.ext`, or a pattern
    `dir/NAME.####.ext`, or a single `NAME.ext` file for a one-frame clip), prores (.mov), webm
    (.webm), preview (.mp4), contact (.png) or any registered writer; None infers it
    (`format_for_output`); OUT may also be an `OutputTarget` already planned. `settings` (or its fields
    as keywords: `start_frame=`, `compression=`, `allow_lossy=`, `colorspace=`, `alpha=`) says how; a
    setting given to a format it does not apply to is refused. Nothing is replaced without `overwrite`,
    nothing is written into `inputs`; the result appears whole or not at all. `shot=True` (for
    `write_shot`): settings that do not apply to `fmt` are ignored instead of refused, and shot-only
    deliverables (the `.nk`) are offered.
    """
    settings = replace(settings or WriteSettings(), **fields)
    if isinstance(out, OutputTarget):  # planned by the caller (a shot: names are never re-parsed as patterns)
        target = out
    else:
        target = plan_output(out, fmt or format_for_output(out), shot=shot)
    shot = shot or target.shot
    writer = target.writer
    if shot:  # a shot's settings cover all its deliverables: each writer takes the ones that apply to it
        ignored = {key: getattr(_DEFAULT_SETTINGS, key) for key in FORMAT_SETTINGS if key not in writer.applies}
        settings = replace(settings, **ignored)
    _check_settings(writer, settings)
    # A pattern into a folder that already exists adds frames to it; into a new one, the folder is written
    # whole (decided before check_output creates parents).
    into_existing = target.layout == "pattern" and target.path.is_dir()
    check_output(target, overwrite, inputs)

    def write(path: Path, name: str | None) -> list[Path]:
        return writer.write(clip, path, name, settings)

    if target.layout == "file":
        return write(target.path, None)  # every file writer is atomic itself (codecs use atomic_path)
    if target.layout == "still":
        if clip.num_frames != 1:
            raise UsageError(
                f"{target.path} is a single {target.suffix} file but the clip has {clip.num_frames} frames",
                f"give a directory or a pattern such as {target.path.with_suffix('')}.####{target.suffix}",
            )
        return [_write_still(target, write)]
    if into_existing:  # add frames; never replace the folder itself
        return _write_into_directory(target, write, overwrite)
    return _write_directory(target, write)


_DEFAULT_SETTINGS = WriteSettings()


def _check_settings(writer: Writer, settings: WriteSettings) -> None:
    """Refuse a setting given to a format it does not apply to (`--compression` on a ProRes), then let the
    writer check its own (an unknown compression, a lossy one without --allow-lossy)."""
    for key, flag in FORMAT_SETTINGS.items():
        value = getattr(settings, key)
        default = getattr(_DEFAULT_SETTINGS, key)
        given = value.strip().lower() != default if isinstance(value, str) else False
        if given and key not in writer.applies:
            owners = [w for w in writers(shot=True) if key in w.applies and w.standalone]
            labels = " and ".join(w.label for w in owners)
            shown = f"{flag} {value}" if key == "alpha" else flag
            raise UsageError(
                f"{shown} applies to {labels} only, not {writer.name}",
                f"drop {flag} or use --format {owners[0].name}",
            )
    if writer.check is not None:
        writer.check(settings)


def _write_directory(target: OutputTarget, write: Callable[[Path, str | None], list[Path]]) -> list[Path]:
    """Write the whole sequence into a temporary sibling, then rename it into place (old one moved aside)."""
    with atomic_path(target.path, what=str(target.path)) as tmp:
        written = write(tmp, target.name)
    return [target.path / p.name for p in written]


def _write_into_directory(
    target: OutputTarget, write: Callable[[Path, str | None], list[Path]], overwrite: bool
) -> list[Path]:
    """Add a sequence to a directory holding other files: frames written in a hidden temporary directory
    inside it, then each renamed into place (each rename is atomic); with `overwrite`, older frames of that
    name not rewritten go."""
    assert target.name is not None
    final: list[Path] = []
    with _frames_written_aside(target.path / target.name, write, target.name, target.describe()) as written:
        stale = set(_existing_frames(target)) if overwrite else set()
        for file in written:
            dest = target.path / file.name
            os.replace(file, dest)
            stale.discard(dest)
            final.append(dest)
        for file in stale:
            file.unlink(missing_ok=True)
    return final


def _write_still(target: OutputTarget, write: Callable[[Path, str | None], list[Path]]) -> Path:
    """A one-frame clip as one image file: written as a sequence aside, its frame renamed onto the file."""
    with _frames_written_aside(target.path, write, "still", str(target.path)) as (frame,):
        os.replace(frame, target.path)
    return target.path


@contextmanager
def _frames_written_aside(
    beside: Path, write: Callable[[Path, str | None], list[Path]], name: str, what: str
) -> Iterator[list[Path]]:
    """Frames written into a hidden temporary directory beside `beside` (removed afterwards, whatever happens)."""
    tmp = temporary_name(beside)
    try:
        yield write(tmp, name)
    except OSError as exc:
        hint = "check free disk space and permissions"
        raise OutputError(f"cannot write {what}: {exc.strerror or exc}", hint) from None
    finally:
        remove(tmp)
