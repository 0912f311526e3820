"""Particle elements: sparks, magic and water splash, points moved along paths, splatted with motion-blur
sub-samples and blurred into a core plus a glow.
"""

from __future__ import annotations

import numpy as np

from vfxgen.training.elements.common import (
    F32,
    blur_frames,
    finish_rgba,
    frame_times,
    gaussian_blob,
    pick_one,
    pixel_grids,
    point_sprites,
    value_noise,
)


def _sparks(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    tone = pick_one(rng, ("golden", "white-hot", "orange", "yellow"))
    grinder = rng.random() < 0.35
    # Fewer, thicker streaks in a tighter fountain with a wide hot glow: a shower a 64-px model can draw (its
    # tokens are 8 px across; one-pixel streaks came out as grey specks with a black-holed blob of alpha).
    n = int(rng.integers(22, 40))
    ex = width * (0.5 + rng.uniform(-0.1, 0.1))
    ey = height * (0.35 + rng.uniform(-0.08, 0.1))
    if grinder:  # a sideways spray from one side of the frame, arcing down across it
        side = float(rng.choice((-1.0, 1.0)))
        ex = width * (0.5 - side * rng.uniform(0.15, 0.25))
        ey = height * rng.uniform(0.3, 0.45)
        elevation = rng.normal(15, 15, n)
        ang = np.deg2rad(np.where(side > 0, elevation, 180 - elevation))
        speed = s * rng.uniform(0.7, 1.2, n)
    else:
        ang = np.deg2rad(rng.uniform(-55, 55, n) + 90)
        speed = s * rng.uniform(0.5, 1.1, n)
    vx = speed * np.cos(ang)
    vy = -speed * np.sin(ang)  # up is -y
    g = s * rng.uniform(2.5, 4.0)
    birth = rng.uniform(-0.5, 0.75, n)
    life = rng.uniform(0.35, 0.8, n)
    streak = rng.uniform(0.08, 0.13)
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
    core = point_sprites(frames, height, width, np.broadcast_to(tt, px.shape), px, py, bright, max(0.9, s / 70))
    glow = blur_frames(core, max(2.4, s / 26))
    alpha = np.clip(core * 1.3 + glow * 2.2, 0.0, 1.0)
    hot = np.clip(core * 1.3 / (core * 1.3 + glow * 2.2 + 1e-6), 0.0, 1.0)
    core_col, glow_col = {
        "golden": ((1.0, 0.93, 0.6), (1.0, 0.6, 0.12)),
        "white-hot": ((1.0, 1.0, 0.9), (1.0, 0.78, 0.4)),
        "orange": ((1.0, 0.8, 0.4), (1.0, 0.42, 0.05)),
        "yellow": ((1.0, 1.0, 0.65), (1.0, 0.75, 0.15)),
    }[tone]
    rgb = np.asarray(glow_col, F32) + (np.asarray(core_col, F32) - np.asarray(glow_col, F32)) * hot[..., None]
    if grinder:
        noun = pick_one(rng, ("sparks from a grinder", "spray of sparks", "stream of flying sparks"))
    else:
        noun = pick_one(rng, ("shower of sparks", "burst of sparks", "falling sparks", "sparks flying"))
    adj = {"golden": "golden", "white-hot": "white-hot", "orange": "glowing orange", "yellow": "bright"}[tone]
    words = noun.split(" of ")
    caption = f"{words[0]} of {adj} {words[1]}" if len(words) == 2 else f"{adj} {noun}"
    return finish_rgba(rgb, alpha), caption


def _magic(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    ys, xs = pixel_grids(height, width)
    palette = pick_one(rng, ("cyan and purple", "cyan and purple", "purple", "cyan", "blue and pink"))
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
    layer_a = point_sprites(frames, height, width, tt[:, which], px[:, which], py[:, which], w[:, which], sigma)
    layer_b = point_sprites(frames, height, width, tt[:, ~which], px[:, ~which], py[:, ~which], w[:, ~which], sigma)
    core = layer_a + layer_b
    wide = max(1.5, s / 32)
    glow_a, glow_b = blur_frames(layer_a, wide), blur_frames(layer_b, wide)
    glow = glow_a + glow_b
    # A faint swirling haze around the centre.
    full = np.full(frames, 1.0, F32)
    haze = gaussian_blob(ys, xs, full * cy, full * cx, full * s * 0.18, full * s * 0.22)
    haze_noise = value_noise(rng, frames, height, width, s * 0.15, (spin * 0.3, -0.3), evolve=2.0)
    haze = np.clip(haze - 0.05, 0.0, None) * haze_noise * rng.uniform(0.1, 0.25)
    alpha = np.clip(core * 1.0 + glow * 1.1 + haze, 0.0, 1.0)
    # Which colour each pixel shows: the particles' own near them, the haze's mottling elsewhere.
    share = (layer_a + 2.0 * glow_a + 0.02 * haze_noise) / (core + 2.0 * glow + 0.02)
    col_a_, col_b_ = np.asarray(col_a, F32), np.asarray(col_b, F32)
    base = col_b_ + (col_a_ - col_b_) * np.clip(share, 0.0, 1.0)[..., None]
    white = np.clip(core * 0.5 - 0.1, 0.0, 0.6)[..., None]
    rgb = base + (1.0 - base) * white
    noun = pick_one(rng, ("magic energy", "magic particles", "magic spell", "arcane energy", "magical sparkles"))
    adj = pick_one(rng, ("swirling", "glowing", "sparkling", "spiralling"))
    return finish_rgba(rgb, alpha), f"{adj} {palette} {noun}"


def _water_splash(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    tone = pick_one(rng, ("blue-white", "clear blue", "white"))
    thin_col, thick_col = {
        "blue-white": ((0.45, 0.7, 0.98), (0.88, 0.95, 1.0)),
        "clear blue": ((0.3, 0.58, 0.95), (0.7, 0.86, 1.0)),
        "white": ((0.7, 0.82, 0.95), (0.97, 0.98, 1.0)),
    }[tone]
    big = rng.random() < 0.5
    n = int(rng.integers(70, 110))  # fewer, larger drops than a real splash: what a 64-px model can draw
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    base = height * (0.78 + rng.uniform(-0.05, 0.04))
    ring = s * rng.uniform(0.06, 0.12)
    theta = rng.uniform(0, 2 * np.pi, n)
    jet = rng.random(n) < 0.15  # a central column shoots higher
    x0 = cx + np.where(jet, 0.0, ring * np.cos(theta))
    y0 = base + np.where(jet, 0.0, ring * 0.3 * np.sin(theta))
    up_speed = s * (rng.uniform(1.0, 1.5, n) if big else rng.uniform(0.75, 1.2, n)) * np.where(jet, 1.25, 1.0)
    out_speed = s * rng.uniform(0.15, 0.42, n) * np.where(jet, 0.08, 1.0)
    vx = out_speed * np.cos(theta)
    vy0 = -up_speed
    vyz = out_speed * 0.3 * np.sin(theta)
    g = s * rng.uniform(2.2, 2.9)  # droplets stay aloft to the last frame: the splash never empties out
    start = rng.uniform(-0.1, -0.03) + rng.uniform(0.0, 0.05, n)
    streak = 0.035
    sigma = max(0.85, s / 75)
    # Enough samples along each short motion streak (scaled to the frame) that it stays continuous.
    sub = int(np.clip(np.ceil(np.hypot(up_speed, out_speed).max() * streak / (1.2 * sigma)), 4, 24))
    k = np.linspace(0.0, 1.0, sub)
    age = ts[:, None, None] - start[None, :, None] - streak * (1 - k)[None, None, :]
    px = x0[None, :, None] + vx[None, :, None] * age
    py = y0[None, :, None] + (vy0 + vyz)[None, :, None] * age + 0.5 * g * age**2
    alive = (age >= 0) & (py < base + s * 0.04)
    w = alive * rng.uniform(0.6, 1.2, n)[None, :, None] * (0.4 + 0.6 * k)[None, None, :] * (0.7 * 4 / sub)
    tt = np.broadcast_to(np.arange(frames)[:, None, None], px.shape)
    drops = point_sprites(frames, height, width, tt, px, py, w, sigma) * 0.25
    soft = blur_frames(drops, max(1.0, s / 60))
    alpha = np.clip(drops * 2.6 + soft * 0.6, 0.0, 0.95)
    thick = np.clip(drops * 2.0, 0.0, 1.0)[..., None]
    rgb = np.asarray(thin_col, F32) + (np.asarray(thick_col, F32) - np.asarray(thin_col, F32)) * thick
    noun = pick_one(
        rng,
        (
            "water splash",
            "splash of water",
            "splashing water",
            "crown splash of water droplets",
            "water droplets splashing",
        ),
    )
    adj = pick_one(rng, ("big", "large", "high")) if big else pick_one(rng, ("small", "quick", "little"))
    return finish_rgba(rgb, alpha), f"{adj} {tone} {noun}"
