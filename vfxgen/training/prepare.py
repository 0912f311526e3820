"""Turn real footage into a training dataset: matting pairs (VideoMatte240K) and RGBA sources.

Two kinds of source, both cut into consecutive windows of `frames` frames (a window starts every
`stride` frames; a tail shorter than `frames` is dropped), centre-cropped to the target aspect and
resized with `cv2.INTER_AREA`:

* **matting** - a directory with `fgr/` (colour) and `pha/` (alpha) holding videos (or directories of
  numbered images, as in VideoMatte240K_JPEG) with matching names. Alpha is the grey level of the pha
  video (the mean of its decoded channels, which averages out chroma noise of 4:2:0 files). The paper's
  preprocessing (supplement Sec. 8) is applied, see `decontaminate` and `blurred_background`.
* **rgba** - an EXR or PNG sequence (pattern `shot.####.exr` or its directory), a movie with alpha
  (ProRes 4444, WebM VP9 alpha), or a folder of any of these. Such sources already carry clean straight
  colour and a real matte, so they are only cut, cropped and resized.

Background blending ("blend each subsequent frame with this static background"): the first frame of
each *window* (each clip is what the model sees) is blurred with a 201-pixel Gaussian and that one
plate is put under every frame of the window with the (refined) matte: foreground over plate. The paper
does this so the RGB video has a simple, static background exactly where the alpha video is black,
instead of the busy or screen-coloured surroundings of matting footage, which makes RGB and alpha easy
to align. Read as written, the decontamination formula is that same blend with the choked matte
(see `decontaminate`), so the two steps are one operation here.

What is stored: the dataset format (`vfxgen.training.data`) holds straight sRGB colour plus alpha and
`vfxgen train` premultiplies (`rgb * alpha`) to make the RGB video it trains on, while the paper trains
on the opaque composite. Here the paper's preprocessed RGB frame is stored as the *straight colour*
under the original matte. Where the object is opaque this is the source colour; where alpha is 0 it is
dropped (to_uint8 zeroes it, training multiplies it by 0); in the soft edge - the only place the
background can reach the model - the colour is the paper's mix of object and smooth static background
instead of whatever the source screen spilled there. Premultiplying a stored clip gives the paper's RGB
frame multiplied by the alpha (up to 8-bit rounding).

Frames are decoded one at a time (only one window is held in memory), so long HD and 4K matting videos
never sit in RAM whole. The preprocessing runs at the cropped *source* resolution, before
the resize: the paper's 201-pixel blur kernel is in source pixels (HD VideoMatte240K frames), not in the
pixels of a 64x64 training clip, where it would flatten the background to one colour.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vfxgen.errors import InputError, UsageError
from vfxgen.shapes import check_clip_shape, check_stride

Item = tuple[np.ndarray, str, str]  # (rgba float32 [T, H, W, 4] straight sRGB, caption, element)

GAIN = 1.1  # the supplement's gain (gamma)
CHOKE = 0.5  # the supplement's choke (chi)
BLUR_KSIZE = 201  # the supplement's Gaussian kernel for the static background

MOVIE_EXTENSIONS = (".mov", ".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mxf")
RGBA_IMAGE_EXTENSIONS = (".exr", ".png")
MATTE_IMAGE_EXTENSIONS = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
_NO_ALPHA_HINT = "give RGBA sources (ProRes 4444, WebM with alpha, EXR/PNG), or matting data as fgr/ and pha/ folders"
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\.[^.]+)$")


# --------------------------------------------------------------------------------------------------
# the paper's preprocessing (pure functions)
# --------------------------------------------------------------------------------------------------
def refine_mask(alpha: np.ndarray, gain: float = GAIN, choke: float = CHOKE) -> np.ndarray:
    """The refined *foreground* matte: a levels operation set by gain (gamma) and choke (chi).

        refined = clip((gain * alpha - choke) / (1 - choke), 0, 1)

    i.e. a linear ramp from a black point `choke / gain` to a white point `1 / gain` (like Keylight's
    Clip Black / Clip White). Gain > 1 makes the near-opaque core fully opaque (alpha >= 1/1.1 = 0.909
    becomes 1); choke > 0 shrinks the matte from its soft side (alpha <= 0.5/1.1 = 0.455 becomes 0), so
    the band where colour may be contaminated is narrowed and sharpened - "the sharpness and influence
    of the mask edges". The supplement gives only the two numbers; this definition is ours. Properties:
    0 stays 0 and 1 stays 1, it is monotonic in alpha, non-decreasing in gain, non-increasing in choke,
    and gain=1, choke=0 is the identity.
    """
    if not gain > 0:
        raise UsageError(f"the mask gain must be positive, got {gain}", f"use e.g. {GAIN}")
    if not 0 <= choke < 1:
        raise UsageError(f"the mask choke must be in [0, 1), got {choke}", f"use e.g. {CHOKE}")
    alpha = np.asarray(alpha, dtype=np.float32)
    return np.clip((gain * alpha - choke) / (1.0 - choke), 0.0, 1.0).astype(np.float32)


def decontaminate(
    rgb: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray | float,
    gain: float = GAIN,
    choke: float = CHOKE,
) -> np.ndarray:
    """The supplement's colour decontamination, as written: `RGB * (1 - m) + m * Background`.

    Read literally, m = 1 selects Background, so m must be 1 where the *background* is: m is the
    refined background mask `1 - refine_mask(alpha, gain, choke)` (were it the foreground matte, the
    formula would paint the background over the object and keep the contaminated surroundings, the
    opposite of its purpose). So the result keeps the source colour where the refined matte is 1
    (alpha >= 1/gain), is pure Background where it is 0 (alpha <= choke/gain), and mixes in between:
    contaminated edge colour is replaced by the background the object is placed on. This is the same
    operation as the supplement's background blending, with the choked matte; `gain=1, choke=0` gives
    the plain composite `rgb * alpha + background * (1 - alpha)`.

    rgb: `[..., H, W, 3]`; alpha: `[..., H, W]`; background: anything that broadcasts to rgb (a static
    `[H, W, 3]` plate, a colour, or 0 for black). Returns float32 clipped to [0, 1].
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    m = 1.0 - refine_mask(alpha, gain, choke)[..., None]
    background = np.asarray(background, dtype=np.float32)
    return np.clip(rgb * (1.0 - m) + m * background, 0.0, 1.0).astype(np.float32)


