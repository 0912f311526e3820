"""Planning and writing one deliverable: `write_clip(clip, out, fmt)`.

format_for_output(out)   the format OUT's name implies (exr, png, prores, webm, preview, contact)
plan_output(out, fmt)    an `OutputTarget`: how OUT will be laid out (no file-system changes)
check_output(target)     refuse, before any heavy work, clobbering or writing into an input
write_clip(clip, out)    write it: EXR/PNG sequence or still, ProRes, WebM, preview, contact sheet,
                         atomically (temporary sibling + rename); codecs load on first use
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from vfxgen.clip import Clip
from vfxgen.errors import OutputError, OutputExistsError, UsageError
from vfxgen.io.registry import PLATE_STILL_SUFFIXES
from vfxgen.io.safety import check_replaceable, foreign_entries, refuse_unsafe_output
from vfxgen.io.sequence import is_pattern, parse_pattern

__all__ = ["OUTPUT_FORMATS", "OutputTarget", "check_output", "format_for_output", "plan_output", "write_clip"]

OUTPUT_FORMATS = ("exr", "prores", "png", "webm", "preview", "contact")
_SEQUENCE_SUFFIX = {"exr": ".exr", "png": ".png"}
_FILE_SUFFIX = {"prores": ".mov", "webm": ".webm", "preview": ".mp4", "contact": ".png"}
_FORMAT_OF_SUFFIX = {".mov": "prores", ".webm": "webm", ".mp4": "preview"}


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

    @property
    def suffix(self) -> str:
        return _SEQUENCE_SUFFIX.get(self.format) or _FILE_SUFFIX[self.format]

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
        for fmt, ext in _SEQUENCE_SUFFIX.items():
            if suffix == ext:
                return fmt
        raise UsageError(f"cannot tell the format of {text}", "write sequences as NAME.####.exr or NAME.####.png")
    suffix = Path(text).suffix.lower()
    if suffix in _FORMAT_OF_SUFFIX:
        return _FORMAT_OF_SUFFIX[suffix]
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


def plan_output(out: str | os.PathLike[str], fmt: str) -> OutputTarget:
    """Check that OUT suits `fmt` and say how it will be written (no file-system changes)."""
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {fmt!r}", f"use one of {', '.join(OUTPUT_FORMATS)}")
    text = os.fspath(out)
    if fmt in _FILE_SUFFIX:
        want = _FILE_SUFFIX[fmt]
        if is_pattern(text) or Path(text).suffix.lower() != want:
            raise UsageError(f"--format {fmt} writes one {want} file, got -o {text}", f"name the output like out{want}")
        return OutputTarget(fmt, "file", Path(text))
    want = _SEQUENCE_SUFFIX[fmt]
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
        return OutputTarget(fmt, "pattern", parsed.directory, name)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == want and not path.is_dir():
        return OutputTarget(fmt, "still", path)
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
    return OutputTarget(fmt, "directory", path, absolute.name)


def _existing_frames(target: OutputTarget) -> list[Path]:
    regex = re.compile(re.escape(f"{target.name}.") + r"\d+" + re.escape(target.suffix))
    try:
        return sorted(target.path / n for n in os.listdir(target.path) if regex.fullmatch(n))
    except OSError:
        return []


def _foreign_in_sequence_dir(target: OutputTarget) -> str | None:
    frame = re.compile(re.escape(f"{target.name}.") + r"\d+" + re.escape(target.suffix))
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
    out: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    start_frame: int = 1001,
    compression: str = "zip",
    allow_lossy: bool = False,
    colorspace: str = "lin_rec709_scene",
    alpha: str = "straight",
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write `clip` as ONE deliverable at OUT; returns the files written (frames in order, or one file).

    `fmt`: exr, png (sequences: OUT a directory -> `OUT/{OUT.name}.####.ext`, or a pattern
    `dir/NAME.####.ext`, or a single `NAME.ext` file for a one-frame clip), prores (.mov), webm
    (.webm), preview (.mp4) or contact (.png); None infers it (`format_for_output`). `compression`
    and `allow_lossy` apply to EXR, `alpha` (straight | premultiplied) to ProRes. Nothing is replaced
    without `overwrite`, nothing is written into `inputs`; the result appears whole or not at all
    (directories and stills are written in a temporary sibling and renamed; movies by their writers).
    """
    fmt = fmt or format_for_output(out)
    target = plan_output(out, fmt)
    if alpha not in ("straight", "premultiplied"):
        raise UsageError(f"unknown --alpha {alpha!r}", "use straight or premultiplied")
    if alpha != "straight" and fmt != "prores":
        raise UsageError(f"--alpha {alpha} applies to ProRes only, not {fmt}", "drop --alpha or use --format prores")
    if fmt == "exr":
        from vfxgen.io.exr import check_compression

        check_compression(compression, allow_lossy)
        from vfxgen.colorspaces import exr_colorspace

        exr_colorspace(colorspace)
    elif compression.strip().lower() != "zip":
        raise UsageError(f"--compression applies to EXR only, not {fmt}", "drop --compression or use --format exr")
    if fmt != "exr" and colorspace != "lin_rec709_scene":
        raise UsageError(f"--colorspace applies to EXR only, not {fmt}", "drop --colorspace or use --format exr")
    check_output(target, overwrite, inputs)

    if target.layout == "file":
        return [_write_file(clip, target, start_frame, alpha)]

    def write_frames(directory: Path, name: str, first: int) -> list[Path]:
        if fmt == "exr":
            from vfxgen.io.exr import write_exr_sequence

            return write_exr_sequence(
                clip, directory, name, first, compression, allow_lossy=allow_lossy, colorspace=colorspace
            )
        from vfxgen.io.images import write_png_sequence

        return write_png_sequence(clip, directory, name, first)

    if target.layout == "still":
        if clip.num_frames != 1:
            raise UsageError(
                f"{target.path} is a single {target.suffix} file but the clip has {clip.num_frames} frames",
                f"give a directory or a pattern such as {target.path.with_suffix('')}.####{target.suffix}",
            )
        return [_write_still(target, write_frames)]
    if target.layout == "pattern" and target.path.is_dir() and any(target.path.iterdir()):
        return _write_into_directory(target, write_frames, start_frame, overwrite)
    return _write_directory(target, write_frames, start_frame)


