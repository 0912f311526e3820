"""The in-memory RGBA clip every command passes around.

Canonical state (what compositors use): **premultiplied, scene-linear** float32 `[T, H, W, 4]` in the
working colour space (`lin_rec709_scene`, recorded on the clip), `Clip.pixels`. That is what an EXR holds,
so an EXR read and written again is bit-exact in half, and light where alpha is 0 (additive glow,
sparks, emission: premultiplied RGB > 0 at A = 0, legitimate in EXR) survives export and composite.

Straight, display-encoded sRGB is a *view* computed when needed (`Clip.frames`: PNG, ProRes, previews,
eval-flow, the model's own decoded colour): read-only, so nobody edits a copy by mistake. Building a
clip from straight sRGB (`Clip(frames)`, what a model decodes) or from premultiplied linear
(`Clip(pixels=...)`, what an EXR holds) is explicit; nothing premultiplies twice.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vfxgen.color import LINEAR_COLORSPACE, linear_to_srgb, premultiply, srgb_to_linear, unpremultiply
from vfxgen.errors import InputError, UsageError
from vfxgen.framerate import DEFAULT_FPS, frame_rate


class Clip:
    """RGBA frames (canonical: premultiplied scene-linear `pixels`), frame rate and free-form metadata."""

    def __init__(
        self,
        frames: np.ndarray | None = None,
        fps: float = DEFAULT_FPS,
        metadata: dict[str, Any] | None = None,
        *,
        pixels: np.ndarray | None = None,
        colorspace: str = LINEAR_COLORSPACE,
        source_rgb: np.ndarray | None = None,
        source_alpha: str = "straight",
    ) -> None:
        """`frames`: straight sRGB RGBA (as a model decodes it); or `pixels`: premultiplied scene-linear
        RGBA in `colorspace` (as an EXR holds it). Exactly one of the two.

        `source_rgb`: the display-encoded colour `[T, H, W, 3]` exactly as the source stored it (a PNG's or
        a straight movie's RGB, a TransPixar rgb.mp4, the model's decoded RGB half), colour where alpha is 0
        included; `source_alpha` says whether it is straight or premultiplied. The canonical pixels cannot
        hold colour at alpha 0 of a straight source (it premultiplies to 0), but eval-flow measures exactly
        that colour (the paper's protocol) and a straight -> straight export keeps it.
        """
        if (frames is None) == (pixels is None):
            raise TypeError("give a Clip either straight sRGB `frames` or premultiplied linear `pixels`")
        data = _checked(frames if pixels is None else pixels)
        if pixels is None:
            data[..., :3] = srgb_to_linear(data[..., :3]) * data[..., 3:4]
        self.pixels = data
        self.colorspace = colorspace
        self.metadata: dict[str, Any] = dict(metadata or {})
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise InputError(f"fps must be positive, got {fps}", "pass --fps with a positive value")
        self.fps = float(frame_rate(fps))  # the rate every file of the clip will carry (23.98 -> 24000/1001)
        self._straight: np.ndarray | None = None
        self.source_rgb: np.ndarray | None = None
        self.source_alpha = source_alpha
        if source_rgb is not None:
            source = np.asarray(source_rgb, np.float32)
            if source.shape != data.shape[:-1] + (3,):
                raise ValueError(f"source_rgb {list(source.shape)} does not match the clip {list(data.shape)}")
            self.source_rgb = source

    def __repr__(self) -> str:
        return f"Clip({self.num_frames} frames {self.width}x{self.height} at {self.fps:g} fps, {self.colorspace})"

    # --- shape -------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def frames(self) -> np.ndarray:
        """Straight sRGB RGBA `[T, H, W, 4]` (read-only view, computed once). Colour where alpha is 0 is 0
        here: emission lives only in `pixels`."""
        if self._straight is None:
            straight = unpremultiply(self.pixels)
            straight[..., :3] = linear_to_srgb(straight[..., :3])
            straight.flags.writeable = False
            self._straight = straight
        return self._straight

    @property
    def rgb(self) -> np.ndarray:
        """Straight sRGB colour `[T, H, W, 3]` (a view)."""
        return self.frames[..., :3]

    @property
    def alpha(self) -> np.ndarray:
        """Alpha `[T, H, W]` (a view)."""
        return self.pixels[..., 3]

    def colour_as_stored(self) -> np.ndarray:
        """The display-encoded colour `[T, H, W, 3]` as the source stored it (see `source_rgb`), else the
        straight sRGB view: what eval-flow measures."""
        return self.source_rgb if self.source_rgb is not None else self.rgb

    def straight_frames(self) -> np.ndarray:
        """Straight sRGB RGBA for straight outputs (PNG, straight ProRes, WebM): `frames`, except that a
        straight source's own colour is kept where alpha is 0 (the canonical pixels cannot carry it)."""
        if self.source_rgb is None or self.source_alpha != "straight":
            return self.frames
        out = np.array(self.frames)
        clear = self.pixels[..., 3] <= 0
        out[..., :3][clear] = self.source_rgb[clear]
        return out

    def _carry_source(self, clip: Clip, index: slice = slice(None), clip_range: bool = False) -> Clip:
        if self.source_rgb is not None:
            source = self.source_rgb[index]
            clip.source_rgb = np.clip(source, 0.0, 1.0) if clip_range else source
            clip.source_alpha = self.source_alpha
        return clip

    # --- conversions -------------------------------------------------------------------------
    def to_linear(self) -> np.ndarray:
        """Straight scene-linear RGBA `[T, H, W, 4]`."""
        return unpremultiply(self.pixels)

    def to_linear_premultiplied(self) -> np.ndarray:
        """Scene-linear, premultiplied RGBA: what Nuke expects in an EXR (the canonical pixels, a copy)."""
        return self.pixels.copy()

    def to_premultiplied(self) -> np.ndarray:
        """Display-encoded (sRGB) premultiplied RGBA, as in ProRes with premultiplied alpha."""
        return premultiply(self.frames)

    @classmethod
    def from_linear_premultiplied(
        cls, rgba: np.ndarray, fps: float = DEFAULT_FPS, metadata: dict[str, Any] | None = None
    ) -> Clip:
        """Build a clip from scene-linear premultiplied RGBA (an EXR sequence), kept as is."""
        return cls(None, fps, metadata, pixels=rgba)

    @classmethod
    def from_premultiplied(
        cls, rgba: np.ndarray, fps: float = DEFAULT_FPS, metadata: dict[str, Any] | None = None, **source: Any
    ) -> Clip:
        """Build a clip from display-encoded premultiplied RGBA (TransPixar's rgb.mp4, premult ProRes);
        `source`: `source_rgb` / `source_alpha` as for the constructor."""
        return cls(unpremultiply(rgba), fps, metadata, **source)

    def clipped(self) -> Clip:
        """A copy whose straight colour and alpha are clamped to [0, 1] (for 8/10/16-bit integer outputs)."""
        return self._carry_source(Clip(np.clip(self.frames, 0.0, 1.0), self.fps, self.metadata), clip_range=True)

    def with_metadata(self, **items: Any) -> Clip:
        """A clip sharing pixels, with metadata updated."""
        clip = Clip(None, self.fps, {**self.metadata, **items}, pixels=self.pixels, colorspace=self.colorspace)
        clip._straight = self._straight
        return self._carry_source(clip)

    def sliced(self, first: int, last: int) -> Clip:
        """Frames `first..last` (indices, inclusive), sharing pixels."""
        clip = Clip(None, self.fps, self.metadata, pixels=self.pixels[first : last + 1], colorspace=self.colorspace)
        return self._carry_source(clip, slice(first, last + 1))


def _checked(frames: np.ndarray) -> np.ndarray:
    """A float32 `[T, H, W, 4]` copy with finite values, else one InputError naming the first bad frame."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 4:
        raise InputError(
            f"a clip needs frames shaped [T, H, W, 4], got {list(frames.shape)}",
            "give RGBA frames (colour plus alpha)",
        )
    if frames.shape[0] == 0:
        raise InputError("the clip has no frames", "check the input range or sequence pattern")
    data = np.array(frames, dtype=np.float32, order="C", copy=True)
    bad = ~np.isfinite(data)
    if bad.any():
        frame = int(np.argwhere(bad.reshape(bad.shape[0], -1).any(axis=1))[0, 0])
        raise InputError(
            f"the clip has NaN or inf pixels (first in frame index {frame})",
            "fix or clamp the source frames",
        )
    return data


def check_finite(option: str, value: float, hint: str) -> None:
    """NaN and inf pass every `<`/`>` test: refuse them by name."""
    if not math.isfinite(value):
        raise UsageError(f"{option} must be a finite number, got {value}", hint)


def check_fps(fps: float) -> None:
    """A frame rate a movie container and Nuke can carry: finite and positive."""
    check_finite("--fps", fps, "use e.g. --fps 24")
    if fps <= 0:
        raise UsageError(f"--fps must be positive, got {fps:g}", "use e.g. --fps 24")
