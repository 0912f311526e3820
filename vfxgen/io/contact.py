"""Contact sheet: one PNG that shows a clip's colour *and* its matte at a glance.

Each sampled frame is a cell of two tiles stacked: the colour over a checkerboard (how it will
composite) and the alpha as grey (what the matte really is; a checker hides faint alpha). A user
would rather look than read, and a bad matte shows in the second row at once.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from vfxgen.clip import Clip
from vfxgen.color import premultiply, unpremultiply
from vfxgen.compositing import over_checkerboard
from vfxgen.errors import UsageError
from vfxgen.io.images import write_png

BACKGROUND = 0.12  # sRGB grey between tiles


def sample_indices(num_frames: int, max_frames: int) -> list[int]:
    """Up to `max_frames` evenly spaced frame indices, first and last included."""
    if max_frames < 1:
        raise UsageError(f"max_frames must be >= 1, got {max_frames}", "show at least one frame")
    count = min(num_frames, max_frames)
    return sorted({int(round(i)) for i in np.linspace(0, num_frames - 1, count)})


#: Tiles smaller than this on their longer side are enlarged by an integer nearest-neighbour factor: a 64 px
#: demo frame stays legible (its pixels visible as blocks) and its frame-number label fits without smearing.
MIN_TILE_SIDE = 128


def thumbnail_size(height: int, width: int, thumb_size: int) -> tuple[int, int]:
    """`(h, w)` scaled so the longer side is at most `thumb_size`; tiny frames enlarged by a whole factor
    up to `MIN_TILE_SIDE`."""
    longest = max(height, width)
    if longest < MIN_TILE_SIDE:
        factor = math.ceil(MIN_TILE_SIDE / longest)
        return height * factor, width * factor
    scale = min(1.0, thumb_size / longest)
    return max(1, round(height * scale)), max(1, round(width * scale))


def write_contact_sheet(
    clip: Clip,
    path: os.PathLike[str] | str,
    columns: int | None = None,
    max_frames: int = 16,
    label: bool = True,
    start_frame: int = 1001,
    thumb_size: int = 256,
    gap: int = 4,
) -> Path:
    """Write an 8-bit PNG grid of evenly spaced frames: colour over checker above alpha as grey.

    Layout: `columns` cells per row (default: about square), each `th` x `tw` tile (longer side at
    most `thumb_size`), `gap` pixels around every tile, so the sheet is
    `columns * (tw + gap) + gap` wide and `rows * (2 * th + 2 * gap) + gap` high. Labels are frame
    numbers counted from `start_frame`, matching the EXR file names.
    """
    indices = sample_indices(clip.num_frames, max_frames)
    columns = columns or math.ceil(math.sqrt(len(indices)))
    if columns < 1:
        raise UsageError(f"columns must be >= 1, got {columns}", "use at least one column")
    rows = math.ceil(len(indices) / columns)
    th, tw = thumbnail_size(clip.height, clip.width, thumb_size)
    sheet = np.full((rows * (2 * th + 2 * gap) + gap, columns * (tw + gap) + gap, 3), BACKGROUND, np.float32)
    thumbs = np.stack([thumbnail(clip.frames[index], th, tw) for index in indices])
    colour = over_checkerboard(thumbs)
    for slot, index in enumerate(indices):
        y = (slot // columns) * (2 * th + 2 * gap) + gap
        x = (slot % columns) * (tw + gap) + gap
        top = _label(colour[slot], str(start_frame + index)) if label else colour[slot]
        sheet[y : y + th, x : x + tw] = top
        sheet[y + th + gap : y + 2 * th + gap, x : x + tw] = thumbs[slot, ..., 3:]
    return write_png(path, sheet)


def thumbnail(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Straight RGBA `[H, W, 4]` -> `[height, width, 4]`, filtered premultiplied.

    Filtering straight colour would drag the (arbitrary) colour under alpha 0 into the edges;
    averaging premultiplied pixels is the correct way, and shrinking before compositing is cheap.
    """
    if frame.shape[:2] == (height, width):
        return frame
    if height >= frame.shape[0] and width >= frame.shape[1]:  # whole-factor enlargement: blocks, not blur
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_NEAREST)
    small = cv2.resize(premultiply(frame), (width, height), interpolation=cv2.INTER_AREA)
    return unpremultiply(small)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """Frame number in the top-left corner, white with a dark outline so it reads on any content."""
    height = tile.shape[0]
    if height < 24:
        return tile
    scale = max(0.3, height / 300)
    org = (3, 3 + int(round(12 * scale * 1.6)))
    outline = np.zeros(tile.shape[:2], np.uint8)  # OpenCV draws text on 8-bit images only
    fill = np.zeros(tile.shape[:2], np.uint8)
    cv2.putText(outline, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 3, cv2.LINE_AA)
    cv2.putText(fill, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 1, cv2.LINE_AA)
    dark = outline[..., None].astype(np.float32) / 255
    light = fill[..., None].astype(np.float32) / 255
    return (tile * (1 - dark)) * (1 - light) + light
