"""Reading clips and plates from any source vfxgen knows.

    read_clip(src)     RGBA `Clip` from a shot directory, an image sequence, a movie with alpha, or a
                       TransPixar rgb.mp4 + alpha.mp4 pair (`alpha_video=`)
    read_plate(src)    a background plate (still, sequence or movie) as straight sRGB RGB
    source_paths(src)  where a source lives on disk (cheap; to refuse writing into an input)

What `src` may be (`read_clip`):

- a shot directory written by vfxgen: its `shot.json` names the frames (the first deliverable listed that
  its writer reads back, sequences before movies: `rgba/*.exr`, else `png/*.png`, else the ProRes or
  WebM movie); without a manifest, the one sequence in the directory (or in a sub-directory a shot keeps
  its sequences in: `rgba/`, `png/`);
- a sequence pattern: `dir/shot.####.exr`, `shot.%04d.png`, `shot.@@@@.exr`, with an optional
  `:1001-1010` range (see `vfxgen.io.sequence`);
- a movie (`.mov`, `.webm`, `.mkv`, `.mp4`, ...): read with `read_movie`; frames count from 0 there;
- a single still (`frame.exr`, `frame.png`): a one-frame clip.

Files are dispatched by suffix through `vfxgen.io.registry`; what a shot holds, through its writers there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vfxgen.clip import Clip, check_fps
from vfxgen.errors import InputError, MissingAlphaError, UsageError
from vfxgen.io.manifest import MANIFEST, read_manifest
from vfxgen.io.registry import (
    DEFAULT_FPS,
    PLATE_STILL_SUFFIXES,
    reader_for,
    sequence_folders,
    shot_clip_writers,
    suffix_key,
    suffixes_read,
)
from vfxgen.io.sequence import (
    NUMBERED_FILE,
    FrameSequence,
    check_frame_range,
    find_sequence,
    is_pattern,
    parse_frame_range,
    parse_pattern,
)

__all__ = ["read_clip", "read_plate", "source_paths"]

# `path:1001-1010` after a directory or movie (patterns carry their range themselves).
_PATH_RANGE = re.compile(r"^(?P<head>.*[^:]):(?P<range>\d+(?:-\d+)?)$")
_SRC_HINT = "give a shot directory, a sequence pattern such as shot.####.exr, or a movie with alpha (.mov, .webm)"


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
    clip = _read_any(src, alpha_video, frame_range, fps, require_alpha)
    _warn_alpha_range(clip, os.fspath(src))
    return clip


def _read_any(src, alpha_video, frame_range, fps, require_alpha) -> Clip:
    if fps is not None:
        check_fps(fps)  # 0 is not "the source's rate": leaving --fps out is
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


def _warn_alpha_range(clip: Clip, src: str) -> None:
    """Alpha outside [0, 1] (an EXR can hold it) is clamped by every integer output and by most comps: say
    so once, with how much, instead of exporting it silently."""
    alpha = clip.alpha
    low, high = float(alpha.min()), float(alpha.max())
    if low >= -1e-3 and high <= 1 + 1e-3:  # half float rounds 1.0 exactly
        return
    import warnings

    from vfxgen.errors import VfxgenWarning

    count = int(((alpha < -1e-3) | (alpha > 1 + 1e-3)).sum())
    warnings.warn(
        f"{src} has {count} alpha values outside [0, 1] (from {low:.4g} to {high:.4g}): integer outputs clamp "
        "them; fix the matte at its source (vfxgen qc reports it)",
        VfxgenWarning,
        stacklevel=3,
    )


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
    return clip.sliced(first, last)


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
            raise MissingAlphaError(
                f"{path} has no alpha channel (colour only)", "vfxgen clips are RGBA: export the image with alpha"
            )
        image = np.concatenate([image, np.ones_like(image[..., :1])], axis=-1)
    return Clip(image[None], fps or DEFAULT_FPS, {"source": str(path)})


def _read_directory(path: Path, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool) -> Clip:
    if (path / MANIFEST).is_file():
        clip = _read_shot(path, frame_range, fps, require_alpha)
        if clip is not None:
            return clip
    sequence = _sequence_in_directory(path, frame_range, _clip_sequence_suffixes())
    return reader_for(sequence.suffix, kinds=("sequence",)).read(sequence, fps, require_alpha)


def _clip_sequence_suffixes() -> tuple[str, ...]:
    return suffixes_read("sequence")


def _sequence_in_directory(path: Path, frame_range: tuple[int, int] | None, suffixes: Sequence[str]) -> FrameSequence:
    """The one sequence in `path`, else in a sub-directory a shot keeps sequences in (a shot without manifest)."""
    wanted = {s.lower() for s in suffixes}
    for candidate in (path, *(path / folder for folder in sequence_folders())):
        if not candidate.is_dir():
            continue
        try:
            names = os.listdir(candidate)
        except OSError as exc:
            raise InputError(f"cannot list {candidate}: {exc.strerror}", "check permissions") from None
        if any(
            (m := NUMBERED_FILE.fullmatch(n)) and not n.startswith(".") and m["suffix"].lower() in wanted for n in names
        ):
            return find_sequence(candidate, frame_range, extensions=tuple(wanted))
    kinds = "/".join(sorted(wanted))
    raise InputError(
        f"no {kinds} frame sequence or shot in directory {path}",
        "give a shot directory written by vfxgen, a directory holding one sequence, "
        "or a pattern such as dir/shot.####.exr",
    )


def _read_shot(path: Path, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool) -> Clip | None:
    """The clip a shot's manifest names (the first listed deliverable its writer reads back: EXR, else PNG,
    else ProRes/WebM); None if it names none."""

    manifest = read_manifest(path)
    if not isinstance(manifest, dict):
        raise InputError(f"{path / MANIFEST} is not a vfxgen manifest", "the shot is damaged; regenerate it")
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    generation = manifest.get("generation") if isinstance(manifest.get("generation"), dict) else {}
    clip: Clip | None = None
    for writer in shot_clip_writers():
        listed = files.get(writer.name)
        if writer.read_as == "sequence" and isinstance(listed, list) and listed and isinstance(listed[0], str):
            clip = _read_shot_sequence(path, manifest, listed[0], frame_range, fps, require_alpha)
            break
        if writer.read_as == "movie" and isinstance(listed, str) and listed:
            clip = _read_shot_movie(path, listed, frame_range, fps, require_alpha)
            break
    if clip is None:
        return None
    return clip.with_metadata(**{str(k): v for k, v in generation.items()}, shot=str(path))


def _read_shot_sequence(
    path: Path,
    manifest: dict,
    first_listed: str,
    frame_range: tuple[int, int] | None,
    fps: float | None,
    require_alpha: bool,
) -> Clip:
    """A shot's frames, found from the first one its manifest lists, at the rate and frame range `shot.json`
    records (`fps` and `frame_range` override them)."""
    first = _inside_shot(path, first_listed)
    match = NUMBERED_FILE.fullmatch(first.name)
    if match is None:
        raise InputError(f"{path / MANIFEST} lists {first_listed!r}, not a numbered frame", "regenerate the shot")
    pattern = first.parent / f"{match['prefix']}{'#' * len(match['digits'])}{match['suffix']}"
    start, end = manifest.get("start_frame"), manifest.get("end_frame")
    shot_range = (start, end) if isinstance(start, int) and isinstance(end, int) else None
    sequence = find_sequence(pattern, frame_range or shot_range)
    shot_fps = fps or _positive_number(manifest.get("fps"))
    return reader_for(pattern, kinds=("sequence",)).read(sequence, shot_fps, require_alpha)


def _read_shot_movie(
    path: Path, listed: str, frame_range: tuple[int, int] | None, fps: float | None, require_alpha: bool
) -> Clip:
    """A shot's movie at the rate its stream states (`fps` overrides), cut to `frame_range` (0-based)."""
    movie = _inside_shot(path, listed)
    _require_file(movie)
    whole = reader_for(movie, kinds=("movie",)).read(movie, fps, require_alpha)
    return _cut_movie(whole, frame_range, movie)


