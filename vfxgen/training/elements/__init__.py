"""Procedural VFX elements with known alpha: training data for the small default text-to-RGBA model.

Each element is drawn with cheap, vectorised numpy/OpenCV (moving Gaussian blobs, value noise advected by
shifting, particles splatted and blurred, bolts drawn as polylines), so a 64x64x9 clip takes a few
milliseconds on a CPU. What a model trained on them should pick up is what a user expects from the prompt:
fire is bright orange/yellow, flickering and rising; smoke is grey, soft and billows upward; an explosion
grows fast from a hot orange core that darkens to smoke; sparks are bright yellow-white streaks falling in
arcs; dust is a soft tan/brown cloud drifting; magic is swirling cyan/purple glowing particles; lightning is
a jagged blue-white flickering bolt; a water splash is a crown of blue-white droplets flying up and falling
back; a muzzle flash is a very brief bright star-shaped yellow flash on the first frame (or a burst
starting there).

Clips follow the `vfxgen.clip.Clip` convention: float32 `[T, H, W, 4]`, straight (not premultiplied)
sRGB-encoded colour in [0, 1], alpha in [0, 1]; the background is transparent (alpha exactly 0, colour 0).
Captions name the element with variation, and their adjectives match the randomised look (colour, density,
size, burst pattern).

The generators live in this package by drawing technique (`fire`: temperature-ramped density fields,
`clouds`: noisy puffs, `particles`: splatted point paths, `lightning`: polylines; `common`: the helpers
they share); `vfxgen.training.synth` turns them into dataset items.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vfxgen.training.elements.clouds import _dust, _smoke
from vfxgen.training.elements.fire import _explosion, _fire, _muzzle_flash
from vfxgen.training.elements.lightning import _lightning
from vfxgen.training.elements.particles import _magic, _sparks, _water_splash

__all__ = ["ELEMENTS", "MAKERS", "ElementMaker"]

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

# `(rng, frames, height, width) -> (float32 [T, H, W, 4] straight sRGB RGBA, caption)`.
ElementMaker = Callable[[np.random.Generator, int, int, int], tuple[np.ndarray, str]]

MAKERS: dict[str, ElementMaker] = {
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
