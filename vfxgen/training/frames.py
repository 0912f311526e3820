"""Frames for dataset preparation, one at a time: decoded, cut into windows, cropped and resized.

Sources are read frame by frame (movies through `vfxgen.io.video.iter_movie_frames`, image folders and
EXR/PNG sequences one file at a time) and `sliding` holds one window, so long HD and 4K videos never
sit in RAM whole. A window is `frames` consecutive frames and one starts every `stride` frames; a tail
shorter than `frames` is dropped. Frames are centre-cropped to the target aspect and resized with
`cv2.INTER_AREA` (RGBA premultiplied while resizing, so colour hidden under alpha 0 cannot bleed).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from vfxgen.errors import UsageError

if TYPE_CHECKING:
    from vfxgen.io.sequence import FrameSequence

MATTE_IMAGE_EXTENSIONS = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
_NO_ALPHA_HINT = "give RGBA sources (ProRes 4444, WebM with alpha, EXR/PNG), or matting data as fgr/ and pha/ folders"


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
# decoding, one frame at a time
# --------------------------------------------------------------------------------------------------
def movie_frames(path: str | os.PathLike, require_alpha: bool) -> Iterator[np.ndarray]:
    """Decode a movie frame by frame: straight sRGB float32 `[H, W, 4]` (alpha 1 when it has none).

    `vfxgen.io.video.iter_movie_frames` (one frame in memory, `vfxgen:alpha = premultiplied` files
    divided by alpha), with the fix a `dataset prepare` user can apply when a movie has no alpha.
    """
    from vfxgen.io.video import iter_movie_frames

    return iter_movie_frames(path, require_alpha=require_alpha, no_alpha_hint=_NO_ALPHA_HINT)


def image_frame_count(directory: Path) -> int:
    """Frames of a directory of numbered stills (a VideoMatte240K_JPEG source), without reading them."""
    return len(_matte_images(directory).frames)


def _matte_images(directory: Path) -> FrameSequence:
    from vfxgen.io.sequence import find_sequence

    return find_sequence(directory, extensions=MATTE_IMAGE_EXTENSIONS)


def image_frames(directory: Path) -> Iterator[np.ndarray]:
    """A directory of numbered stills (VideoMatte240K_JPEG) as straight sRGB `[H, W, 3|4]` frames."""
    from vfxgen.io.images import read_image

    for path in _matte_images(directory).paths():
        yield read_image(path)


def rgba_sequence_frames(sequence: FrameSequence) -> Iterator[np.ndarray]:
    """An EXR (premultiplied linear) or PNG (straight) RGBA sequence, one straight sRGB frame at a time."""
    from vfxgen.io.exr import read_exr_sequence
    from vfxgen.io.images import read_png_sequence
    from vfxgen.io.sequence import FrameSequence

    exr = sequence.suffix.lower() == ".exr"
    for frame in sequence.frames:
        one = FrameSequence(sequence.directory, sequence.prefix, sequence.suffix, sequence.padding, [frame])
        clip = read_exr_sequence(one) if exr else read_png_sequence(one, require_alpha=True)
        yield clip.frames[0]
