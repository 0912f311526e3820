"""Still images and 16-bit straight PNG sequences through OpenImageIO, plus the OIIO plumbing.

PNG holds *straight* (unassociated) colour by its specification, and so does a vfxgen `Clip`, but OIIO
premultiplies when it reads a PNG with alpha and divides when it writes one, unless the spec carries
`oiio:UnassociatedAlpha = 1` (design Sec. 3). Every read and write here sets it, so pixel values go
in and out untouched. Integer pixels are converted by numpy (`round(x * 65535)`, `x / 65535`) rather
than by OIIO, so the rounding is ours and tested.

OIIO reports failures by return value plus `geterror()`; every call is checked and turned into an
`InputError`/`OutputError` whose one line names the file (and frame) and says how to fix it.
The small helpers at the top (`read_pixels`, `write_image_atomic`, `map_frames`) are shared with the
EXR and contact-sheet modules.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import OpenImageIO as oiio

from vfxgen.atomic import atomic_path
from vfxgen.clip import Clip
from vfxgen.color import LINEAR_COLORSPACE, SRGB_COLORSPACE, linear_to_srgb, unpremultiply
from vfxgen.errors import InputError, MissingAlphaError, OutputError
from vfxgen.framerate import DEFAULT_FPS
from vfxgen.io.sequence import FrameSequence, check_frame_range, find_sequence, sequence_for_output

T = TypeVar("T")
R = TypeVar("R")

PNG_EXTENSIONS = (".png",)
_INTEGER_MAX = {"uint8": 255.0, "uint16": 65535.0}
_MAX_THREADS = 8


# --- OIIO plumbing ----------------------------------------------------------------------------
def oiio_error(obj: oiio.ImageInput | oiio.ImageOutput | None = None) -> str:
    """The pending OIIO error (object first, then global) as one line; OIIO messages span lines."""
    text = obj.geterror() if obj is not None else ""
    text = text or oiio.geterror()
    return " ".join(text.split())[:300] or "unknown OpenImageIO error"


def where(path: os.PathLike[str] | str, frame: int | None = None) -> str:
    """`frame 1003 (/shot/rgba/shot.1003.exr)` or just the path: how errors name a file."""
    return f"frame {frame} ({path})" if frame is not None else str(path)


def colorspace_of(spec: oiio.ImageSpec) -> str:
    """The file's colour space name: OIIO 3 writes `oiio:ColorSpace` to EXR as `colorInteropID`."""
    return spec.get_string_attribute("oiio:ColorSpace") or spec.get_string_attribute("colorInteropID")


def colorspace_is_linear(name: str, format_name: str, float_pixels: bool = False) -> bool:
    """Whether pixels tagged `name` are scene-linear Rec.709.

    Untagged files follow the VFX convention: EXR and float pixels (TIFF keeps no colour space) are
    linear, integer pixels are sRGB. ACES spaces have other primaries: reading them as Rec.709 would
    shift every colour, so they are refused.
    """
    lower = name.lower()
    if not lower:
        return format_name == "openexr" or float_pixels
    if "aces" in lower:
        raise InputError(
            f"colour space {name!r} is not supported",
            f"convert to {LINEAR_COLORSPACE} (EXR) or sRGB before reading it into vfxgen",
        )
    return lower.startswith("lin") or lower in {"linear", "scene_linear", "rec709_linear"}


_C_STDERR_LOCK = threading.Lock()
_C_STDERR_USERS = 0
_C_STDERR_SAVED: int | None = None
_C_STDERR_CAPTURE = None
#: What C image libraries print on their own; OIIO's `geterror()` carries the same text into vfxgen's error.
_C_LIBRARY_NOISE = ("libpng error", "libpng warning", "Corrupt JPEG data", "Premature end of JPEG file")


