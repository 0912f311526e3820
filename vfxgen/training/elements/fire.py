"""Hot elements coloured by a temperature ramp: fire (flames or a fireball), explosion, muzzle flash.

Each builds a density field (blobs or a flame profile, modulated by advected noise), maps a temperature
derived from it through `_FIRE_RAMP` and takes alpha from the density with a smoothstep.
"""

from __future__ import annotations

import numpy as np

from vfxgen.training.elements.common import (
    F32,
    colour_ramp,
    finish_rgba,
    frame_times,
    gaussian_blob,
    pick_one,
    pixel_grids,
    smoothstep,
    value_noise,
)

# Temperature -> display colour (sRGB): black-red, red, orange, yellow, white-yellow.
_FIRE_RAMP = (
    (0.00, (0.22, 0.02, 0.00)),
    (0.22, (0.62, 0.08, 0.00)),
    (0.45, (0.95, 0.32, 0.02)),
    (0.65, (1.00, 0.58, 0.08)),
    (0.82, (1.00, 0.82, 0.30)),
    (1.00, (1.00, 0.97, 0.78)),
)


def _fire(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    ys, xs = pixel_grids(height, width)
    Y = ys[None, :, None]
    X = xs[None, None, :]
    tone = pick_one(rng, ("orange", "orange", "yellow", "red"))
    peak = {"orange": 0.84, "yellow": 0.97, "red": 0.6}[tone] + rng.uniform(-0.03, 0.03)
    fireball = rng.random() < 0.3
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    rise = s * rng.uniform(0.06, 0.1)
    noise = value_noise(
        rng, frames, height, width, s * rng.uniform(0.12, 0.18), (rng.uniform(-0.3, 0.3), -rise), evolve=1.5, aspect=1.8
    )
    flick = (
        1.0
        + 0.08 * np.sin(2 * np.pi * (rng.uniform(1.5, 3.0) * ts + rng.random()))
        + 0.06 * rng.standard_normal(frames)
    ).astype(F32)[:, None, None]
    if fireball:
        cy = height * (0.6 + rng.uniform(-0.05, 0.05)) - s * rng.uniform(0.0, 0.08) * ts[:, None, None]
        r = s * rng.uniform(0.14, 0.2) * flick
        dy = Y - cy
        h = np.clip(-dy / r, 0.0, None)  # height above the centre, in radii
        dy = np.where(dy < 0, dy * 0.55, dy * 1.1)  # flames lick upward
        ball = np.exp(-((X - cx) ** 2 + dy**2) / (r * r))
        env = np.exp(-((X - cx) ** 2 + (dy * 0.7) ** 2) / (2.2 * r * r)) * (1.0 - smoothstep(1.2, 2.4, h))
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
        body = np.exp(-(((X - cx - sway) / half) ** 2)) * smoothstep(-0.12, 0.05, h)
        env = (
            np.exp(-(((X - cx - sway) / (1.4 * half)) ** 2))
            * smoothstep(-0.12, 0.05, h)
            * (1.0 - smoothstep(0.85, 1.3, h))
        )
        density = body * (1.35 - 0.9 * hc) + (noise - 0.5) * (0.35 + 0.8 * hc) * env
        core = body * (1.0 - hc)
    density = np.clip(density, 0.0, None)
    alpha = smoothstep(0.15, 0.45, density)
    temp = np.clip(0.35 + 0.45 * density + 0.35 * core, 0.0, 1.15) * peak
    rgb = colour_ramp(np.clip(temp, 0.0, 1.0).astype(F32), _FIRE_RAMP)
    if fireball:
        noun = pick_one(rng, ("fireball", "ball of fire", "burning fireball", "fireball burning"))
    else:
        noun = pick_one(rng, ("fire", "flames", "burning fire", "campfire flames", "flickering flames"))
    adj = {
        "orange": ("roaring orange", "bright orange", "blazing", "hot orange"),
        "yellow": ("bright yellow", "blazing yellow", "golden", "intense"),
        "red": ("deep orange", "red-orange", "smouldering", "dark orange"),
    }[tone]
    return finish_rgba(rgb, alpha), f"{pick_one(rng, adj)} {noun}"


def _explosion(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    ys, xs = pixel_grids(height, width)
    cx = width * (0.5 + rng.uniform(-0.07, 0.07))
    cy = height * (0.52 + rng.uniform(-0.07, 0.07))
    rmax = s * rng.uniform(0.26, 0.34)
    speed = rng.uniform(4.0, 7.0)
    grow = (0.1 + 0.9 * (1.0 - np.exp(-speed * ts)) / (1.0 - np.exp(-speed))).astype(F32)
    R = rmax * grow
    lift = s * rng.uniform(0.04, 0.12) * ts**2
    cool = rng.uniform(0.9, 1.6)  # how fast it turns to smoke: the fireball dominates, smoke comes late
    smoke_shade = rng.uniform(0.22, 0.36)  # sooty, but lit by the fire (never a black hole in the matte)
    count = int(rng.integers(9, 15))
    density = np.zeros((frames, height, width), F32)
    heatsum = np.zeros((frames, height, width), F32)
    density += gaussian_blob(ys, xs, cy - lift, np.full(frames, cx, F32), R * 0.55, R * 0.55) * 1.2
    heatsum += density
    for _ in range(count):
        ang = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(0.25, 0.75)
        size = rng.uniform(0.3, 0.5)
        ox, oy = np.cos(ang) * dist, np.sin(ang) * dist * 0.9
        b = gaussian_blob(ys, xs, cy - lift + R * oy, cx + R * ox, R * size, R * size) * rng.uniform(0.6, 1.0)
        density += b
        heatsum += b * (1.0 - 0.6 * dist)
    noise = value_noise(rng, frames, height, width, s * rng.uniform(0.1, 0.16), (0.0, -s * 0.02), evolve=2.0)
    density *= 0.45 + 0.9 * noise
    heat = np.clip(heatsum * (0.25 + 1.3 * noise), 0.0, 1.4) * np.exp(-cool * ts)[:, None, None] * 1.15
    heat += 0.8 * np.exp(-7.0 * ts)[:, None, None] * np.clip(density, 0.0, 1.0)  # the initial flash is all hot
    fire = colour_ramp(np.clip(heat, 0.0, 1.0), _FIRE_RAMP)
    mix = smoothstep(0.12, 0.42, heat)[..., None]
    smoke = (smoke_shade * (0.75 + 0.5 * noise))[..., None] * np.array([1.04, 1.0, 0.96], F32)
    rgb = smoke * (1 - mix) + fire * mix
    alpha = smoothstep(0.1, 0.5, density) * (1.0 - 0.2 * ts**2)[:, None, None]  # the smoke thins
    noun = pick_one(rng, ("explosion", "fiery explosion", "exploding fireball", "blast", "detonation"))
    adj = pick_one(rng, ("huge", "big", "massive", "violent", "bright orange", "fiery"))
    tail = pick_one(rng, ("", "", " with black smoke", " turning to smoke"))
    if adj == "fiery":
        noun = noun.replace("fiery ", "")
    return finish_rgba(rgb, alpha), f"{adj} {noun}{tail}"


def _muzzle_flash(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ys, xs = pixel_grids(height, width)
    Y = ys[:, None]
    X = xs[None, :]
    burst = rng.random() < 0.55  # automatic fire: repeated flashes
    side_view = rng.random() < 0.6
    tone = pick_one(rng, ("yellow", "orange", "white-hot"))
    shift = {"yellow": 0.05, "orange": -0.08, "white-hot": 0.15}[tone]
    cx = width * (0.5 + rng.uniform(-0.1, 0.1))
    cy = height * (0.5 + rng.uniform(-0.1, 0.1))
    direction = rng.choice((0.0, np.pi)) + rng.uniform(-0.3, 0.3)
    size = s * rng.uniform(0.28, 0.36)
    envelope = np.zeros(frames, F32)
    # The (first) flash is on the first frame, as in a stock muzzle-flash element: frame 1001 is lined up
    # with the trigger frame in the comp. It is also the frame a 2x temporal VAE encodes on its own, so the
    # brightest frame is the one it keeps best (alpha IoU of an encode + decode: 0.60 -> see the model card).
    period = int(rng.integers(2, 4))
    starts = range(0, frames, period) if burst else [0]
    for f0 in starts:
        for k, v in enumerate((1.0, 0.9, 0.6)):  # the flash and its glow: three frames at most
            if f0 + k < frames:
                envelope[f0 + k] = max(envelope[f0 + k], v * (rng.uniform(0.85, 1.0) if k == 0 else 1.0))
    dx, dy = X - cx, Y - cy
    rho = np.sqrt(dx * dx + dy * dy) + 1e-6
    phi = np.arctan2(dy, dx)
    density = np.zeros((frames, height, width), F32)
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
    rgb = colour_ramp(heat.astype(F32), _FIRE_RAMP)
    alpha = smoothstep(0.06, 0.45, density)
    noun = "muzzle flashes" if burst else pick_one(rng, ("muzzle flash", "gun muzzle flash", "gunshot flash"))
    adj = pick_one(rng, ("rapid", "repeated")) if burst else pick_one(rng, ("bright", "quick", "brief"))
    return finish_rgba(rgb, alpha), f"{adj} {tone} {noun}"
