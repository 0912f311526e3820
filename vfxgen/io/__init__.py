"""Clips in and out: one entry point per direction, dispatched by file suffix (OpenTimelineIO-style).

    read_clip(src)              RGBA `Clip` from a shot directory, an image sequence, a movie with
                                alpha, or a TransPixar rgb.mp4 + alpha.mp4 pair (`alpha_video=`)
    read_plate(src)             a background plate (still, sequence or movie) as straight sRGB RGB
    write_clip(clip, out, fmt)  one deliverable (EXR/PNG sequence, ProRes, WebM, preview, contact sheet),
                                refusing to clobber or to write into its own input, written atomically

What `src` may be (`read_clip`):

- a shot directory written by vfxgen: its `shot.json` names the frames (`rgba/*.exr`, else `png/*.png`,
  else the ProRes or WebM movie); without a manifest, the one sequence in the directory (or in its
  `rgba/` or `png/` sub-directory);
- a sequence pattern: `dir/shot.####.exr`, `shot.%04d.png`, `shot.@@@@.exr`, with an optional
  `:1001-1010` range (see `vfxgen.io.sequence`);
- a movie (`.mov`, `.webm`, `.mkv`, `.mp4`, ...): read with `read_movie`; frames count from 0 there;
- a single still (`frame.exr`, `frame.png`): a one-frame clip.

Readers are looked up by suffix in a small registry (`register_reader`), so another format is one
function away. This package imports no torch or diffusers; the codec modules (OpenImageIO, PyAV,
OpenCV) are loaded on first use, so `import vfxgen.io.sequence` stays cheap.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vfxgen.clip import Clip
from vfxgen.errors import InputError, OutputError, OutputExistsError, UsageError
from vfxgen.io.sequence import (
    FrameSequence,
    check_frame_range,
    find_sequence,
    is_pattern,
    parse_frame_range,
    parse_pattern,
)

if TYPE_CHECKING:  # re-exported lazily through __getattr__ below
    from vfxgen.io.contact import write_contact_sheet
    from vfxgen.io.exr import read_exr_header, read_exr_sequence, write_exr_sequence
    from vfxgen.io.images import read_image, read_png_sequence, write_png, write_png_sequence
    from vfxgen.io.video import read_movie, read_transpixar_pair, write_preview, write_prores, write_webm

__all__ = [
    "OUTPUT_FORMATS",
    "FrameSequence",
    "OutputTarget",
    "Reader",
    "check_output",
    "find_sequence",
    "format_for_output",
    "parse_frame_range",
    "plan_output",
    "read_clip",
    "read_exr_header",
    "read_exr_sequence",
    "read_image",
    "read_movie",
    "read_plate",
    "read_png_sequence",
    "read_transpixar_pair",
    "reader_for",
    "readers",
    "register_reader",
    "source_paths",
    "write_clip",
    "write_contact_sheet",
    "write_exr_sequence",
    "write_png",
    "write_png_sequence",
    "write_preview",
    "write_prores",
    "write_webm",
]

_LAZY = {
    "read_exr_header": "vfxgen.io.exr",
    "read_exr_sequence": "vfxgen.io.exr",
    "write_exr_sequence": "vfxgen.io.exr",
    "read_image": "vfxgen.io.images",
    "read_png_sequence": "vfxgen.io.images",
    "write_png": "vfxgen.io.images",
    "write_png_sequence": "vfxgen.io.images",
    "read_movie": "vfxgen.io.video",
    "read_transpixar_pair": "vfxgen.io.video",
    "write_preview": "vfxgen.io.video",
    "write_prores": "vfxgen.io.video",
    "write_webm": "vfxgen.io.video",
    "write_contact_sheet": "vfxgen.io.contact",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vfxgen.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


DEFAULT_FPS = 8.0  # the model's frame rate, for inputs that carry none
_MANIFEST = "shot.json"  # vfxgen.shot.MANIFEST (not imported: vfxgen.shot is only needed for shots)
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\.[^.]+)$")
# `path:1001-1010` after a directory or movie (patterns carry their range themselves).
_PATH_RANGE = re.compile(r"^(?P<head>.*[^:]):(?P<range>\d+(?:-\d+)?)$")
_SRC_HINT = "give a shot directory, a sequence pattern such as shot.####.exr, or a movie with alpha (.mov, .webm)"


# --------------------------------------------------------------------------------------------------
# the reader registry
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reader:
    """How to read one kind of file into a `Clip`.

    `kind` is `"sequence"` (one file per frame: `read(sequence: FrameSequence, fps, require_alpha)`) or
    `"movie"` (one file: `read(path: Path, fps, require_alpha)`). `fps=None` means "what the file says".
    """

    name: str
    kind: str
    suffixes: tuple[str, ...]
    read: Callable[[Any, float | None, bool], Clip]


_READERS: dict[str, Reader] = {}


def _suffix_key(suffix: str) -> str:
    suffix = suffix.lower()
    return suffix if suffix.startswith(".") else "." + suffix


def register_reader(reader: Reader, *, replace: bool = False) -> Reader:
    """Make `read_clip` dispatch `reader.suffixes` (case-insensitive) to `reader`."""
    if reader.kind not in ("sequence", "movie"):
        raise ValueError(f"reader kind must be 'sequence' or 'movie', got {reader.kind!r}")
    keys = [_suffix_key(s) for s in reader.suffixes]
    taken = [k for k in keys if k in _READERS and _READERS[k].name != reader.name]
    if taken and not replace:
        raise ValueError(f"suffix {taken[0]} is already read by {_READERS[taken[0]].name!r}; pass replace=True")
    for key in keys:
        _READERS[key] = reader
    return reader


def readers() -> list[Reader]:
    """The registered readers, each once, in registration order."""
    return list(dict.fromkeys(_READERS.values()))


def reader_for(path: str | os.PathLike[str], kinds: Sequence[str] = ("sequence", "movie")) -> Reader:
    """The reader for a file name (or bare suffix such as `.exr`); `InputError` naming what is readable."""
    text = os.fspath(path)
    suffix = text if text.startswith(".") and os.sep not in text else Path(text).suffix
    reader = _READERS.get(_suffix_key(suffix)) if suffix else None
    if reader is None or reader.kind not in kinds:
        known = " ".join(sorted(k for k, r in _READERS.items() if r.kind in kinds))
        what = f"suffix {suffix!r}" if suffix else "no suffix"
        raise InputError(f"cannot read {text}: {what} is not a clip format vfxgen reads", f"use one of: {known}")
    return reader


def _read_exr(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.exr import read_exr_sequence

    return read_exr_sequence(sequence, fps=fps)  # EXR always needs A: the reader says so per frame


def _read_png(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.images import read_png_sequence

    return read_png_sequence(sequence, fps=fps or DEFAULT_FPS, require_alpha=require_alpha)


def _read_movie(path: Path, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.video import read_movie

    return read_movie(path, fps=fps, require_alpha=require_alpha)


register_reader(Reader("exr", "sequence", (".exr",), _read_exr))
register_reader(Reader("png", "sequence", (".png",), _read_png))
register_reader(Reader("movie", "movie", (".mov", ".webm", ".mkv", ".mp4", ".m4v", ".avi", ".mxf"), _read_movie))

# Stills a plate may be (OpenImageIO reads them; colour handled by `vfxgen.io.images.read_image`).
PLATE_STILL_SUFFIXES = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".cin", ".tga", ".bmp", ".webp")


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------
def read_clip(
    src: str | os.PathLike[str],
    *,
    alpha_video: str | os.PathLike[str] | None = None,
    frame_range: tuple[int, int] | None = None,
    fps: float | None = None,
    require_alpha: bool = True,
) -> Clip:
    """Read any RGBA source vfxgen knows into a straight sRGB `Clip` (see the module docstring).

    `alpha_video`: `src` is then the colour movie of a TransPixar release pair (premultiplied rgb.mp4)
    and this its matte (alpha.mp4). `frame_range` `(first, last)` inclusive: frame numbers for
    sequences and shots, 0-based frame indices for movies; may also be given as `src:first-last`.
    `fps` overrides the frame rate the source carries. `require_alpha=False` reads colour-only PNG
    sequences and movies with alpha 1 (EXR always needs an A channel).
    """
    text = os.fspath(src)
    if frame_range is not None:
        frame_range = check_frame_range(frame_range)
    if alpha_video is not None:
        return _read_pair(text, alpha_video, frame_range, fps)
    if is_pattern(text):
        parsed = parse_pattern(text)
        reader = reader_for(f"{parsed.prefix}#{parsed.suffix}", kinds=("sequence",))
        sequence = find_sequence(text, frame_range, extensions=reader.suffixes)
        return reader.read(sequence, fps, require_alpha)
    path, frame_range = _path_and_range(text, frame_range)
    if path.is_dir():
        return _read_directory(path, frame_range, fps, require_alpha)
    _require_file(path)
    reader = reader_for(path)
    if reader.kind == "movie":
        return _cut_movie(reader.read(path, fps, require_alpha), frame_range, path)
    return _read_still_clip(path, frame_range, fps, require_alpha)


def _read_pair(
    text: str, alpha_video: str | os.PathLike[str], frame_range: tuple[int, int] | None, fps: float | None
) -> Clip:
    from vfxgen.io.video import read_transpixar_pair

    path, frame_range = _path_and_range(text, frame_range)
    alpha_path = Path(alpha_video)
    for file in (path, alpha_path):
        _require_file(file)
        if reader_for(file).kind != "movie":
            raise InputError(
                f"{file} is not a movie",
                "--alpha-video takes the TransPixar pair: SRC the colour movie (rgb.mp4), FILE the matte (alpha.mp4)",
            )
    return _cut_movie(read_transpixar_pair(path, alpha_path, fps=fps), frame_range, path)


def _path_and_range(text: str, frame_range: tuple[int, int] | None) -> tuple[Path, tuple[int, int] | None]:
    """`movie.mov:10-20` / `shot/:1001-1010` -> (path, range), merged with the argument's range."""
    match = _PATH_RANGE.match(text)
    if match and not os.path.exists(text) and os.path.exists(match.group("head")):
        in_name = parse_frame_range(match.group("range"))
        if frame_range is not None and frame_range != in_name:
            raise UsageError(
                f"{text} names frames {in_name[0]}-{in_name[1]} but the frame range asks for "
                f"{frame_range[0]}-{frame_range[1]}",
                "give the range in one place only",
            )
        return Path(match.group("head")), in_name
    return Path(text), frame_range