def blurred_background(first_frame_rgb: np.ndarray, ksize: int = BLUR_KSIZE) -> np.ndarray:
    """The supplement's static background: the first frame under a `ksize` x `ksize` Gaussian blur.

    `cv2.GaussianBlur(frame, (ksize, ksize), 0)`: sigma 0 lets OpenCV derive it from the kernel size
    (0.3 * ((ksize - 1) / 2 - 1) + 0.8 = 30.5 for 201), borders reflected (OpenCV's default).
    """
    if ksize < 1 or ksize % 2 == 0:
        raise UsageError(f"the blur kernel must be odd and positive, got {ksize}", f"use e.g. {BLUR_KSIZE}")
    frame = np.ascontiguousarray(first_frame_rgb, dtype=np.float32)
    return cv2.GaussianBlur(frame, (ksize, ksize), 0)


def preprocess_matting(
    rgb: np.ndarray,
    alpha: np.ndarray,
    decontaminate_colour: bool = True,
    blur_background: bool = True,
    gain: float = GAIN,
    choke: float = CHOKE,
    blur_ksize: int = BLUR_KSIZE,
) -> np.ndarray:
    """One window of a matting pair -> straight RGBA `[T, H, W, 4]` as stored (see the module doc).

    Background = `blurred_background(rgb[0])`, static over the window, when `blur_background`; else
    black, the colour a stored clip's transparent area has (and what training composites over).
    With `decontaminate_colour` every frame is `decontaminate(rgb, alpha, Background, gain, choke)`;
    without it, a blurred background is still blended under with the original matte
    (`rgb * alpha + Background * (1 - alpha)`) and, without either, the colour is kept as it is.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    alpha = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0)
    background = blurred_background(rgb[0], blur_ksize) if blur_background else None
    if decontaminate_colour:
        colour = decontaminate(rgb, alpha, 0.0 if background is None else background, gain, choke)
    elif background is not None:
        colour = decontaminate(rgb, alpha, background, gain=1.0, choke=0.0)
    else:
        colour = np.clip(rgb, 0.0, 1.0)
    return np.concatenate([colour, alpha[..., None]], axis=-1)


# --------------------------------------------------------------------------------------------------
# windows, crop and resize
# --------------------------------------------------------------------------------------------------
def windows(clip_frames: int, frames: int, stride: int | None = None) -> list[tuple[int, int]]:
    """`[start, stop)` of every window of `frames` in a clip of `clip_frames`, one every `stride`.

    stride defaults to `frames` (consecutive, non-overlapping); the tail that does not fill a whole
    window is dropped, so a clip shorter than `frames` gives none.
    """
    stride = stride or frames
    if frames < 1 or stride < 1:
        raise UsageError(f"frames and stride must be positive, got {frames} and {stride}", "use e.g. 9")
    return [(start, start + frames) for start in range(0, clip_frames - frames + 1, stride)]


def sliding(source: Iterable[np.ndarray], frames: int, stride: int | None = None) -> Iterator[tuple[int, list]]:
    """Stream `windows()`: yields `(start, [frames items])` holding at most `frames` items at a time."""
    stride = stride or frames
    buffer: deque = deque(maxlen=frames)
    next_start = 0
    for index, item in enumerate(source):
        if index < next_start:
            continue  # between two windows (stride > frames): in none of them
        buffer.append(item)
        if index == next_start + frames - 1:
            yield next_start, list(buffer)
            next_start += stride


def crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """`(top, left, h, w)` of the largest centred crop with the target's aspect ratio."""
    if width * target_height > height * target_width:  # too wide: crop the sides
        w = max(1, round(height * target_width / target_height))
        return 0, (width - w) // 2, height, w
    h = max(1, round(width * target_height / target_width))
    return (height - h) // 2, 0, h, width