def _inside_shot(shot: Path, relative: str) -> Path:
    """A manifest file entry as a path, refusing entries that point outside the shot (data, not trust)."""
    candidate = (shot / relative).resolve()
    if shot.resolve() not in candidate.parents:
        raise InputError(f"{shot / MANIFEST} lists {relative!r} outside the shot", "the shot is damaged; regenerate it")
    return shot / relative


def _positive_number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def read_plate(
    src: str | os.PathLike[str], frame_range: tuple[int, int] | None = None, colorspace: str | None = None
) -> np.ndarray:
    """A background plate as straight sRGB float32 `[T, H, W, 3]` (a still gives T = 1).

    `src`: a still image (PNG, EXR, JPEG, TIFF, DPX, ...), an image sequence (pattern or directory
    holding one), or a movie (alpha not needed). Colour is decoded as `read_image` / `read_movie` do
    (EXR and other linear files are sRGB-encoded; HDR values above 1 are kept). A plate that has alpha
    is flattened over black in scene-linear light, as a plate is the bottom of the stack.
    `frame_range`: frame numbers for sequences, 0-based indices for movies (or `src:first-last`).
    `colorspace`: the plate's OCIO colour space (any: ACEScg, ARRI LogC4, sRGB...), overriding the file's
    tag; the pixels are converted by OCIO to Rec.709 and sRGB-encoded (stills and sequences only).
    """
    from vfxgen.io.images import map_frames, stack_frames

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

                if colorspace is not None:
                    raise UsageError("--plate-colorspace applies to image plates", "convert the movie to images")
                clip = _cut_movie(read_movie(path, require_alpha=False), frame_range, path)
                return _flatten(clip.frames)
            if frame_range is not None:
                raise UsageError(f"plate {path} is a single image; it has no frame range", "drop the range")
            return _flatten(_plate_image(path, colorspace))[None]
    frames = map_frames(lambda frame: _flatten(_plate_image(sequence.path(frame), colorspace)), sequence.frames)
    return stack_frames(frames, sequence)