def _require_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path} does not exist", _SRC_HINT)
    if not path.is_file():
        raise InputError(f"{path} is not a file", _SRC_HINT)


def _cut_movie(clip: Clip, frame_range: tuple[int, int] | None, path: Path) -> Clip:
    """Frames `first..last` (0-based indices, inclusive) of a movie."""
    if frame_range is None:
        return clip
    first, last = frame_range
    if last >= clip.num_frames:
        raise InputError(
            f"movie {path} has {clip.num_frames} frames (0-{clip.num_frames - 1}), "
            f"frames {first}-{last} are outside it",
            "movie frames count from 0; choose a range inside the movie",
        )
    return Clip(clip.frames[first : last + 1], clip.fps, dict(clip.metadata))


def _read_still_clip(path: Path, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool) -> Clip:
    """One image as a one-frame clip (EXR: premultiplied linear; PNG: straight sRGB; as `read_image`)."""
    from vfxgen.io.images import read_image

    if frame_range is not None:
        raise UsageError(
            f"{path} is a single image; it has no frame range",
            "give the sequence as a pattern, e.g. dir/shot.####.exr:1001-1010",
        )
    image = read_image(path)
    if image.shape[-1] == 3:
        if require_alpha:
            raise InputError(
                f"{path} has no alpha channel (colour only)", "vfxgen clips are RGBA: export the image with alpha"
            )
        image = np.concatenate([image, np.ones_like(image[..., :1])], axis=-1)
    return Clip(image[None], fps or DEFAULT_FPS, {"source": str(path)})