def centre_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop `[..., H, W, C]` (or one `[H, W, C]` frame) to the aspect of `height` x `width`."""
    frames = np.asarray(frames)
    top, left, h, w = crop_box(frames.shape[-3], frames.shape[-2], height, width)
    return frames[..., top : top + h, left : left + w, :]


def fit_frames(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop `[T, H, W, C]` to the target aspect, then resize each frame with `cv2.INTER_AREA`.

    Four-channel frames are straight RGBA: they are resized premultiplied and divided again, so colour
    hidden under alpha 0 cannot bleed into the edges of the smaller image. Returns float32.
    """
    frames = centre_crop(np.asarray(frames, dtype=np.float32), height, width)
    rgba = frames.shape[-1] == 4
    out = np.empty((frames.shape[0], height, width, frames.shape[-1]), np.float32)
    for index, frame in enumerate(frames):
        if rgba:
            frame = frame.copy()
            frame[..., :3] *= frame[..., 3:4]
        if frame.shape[:2] == (height, width):
            out[index] = frame
        else:
            out[index] = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA).reshape(out[index].shape)
    if rgba:
        alpha = np.clip(out[..., 3:4], 0.0, 1.0)
        out[..., :3] = np.where(alpha > 0, out[..., :3] / np.where(alpha > 0, alpha, 1.0), 0.0)
        out[..., 3:4] = alpha
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------------------------------
# captions and the run's report
# --------------------------------------------------------------------------------------------------
def load_captions(path: str | os.PathLike) -> dict[str, str]:
    """A captions file: a JSON object `{name: caption}` or lines `name<TAB>caption` (`#` comments)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read captions file {path}: {exc}", "give a UTF-8 text or JSON file") from exc
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"captions file {path} is not valid JSON: {exc}", "fix the JSON object") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InputError(f"captions file {path} maps names to non-strings", 'write {"name": "caption", ...}')
        return {k.strip(): v.strip() for k, v in data.items()}
    captions: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, tab, caption = line.partition("\t")
        if not tab or not name.strip() or not caption.strip():
            raise InputError(
                f"captions file {path} line {number} is not `name<TAB>caption`",
                "separate the name and the caption with one tab, or write a JSON object",
            )
        captions[name.strip()] = caption.strip()
    return captions


@dataclass
class PrepareReport:
    """What a run did, filled in while the items are consumed; `summary()` is the CLI's one line."""

    kind: str = ""
    sources: int = 0
    used: int = 0
    clips: int = 0
    too_short: list[tuple[str, int]] = field(default_factory=list)
    captions_from_names: int = 0

    def summary(self) -> str:
        parts = [f"{self.clips} clips from {self.used} of {self.sources} {self.kind} sources"]
        if self.too_short:
            parts.append(f"{len(self.too_short)} too short, skipped")
        if self.captions_from_names:
            parts.append(f"{self.captions_from_names} captions from file names")
        return "; ".join(parts)