def _plate_image(path: Path, colorspace: str | None) -> np.ndarray:
    """`read_image`, or with a colour space: raw pixels converted from it by OCIO (alpha as stored)."""
    from vfxgen.io.images import read_image

    if colorspace is None:
        return read_image(path)
    from vfxgen.color import linear_to_srgb
    from vfxgen.colorspaces import WORKING, convert
    from vfxgen.io.images import read_pixels, rgb_or_rgba

    pixels, spec, fmt = read_pixels(path)
    image = rgb_or_rgba(pixels, spec, path)
    if image.shape[-1] == 4 and fmt == "openexr":  # premultiplied: convert the straight colour
        from vfxgen.color import unpremultiply

        image = unpremultiply(image)
    image[..., :3] = linear_to_srgb(convert(image[..., :3], colorspace, WORKING))
    return np.ascontiguousarray(image, dtype=np.float32)


def _check_plate_suffix(text: str, suffix: str, allow_movie: bool) -> str:
    key = suffix_key(suffix) if suffix else ""
    if key in PLATE_STILL_SUFFIXES:
        return "still"
    if allow_movie and key in suffixes_read("movie"):
        return "movie"
    known = " ".join(PLATE_STILL_SUFFIXES) + (" " + " ".join(suffixes_read("movie")) if allow_movie else "")
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


def read_footage(src: str | os.PathLike[str], fps: float | None = None) -> Clip:
    """Footage to pull a matte from, as RGBA (alpha 1 where the source has none). EXR sequences without an A
    channel, which `read_clip` refuses, are read as a plate: colour over black."""
    try:
        return read_clip(src, fps=fps, require_alpha=False)
    except MissingAlphaError:  # an EXR plate without A: read below as colour over black
        pass
    if fps is not None:
        check_fps(fps)
    rgb = np.clip(read_plate(src), 0.0, None)
    rate = fps or _exr_sequence_rate(os.fspath(src)) or DEFAULT_FPS
    return Clip(np.concatenate([rgb, np.ones_like(rgb[..., :1])], axis=-1), rate, {"source": str(src)})


def _exr_sequence_rate(text: str) -> float | None:
    """The frame rate an RGB EXR sequence's first header carries (a plate keeps its own rate), else None."""
    from vfxgen.io.exr import header_fps, read_exr_header

    try:
        first = find_sequence(text).paths()[0] if is_pattern(text) else Path(_path_and_range(text, None)[0])
        return header_fps(read_exr_header(first)) if first.suffix.lower() == ".exr" else None
    except (InputError, OSError, IndexError):
        return None