@contextmanager
def c_library_stderr_silenced() -> Iterator[None]:
    """Keep what C libraries print on file descriptor 2 while OIIO reads (libpng's `libpng error: ...`) from
    reaching the user ahead of vfxgen's own one-line error. File descriptor 2 is the process's, so while
    any reader thread is inside, everything written there goes to a temporary file; when the last one
    leaves, it is replayed without the C libraries' lines, so other threads' warnings are delayed, never
    lost. Reference-counted, so reader threads can nest it."""
    global _C_STDERR_USERS, _C_STDERR_SAVED, _C_STDERR_CAPTURE
    with _C_STDERR_LOCK:
        if _C_STDERR_USERS == 0:
            try:
                import tempfile

                sys.stderr.flush()
                capture = tempfile.TemporaryFile()
                _C_STDERR_SAVED = os.dup(2)
                os.dup2(capture.fileno(), 2)
                _C_STDERR_CAPTURE = capture
            except (OSError, ValueError, AttributeError):  # no fd 2 (embedded, closed): nothing to silence
                _C_STDERR_SAVED = _C_STDERR_CAPTURE = None
        _C_STDERR_USERS += 1
    try:
        yield
    finally:
        with _C_STDERR_LOCK:
            _C_STDERR_USERS -= 1
            if _C_STDERR_USERS == 0 and _C_STDERR_SAVED is not None:
                _replay_stderr()


def _replay_stderr() -> None:
    """Put fd 2 back and write what was captured meanwhile, minus the C libraries' own lines."""
    global _C_STDERR_SAVED, _C_STDERR_CAPTURE
    try:
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    os.dup2(_C_STDERR_SAVED, 2)
    os.close(_C_STDERR_SAVED)
    _C_STDERR_SAVED = None
    capture, _C_STDERR_CAPTURE = _C_STDERR_CAPTURE, None
    if capture is None:
        return
    capture.seek(0)
    kept = [line for line in capture.read().splitlines(keepends=True) if not line.startswith(_C_LIBRARY_NOISE_B)]
    capture.close()
    if kept:
        os.write(2, b"".join(kept))


_C_LIBRARY_NOISE_B = tuple(prefix.encode() for prefix in _C_LIBRARY_NOISE)


def open_input(path: os.PathLike[str] | str, frame: int | None = None) -> oiio.ImageInput:
    """Open an image for reading with alpha left as stored (no OIIO (un)premultiplication)."""
    if os.path.isdir(path):
        raise InputError(f"{where(path, frame)} is a folder, not an image", "give an image file, e.g. still.png")
    if not os.path.isfile(path):
        hint = "check the path" if frame is None else "check the path and the frame range"
        raise InputError(f"{where(path, frame)} does not exist", hint)
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(os.fspath(path), config)
    if inp is None:
        error = oiio_error()
        try:  # the OS's own reason first: "Permission denied" is not a corrupt file
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise InputError(
                f"cannot read {where(path, frame)}: {exc.strerror or exc}", "check the file's permissions"
            ) from None
        raise InputError(f"cannot read {where(path, frame)}: {error}", "the file is corrupt or not an image")
    return inp


def read_pixels(path: os.PathLike[str] | str, frame: int | None = None) -> tuple[np.ndarray, oiio.ImageSpec, str]:
    """All channels of the first subimage as float32 `[H, W, C]` over the display window.

    Integer files are scaled by numpy (`/255`, `/65535`); alpha is returned exactly as stored.
    Returns pixels, the spec and OIIO's format name (`"openexr"`, `"png"`, ...).
    """
    with c_library_stderr_silenced():
        inp = open_input(path, frame)
        try:
            spec = inp.spec()
            fmt = inp.format_name()
            native = str(spec.format)
            read_as = native if native in _INTEGER_MAX else "float"
            pixels = inp.read_image(0, 0, 0, spec.nchannels, read_as)
            if pixels is None or (isinstance(pixels, np.ndarray) and pixels.size == 0):
                raise InputError(
                    f"cannot read pixels of {where(path, frame)}: {oiio_error(inp)}", "the file is corrupt"
                )
        finally:
            inp.close()
    _warn_misnamed(path, fmt)
    pixels = np.asarray(pixels).reshape(spec.height, spec.width, spec.nchannels)
    if read_as in _INTEGER_MAX:
        pixels = pixels.astype(np.float32) / np.float32(_INTEGER_MAX[read_as])
    return _to_display_window(pixels.astype(np.float32, copy=False), spec), spec, fmt