@dataclass(frozen=True)
class _Captions:
    caption: str | None = None
    table: dict[str, str] | None = None

    def __call__(self, name: str, filename: str, report: PrepareReport) -> str:
        if self.caption is not None:
            return self.caption
        for key in (name, filename):
            if self.table and key in self.table:
                return self.table[key]
        report.captions_from_names += 1
        return name.replace("_", " ").strip() or name


# --------------------------------------------------------------------------------------------------
# decoding, one frame at a time
# --------------------------------------------------------------------------------------------------
def _movie_frame_count(path: Path) -> int:
    """Frames the container announces (0 when it does not say or cannot be opened here)."""
    import av

    try:
        with av.open(str(path), "r") as container:
            return int(container.streams.video[0].frames or 0) if container.streams.video else 0
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return 0


def movie_frames(path: str | os.PathLike, require_alpha: bool) -> Iterator[np.ndarray]:
    """Decode a movie frame by frame: straight sRGB float32 `[H, W, 4]` (alpha 1 when it has none).

    `vfxgen.io.video.iter_movie_frames` (one frame in memory, `vfxgen:alpha = premultiplied` files
    divided by alpha), with the fix a `dataset prepare` user can apply when a movie has no alpha.
    """
    from vfxgen.io.video import iter_movie_frames

    return iter_movie_frames(path, require_alpha=require_alpha, no_alpha_hint=_NO_ALPHA_HINT)


def _image_sequence(directory: Path, extensions: tuple[str, ...]):
    from vfxgen.io.sequence import find_sequence

    return find_sequence(directory, extensions=extensions)


def _image_frames(directory: Path) -> Iterator[np.ndarray]:
    """A directory of numbered stills (VideoMatte240K_JPEG) as straight sRGB `[H, W, 3|4]` frames."""
    from vfxgen.io.images import read_image

    for path in _image_sequence(directory, MATTE_IMAGE_EXTENSIONS).paths():
        yield read_image(path)


def _rgba_sequence_frames(sequence) -> Iterator[np.ndarray]:
    """An EXR (premultiplied linear) or PNG (straight) RGBA sequence, one straight sRGB frame at a time."""
    from vfxgen.io.exr import read_exr_sequence
    from vfxgen.io.images import read_png_sequence
    from vfxgen.io.sequence import FrameSequence

    exr = sequence.suffix.lower() == ".exr"
    for frame in sequence.frames:
        one = FrameSequence(sequence.directory, sequence.prefix, sequence.suffix, sequence.padding, [frame])
        clip = read_exr_sequence(one) if exr else read_png_sequence(one, require_alpha=True)
        yield clip.frames[0]


# --------------------------------------------------------------------------------------------------
# matting sources (VideoMatte240K layout)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MattingPair:
    name: str
    fgr: Path
    pha: Path


def _matting_entries(directory: Path) -> dict[str, Path]:
    entries: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() or path.suffix.lower() in MOVIE_EXTENSIONS:
            name = path.stem if path.is_file() else path.name
            if name in entries:
                raise InputError(
                    f"{directory} holds two sources named {name!r} ({entries[name].name}, {path.name})",
                    "keep one video (or image folder) per name",
                )
            entries[name] = path
    return entries


