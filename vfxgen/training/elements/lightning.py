"""Lightning: midpoint-displacement bolts drawn as anti-aliased polylines, re-struck with a new shape."""

from __future__ import annotations

import cv2
import numpy as np

from vfxgen.training.elements.common import (
    F32,
    blur_frames,
    finish_rgba,
    pick_one,
)


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
    tone = pick_one(rng, ("blue-white", "electric blue", "purple", "white"))
    glow_col = np.asarray(
        {
            "blue-white": (0.45, 0.65, 1.0),
            "electric blue": (0.2, 0.5, 1.0),
            "purple": (0.6, 0.4, 1.0),
            "white": (0.7, 0.8, 1.0),
        }[tone],
        F32,
    )
    horizontal = rng.random() < 0.25
    up = 4  # draw super-sampled, then shrink: anti-aliased thin lines
    big_h, big_w = height * up, width * up
    thickness = max(1, int(round(up * s / 90)))
    depth = 6 if s >= 48 else 5
    core = np.zeros((frames, height, width), F32)
    # Strike pattern: bright strikes with quick decay and re-strikes, a new bolt shape each strike.
    level = np.zeros(frames, F32)
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
        shapes.append(cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA).astype(F32) / 255.0)
    for f in range(frames):
        core[f] = shapes[shape_id[f]] * level[f]
    core = np.clip(core * 2.2, 0.0, 1.0)
    glow = blur_frames(core, max(1.5, s / 30)) * 2.5 + blur_frames(core, max(3.0, s / 10)) * 1.5
    alpha = np.clip(core + glow * 0.8, 0.0, 1.0)
    hot = np.clip(core / (core + glow * 0.5 + 1e-6), 0.0, 1.0)[..., None]
    rgb = glow_col + (np.asarray((0.95, 0.97, 1.0), F32) - glow_col) * hot
    noun = pick_one(
        rng, ("lightning bolt", "lightning strike", "bolt of lightning", "electric arc" if horizontal else "lightning")
    )
    adj = pick_one(rng, ("crackling", "flickering", "jagged", "bright"))
    return finish_rgba(rgb, alpha), f"{adj} {tone} {noun}"