def _to_display_window(pixels: np.ndarray, spec: oiio.ImageSpec) -> np.ndarray:
    """Place the data window (Nuke writes a cropped bbox) into the display window; outside is 0."""
    data = (spec.x, spec.y, spec.width, spec.height)
    if data == (spec.full_x, spec.full_y, spec.full_width, spec.full_height):
        return pixels
    full = np.zeros((spec.full_height, spec.full_width, pixels.shape[2]), np.float32)
    x0, y0 = spec.x - spec.full_x, spec.y - spec.full_y
    dx0, dy0 = max(x0, 0), max(y0, 0)
    dx1, dy1 = min(x0 + spec.width, spec.full_width), min(y0 + spec.height, spec.full_height)
    if dx1 > dx0 and dy1 > dy0:
        full[dy0:dy1, dx0:dx1] = pixels[dy0 - y0 : dy1 - y0, dx0 - x0 : dx1 - x0]
    return full


def write_image_atomic(
    path: os.PathLike[str] | str, pixels: np.ndarray, spec: oiio.ImageSpec, frame: int | None = None
) -> Path:
    """Write one image to a hidden temporary name beside `path`, then rename it into place.

    A reader (Nuke, a resumed farm job) never sees half a file: the frame exists complete or not at all.
    """
    path = Path(path)
    out = oiio.ImageOutput.create(str(path))
    if out is None:
        raise OutputError(f"cannot write {where(path, frame)}: {oiio_error()}", "use a .exr or .png file name")
    with atomic_path(path, what=where(path, frame)) as tmp:
        _checked_write(out, tmp, pixels, spec, where(path, frame))
    return path


_WRITE_HINT = "check that the directory is writable and the disk has space"


def _checked_write(out: oiio.ImageOutput, tmp: Path, pixels: np.ndarray, spec: oiio.ImageSpec, name: str) -> None:
    if not out.open(str(tmp), spec):
        raise OutputError(f"cannot write {name}: {oiio_error(out)}", _WRITE_HINT)
    written = out.write_image(pixels)
    error = "" if written else oiio_error(out)
    if not out.close() and written:
        error = oiio_error(out)
    if error:
        raise OutputError(f"cannot write {name}: {error}", _WRITE_HINT)


def ensure_directory(directory: os.PathLike[str] | str) -> Path:
    """Create the output directory, or say in one line why it cannot be."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{directory} exists and is not a directory", "choose another output path") from None
    except OSError as exc:
        raise OutputError(f"cannot create directory {directory}: {exc.strerror}", _WRITE_HINT) from None
    return directory


def resolve_threads(threads: int, jobs: int) -> int:
    """Worker count: `threads` if positive, else the CPUs this process may use (capped, <= jobs)."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            threads = os.cpu_count() or 1
        threads = min(threads, _MAX_THREADS)
    return max(1, min(threads, jobs))