def is_matting_source(src: str | os.PathLike) -> bool:
    """A directory holding `fgr/` or `pha/` (the VideoMatte240K layout)."""
    src = Path(src)
    return src.is_dir() and ((src / "fgr").is_dir() or (src / "pha").is_dir())


def _count(path: Path) -> int:
    if path.is_dir():
        return len(_image_sequence(path, MATTE_IMAGE_EXTENSIONS).frames)
    return _movie_frame_count(path)


def find_matting_pairs(src: str | os.PathLike) -> list[MattingPair]:
    """The fgr/pha pairs of `src`, checked up front: every fgr has its pha (by name) and the frame
    counts the containers announce agree."""
    src = Path(src)
    for part in ("fgr", "pha"):
        if not (src / part).is_dir():
            other = "pha" if part == "fgr" else "fgr"
            raise InputError(
                f"{src} has {other}/ but no {part}/",
                "matting data needs fgr/ (colour) and pha/ (alpha) folders with matching file names",
            )
    fgr, pha = _matting_entries(src / "fgr"), _matting_entries(src / "pha")
    for have, lack, names in (("fgr", "pha", fgr.keys() - pha.keys()), ("pha", "fgr", pha.keys() - fgr.keys())):
        if names:
            listed = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
            raise InputError(
                f"{len(names)} {have}/ source(s) in {src} have no {lack}/ partner: {listed}",
                f"add the matching {lack}/ files (same name) or remove the unpaired ones",
            )
    if not fgr:
        raise InputError(f"{src}/fgr and {src}/pha hold no videos", f"put {', '.join(MOVIE_EXTENSIONS)} files there")
    pairs = [MattingPair(name, fgr[name], pha[name]) for name in sorted(fgr)]
    for pair in pairs:
        n_fgr, n_pha = _count(pair.fgr), _count(pair.pha)
        if n_fgr and n_pha and n_fgr != n_pha:
            raise _count_mismatch(pair, n_fgr, n_pha)
    return pairs


def _count_mismatch(pair: MattingPair, n_fgr: int, n_pha: int) -> InputError:
    return InputError(
        f"{pair.fgr} has {n_fgr} frames but {pair.pha} has {n_pha}",
        "fgr and pha videos of one shot must have the same frames; re-export or remove the pair",
    )


