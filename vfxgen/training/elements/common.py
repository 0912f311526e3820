"""Drawing helpers shared by the element generators: time axes, blobs, blur, advected value noise,
point splats, colour ramps and the final RGBA packing.

Names keep their leading underscore: they are this package's internals, imported only by its
generator modules, not an API. Every random draw goes through the `rng` a generator passes in, in a
fixed order, so a clip is a pure function of its generator's seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

F32 = np.float32


def frame_times(frames: int) -> np.ndarray:
    """Normalised time of each frame: 0 at the first, 1 at the last."""
    if frames == 1:
        return np.zeros(1, F32)
    return np.linspace(0.0, 1.0, frames, dtype=F32)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def colour_ramp(x: np.ndarray, stops: Sequence[tuple[float, tuple[float, float, float]]]) -> np.ndarray:
    """Piecewise-linear colour ramp: `x [...]` -> `rgb [..., 3]`."""
    pos = [p for p, _ in stops]
    out = np.empty(x.shape + (3,), F32)
    flat = x.reshape(-1)
    for c in range(3):
        out[..., c] = np.interp(flat, pos, [col[c] for _, col in stops]).reshape(x.shape)
    return out


def gauss1d(coord: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """`exp(-((coord - centre) / sigma)^2 / 2)` for per-frame centres/sigmas `[T]` -> `[T, N]`."""
    d = (coord[None, :] - centre[:, None]) / sigma[:, None]
    return np.exp(-0.5 * d * d).astype(F32)


def gaussian_blob(
    ys: np.ndarray, xs: np.ndarray, cy: np.ndarray, cx: np.ndarray, sy: np.ndarray, sx: np.ndarray
) -> np.ndarray:
    """A separable Gaussian blob moving over time: `[T, H, W]`."""
    return gauss1d(ys, cy, sy)[:, :, None] * gauss1d(xs, cx, sx)[:, None, :]


def blur_frames(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur every frame of a `[T, H, W]` stack (zero outside the frame)."""
    if sigma <= 0:
        return stack
    out = np.empty_like(stack)
    for start in range(0, stack.shape[0], 256):  # OpenCV takes at most 512 channels
        chunk = np.ascontiguousarray(stack[start : start + 256].transpose(1, 2, 0))
        blurred = cv2.GaussianBlur(chunk, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        out[start : start + 256] = blurred.reshape(chunk.shape).transpose(2, 0, 1)
    return out


def value_noise(
    rng: np.random.Generator,
    frames: int,
    height: int,
    width: int,
    cell: float,
    velocity: tuple[float, float],
    octaves: int = 2,
    evolve: float = 1.6,
    aspect: float = 1.0,
) -> np.ndarray:
    """Value noise in [0, 1] `[T, H, W]`, advected by `velocity` (x, y pixels per frame).

    Each octave is one low-res random field resized up with cubic interpolation and cropped at a moving
    (sub-pixel, bilinearly blended) offset; finer octaves move `evolve` times faster, so the pattern changes
    shape as it drifts instead of sliding rigidly. `aspect` > 1 stretches the cells vertically (flame
    tongues).
    """
    total = np.zeros((frames, height, width), F32)
    weights = 0.0
    steps = np.arange(frames, dtype=np.float64)
    for octave in range(octaves):
        cw = max(cell / 2**octave, 1.5)
        ch = cw * aspect
        vx, vy = (v * evolve**octave for v in velocity)
        span_x, span_y = abs(vx) * (frames - 1), abs(vy) * (frames - 1)
        gw = int(np.ceil((width + span_x + 2) / cw)) + 2
        gh = int(np.ceil((height + span_y + 2) / ch)) + 2
        grid = rng.random((gh, gw), dtype=F32)
        big = cv2.resize(grid, (int(round(gw * cw)), int(round(gh * ch))), interpolation=cv2.INTER_CUBIC)
        # Content moving by +v per frame is the window moving by -v over the fixed field.
        ox = (span_x if vx > 0 else 0.0) - vx * steps + cw * 0.5
        oy = (span_y if vy > 0 else 0.0) - vy * steps + ch * 0.5
        amp = 0.5**octave
        for t in range(frames):
            x0, y0 = int(ox[t]), int(oy[t])
            fx, fy = ox[t] - x0, oy[t] - y0
            win = big[y0 : y0 + height + 1, x0 : x0 + width + 1]
            top = win[:height, :width] * (1 - fx) + win[:height, 1 : width + 1] * fx
            bottom = win[1 : height + 1, :width] * (1 - fx) + win[1 : height + 1, 1 : width + 1] * fx
            total[t] += amp * (top * (1 - fy) + bottom * fy)
        weights += amp
    total /= weights
    # Averaging octaves squeezes the spread towards 0.5: stretch it back.
    return np.clip(0.5 + (total - 0.5) * 2.2, 0.0, 1.0)


def splat_points(
    frames: int, height: int, width: int, t: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Accumulate weighted points (frame index, x, y in pixels) bilinearly into a `[T, H, W]` stack."""
    t, x, y, w = (np.asarray(a).reshape(-1) for a in (t, x, y, w))
    x0 = np.floor(x - 0.5)
    y0 = np.floor(y - 0.5)
    fx = (x - 0.5 - x0).astype(F32)
    fy = (y - 0.5 - y0).astype(F32)
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    t = t.astype(np.int64)
    size = frames * height * width
    acc = np.zeros(size, np.float64)
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        ok = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height) & (t >= 0) & (t < frames)
        idx = (t[ok] * height + yi[ok]) * width + xi[ok]
        acc += np.bincount(idx, weights=(w * wt)[ok], minlength=size)
    return acc.reshape(frames, height, width).astype(F32)


def point_sprites(
    frames: int, height: int, width: int, t: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, sigma: float
) -> np.ndarray:
    """Splat points and blur them with `sigma`, scaled so that a lone point of weight 1 peaks at about 1."""
    kernel = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma)
    gain = 1.0 / float(kernel.max()) ** 2
    return blur_frames(splat_points(frames, height, width, t, x, y, w), sigma) * gain


def finish_rgba(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Clamp, make the background exactly transparent (alpha 0, colour 0) and pack RGBA float32."""
    out = np.empty(alpha.shape + (4,), F32)
    a = out[..., 3]
    np.clip(alpha, 0.0, 1.0, out=a)
    a[a < 1.0 / 512.0] = 0.0
    colour = out[..., :3]
    np.clip(rgb, 0.0, 1.0, out=colour)
    colour[a == 0.0] = 0.0
    return out


def pick_one(rng: np.random.Generator, options: Sequence[str]) -> str:
    return str(options[int(rng.integers(len(options)))])


def pixel_grids(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates along y and x."""
    return np.arange(height, dtype=F32) + 0.5, np.arange(width, dtype=F32) + 0.5