def _read_directory(path: Path, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool) -> Clip:
    if (path / _MANIFEST).is_file():
        clip = _read_shot(path, frame_range, fps, require_alpha)
        if clip is not None:
            return clip
    sequence = _sequence_in_directory(path, frame_range, _clip_sequence_suffixes())
    return reader_for(sequence.suffix, kinds=("sequence",)).read(sequence, fps, require_alpha)


def _clip_sequence_suffixes() -> tuple[str, ...]:
    return tuple(k for k, r in _READERS.items() if r.kind == "sequence")


def _sequence_in_directory(path: Path, frame_range: tuple[int, int] | None, suffixes: Sequence[str]) -> FrameSequence:
    """The one sequence in `path`, else in its `rgba/` or `png/` sub-directory (a shot without manifest)."""
    wanted = {s.lower() for s in suffixes}
    for candidate in (path, path / "rgba", path / "png"):
        if not candidate.is_dir():
            continue
        try:
            names = os.listdir(candidate)
        except OSError as exc:
            raise InputError(f"cannot list {candidate}: {exc.strerror}", "check permissions") from None
        if any(
            (m := _NUMBERED.fullmatch(n)) and not n.startswith(".") and m["suffix"].lower() in wanted for n in names
        ):
            return find_sequence(candidate, frame_range, extensions=tuple(wanted))
    kinds = "/".join(sorted(wanted))
    raise InputError(
        f"no {kinds} frame sequence or shot in directory {path}",
        "give a shot directory written by vfxgen, a directory holding one sequence, "
        "or a pattern such as dir/shot.####.exr",
    )


