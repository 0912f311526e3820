"""Soft volumes: smoke and dust, many drifting Gaussian puffs broken up by advected value noise."""

from __future__ import annotations

import numpy as np

from vfxgen.training.elements.common import (
    F32,
    finish_rgba,
    frame_times,
    gaussian_blob,
    pick_one,
    pixel_grids,
    smoothstep,
    value_noise,
)


def _smoke(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    ys, xs = pixel_grids(height, width)
    # No white smoke: a stock smoke element is grey (lit white smoke reads as steam or cloud, another element).
    shade_name = pick_one(rng, ("light grey", "grey", "grey", "dark grey", "dark grey", "black"))
    shade = {"light grey": 0.64, "grey": 0.52, "dark grey": 0.38, "black": 0.22}[shade_name]
    shade += rng.uniform(-0.03, 0.03)
    thick = rng.random() < 0.6
    opacity = rng.uniform(0.8, 0.95) if thick else rng.uniform(0.62, 0.75)
    cx = width * (0.5 + rng.uniform(-0.08, 0.08))
    base = height * (0.85 + rng.uniform(-0.05, 0.04))
    rise = s * rng.uniform(0.42, 0.55)  # per unit of puff age (one clip length)
    lean = s * rng.uniform(-0.25, 0.25)
    count = int(rng.integers(9, 13))
    density = np.zeros((frames, height, width), F32)
    births = np.linspace(-1.15, 0.9, count) + rng.uniform(-0.06, 0.06, count)
    for b in births:
        age = np.maximum(ts - b, 0.0).astype(F32)
        cyb = base - rise * age * rng.uniform(0.85, 1.15)
        cxb = cx + s * rng.uniform(-0.05, 0.05) + lean * age**1.5
        r = s * (rng.uniform(0.04, 0.055) + rng.uniform(0.07, 0.09) * age)
        weight = smoothstep(0.0, 0.15, age) * np.exp(-0.9 * age) * rng.uniform(0.8, 1.2)
        density += gaussian_blob(ys, xs, cyb, cxb, r, r * rng.uniform(1.0, 1.3)) * weight[:, None, None]
    v = max(frames - 1, 1)
    noise = value_noise(
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
    noun = pick_one(rng, ("smoke", "smoke plume", "plume of smoke", "rising smoke", "billowing smoke"))
    adj_thick = pick_one(rng, ("thick", "dense", "heavy")) if thick else pick_one(rng, ("wispy", "thin", "soft"))
    return finish_rgba(rgb, alpha), f"{adj_thick} {shade_name} {noun}"


def _dust(rng: np.random.Generator, frames: int, height: int, width: int) -> tuple[np.ndarray, str]:
    s = float(min(height, width))
    ts = frame_times(frames)
    ys, xs = pixel_grids(height, width)
    # Lit, not glowing: mid-tone earth colours (sRGB) that a compositor grades up, never flame-bright.
    tone = pick_one(rng, ("tan", "sandy", "brown", "reddish-brown"))
    colour = np.asarray(
        {
            "tan": (0.62, 0.53, 0.42),
            "sandy": (0.68, 0.6, 0.47),
            "brown": (0.5, 0.4, 0.3),
            "reddish-brown": (0.56, 0.4, 0.3),
        }[tone],
        F32,
    ) * rng.uniform(0.92, 1.06)
    direction = rng.choice((-1.0, 1.0))
    # Kept inside the frame (a stock dust element is placed by the compositor; one cut at both sides is not):
    # cloud half-width (spread + blob radius) plus the drift stays within about 45 % of the frame.
    drift = direction * s * rng.uniform(0.08, 0.18)
    cx = width * (0.5 + rng.uniform(-0.05, 0.05)) - 0.5 * drift
    cy = height * (0.6 + rng.uniform(-0.06, 0.06))
    spread = s * rng.uniform(0.1, 0.16)
    opacity = rng.uniform(0.55, 0.8)
    count = int(rng.integers(8, 13))
    density = np.zeros((frames, height, width), F32)
    for _ in range(count):
        ox = rng.uniform(-1.0, 1.0) * spread
        oy = rng.uniform(-0.35, 0.35) * spread
        v = drift * rng.uniform(0.7, 1.3)
        r0 = s * rng.uniform(0.06, 0.1)
        r = (r0 + s * rng.uniform(0.02, 0.05) * ts).astype(F32)
        bx = cx + ox + v * ts
        by = cy + oy - s * rng.uniform(0.0, 0.08) * ts  # drifts, lifting a little
        density += gaussian_blob(ys, xs, by.astype(F32), bx.astype(F32), r * 0.8, r * 1.3) * rng.uniform(0.6, 1.0)
    noise = value_noise(
        rng, frames, height, width, s * rng.uniform(0.1, 0.16), (drift / max(frames, 2), -0.05), evolve=1.5
    )
    density *= 0.35 + 1.0 * noise
    alpha = opacity * (1.0 - np.exp(-2.4 * density))
    fade = (1.0 - 0.35 * ts)[:, None, None]  # settles and thins as it drifts
    alpha = alpha * fade
    shading = (0.88 + 0.22 * noise)[..., None]
    rgb = colour * shading
    noun = pick_one(rng, ("dust cloud", "cloud of dust", "dust", "puff of dust", "kicked-up dust"))
    adj = pick_one(rng, ("drifting", "billowing", "soft", "swirling"))
    return finish_rgba(rgb, alpha), f"{adj} {tone} {noun}"