def _pair_frames(pair: MattingPair, height: int, width: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(cropped colour `[h, w, 3]`, cropped alpha `[h, w]`) per frame of a pair, checked for agreement."""

    def frames(path: Path) -> Iterator[np.ndarray]:
        return _image_frames(path) if path.is_dir() else movie_frames(path, require_alpha=False)

    colour, matte = frames(pair.fgr), frames(pair.pha)
    n = 0
    while True:
        rgb, pha = next(colour, None), next(matte, None)
        if rgb is None or pha is None:
            if rgb is None and pha is None:
                return
            rest = sum(1 for _ in (colour if pha is None else matte)) + 1
            n_fgr, n_pha = (n + rest, n) if pha is None else (n, n + rest)
            raise _count_mismatch(pair, n_fgr, n_pha)
        if rgb.shape[:2] != pha.shape[:2]:
            raise InputError(
                f"{pair.fgr} is {rgb.shape[1]}x{rgb.shape[0]} but {pair.pha} is {pha.shape[1]}x{pha.shape[0]}",
                "fgr and pha of one shot must have the same size",
            )
        n += 1
        alpha = pha[..., :3].mean(axis=-1) if pha.shape[-1] >= 3 else pha[..., 0]
        yield (
            np.ascontiguousarray(centre_crop(rgb[..., :3], height, width)),
            np.ascontiguousarray(centre_crop(alpha[..., None], height, width)[..., 0]),
        )


def iter_matting_items(
    src: str | os.PathLike,
    frames: int = 9,
    height: int = 64,
    width: int = 64,
    stride: int | None = None,
    caption: str | None = None,
    captions: dict[str, str] | None = None,
    decontaminate_colour: bool = True,
    blur_background: bool = True,
    gain: float = GAIN,
    choke: float = CHOKE,
    blur_ksize: int = BLUR_KSIZE,
    report: PrepareReport | None = None,
) -> Iterator[Item]:
    """Items for `write_dataset` from a VideoMatte240K-style directory (see the module doc).

    Pairs are found and checked when this is called (missing partner, announced frame counts); the
    clips are made lazily. Element = `name:first-last` (0-based source frames of the window). Sources
    shorter than `frames` are skipped and listed in `report.too_short`; if no source gives a clip the
    iterator raises `InputError`.
    """
    check_clip_shape(frames, height, width)
    check_stride(stride, frames)
    pairs = find_matting_pairs(src)
    report = report if report is not None else PrepareReport()
    report.kind, report.sources = "matting", len(pairs)
    name_caption = _Captions(caption, captions)

    def items() -> Iterator[Item]:
        for pair in pairs:

            def make(window: list, pair: MattingPair = pair) -> np.ndarray:
                rgb, alpha = np.stack([w[0] for w in window]), np.stack([w[1] for w in window])
                return preprocess_matting(rgb, alpha, decontaminate_colour, blur_background, gain, choke, blur_ksize)

            frames_of = _pair_frames(pair, height, width)
            yield from _clips(
                pair.name, pair.fgr.name, frames_of, make, frames, stride, height, width, name_caption, report
            )
        _no_clips(report, frames)

    return items()


def _clips(
    name: str,
    filename: str,
    source: Iterator,
    make: Callable[[list], np.ndarray],
    frames: int,
    stride: int | None,
    height: int,
    width: int,
    captions: _Captions,
    report: PrepareReport,
) -> Iterator[Item]:
    """The clips of one source; a source too short for one window is recorded, not an error."""
    seen = 0

    def counted() -> Iterator:
        nonlocal seen
        for item in source:
            seen += 1
            yield item

    text = None
    for start, window in sliding(counted(), frames, stride):
        if text is None:
            text = captions(name, filename, report)
        report.clips += 1
        yield fit_frames(make(window), height, width), text, f"{name}:{start}-{start + frames - 1}"
    if text is None:
        report.too_short.append((name, seen))
    else:
        report.used += 1


def _no_clips(report: PrepareReport, frames: int) -> None:
    if report.clips:
        return
    if report.too_short:
        name, n = max(report.too_short, key=lambda s: s[1])
        raise InputError(
            f"no clips: all {len(report.too_short)} sources are shorter than --frames {frames} "
            f"(the longest, {name}, has {n})",
            "lower --frames (4k+1, e.g. 5) or give longer sources",
        )
    raise InputError("no clips were produced", "check the source")


# --------------------------------------------------------------------------------------------------
# RGBA sources
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RGBASource:
    name: str
    filename: str
    open: Callable[[], Iterator[np.ndarray]]


def _sequence_source(sequence) -> RGBASource:
    name = sequence.prefix.rstrip("._- ") or sequence.directory.name
    return RGBASource(name, Path(sequence.pattern).name, lambda: _rgba_sequence_frames(sequence))


def _movie_source(path: Path) -> RGBASource:
    return RGBASource(path.stem, path.name, lambda: movie_frames(path, require_alpha=True))


def find_rgba_sources(src: str | os.PathLike) -> list[RGBASource]:
    """The RGBA sources under `src`: a pattern, one sequence file's directory, a movie, or a folder
    (searched recursively, hidden entries skipped) of movies and EXR/PNG sequences."""
    from vfxgen.io.sequence import find_sequence, is_pattern

    text = os.fspath(src)
    if is_pattern(text):
        suffix = Path(text.rsplit(":", 1)[0] if ":" in Path(text).name else text).suffix.lower()
        if suffix not in RGBA_IMAGE_EXTENSIONS:
            raise UsageError(f"cannot read {suffix or 'extensionless'} sequences as RGBA", "give .exr or .png frames")
        return [_sequence_source(find_sequence(text, extensions=RGBA_IMAGE_EXTENSIONS))]
    path = Path(text)
    if not path.exists():
        raise InputError(f"source {path} does not exist", "give a directory, a movie or a sequence pattern")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in MOVIE_EXTENSIONS:
            return [_movie_source(path)]
        if suffix in RGBA_IMAGE_EXTENSIONS and _NUMBERED.fullmatch(path.name):
            raise UsageError(
                f"{path} is one frame",
                f"give the sequence as a pattern (e.g. {path.parent / (_NUMBERED.fullmatch(path.name)['prefix'])}"
                f"####{suffix}) or its directory",
            )
        raise UsageError(
            f"cannot prepare {path}: {suffix or 'no extension'} is not a known source kind",
            "give fgr/+pha/ matting folders, an EXR/PNG sequence, a movie with alpha "
            f"({', '.join(MOVIE_EXTENSIONS)}) or a folder of them",
        )
    for split in ("train", "test"):
        if (path / split / "fgr").is_dir():
            raise InputError(
                f"{path} looks like the root of VideoMatte240K (it has {split}/fgr)",
                f"give the folder that holds fgr/ and pha/, e.g. {path / split}",
            )
    sources: list[RGBASource] = []
    for directory, subdirs, files in os.walk(path):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        groups: dict[tuple[str, str], None] = {}
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = Path(name).suffix.lower()
            if suffix in MOVIE_EXTENSIONS:
                sources.append(_movie_source(Path(directory) / name))
            elif suffix in RGBA_IMAGE_EXTENSIONS and (match := _NUMBERED.fullmatch(name)):
                groups.setdefault((match["prefix"], match["suffix"]), None)
        for prefix, suffix in groups:
            pattern = Path(directory) / f"{prefix}#{suffix}"
            sources.append(_sequence_source(find_sequence(pattern, extensions=RGBA_IMAGE_EXTENSIONS)))
    if not sources:
        raise InputError(
            f"found no sources in {path}",
            "matting data needs fgr/ and pha/ folders; RGBA data EXR/PNG sequences or movies with alpha",
        )
    return sources


def iter_rgba_items(
    src: str | os.PathLike,
    frames: int = 9,
    height: int = 64,
    width: int = 64,
    stride: int | None = None,
    caption: str | None = None,
    captions: dict[str, str] | None = None,
    report: PrepareReport | None = None,
) -> Iterator[Item]:
    """Items for `write_dataset` from RGBA sources: cut, centre-cropped and resized, colour untouched.

    Sources are found when this is called; frames are read lazily, one window at a time. Caption:
    `caption`, else `captions[name]`, else the name with `_` as spaces (name = file stem, or the
    sequence name before its frame number).
    """
    check_clip_shape(frames, height, width)
    check_stride(stride, frames)
    sources = find_rgba_sources(src)
    report = report if report is not None else PrepareReport()
    report.kind, report.sources = "rgba", len(sources)
    name_caption = _Captions(caption, captions)

    def items() -> Iterator[Item]:
        for source in sources:
            cropped = (np.ascontiguousarray(centre_crop(frame, height, width)) for frame in source.open())
            yield from _clips(
                source.name, source.filename, cropped, np.stack, frames, stride, height, width, name_caption, report
            )
        _no_clips(report, frames)

    return items()


def iter_items(src: str | os.PathLike, **options) -> Iterator[Item]:
    """Matting items for a directory with fgr/ or pha/, RGBA items for anything else."""
    matting_only = ("decontaminate_colour", "blur_background", "gain", "choke", "blur_ksize")
    if is_matting_source(src):
        return iter_matting_items(src, **options)
    return iter_rgba_items(src, **{k: v for k, v in options.items() if k not in matting_only})


def describe(src: str | os.PathLike, report: PrepareReport, decontaminate_colour: bool, blur_background: bool) -> str:
    """The dataset's `source` field: where the clips came from and how they were preprocessed."""
    if report.kind != "matting":
        return f"prepare {os.fspath(src)} (rgba)"
    steps = [f"decontaminate gain={GAIN} choke={CHOKE}" if decontaminate_colour else "no decontamination"]
    steps.append(f"blurred first-frame background k={BLUR_KSIZE}" if blur_background else "no background blur")
    return f"prepare {os.fspath(src)} (matting: {', '.join(steps)})"