def _write_file(clip: Clip, target: OutputTarget, start_frame: int, alpha: str) -> Path:
    if target.format == "contact":
        from vfxgen.io.contact import write_contact_sheet

        return write_contact_sheet(clip, target.path, start_frame=start_frame)
    from vfxgen.io import video

    if target.format == "prores":
        return video.write_prores(clip, target.path, alpha=alpha)
    if target.format == "webm":
        return video.write_webm(clip, target.path)
    return video.write_preview(clip, target.path)


def _temporary(beside: Path) -> Path:
    return beside.parent / f".{beside.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _write_directory(
    target: OutputTarget, write_frames: Callable[[Path, str, int], list[Path]], start_frame: int
) -> list[Path]:
    """Write the whole sequence into a temporary sibling, then rename it into place (old one moved aside)."""
    assert target.name is not None
    final = target.path
    tmp = _temporary(final)
    old: Path | None = None
    try:
        written = write_frames(tmp, target.name, start_frame)
        if final.exists():
            old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
        os.replace(tmp, final)
    except OSError as exc:
        if old is not None and not final.exists():
            os.replace(old, final)
            old = None
        raise OutputError(
            f"cannot write {final}: {exc.strerror or exc}", "check free disk space and permissions"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return [final / p.name for p in written]


def _write_into_directory(
    target: OutputTarget, write_frames: Callable[[Path, str, int], list[Path]], start_frame: int, overwrite: bool
) -> list[Path]:
    """Add a sequence to a directory holding other files: frames written in a hidden temporary directory
    inside it, then each renamed into place; with `overwrite`, older frames of that name not rewritten go."""
    assert target.name is not None
    tmp = target.path / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        written = write_frames(tmp, target.name, start_frame)
        stale = set(_existing_frames(target)) if overwrite else set()
        final = []
        for file in written:
            dest = target.path / file.name
            os.replace(file, dest)
            stale.discard(dest)
            final.append(dest)
        for file in stale:
            file.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot write {target.describe()}: {exc.strerror or exc}", "check free disk space and permissions"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _write_still(target: OutputTarget, write_frames: Callable[[Path, str, int], list[Path]]) -> Path:
    tmp = _temporary(target.path)
    try:
        (written,) = write_frames(tmp, "still", 1)
        os.replace(written, target.path)
    except OSError as exc:
        raise OutputError(
            f"cannot write {target.path}: {exc.strerror or exc}", "check free disk space and permissions"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target.path
