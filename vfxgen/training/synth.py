"""Procedural VFX elements with known alpha: training data for the small default text-to-RGBA model.

Each element is drawn with cheap, vectorised numpy/OpenCV (moving Gaussian blobs, value noise advected by
shifting, particles splatted and blurred, bolts drawn as polylines), so a 64x64x9 clip takes a few
milliseconds on a CPU. What a model trained on them should pick up is what a user expects from the prompt:
fire is bright orange/yellow, flickering and rising; smoke is grey, soft and billows upward; an explosion
grows fast from a hot orange core that darkens to smoke; sparks are bright yellow-white streaks falling in
arcs; dust is a soft tan/brown cloud drifting; magic is swirling cyan/purple glowing particles; lightning is
a jagged blue-white flickering bolt; a water splash is a crown of blue-white droplets flying up and falling
back; a muzzle flash is a very brief bright star-shaped yellow flash.

Clips follow the `vfxgen.clip.Clip` convention: float32 `[T, H, W, 4]`, straight (not premultiplied)
sRGB-encoded colour in [0, 1], alpha in [0, 1]; the background is transparent (alpha exactly 0, colour 0).
Captions name the element with variation, and their adjectives match the randomised look (colour, density,
size, burst pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import cv2
import numpy as np

from vfxgen.errors import UsageError

ELEMENTS: tuple[str, ...] = (
    "fire",
    "smoke",
    "explosion",
    "sparks",
    "dust",
    "magic",
    "lightning",
    "water_splash",
    "muzzle_flash",
)

_F32 = np.float32

# Temperature -> display colour (sRGB): black-red, red, orange, yellow, white-yellow.
_FIRE_RAMP = (
    (0.00, (0.22, 0.02, 0.00)),
    (0.22, (0.62, 0.08, 0.00)),
    (0.45, (0.95, 0.32, 0.02)),
    (0.65, (1.00, 0.58, 0.08)),
    (0.82, (1.00, 0.82, 0.30)),
    (1.00, (1.00, 0.97, 0.78)),
)


# --- small helpers --------------------------------------------------------------------------------
def _times(frames: int) -> np.ndarray:
    """Normalised time of each frame: 0 at the first, 1 at the last."""
    if frames == 1:
        return np.zeros(1, _F32)
    return np.linspace(0.0, 1.0, frames, dtype=_F32)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _ramp(x: np.ndarray, stops: Sequence[tuple[float, tuple[float, float, float]]]) -> np.ndarray:
    """Piecewise-linear colour ramp: `x [...]` -> `rgb [..., 3]`."""
    pos = [p for p, _ in stops]
    out = np.empty(x.shape + (3,), _F32)
    flat = x.reshape(-1)
    for c in range(3):
        out[..., c] = np.interp(flat, pos, [col[c] for _, col in stops]).reshape(x.shape)
    return out


def _gauss1d(coord: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """`exp(-((coord - centre) / sigma)^2 / 2)` for per-frame centres/sigmas `[T]` -> `[T, N]`."""
    d = (coord[None, :] - centre[:, None]) / sigma[:, None]
    return np.exp(-0.5 * d * d).astype(_F32)


def _blob(ys: np.ndarray, xs: np.ndarray, cy: np.ndarray, cx: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """A separable Gaussian blob moving over time: `[T, H, W]`."""
    return _gauss1d(ys, cy, sy)[:, :, None] * _gauss1d(xs, cx, sx)[:, None, :]


def _blur(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur every frame of a `[T, H, W]` stack (zero outside the frame)."""
    if sigma <= 0:
        return stack
    out = np.empty_like(stack)
    for start in range(0, stack.shape[0], 256):  # OpenCV takes at most 512 channels
        chunk = np.ascontiguousarray(stack[start : start + 256].transpose(1, 2, 0))
        blurred = cv2.GaussianBlur(chunk, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        out[start : start + 256] = blurred.reshape(chunk.shape).transpose(2, 0, 1)
    return out


def _noise(
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
    total = np.zeros((frames, height, width), _F32)
    weights = 0.0
    steps = np.arange(frames, dtype=np.float64)
    for octave in range(octaves):
        cw = max(cell / 2**octave, 1.5)
        ch = cw * aspect
        vx, vy = (v * evolve**octave for v in velocity)
        span_x, span_y = abs(vx) * (frames - 1), abs(vy) * (frames - 1)
        gw = int(np.ceil((width + span_x + 2) / cw)) + 2
        gh = int(np.ceil((height + span_y + 2) / ch)) + 2
        grid = rng.random((gh, gw), dtype=_F32)
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


def _splat(
    frames: int, height: int, width: int, t: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Accumulate weighted points (frame index, x, y in pixels) bilinearly into a `[T, H, W]` stack."""
    t, x, y, w = (np.asarray(a).reshape(-1) for a in (t, x, y, w))
    x0 = np.floor(x - 0.5)
    y0 = np.floor(y - 0.5)
    fx = (x - 0.5 - x0).astype(_F32)
    fy = (y - 0.5 - y0).astype(_F32)
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
    return acc.reshape(frames, height, width).astype(_F32)


def _points(
    frames: int, height: int, width: int, t: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, sigma: float
) -> np.ndarray:
    """Splat points and blur them with `sigma`, scaled so that a lone point of weight 1 peaks at about 1."""
    kernel = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma)
    gain = 1.0 / float(kernel.max()) ** 2
    return _blur(_splat(frames, height, width, t, x, y, w), sigma) * gain


def _finish(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Clamp, make the background exactly transparent (alpha 0, colour 0) and pack RGBA float32."""
    out = np.empty(alpha.shape + (4,), _F32)
    a = out[..., 3]
    np.clip(alpha, 0.0, 1.0, out=a)
    a[a < 1.0 / 512.0] = 0.0
    colour = out[..., :3]
    np.clip(rgb, 0.0, 1.0, out=colour)
    colour[a == 0.0] = 0.0
    return out


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return str(options[int(rng.integers(len(options)))])


def _grids(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates along y and x."""
    return np.arange(height, dtype=_F32) + 0.5, np.arange(width, dtype=_F32) + 0.5


# --- elements -------------------------------------------------------------------------------------
def _fire(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    ys, xs = _grids(height, width)
    Y = ys[None, :, None]
    X = xs[None, None, :]
    tone = _pick(rng, ("orange", "orange", "yellow", "red"))
    peak = {"orange": 0.84, "yellow": 0.97, "red": 0.6}[tone] + rng.uniform(-0.03, 0.03)
    fireball = rng.random() < 0.3
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    rise = s * rng.uniform(0.06, 0.1)
    noise = _noise(
        rng, frames, height, width, s * rng.uniform(0.12, 0.18), (rng.uniform(-0.3, 0.3), -rise), evolve=1.5, aspect=1.8
    )
    flick = (
        1.0
        + 0.08 * np.sin(2 * np.pi * (rng.uniform(1.5, 3.0) * ts + rng.random()))
        + 0.06 * rng.standard_normal(frames)
    ).astype(_F32)[:, None, None]
    if fireball:
        cy = height * (0.6 + rng.uniform(-0.05, 0.05)) - s * rng.uniform(0.0, 0.08) * ts[:, None, None]
        r = s * rng.uniform(0.14, 0.2) * flick
        dy = Y - cy
        h = np.clip(-dy / r, 0.0, None)  # height above the centre, in radii
        dy = np.where(dy < 0, dy * 0.55, dy * 1.1)  # flames lick upward
        ball = np.exp(-((X - cx) ** 2 + dy**2) / (r * r))
        env = np.exp(-((X - cx) ** 2 + (dy * 0.7) ** 2) / (2.2 * r * r)) * (1.0 - _smoothstep(1.2, 2.4, h))
        density = ball * 1.3 + (noise - 0.5) * (0.5 + 0.35 * h) * env
        core = ball
    else:
        base = height * (0.86 + rng.uniform(-0.04, 0.03))
        fh = s * rng.uniform(0.5, 0.7) * flick
        fw = s * rng.uniform(0.13, 0.2)
        h = (base - Y) / fh  # 0 at the base, 1 at the tip
        hc = np.clip(h, 0.0, 1.2)
        wave = np.sin(rng.uniform(0, 6.3) + 4.0 * h - 2 * np.pi * rng.uniform(1.0, 2.0) * ts[:, None, None])
        sway = fw * 0.3 * wave * hc
        half = fw * (1.0 - 0.65 * np.clip(h, 0.0, 1.0)) + 0.5
        body = np.exp(-(((X - cx - sway) / half) ** 2)) * _smoothstep(-0.12, 0.05, h)
        env = (
            np.exp(-(((X - cx - sway) / (1.4 * half)) ** 2))
            * _smoothstep(-0.12, 0.05, h)
            * (1.0 - _smoothstep(0.85, 1.3, h))
        )
        density = body * (1.35 - 0.9 * hc) + (noise - 0.5) * (0.35 + 0.8 * hc) * env
        core = body * (1.0 - hc)
    density = np.clip(density, 0.0, None)
    alpha = _smoothstep(0.15, 0.45, density)
    temp = np.clip(0.35 + 0.45 * density + 0.35 * core, 0.0, 1.15) * peak
    rgb = _ramp(np.clip(temp, 0.0, 1.0).astype(_F32), _FIRE_RAMP)
    if fireball:
        noun = _pick(rng, ("fireball", "ball of fire", "burning fireball", "fireball burning"))
    else:
        noun = _pick(rng, ("fire", "flames", "burning fire", "campfire flames", "flickering flames"))
    adj = {
        "orange": ("roaring orange", "bright orange", "blazing", "hot orange"),
        "yellow": ("bright yellow", "blazing yellow", "golden", "intense"),
        "red": ("deep orange", "red-orange", "smouldering", "dark orange"),
    }[tone]
    return _finish(rgb, alpha), f"{_pick(rng, adj)} {noun}"


def _smoke(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    ys, xs = _grids(height, width)
    shade_name = _pick(rng, ("white", "light grey", "grey", "grey", "dark grey", "black"))
    shade = {"white": 0.88, "light grey": 0.72, "grey": 0.56, "dark grey": 0.38, "black": 0.22}[shade_name]
    shade += rng.uniform(-0.03, 0.03)
    thick = rng.random() < 0.6
    opacity = rng.uniform(0.8, 0.95) if thick else rng.uniform(0.62, 0.75)
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    base = height * (0.85 + rng.uniform(-0.05, 0.04))
    rise = s * rng.uniform(0.42, 0.55)  # per unit of puff age (one clip length)
    lean = s * rng.uniform(-0.25, 0.25)
    count = int(rng.integers(9, 13))
    density = np.zeros((frames, height, width), _F32)
    births = np.linspace(-1.15, 0.9, count) + rng.uniform(-0.06, 0.06, count)
    for b in births:
        age = np.maximum(ts - b, 0.0).astype(_F32)
        cyb = base - rise * age * rng.uniform(0.85, 1.15)
        cxb = cx + s * rng.uniform(-0.05, 0.05) + lean * age**1.5
        r = s * (rng.uniform(0.04, 0.055) + rng.uniform(0.07, 0.09) * age)
        weight = _smoothstep(0.0, 0.15, age) * np.exp(-0.9 * age) * rng.uniform(0.8, 1.2)
        density += _blob(ys, xs, cyb, cxb, r, r * rng.uniform(1.0, 1.3)) * weight[:, None, None]
    v = max(frames - 1, 1)
    noise = _noise(
        rng, frames, height, width, s * rng.uniform(0.14, 0.2), (lean / v * 0.5, -rise / v * 0.6), evolve=1.25
    )
    density *= 0.4 + 1.0 * noise
    cover = 1.0 - np.exp(-(2.2 if thick else 2.0) * density)
    alpha = opacity * np.clip((cover - 0.05) / 0.95, 0.0, 1.0)  # soft, but not endless Gaussian tails
    # Lit from above: surfaces facing up (density rising downwards) are lighter, undersides darker.
    facing = np.zeros_like(density)
    facing[:, 1:-1] = density[:, 2:] - density[:, :-2]
    facing = np.clip(facing * (s / 12.0), -1.0, 1.0)
    light = shade * (0.8 + 0.28 * noise + 0.18 * facing)
    tint = rng.uniform(-0.01, 0.01)
    rgb = np.stack([light + tint, light, light - tint], axis=-1)
    noun = _pick(rng, ("smoke", "smoke plume", "plume of smoke", "rising smoke", "billowing smoke"))
    adj_thick = _pick(rng, ("thick", "dense", "heavy")) if thick else _pick(rng, ("wispy", "thin", "soft"))
    return _finish(rgb, alpha), f"{adj_thick} {shade_name} {noun}"


def _explosion(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    ys, xs = _grids(height, width)
    cx = width * (0.5 + rng.uniform(-0.07, 0.07))
    cy = height * (0.52 + rng.uniform(-0.07, 0.07))
    rmax = s * rng.uniform(0.26, 0.34)
    speed = rng.uniform(4.0, 7.0)
    grow = (0.1 + 0.9 * (1.0 - np.exp(-speed * ts)) / (1.0 - np.exp(-speed))).astype(_F32)
    R = rmax * grow
    lift = s * rng.uniform(0.04, 0.12) * ts**2
    cool = rng.uniform(1.6, 2.6)  # how fast it turns to smoke
    smoke_shade = rng.uniform(0.16, 0.32)
    count = int(rng.integers(9, 15))
    density = np.zeros((frames, height, width), _F32)
    heatsum = np.zeros((frames, height, width), _F32)
    density += _blob(ys, xs, cy - lift, np.full(frames, cx, _F32), R * 0.55, R * 0.55) * 1.2
    heatsum += density
    for _ in range(count):
        ang = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(0.25, 0.75)
        size = rng.uniform(0.3, 0.5)
        ox, oy = np.cos(ang) * dist, np.sin(ang) * dist * 0.9
        b = _blob(ys, xs, cy - lift + R * oy, cx + R * ox, R * size, R * size) * rng.uniform(0.6, 1.0)
        density += b
        heatsum += b * (1.0 - 0.6 * dist)
    noise = _noise(rng, frames, height, width, s * rng.uniform(0.1, 0.16), (0.0, -s * 0.02), evolve=2.0)
    density *= 0.45 + 0.9 * noise
    heat = np.clip(heatsum * (0.25 + 1.3 * noise), 0.0, 1.4) * np.exp(-cool * ts)[:, None, None] * 1.15
    heat += 0.8 * np.exp(-7.0 * ts)[:, None, None] * np.clip(density, 0.0, 1.0)  # the initial flash is all hot
    fire = _ramp(np.clip(heat, 0.0, 1.0), _FIRE_RAMP)
    mix = _smoothstep(0.12, 0.42, heat)[..., None]
    smoke = (smoke_shade * (0.75 + 0.5 * noise))[..., None] * np.array([1.04, 1.0, 0.96], _F32)
    rgb = smoke * (1 - mix) + fire * mix
    alpha = _smoothstep(0.1, 0.5, density) * (1.0 - 0.2 * ts**2)[:, None, None]  # the smoke thins
    noun = _pick(rng, ("explosion", "fiery explosion", "exploding fireball", "blast", "detonation"))
    adj = _pick(rng, ("huge", "big", "massive", "violent", "bright orange", "fiery"))
    tail = _pick(rng, ("", "", " with black smoke", " turning to smoke"))
    if adj == "fiery":
        noun = noun.replace("fiery ", "")
    return _finish(rgb, alpha), f"{adj} {noun}{tail}"


def _sparks(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    tone = _pick(rng, ("golden", "white-hot", "orange", "yellow"))
    grinder = rng.random() < 0.35
    n = int(rng.integers(25, 55))
    ex = width * (0.5 + rng.uniform(-0.1, 0.1))
    ey = height * (0.35 + rng.uniform(-0.08, 0.1))
    if grinder:  # a sideways spray from one side of the frame, arcing down across it
        side = float(rng.choice((-1.0, 1.0)))
        ex = width * (0.5 - side * rng.uniform(0.15, 0.25))
        ey = height * rng.uniform(0.3, 0.45)
        elevation = rng.normal(15, 15, n)
        ang = np.deg2rad(np.where(side > 0, elevation, 180 - elevation))
        speed = s * rng.uniform(0.8, 1.5, n)
    else:
        ang = np.deg2rad(rng.uniform(-75, 75, n) + 90)
        speed = s * rng.uniform(0.5, 1.5, n)
    vx = speed * np.cos(ang)
    vy = -speed * np.sin(ang)  # up is -y
    g = s * rng.uniform(2.5, 4.0)
    birth = rng.uniform(-0.5, 0.75, n)
    life = rng.uniform(0.35, 0.8, n)
    streak = rng.uniform(0.05, 0.09)
    # Enough samples along each motion-blurred streak that it reads as a line, not dots.
    sub = int(np.clip(np.ceil(speed.max() * streak / 0.7), 6, 40))
    spacing = np.clip(speed * streak / (sub - 1) / 0.8, 0.25, 1.0)
    k = np.linspace(0.0, 1.0, sub)
    tt = np.arange(frames)[:, None, None]
    age = ts[:, None, None] - birth[None, :, None] - streak * (1 - k)[None, None, :]
    px = ex + vx[None, :, None] * age
    py = ey + vy[None, :, None] * age + 0.5 * g * age**2
    life_frac = (ts[:, None, None] - birth[None, :, None]) / life[None, :, None]
    bright = (age >= 0) * np.clip(1.0 - life_frac, 0.0, 1.0) ** 0.5 * (0.3 + 0.7 * k)[None, None, :] ** 2
    bright = bright * (rng.uniform(0.7, 1.2, n) * spacing)[None, :, None]
    core = _points(frames, height, width, np.broadcast_to(tt, px.shape), px, py, bright, max(0.55, s / 150))
    glow = _blur(core, max(1.3, s / 40))
    alpha = np.clip(core * 1.3 + glow * 1.5, 0.0, 1.0)
    hot = np.clip(core * 1.3 / (core * 1.3 + glow * 1.5 + 1e-6), 0.0, 1.0)
    core_col, glow_col = {
        "golden": ((1.0, 0.93, 0.6), (1.0, 0.6, 0.12)),
        "white-hot": ((1.0, 1.0, 0.9), (1.0, 0.78, 0.4)),
        "orange": ((1.0, 0.8, 0.4), (1.0, 0.42, 0.05)),
        "yellow": ((1.0, 1.0, 0.65), (1.0, 0.75, 0.15)),
    }[tone]
    rgb = np.asarray(glow_col, _F32) + (np.asarray(core_col, _F32) - np.asarray(glow_col, _F32)) * hot[..., None]
    if grinder:
        noun = _pick(rng, ("sparks from a grinder", "spray of sparks", "stream of flying sparks"))
    else:
        noun = _pick(rng, ("shower of sparks", "burst of sparks", "falling sparks", "sparks flying"))
    adj = {"golden": "golden", "white-hot": "white-hot", "orange": "glowing orange", "yellow": "bright"}[tone]
    words = noun.split(" of ")
    caption = f"{words[0]} of {adj} {words[1]}" if len(words) == 2 else f"{adj} {noun}"
    return _finish(rgb, alpha), caption


def _dust(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    ys, xs = _grids(height, width)
    tone = _pick(rng, ("tan", "sandy", "brown", "reddish-brown"))
    colour = np.asarray(
        {
            "tan": (0.76, 0.64, 0.48),
            "sandy": (0.84, 0.74, 0.55),
            "brown": (0.52, 0.4, 0.28),
            "reddish-brown": (0.6, 0.38, 0.25),
        }[tone],
        _F32,
    ) * rng.uniform(0.92, 1.06)
    direction = rng.choice((-1.0, 1.0))
    drift = direction * s * rng.uniform(0.15, 0.35)
    cx = width * (0.5 + rng.uniform(-0.08, 0.08)) - 0.35 * drift
    cy = height * (0.62 + rng.uniform(-0.08, 0.08))
    spread = s * rng.uniform(0.17, 0.25)
    opacity = rng.uniform(0.55, 0.8)
    count = int(rng.integers(8, 13))
    density = np.zeros((frames, height, width), _F32)
    for _ in range(count):
        ox = rng.uniform(-1.0, 1.0) * spread
        oy = rng.uniform(-0.35, 0.35) * spread
        v = drift * rng.uniform(0.7, 1.3)
        r0 = s * rng.uniform(0.06, 0.1)
        r = (r0 + s * rng.uniform(0.02, 0.05) * ts).astype(_F32)
        bx = cx + ox + v * ts
        by = cy + oy - s * rng.uniform(0.0, 0.08) * ts  # drifts, lifting a little
        density += _blob(ys, xs, by.astype(_F32), bx.astype(_F32), r * 0.8, r * 1.3) * rng.uniform(0.6, 1.0)
    noise = _noise(rng, frames, height, width, s * rng.uniform(0.1, 0.16), (drift / max(frames, 2), -0.05), evolve=1.5)
    density *= 0.35 + 1.0 * noise
    alpha = opacity * (1.0 - np.exp(-2.4 * density))
    fade = (1.0 - 0.35 * ts)[:, None, None]  # settles and thins as it drifts
    alpha = alpha * fade
    shading = (0.85 + 0.3 * noise)[..., None]
    rgb = colour * shading
    noun = _pick(rng, ("dust cloud", "cloud of dust", "dust", "puff of dust", "kicked-up dust"))
    adj = _pick(rng, ("drifting", "billowing", "soft", "swirling"))
    return _finish(rgb, alpha), f"{adj} {tone} {noun}"


def _magic(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    ys, xs = _grids(height, width)
    palette = _pick(rng, ("cyan and purple", "cyan and purple", "purple", "cyan", "blue and pink"))
    col_a, col_b = {
        "cyan and purple": ((0.25, 0.95, 1.0), (0.7, 0.3, 1.0)),
        "purple": ((0.75, 0.35, 1.0), (0.95, 0.45, 1.0)),
        "cyan": ((0.2, 0.95, 1.0), (0.4, 0.7, 1.0)),
        "blue and pink": ((0.35, 0.55, 1.0), (1.0, 0.45, 0.9)),
    }[palette]
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    cy = height * (0.5 + rng.uniform(-0.08, 0.08))
    n = int(rng.integers(30, 60))
    spin = rng.choice((-1.0, 1.0)) * rng.uniform(3.0, 6.0)  # radians per clip
    rad0 = s * rng.uniform(0.08, 0.34, n)
    rad_v = s * rng.uniform(-0.12, 0.12, n)
    ang0 = rng.uniform(0, 2 * np.pi, n)
    omega = spin * rng.uniform(0.7, 1.3, n) * (0.25 * s / rad0) ** 0.5
    tilt = rng.uniform(0.45, 1.0)
    rise = s * rng.uniform(0.0, 0.12, n)
    which = rng.random(n) < 0.5
    trail = rng.uniform(0.1, 0.18)  # how far back (in clip time) the glowing trails reach
    arc = np.abs(omega) * trail * (rad0 + np.abs(rad_v)) + 1e-3  # trail length in pixels
    sub = int(np.clip(np.ceil(arc.max() / 0.7), 6, 64))
    spacing = np.clip(arc / (sub - 1) / 0.8, 0.15, 1.0)
    k = np.linspace(0.0, 1.0, sub)
    tk = ts[:, None, None] - trail * (1 - k)[None, None, :]
    ang = ang0[None, :, None] + omega[None, :, None] * tk
    rad = rad0[None, :, None] + rad_v[None, :, None] * tk
    px = cx + rad * np.cos(ang)
    py = cy + rad * np.sin(ang) * tilt - rise[None, :, None] * tk
    twinkle = rng.uniform(0.55, 1.1, (frames, n, 1))
    w = twinkle * spacing[None, :, None] * (0.1 + 0.9 * k[None, None, :] ** 1.5)
    tt = np.broadcast_to(np.arange(frames)[:, None, None], px.shape)
    sigma = max(0.55, s / 150)
    layer_a = _points(frames, height, width, tt[:, which], px[:, which], py[:, which], w[:, which], sigma)
    layer_b = _points(frames, height, width, tt[:, ~which], px[:, ~which], py[:, ~which], w[:, ~which], sigma)
    core = layer_a + layer_b
    wide = max(1.5, s / 32)
    glow_a, glow_b = _blur(layer_a, wide), _blur(layer_b, wide)
    glow = glow_a + glow_b
    # A faint swirling haze around the centre.
    full = np.full(frames, 1.0, _F32)
    haze = _blob(ys, xs, full * cy, full * cx, full * s * 0.18, full * s * 0.22)
    haze_noise = _noise(rng, frames, height, width, s * 0.15, (spin * 0.3, -0.3), evolve=2.0)
    haze = np.clip(haze - 0.05, 0.0, None) * haze_noise * rng.uniform(0.1, 0.25)
    alpha = np.clip(core * 1.0 + glow * 1.1 + haze, 0.0, 1.0)
    # Which colour each pixel shows: the particles' own near them, the haze's mottling elsewhere.
    share = (layer_a + 2.0 * glow_a + 0.02 * haze_noise) / (core + 2.0 * glow + 0.02)
    col_a_, col_b_ = np.asarray(col_a, _F32), np.asarray(col_b, _F32)
    base = col_b_ + (col_a_ - col_b_) * np.clip(share, 0.0, 1.0)[..., None]
    white = np.clip(core * 0.5 - 0.1, 0.0, 0.6)[..., None]
    rgb = base + (1.0 - base) * white
    noun = _pick(rng, ("magic energy", "magic particles", "magic spell", "arcane energy", "magical sparkles"))
    adj = _pick(rng, ("swirling", "glowing", "sparkling", "spiralling"))
    return _finish(rgb, alpha), f"{adj} {palette} {noun}"


def _bolt(rng: np.random.Generator, p0: np.ndarray, p1: np.ndarray, rough: float, depth: int) -> np.ndarray:
    """Midpoint-displacement polyline from p0 to p1: `[2**depth + 1, 2]`."""
    pts = np.stack([p0, p1]).astype(np.float64)
    for level in range(depth):
        seg = pts[1:] - pts[:-1]
        length = np.linalg.norm(seg, axis=1, keepdims=True) + 1e-9
        normal = np.stack([-seg[:, 1], seg[:, 0]], axis=1) / length
        mid = (pts[1:] + pts[:-1]) / 2 + normal * length * rough * rng.uniform(-1, 1, (len(seg), 1))
        out = np.empty((len(pts) + len(mid), 2))
        out[0::2] = pts
        out[1::2] = mid
        pts = out
        rough *= 0.92 if level < 2 else 1.0
    return pts


def _lightning(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    tone = _pick(rng, ("blue-white", "electric blue", "purple", "white"))
    glow_col = np.asarray(
        {
            "blue-white": (0.45, 0.65, 1.0),
            "electric blue": (0.2, 0.5, 1.0),
            "purple": (0.6, 0.4, 1.0),
            "white": (0.7, 0.8, 1.0),
        }[tone],
        _F32,
    )
    horizontal = rng.random() < 0.25
    up = 4  # draw super-sampled, then shrink: anti-aliased thin lines
    big_h, big_w = height * up, width * up
    thickness = max(1, int(round(up * s / 90)))
    depth = 6 if s >= 48 else 5
    core = np.zeros((frames, height, width), _F32)
    # Strike pattern: bright strikes with quick decay and re-strikes, a new bolt shape each strike.
    level = np.zeros(frames, _F32)
    shape_id = np.zeros(frames, np.int64)
    t = 0
    strike = 0
    while t < frames:
        peak = rng.uniform(0.8, 1.0)
        dur = int(rng.integers(2, 5))
        for k in range(dur):
            if t + k < frames:
                level[t + k] = peak * (0.55**k) * (rng.uniform(0.7, 1.0) if k else 1.0)
                shape_id[t + k] = strike
        t += dur + int(rng.integers(0, 3))
        strike += 1
    shapes = []
    for _ in range(strike):
        if horizontal:
            a = np.array([rng.uniform(0.05, 0.2) * width, rng.uniform(0.3, 0.7) * height])
            b = np.array([rng.uniform(0.8, 0.95) * width, rng.uniform(0.3, 0.7) * height])
        else:
            a = np.array([width * (0.5 + rng.uniform(-0.2, 0.2)), rng.uniform(0.0, 0.1) * height])
            b = np.array([width * (0.5 + rng.uniform(-0.2, 0.2)), rng.uniform(0.85, 1.0) * height])
        main = _bolt(rng, a * up, b * up, 0.22, depth)
        img = np.zeros((big_h, big_w), np.uint8)
        cv2.polylines(img, [np.round(main).astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(main) // 6, len(main) * 3 // 4))
            direction = (b - a) * up
            ang = rng.uniform(0.4, 1.0) * rng.choice((-1.0, 1.0))
            rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
            end = main[i] + rot @ direction * rng.uniform(0.15, 0.35)
            branch = _bolt(rng, main[i], end, 0.25, depth - 2)
            cv2.polylines(img, [np.round(branch).astype(np.int32)], False, 150, max(1, thickness - 1), cv2.LINE_AA)
        shapes.append(cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA).astype(_F32) / 255.0)
    for f in range(frames):
        core[f] = shapes[shape_id[f]] * level[f]
    core = np.clip(core * 2.2, 0.0, 1.0)
    glow = _blur(core, max(1.5, s / 30)) * 2.5 + _blur(core, max(3.0, s / 10)) * 1.5
    alpha = np.clip(core + glow * 0.8, 0.0, 1.0)
    hot = np.clip(core / (core + glow * 0.5 + 1e-6), 0.0, 1.0)[..., None]
    rgb = glow_col + (np.asarray((0.95, 0.97, 1.0), _F32) - glow_col) * hot
    noun = _pick(
        rng, ("lightning bolt", "lightning strike", "bolt of lightning", "electric arc" if horizontal else "lightning")
    )
    adj = _pick(rng, ("crackling", "flickering", "jagged", "bright"))
    return _finish(rgb, alpha), f"{adj} {tone} {noun}"


def _water_splash(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = _times(frames)
    tone = _pick(rng, ("blue-white", "clear blue", "white"))
    thin_col, thick_col = {
        "blue-white": ((0.45, 0.7, 0.98), (0.88, 0.95, 1.0)),
        "clear blue": ((0.3, 0.58, 0.95), (0.7, 0.86, 1.0)),
        "white": ((0.7, 0.82, 0.95), (0.97, 0.98, 1.0)),
    }[tone]
    big = rng.random() < 0.5
    n = int(rng.integers(110, 170))
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    base = height * (0.78 + rng.uniform(-0.05, 0.04))
    ring = s * rng.uniform(0.06, 0.12)
    theta = rng.uniform(0, 2 * np.pi, n)
    jet = rng.random(n) < 0.15  # a central column shoots higher
    x0 = cx + np.where(jet, 0.0, ring * np.cos(theta))
    y0 = base + np.where(jet, 0.0, ring * 0.3 * np.sin(theta))
    up_speed = s * (rng.uniform(1.3, 2.0, n) if big else rng.uniform(0.9, 1.5, n)) * np.where(jet, 1.25, 1.0)
    out_speed = s * rng.uniform(0.15, 0.42, n) * np.where(jet, 0.08, 1.0)
    vx = out_speed * np.cos(theta)
    vy0 = -up_speed
    vyz = out_speed * 0.3 * np.sin(theta)
    g = s * rng.uniform(3.5, 4.5)
    start = rng.uniform(-0.1, -0.03) + rng.uniform(0.0, 0.05, n)
    streak = 0.035
    sigma = max(0.55, s / 120)
    # Enough samples along each short motion streak (scaled to the frame) that it stays continuous.
    sub = int(np.clip(np.ceil(np.hypot(up_speed, out_speed).max() * streak / (1.2 * sigma)), 4, 24))
    k = np.linspace(0.0, 1.0, sub)
    age = ts[:, None, None] - start[None, :, None] - streak * (1 - k)[None, None, :]
    px = x0[None, :, None] + vx[None, :, None] * age
    py = y0[None, :, None] + (vy0 + vyz)[None, :, None] * age + 0.5 * g * age**2
    alive = (age >= 0) & (py < base + s * 0.04)
    w = alive * rng.uniform(0.6, 1.2, n)[None, :, None] * (0.4 + 0.6 * k)[None, None, :] * (0.7 * 4 / sub)
    tt = np.broadcast_to(np.arange(frames)[:, None, None], px.shape)
    drops = _points(frames, height, width, tt, px, py, w, sigma) * 0.25
    soft = _blur(drops, max(1.0, s / 60))
    alpha = np.clip(drops * 2.6 + soft * 0.6, 0.0, 0.95)
    thick = np.clip(drops * 2.0, 0.0, 1.0)[..., None]
    rgb = np.asarray(thin_col, _F32) + (np.asarray(thick_col, _F32) - np.asarray(thin_col, _F32)) * thick
    noun = _pick(
        rng,
        (
            "water splash",
            "splash of water",
            "splashing water",
            "crown splash of water droplets",
            "water droplets splashing",
        ),
    )
    adj = _pick(rng, ("big", "large", "high")) if big else _pick(rng, ("small", "quick", "little"))
    return _finish(rgb, alpha), f"{adj} {tone} {noun}"


def _muzzle_flash(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ys, xs = _grids(height, width)
    Y = ys[:, None]
    X = xs[None, :]
    burst = rng.random() < 0.3  # automatic fire: repeated flashes
    side_view = rng.random() < 0.6
    tone = _pick(rng, ("yellow", "orange", "white-hot"))
    shift = {"yellow": 0.05, "orange": -0.08, "white-hot": 0.15}[tone]
    cx = width * (0.5 + rng.uniform(-0.1, 0.1))
    cy = height * (0.5 + rng.uniform(-0.1, 0.1))
    direction = rng.choice((0.0, np.pi)) + rng.uniform(-0.3, 0.3)
    size = s * rng.uniform(0.14, 0.22)
    envelope = np.zeros(frames, _F32)
    first = int(rng.integers(0, min(3, frames)))
    period = int(rng.integers(3, 5))
    starts = range(first, frames, period) if burst else [first]
    for f0 in starts:
        for k, v in enumerate((1.0, 0.45, 0.12)):
            if f0 + k < frames:
                envelope[f0 + k] = max(envelope[f0 + k], v * (rng.uniform(0.85, 1.0) if k == 0 else 1.0))
    dx, dy = X - cx, Y - cy
    rho = np.sqrt(dx * dx + dy * dy) + 1e-6
    phi = np.arctan2(dy, dx)
    density = np.zeros((frames, height, width), _F32)
    for f in range(frames):
        if envelope[f] == 0:
            continue
        spikes = int(rng.integers(4, 8))
        rot = rng.uniform(0, 2 * np.pi)
        star = 0.28 + 0.72 * np.abs(np.cos(0.5 * spikes * (phi - rot))) ** rng.uniform(10, 20)
        if side_view:
            forward = np.clip(np.cos(phi - direction), 0.0, None) ** 6
            star = star * (1.0 + 1.2 * forward)
            star = star * (0.6 + 0.4 * np.clip(np.cos(phi - direction), 0.0, None) + 0.35)
        scale = size * (0.8 + 0.4 * envelope[f]) * rng.uniform(0.85, 1.15)
        density[f] = np.exp(-((rho / (star * scale)) ** 2) * 2.0) * envelope[f] ** 0.6
    heat = np.clip(density * 1.25 + shift, 0.0, 1.0)
    rgb = _ramp(heat.astype(_F32), _FIRE_RAMP)
    alpha = _smoothstep(0.06, 0.45, density)
    noun = "muzzle flashes" if burst else _pick(rng, ("muzzle flash", "gun muzzle flash", "gunshot flash"))
    adj = _pick(rng, ("rapid", "repeated")) if burst else _pick(rng, ("bright", "quick", "brief"))
    return _finish(rgb, alpha), f"{adj} {tone} {noun}"


_MAKERS: dict[str, Callable[[np.random.Generator, int, int, int], tuple[np.ndarray, str]]] = {
    "fire": _fire,
    "smoke": _smoke,
    "explosion": _explosion,
    "sparks": _sparks,
    "dust": _dust,
    "magic": _magic,
    "lightning": _lightning,
    "water_splash": _water_splash,
    "muzzle_flash": _muzzle_flash,
}


# --- public API -----------------------------------------------------------------------------------
def _check_size(frames: int, height: int, width: int) -> None:
    if int(frames) < 1:
        raise UsageError(f"frames must be at least 1, got {frames}", "pass a positive frame count")
    if int(height) < 8 or int(width) < 8:
        raise UsageError(
            f"synthetic clips need at least 8x8 pixels, got {width}x{height}", "pass a larger --height/--width"
        )


def _check_element(element: str) -> None:
    if element not in _MAKERS:
        raise UsageError(f"unknown synthetic element {element!r}", f"choose one of: {', '.join(ELEMENTS)}")


def synth_clip(element: str, frames: int, height: int, width: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One procedural clip of `element` and a caption naming it.

    Returns float32 `[frames, height, width, 4]` straight sRGB RGBA (alpha exactly 0 and colour 0 on the
    background) and a caption whose adjectives match the randomised look. Raises `UsageError` for an
    unknown element or a size that cannot work.
    """
    _check_element(element)
    _check_size(frames, height, width)
    rgba, caption = _MAKERS[element](rng, int(frames), int(height), int(width))
    return rgba, " ".join(caption.split())


def synth_dataset_items(
    count: int, frames: int, height: int, width: int, seed: int, elements: Sequence[str] = ELEMENTS
) -> Iterator[tuple[str, str, np.ndarray]]:
    """Yield `count` items `(element, caption, rgba)`, deterministic in `seed`.

    Elements cycle through a seed-dependent order (balanced classes); item `i` is drawn from its own
    generator seeded with `(seed, i)`, so an item does not depend on `count` or on the items before it.
    """
    elements = tuple(elements)
    if not elements:
        raise UsageError("no synthetic elements to draw from", f"choose from: {', '.join(ELEMENTS)}")
    for element in elements:
        _check_element(element)
    if int(count) < 0:
        raise UsageError(f"count must be 0 or more, got {count}", "pass a non-negative item count")
    if int(seed) < 0:
        raise UsageError(f"seed must be 0 or more, got {seed}", "pass a non-negative --seed")
    _check_size(frames, height, width)
    order = np.random.default_rng([int(seed), 0x5EED, 0]).permutation(len(elements))
    for index in range(int(count)):
        element = elements[int(order[index % len(elements)])]
        rng = np.random.default_rng([int(seed), int(index)])
        rgba, caption = synth_clip(element, frames, height, width, rng)
        yield element, caption, rgba