def _read_shot(path: Path, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool) -> Clip | None:
    """The clip a shot's manifest names (EXR, else PNG, else ProRes/WebM); None if it names none."""
    from vfxgen.shot import read_manifest

    manifest = read_manifest(path)
    if not isinstance(manifest, dict):
        raise InputError(f"{path / _MANIFEST} is not a vfxgen manifest", "the shot is damaged; regenerate it")
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    generation = manifest.get("generation") if isinstance(manifest.get("generation"), dict) else {}
    shot_fps = fps or _positive_number(manifest.get("fps"))
    clip: Clip | None = None
    for key in ("exr", "png"):
        listed = files.get(key)
        if isinstance(listed, list) and listed and isinstance(listed[0], str):
            first = _inside_shot(path, listed[0])
            match = _NUMBERED.fullmatch(first.name)
            if match is None:
                raise InputError(f"{path / _MANIFEST} lists {listed[0]!r}, not a numbered frame", "regenerate the shot")
            pattern = first.parent / f"{match['prefix']}{'#' * len(match['digits'])}{match['suffix']}"
            start, end = manifest.get("start_frame"), manifest.get("end_frame")
            shot_range = (start, end) if isinstance(start, int) and isinstance(end, int) else None
            sequence = find_sequence(pattern, frame_range or shot_range)
            clip = reader_for(pattern, kinds=("sequence",)).read(sequence, shot_fps, require_alpha)
            break
    else:
        for key in ("prores", "webm"):
            listed = files.get(key)
            if isinstance(listed, str) and listed:
                movie = _inside_shot(path, listed)
                _require_file(movie)
                clip = _cut_movie(_read_movie(movie, fps, require_alpha), frame_range, movie)
                break
    if clip is None:
        return None
    return clip.with_metadata(**{str(k): v for k, v in generation.items()}, shot=str(path))


def _inside_shot(shot: Path, relative: str) -> Path:
    """A manifest file entry as a path, refusing entries that point outside the shot (data, not trust)."""
    candidate = (shot / relative).resolve()
    if shot.resolve() not in candidate.parents:
        raise InputError(
            f"{shot / _MANIFEST} lists {relative!r} outside the shot", "the shot is damaged; regenerate it"
        )
    return shot / relative