def map_frames(func: Callable[[T], R], items: Sequence[T], threads: int = 0) -> list[R]:
    """`[func(x) for x in items]` on a thread pool, in order; the first error stops the rest.

    Threads suffice: numpy and OIIO release the GIL while they convert, compress and write.
    """
    workers = resolve_threads(threads, len(items))
    if workers == 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="vfxgen-io") as pool:
        futures = [pool.submit(func, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


# --- channels ---------------------------------------------------------------------------------
def rgb_or_rgba(
    pixels: np.ndarray, spec: oiio.ImageSpec, path: os.PathLike[str] | str, frame: int | None = None
) -> np.ndarray:
    """Colour (+ alpha) `[H, W, 3|4]`: by name (R,G,B,A) if present, else by count (Y, YA, RGB, RGBA)."""
    names = list(spec.channelnames)
    if all(c in names for c in "RGB"):
        order = [names.index(c) for c in "RGB"] + ([names.index("A")] if "A" in names else [])
        return pixels[..., order]
    count = pixels.shape[-1]
    if count in (1, 2):  # grey, grey + alpha
        grey = np.repeat(pixels[..., :1], 3, axis=-1)
        return np.concatenate([grey, pixels[..., 1:2]], axis=-1) if count == 2 else grey
    if count in (3, 4):
        return pixels
    raise InputError(
        f"{where(path, frame)} has {count} channels ({','.join(names)}) and no R,G,B",
        "give an RGB or RGBA image",
    )


def _with_alpha(rgb_a: np.ndarray, path: os.PathLike[str] | str, frame: int | None, require_alpha: bool) -> np.ndarray:
    if rgb_a.shape[-1] == 4:
        return rgb_a
    if require_alpha:
        raise MissingAlphaError(
            f"{where(path, frame)} has no alpha channel (colour only)",
            "vfxgen clips are RGBA: export the frames with alpha, or pass require_alpha=False for alpha 1",
        )
    return np.concatenate([rgb_a, np.ones_like(rgb_a[..., :1])], axis=-1)


#: What OIIO calls the format each suffix promises.
_FORMAT_OF_SUFFIX = {".exr": "openexr", ".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}
_WARNED_MISNAMED: set[tuple[str, str]] = set()


def _warn_misnamed(path: os.PathLike[str] | str, fmt: str) -> None:
    """One warning line (per folder and suffix) when a file's content is another format than its name says:
    a PNG named .exr carries no scene-linear colour or premultiplied alpha, whatever the name promises."""
    suffix = Path(path).suffix.lower()
    expected = _FORMAT_OF_SUFFIX.get(suffix)
    key = (str(Path(path).parent), suffix)
    if expected is None or fmt == expected or key in _WARNED_MISNAMED:
        return
    _WARNED_MISNAMED.add(key)
    import warnings

    from vfxgen.errors import VfxgenWarning

    warnings.warn(
        f"{path} is a {fmt.upper()} file named {suffix}: read as {fmt.upper()} (rename it to what it is)",
        VfxgenWarning,
        stacklevel=4,
    )


# --- stills -----------------------------------------------------------------------------------
def read_image(path: os.PathLike[str] | str) -> np.ndarray:
    """One still (PNG, EXR, JPEG, TIFF, ...) as straight sRGB-encoded float32 `[H, W, 3|4]`.

    Composite plates and the `animate` input image meet the model in the `Clip` convention, so:
    grey becomes RGB; premultiplied files (EXR, associated-alpha TIFF) are unpremultiplied;
    scene-linear files (EXR, untagged float TIFF, anything tagged `lin_*`) are sRGB-encoded.
    Values above 1 from HDR files are kept, not clipped. The channel count of the result (3 or 4)
    says whether the image had alpha.
    """
    pixels, spec, fmt = read_pixels(path)
    image = rgb_or_rgba(pixels, spec, path)
    premultiplied = fmt == "openexr" or (fmt == "tiff" and not spec.get_int_attribute("tiff:UnassociatedAlpha"))
    if image.shape[-1] == 4 and premultiplied:
        image = unpremultiply(image)
    try:
        linear = colorspace_is_linear(colorspace_of(spec), fmt, str(spec.format) in ("half", "float", "double"))
    except InputError as exc:
        raise InputError(f"{path}: {exc.message}", exc.hint) from None
    if linear:
        image[..., :3] = linear_to_srgb(image[..., :3])
    return np.ascontiguousarray(image, dtype=np.float32)


def write_png(path: os.PathLike[str] | str, image: np.ndarray, bits: int = 8) -> Path:
    """Write straight sRGB float `[H, W]` or `[H, W, 1|2|3|4]` in [0, 1] as an 8- (or 16-) bit PNG.

    For pictures meant to be looked at (contact sheets, plots); values are clamped to [0, 1].
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
        raise OutputError(f"cannot write {path}: image shape {list(image.shape)}", "give [H, W, 1-4] pixels")
    if bits not in (8, 16):
        raise OutputError(f"cannot write {path} with {bits} bits", "use 8 or 16")
    dtype = np.uint8 if bits == 8 else np.uint16
    spec = _png_spec(image.shape[1], image.shape[0], image.shape[-1], "uint8" if bits == 8 else "uint16")
    ensure_directory(Path(path).parent)
    return write_image_atomic(path, _quantize(image, dtype), spec)


def _quantize(image: np.ndarray, dtype: type[np.integer]) -> np.ndarray:
    top = float(np.iinfo(dtype).max)
    return np.round(np.clip(image, 0.0, 1.0) * top).astype(dtype)


def _png_spec(width: int, height: int, channels: int, pixel_type: str) -> oiio.ImageSpec:
    spec = oiio.ImageSpec(width, height, channels, pixel_type)
    spec.channelnames = {1: ("Y",), 2: ("Y", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[channels]
    spec.alpha_channel = channels - 1 if channels in (2, 4) else -1
    spec.attribute("oiio:UnassociatedAlpha", 1)  # straight data in, straight data out
    spec.attribute("oiio:ColorSpace", SRGB_COLORSPACE)
    return spec


# --- PNG sequences ----------------------------------------------------------------------------
def write_png_sequence(
    clip: Clip,
    directory: os.PathLike[str] | str,
    name: str = "shot",
    start_frame: int = 1001,
    threads: int = 0,
) -> list[Path]:
    """Write the clip as 16-bit straight (unassociated) sRGB RGBA PNGs `{name}.{frame:04d}.png`.

    Values are clamped to [0, 1] and rounded to the nearest 1/65535. Each frame appears atomically;
    existing frames of the same names are replaced.
    """
    sequence = sequence_for_output(directory, name, ".png", start_frame, clip.num_frames)
    ensure_directory(sequence.directory)
    spec = _png_spec(clip.width, clip.height, 4, "uint16")
    straight = clip.straight_frames()  # a straight source keeps its colour where alpha is 0

    def write(index: int) -> Path:
        frame = sequence.frames[index]
        pixels = _quantize(straight[index], np.uint16)
        return write_image_atomic(sequence.path(frame), pixels, spec, frame)

    return map_frames(write, range(clip.num_frames), threads)


def read_png_sequence(
    pattern: os.PathLike[str] | str | FrameSequence,
    frame_range: tuple[int, int] | None = None,
    fps: float = DEFAULT_FPS,
    require_alpha: bool = True,
    threads: int = 0,
) -> Clip:
    """Read an 8- or 16-bit PNG sequence (straight alpha, as PNG defines it) into a `Clip`.

    Grey and grey+alpha files become RGB(A). Files without alpha are an error, because a vfxgen clip
    without a matte is a mistake more often than not; `require_alpha=False` reads them with alpha 1.
    `fps` defaults to 8, the frame rate of the model (PNG files carry none).
    """
    sequence = select_sequence(pattern, frame_range, PNG_EXTENSIONS)

    def read(frame: int) -> np.ndarray:
        path = sequence.path(frame)
        pixels, spec, _ = read_pixels(path, frame)
        return _with_alpha(rgb_or_rgba(pixels, spec, path, frame), path, frame, require_alpha)

    frames = stack_frames(map_frames(read, sequence.frames, threads), sequence)
    return Clip(frames, fps, {"source": sequence.pattern}, source_rgb=frames[..., :3])


def select_sequence(
    pattern: os.PathLike[str] | str | FrameSequence,
    frame_range: tuple[int, int] | None,
    extensions: Sequence[str],
) -> FrameSequence:
    """A pattern (found on disk) or a `FrameSequence` (trusted), cut to `frame_range` if given."""
    if not isinstance(pattern, FrameSequence):
        return find_sequence(pattern, frame_range, extensions=extensions)
    if frame_range is None:
        return pattern
    frame_range = check_frame_range(frame_range)
    wanted = [f for f in pattern.frames if frame_range[0] <= f <= frame_range[1]]
    if not wanted:
        raise InputError(f"{pattern} has no frames in {frame_range[0]}-{frame_range[1]}", "choose a range inside it")
    return FrameSequence(pattern.directory, pattern.prefix, pattern.suffix, pattern.padding, wanted)


def stack_frames(frames: list[np.ndarray], sequence: FrameSequence) -> np.ndarray:
    """Stack per-frame arrays into `[T, H, W, C]`, naming the first frame whose size differs."""
    first = frames[0].shape
    for frame, pixels in zip(sequence.frames, frames, strict=True):
        if pixels.shape != first:
            raise InputError(
                f"{where(sequence.path(frame), frame)} is {pixels.shape[1]}x{pixels.shape[0]}, "
                f"frame {sequence.frames[0]} is {first[1]}x{first[0]}",
                "all frames of a sequence must have one size",
            )
    return np.stack(frames)
