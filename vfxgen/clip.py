"""The in-memory RGBA clip every command passes around.

One convention inside vfxgen (design Sec. 3): float32 `[T, H, W, 4]`, colour *straight* (not
premultiplied) and *display-encoded sRGB* in [0, 1] as the model decodes it, alpha in [0, 1].
Every other state (scene-linear, premultiplied) is produced by an explicit method, so no reader or
writer can premultiply twice by accident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vfxgen.color import linear_to_srgb, premultiply, srgb_to_linear, unpremultiply
from vfxgen.errors import InputError, UsageError


@dataclass
class Clip:
    """RGBA frames (straight, sRGB-encoded), frame rate and free-form metadata (prompt, seed, model...)."""

    frames: np.ndarray
    fps: float = 8.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames = np.asarray(self.frames)
        if frames.ndim != 4 or frames.shape[-1] != 4:
            raise InputError(
                f"a clip needs frames shaped [T, H, W, 4], got {list(frames.shape)}",
                "give RGBA frames (colour plus alpha)",
            )
        if frames.shape[0] == 0:
            raise InputError("the clip has no frames", "check the input range or sequence pattern")
        self.frames = np.ascontiguousarray(frames, dtype=np.float32)
        bad = ~np.isfinite(self.frames)
        if bad.any():
            frame = int(np.argwhere(bad.reshape(bad.shape[0], -1).any(axis=1))[0, 0])
            raise InputError(
                f"the clip has NaN or inf pixels (first in frame index {frame})",
                "fix or clamp the source frames",
            )
        if not self.fps or self.fps <= 0:
            raise InputError(f"fps must be positive, got {self.fps}", "pass --fps with a positive value")
        self.fps = float(self.fps)

    # --- shape -------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def rgb(self) -> np.ndarray:
        """Straight sRGB colour `[T, H, W, 3]` (a view)."""
        return self.frames[..., :3]

    @property
    def alpha(self) -> np.ndarray:
        """Alpha `[T, H, W]` (a view)."""
        return self.frames[..., 3]

    # --- conversions -------------------------------------------------------------------------
    def to_linear(self) -> np.ndarray:
        """Straight scene-linear Rec.709 RGBA `[T, H, W, 4]`."""
        out = self.frames.copy()
        out[..., :3] = srgb_to_linear(self.frames[..., :3])
        return out

    def to_linear_premultiplied(self) -> np.ndarray:
        """Scene-linear, premultiplied RGBA: what Nuke expects in an EXR (`srgb_to_linear(rgb) * a`)."""
        return premultiply(self.to_linear())

    def to_premultiplied(self) -> np.ndarray:
        """Display-encoded (sRGB) premultiplied RGBA, as in ProRes with premultiplied alpha."""
        return premultiply(self.frames)

    @classmethod
    def from_linear_premultiplied(
        cls, rgba: np.ndarray, fps: float = 8.0, metadata: dict[str, Any] | None = None
    ) -> Clip:
        """Build a clip from scene-linear premultiplied RGBA (an EXR sequence)."""
        straight = unpremultiply(rgba)
        straight[..., :3] = linear_to_srgb(straight[..., :3])
        return cls(straight, fps, dict(metadata or {}))

    @classmethod
    def from_premultiplied(cls, rgba: np.ndarray, fps: float = 8.0, metadata: dict[str, Any] | None = None) -> Clip:
        """Build a clip from display-encoded premultiplied RGBA (TransPixar's rgb.mp4, premult ProRes)."""
        return cls(unpremultiply(rgba), fps, dict(metadata or {}))

    def clipped(self) -> Clip:
        """A copy with all channels clamped to [0, 1] (for 8/10/16-bit integer outputs)."""
        return Clip(np.clip(self.frames, 0.0, 1.0), self.fps, dict(self.metadata))

    def with_metadata(self, **items: Any) -> Clip:
        """A clip sharing frames, with metadata updated."""
        return Clip(self.frames, self.fps, {**self.metadata, **items})


def check_finite(option: str, value: float, hint: str) -> None:
    """NaN and inf pass every `<`/`>` test: refuse them by name."""
    if not math.isfinite(value):
        raise UsageError(f"{option} must be a finite number, got {value}", hint)


def check_fps(fps: float) -> None:
    """A frame rate a movie container and Nuke can carry: finite and positive."""
    check_finite("--fps", fps, "use e.g. --fps 24")
    if fps <= 0:
        raise UsageError(f"--fps must be positive, got {fps:g}", "use e.g. --fps 24")
