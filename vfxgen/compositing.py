"""Compositing maths in pure numpy: the checkerboard, "over" in scene-linear light, plate fitting.

All functions take and return float32 arrays; none does I/O. `over` composites a `Clip` over a plate;
`fit_element` brings the element to the plate's size (a comp is made at plate resolution; `fit_plate` does the
reverse for scripts that want it) and `match_length` the plate to the element's length, by explicit policy.
"""

from __future__ import annotations

import numpy as np

from vfxgen.clip import Clip
from vfxgen.color import linear_to_srgb, srgb_to_linear
from vfxgen.errors import UsageError


def checkerboard(height: int, width: int, square: int = 8, dark: float = 0.35, light: float = 0.65) -> np.ndarray:
    """A grey checkerboard `[H, W, 3]` (sRGB-encoded), the usual backdrop for showing alpha."""
    ys = (np.arange(height) // square)[:, None]
    xs = (np.arange(width) // square)[None, :]
    board = np.where((ys + xs) % 2 == 0, light, dark).astype(np.float32)
    return np.repeat(board[..., None], 3, axis=-1)


def over_checkerboard(frames: np.ndarray, square: int | None = None) -> np.ndarray:
    """Straight sRGB RGBA `[T, H, W, 4]` over a checkerboard -> sRGB RGB `[T, H, W, 3]` for viewing.

    Blended in scene-linear light like the real composite, so soft edges look as they will in Nuke.
    """
    frames = np.asarray(frames, dtype=np.float32)
    h, w = frames.shape[1:3]
    square = square or max(4, min(h, w) // 12)
    board = srgb_to_linear(checkerboard(h, w, square))[None]
    alpha = frames[..., 3:4]
    fg = srgb_to_linear(frames[..., :3])
    out = fg * alpha + board * (1.0 - alpha)
    return np.clip(linear_to_srgb(out), 0.0, 1.0)


# --------------------------------------------------------------------------------------------------
# "over" a plate
# --------------------------------------------------------------------------------------------------
FIT_POLICIES = ("error", "stretch", "fit", "fill", "center")
LENGTH_POLICIES = ("error", "hold")


def over(fg: Clip | np.ndarray, plate_rgb: np.ndarray, *, linear: bool = False) -> np.ndarray:
    """Composite a straight sRGB RGBA element over an sRGB plate: `[T, H, W, 3]`, sRGB-encoded.

    Porter-Duff "over" on premultiplied colour in scene-linear light, as Nuke's Merge does on linear EXRs:

        out_lin = srgb_to_linear(fg_rgb) * a + srgb_to_linear(plate_rgb) * (1 - a)

    and the result is returned sRGB-encoded (`linear_to_srgb(out_lin)`), or scene-linear with
    `linear=True`. Blending sRGB-encoded values instead would darken every soft edge. Nothing is
    clamped: values above 1 from an HDR plate survive (integer writers clamp). Where alpha is exactly
    0 the plate comes back bit-exact, where it is exactly 1 the element does (no round-trip drift).

    `fg`: a `Clip` (its premultiplied scene-linear pixels are used as they are, so light where alpha is 0
    - glow, sparks - adds onto the plate) or straight sRGB RGBA `[T, H, W, 4]`. `plate_rgb`:
    `[T, H, W, 3]`, or `[H, W, 3]` / `[1, H, W, 3]` for a still used under every frame; its size must
    already match (`fit_plate`, `match_length`).
    """
    if isinstance(fg, Clip):
        premultiplied = fg.pixels
        frames = fg.frames
    else:
        frames = np.asarray(fg, dtype=np.float32)
        premultiplied = None
    plate = np.asarray(plate_rgb, dtype=np.float32)
    if plate.ndim == 3:
        plate = plate[None]
    if frames.ndim != 4 or frames.shape[-1] != 4:
        raise UsageError(f"the element must be RGBA [T, H, W, 4], got {list(frames.shape)}", "pass a Clip")
    if plate.ndim != 4 or plate.shape[-1] != 3:
        raise UsageError(f"the plate must be RGB [T, H, W, 3], got {list(plate.shape)}", "read it with read_plate")
    if plate.shape[1:3] != frames.shape[1:3]:
        raise UsageError(
            f"the plate is {plate.shape[2]}x{plate.shape[1]} but the element is {frames.shape[2]}x{frames.shape[1]}",
            "resize one first with fit_element (CLI: --fit fit, fill, center or stretch)",
        )
    if plate.shape[0] not in (1, frames.shape[0]):
        raise UsageError(
            f"the plate has {plate.shape[0]} frames but the element has {frames.shape[0]}",
            "match them first with match_length (CLI: --length hold)",
        )
    rgb, alpha = frames[..., :3], frames[..., 3:4]
    fg_lin = srgb_to_linear(rgb) * alpha if premultiplied is None else premultiplied[..., :3]
    plate_lin = srgb_to_linear(plate)
    out = fg_lin + plate_lin * (np.float32(1.0) - alpha)
    if linear:
        return np.ascontiguousarray(out, dtype=np.float32)
    out = linear_to_srgb(out)
    empty = (alpha <= 0.0) & np.all(fg_lin == 0.0, axis=-1, keepdims=True)  # nothing at all: the plate, exact
    out = np.where(empty, plate, out)
    out = np.where(alpha >= 1.0, rgb, out)
    return np.ascontiguousarray(out, dtype=np.float32)


def fit_plate(plate: np.ndarray, height: int, width: int, policy: str = "error") -> np.ndarray:
    """Bring a plate `[T, h, w, 3]` (sRGB) to the element's `height` x `width`.

    Policies: `"error"` (default: a different size raises `UsageError` naming both sizes and the
    --fit choices, because a silent resize hides a wrong plate), `"stretch"` (resize to exactly the
    size, aspect not kept), `"fit"` (scale to fit inside, letterbox/pillarbox with black), `"fill"`
    (scale to cover, centre crop), `"center"` (no scaling: centre crop and/or pad with black).
    Resampling is done on scene-linear values (OpenCV `INTER_AREA` when shrinking, `INTER_LINEAR`
    when enlarging) so edges average as light does; the result is sRGB again. A plate already at
    the size is returned unchanged under every policy.
    """
    plate = np.asarray(plate, dtype=np.float32)
    if plate.ndim == 3:
        plate = plate[None]
    mismatch = UsageError(
        f"the plate is {plate.shape[2]}x{plate.shape[1]} but the element is {width}x{height}",
        "pass --fit stretch, --fit fit (letterbox), --fit fill (crop) or --fit center (no scaling)",
    )
    return _fit(plate, height, width, policy, _resize, mismatch)


def fit_element(pixels: np.ndarray, height: int, width: int, policy: str = "error") -> np.ndarray:
    """Bring an element's premultiplied scene-linear RGBA `[T, h, w, 4]` to the plate's `height` x `width`.

    A comp is made at plate resolution, so the element is what gets scaled: the same policies as
    `fit_plate` ("fit" keeps the whole element inside the plate, "fill" covers it and crops, "center"
    places it unscaled, "stretch" distorts it), padding with transparency. Premultiplied linear values
    resample correctly (edges average as light and coverage do) with no conversion.
    """
    pixels = np.asarray(pixels, dtype=np.float32)
    mismatch = UsageError(
        f"the plate is {width}x{height} but the element is {pixels.shape[2]}x{pixels.shape[1]}",
        "pass --fit fit (scale the element into the plate), fill (cover it), center (no scaling) or stretch",
    )
    return _fit(pixels, height, width, policy, _resize_linear, mismatch)


def _fit(frames: np.ndarray, height: int, width: int, policy: str, resize, mismatch: UsageError) -> np.ndarray:
    """The --fit policies on `[T, h, w, C]` frames with the caller's `resize` (plates resample in linear light
    and stay sRGB, elements resample as stored); padding is zeros (black or transparent)."""
    if policy not in FIT_POLICIES:
        raise UsageError(f"unknown --fit {policy!r}", f"use one of {', '.join(FIT_POLICIES)}")
    h, w = frames.shape[1:3]
    if (h, w) == (height, width):
        return frames
    if policy == "error":
        raise mismatch
    if policy == "center":
        return _center(frames, height, width)
    if policy == "stretch":
        return resize(frames, height, width)
    scale = min(height / h, width / w) if policy == "fit" else max(height / h, width / w)
    new_h = min(height, max(1, round(h * scale))) if policy == "fit" else max(height, round(h * scale))
    new_w = min(width, max(1, round(w * scale))) if policy == "fit" else max(width, round(w * scale))
    return _center(resize(frames, new_h, new_w), height, width)


def _resize_linear(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize every channel as stored (premultiplied linear RGBA): area average down, bilinear up."""
    import cv2

    shrinking = height <= frames.shape[1] and width <= frames.shape[2]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = np.empty((frames.shape[0], height, width, frames.shape[3]), np.float32)
    for t, frame in enumerate(frames):
        out[t] = cv2.resize(frame, (width, height), interpolation=interpolation)
    return out


def _resize(plate: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    if plate.shape[1:3] == (height, width):
        return plate
    shrinking = height <= plate.shape[1] and width <= plate.shape[2]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = np.empty((plate.shape[0], height, width, 3), np.float32)
    for t, frame in enumerate(plate):
        out[t] = cv2.resize(srgb_to_linear(frame), (width, height), interpolation=interpolation)
    return linear_to_srgb(out)


def _center(plate: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre crop and/or pad (black) each axis to `height` x `width`, no resampling."""
    t, h, w, c = plate.shape
    out = np.zeros((t, height, width, c), np.float32)
    sy, dy = max(0, (h - height) // 2), max(0, (height - h) // 2)
    sx, dx = max(0, (w - width) // 2), max(0, (width - w) // 2)
    ch, cw = min(h, height), min(w, width)
    out[:, dy : dy + ch, dx : dx + cw] = plate[:, sy : sy + ch, sx : sx + cw]
    return out


def match_length(plate: np.ndarray, frames: int, policy: str = "error") -> np.ndarray:
    """A plate `[T, H, W, 3]` with exactly `frames` frames.

    A still (T = 1) is always held under every frame (returned as a read-only broadcast view, no copy).
    Otherwise `"error"` (default) raises `UsageError` when the counts differ: a moving plate of the wrong
    length is usually the wrong plate or range, and the user should choose; `"hold"` repeats the last
    plate frame after a shorter plate ends and cuts a longer plate to the element's length.
    """
    if policy not in LENGTH_POLICIES:
        raise UsageError(f"unknown --length {policy!r}", f"use one of {', '.join(LENGTH_POLICIES)}")
    plate = np.asarray(plate, dtype=np.float32)
    if plate.ndim == 3:
        plate = plate[None]
    count = plate.shape[0]
    if count == frames:
        return plate
    if count == 1:
        return np.broadcast_to(plate, (frames, *plate.shape[1:]))
    if policy == "error":
        raise UsageError(
            f"the plate has {count} frames but the element has {frames}",
            "pass --length hold to hold the plate's last frame (a longer plate is cut), "
            "or pick matching ranges, e.g. PLATE:FIRST-LAST",
        )
    if count > frames:
        return plate[:frames]
    tail = np.broadcast_to(plate[-1:], (frames - count, *plate.shape[1:]))
    return np.concatenate([plate, tail])