def _positive_number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def read_plate(src: str | os.PathLike[str], frame_range: tuple[int, int] | None = None) -> np.ndarray:
    """A background plate as straight sRGB float32 `[T, H, W, 3]` (a still gives T = 1).

    `src`: a still image (PNG, EXR, JPEG, TIFF, DPX, ...), an image sequence (pattern or directory
    holding one), or a movie (alpha not needed). Colour is decoded as `read_image` / `read_movie` do
    (EXR and other linear files are sRGB-encoded; HDR values above 1 are kept). A plate that has alpha
    is flattened over black in scene-linear light, as a plate is the bottom of the stack.
    `frame_range`: frame numbers for sequences, 0-based indices for movies (or `src:first-last`).
    """
    from vfxgen.io.images import map_frames, read_image, stack_frames

    text = os.fspath(src)
    if frame_range is not None:
        frame_range = check_frame_range(frame_range)
    if is_pattern(text):
        parsed = parse_pattern(text)
        _check_plate_suffix(text, parsed.suffix, allow_movie=False)
        sequence = find_sequence(text, frame_range)
    else:
        path, frame_range = _path_and_range(text, frame_range)
        if path.is_dir():
            sequence = _sequence_in_directory(path, frame_range, PLATE_STILL_SUFFIXES)
        else:
            _require_file(path)
            kind = _check_plate_suffix(text, path.suffix, allow_movie=True)
            if kind == "movie":
                from vfxgen.io.video import read_movie

                clip = _cut_movie(read_movie(path, require_alpha=False), frame_range, path)
                return _flatten(clip.frames)
            if frame_range is not None:
                raise UsageError(f"plate {path} is a single image; it has no frame range", "drop the range")
            return _flatten(read_image(path))[None]
    frames = map_frames(lambda frame: _flatten(read_image(sequence.path(frame))), sequence.frames)
    return stack_frames(frames, sequence)


def _check_plate_suffix(text: str, suffix: str, allow_movie: bool) -> str:
    key = _suffix_key(suffix) if suffix else ""
    if key in PLATE_STILL_SUFFIXES:
        return "still"
    if allow_movie and key in _READERS and _READERS[key].kind == "movie":
        return "movie"
    known = " ".join(PLATE_STILL_SUFFIXES) + (
        " " + " ".join(k for k, r in _READERS.items() if r.kind == "movie") if allow_movie else ""
    )
    raise InputError(
        f"cannot read plate {text}: {suffix or 'no suffix'!r} is not an image or movie suffix", f"use {known}"
    )


def _flatten(image: np.ndarray) -> np.ndarray:
    """RGB(A) straight sRGB `[..., 3|4]` -> RGB over black, composited in scene-linear light."""
    from vfxgen.color import linear_to_srgb, srgb_to_linear

    image = np.asarray(image, dtype=np.float32)
    if image.shape[-1] == 3:
        return image
    rgb, alpha = image[..., :3], image[..., 3:4]
    if np.all(alpha == 1.0):
        return np.ascontiguousarray(rgb)
    return linear_to_srgb(srgb_to_linear(rgb) * alpha)


def source_paths(src: str | os.PathLike[str], alpha_video: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where a source lives on disk (the sequence's directory, the shot directory, the movie file).

    Cheap (no decoding): used to refuse an output inside its own input before any work, and to say
    early that a source does not exist (`InputError`).
    """
    text = os.fspath(src)
    if is_pattern(text):
        directory = parse_pattern(text).directory
        if not directory.is_dir():
            raise InputError(f"directory {directory} does not exist", f"check the path of {text}")
        paths = [directory]
    else:
        path, _ = _path_and_range(text, None)
        if not path.exists():
            raise InputError(f"{path} does not exist", _SRC_HINT)
        paths = [path]
    if alpha_video is not None:
        if not Path(alpha_video).exists():
            raise InputError(f"alpha video {alpha_video} does not exist", "give the alpha.mp4 of the TransPixar pair")
        paths.append(Path(alpha_video))
    return paths


# --------------------------------------------------------------------------------------------------
# writing one deliverable
# --------------------------------------------------------------------------------------------------
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


def check_output(target: OutputTarget, overwrite: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse, before any heavy work, an output that is (inside) an input or would clobber without --overwrite.

    `OutputError` (exit 5) when OUT equals or lies inside an input, or would replace a directory holding
    an input; `OutputExistsError` (exit 4) when OUT exists and `overwrite` is false. Creates OUT's parent.
    """
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
        if target.layout == "directory" and any(path.iterdir()) and not overwrite:
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
    elif compression.strip().lower() != "zip":
        raise UsageError(f"--compression applies to EXR only, not {fmt}", "drop --compression or use --format exr")
    check_output(target, overwrite, inputs)

    if target.layout == "file":
        return [_write_file(clip, target, start_frame, alpha)]

    def write_frames(directory: Path, name: str, first: int) -> list[Path]:
        if fmt == "exr":
            from vfxgen.io.exr import write_exr_sequence

            return write_exr_sequence(clip, directory, name, first, compression, allow_lossy=allow_lossy)
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
