"""Compositing maths in pure numpy: the checkerboard, "over" in scene-linear light, plate fitting.

All functions take and return float32 arrays; none does I/O.
"""

from __future__ import annotations

import numpy as np

from vfxgen.color import linear_to_srgb, srgb_to_linear


def checkerboard(
    height: int, width: int, square: int = 8, dark: float = 0.35, light: float = 0.65
) -> np.ndarray:
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
