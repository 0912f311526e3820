"""Does an RGBA clip look like the element a stock preset names? The demo model's acceptance checks.

One definition, used by `benchmarks/presets.py` (every preset x seeds 0-9 on the bundled model), by the test
suite (the procedural training data and one bundled-model shot must pass them) and by anyone checking a
retrained model. Per clip (premultiplied scene-linear, the `Clip` convention):

    visible   1-70 % of the pixels have alpha > 0.5 (per frame, on average)
    not cut   the element does not touch all four edges in most frames
    black     opaque black (alpha > 0.5, scene-linear luminance < 0.005) is at most `black_limit` of the
              visible element (5 %; 25 % for smoke, dust and explosion: their presets' [qc] table)
    colour    the mean straight sRGB colour where alpha > 0.5 is in the element's family: fire, explosion,
              sparks, muzzle flash warm; smoke and dust grey or brown; lightning, magic, water cool or white

`vfxgen qc` is the fifth check; it needs a written shot, so the benchmark runs it, not this module.
"""

from __future__ import annotations

import numpy as np

FAMILY: dict[str, str] = {
    "fire": "warm", "explosion": "warm", "sparks": "warm", "muzzle_flash": "warm",
    "smoke": "grey/brown", "dust": "grey/brown",
    "lightning": "cool/white", "magic": "cool/white", "water_splash": "cool/white",
}  # fmt: skip
"""The colour family each stock preset's element must read as."""

def colour_family(rgb: np.ndarray) -> str:
    """The family of one straight sRGB colour: `warm`, `grey/brown`, `cool/white` or `other`.

    Neutral colours (saturation < 0.25) are grey when dim or mid and white when bright. Blue at least as
    strong as red (and not far below green: green is no family) is cool. A desaturated orange that is not
    bright (saturation < 0.6, value < 0.85: tan, sand, soot) is brown - lit material, not a flame; anything
    brighter or more saturated with red over blue is warm.
    """
    r, g, b = (float(x) for x in rgb)
    value, low = max(r, g, b), min(r, g, b)
    saturation = (value - low) / value if value > 1e-6 else 0.0
    if saturation < 0.25:
        return "cool/white" if value > 0.75 else "grey/brown"
    if b >= r * 0.9 and b >= g * 0.6:
        return "cool/white"
    if r > b and g > b and saturation < 0.6 and value < 0.85:
        return "grey/brown"
    return "warm" if r > b else "other"


def element_checks(premult: np.ndarray, family: str, black_limit: float = 0.05) -> dict:
    """The four picture checks of one premultiplied scene-linear RGBA clip `[T, H, W, 4]`, with the figures."""
    from vfxgen.color import linear_to_srgb, unpremultiply
    from vfxgen.qc import REC709_LUMA

    alpha = premult[..., 3]
    visible = alpha > 0.5
    coverage = float(visible.reshape(len(alpha), -1).mean(1).mean())
    cut = visible[:, 0].any(1) & visible[:, -1].any(1) & visible[:, :, 0].any(1) & visible[:, :, -1].any(1)
    black = visible & (premult[..., :3] @ REC709_LUMA < 0.005)
    black_fraction = float(black.sum() / max(visible.sum(), 1))
    straight = linear_to_srgb(np.clip(unpremultiply(premult)[..., :3], 0, None))
    mean_rgb = straight[visible].mean(0) if visible.any() else np.zeros(3)
    got = colour_family(mean_rgb) if visible.any() else "none"
    checks = {
        "visible": 0.01 <= coverage <= 0.70,
        "not_cut": float(cut.mean()) <= 0.5,
        "black": black_fraction <= black_limit,
        "colour": got == family,
    }
    return {
        "coverage": round(coverage, 4),
        "cut_frames": round(float(cut.mean()), 3),
        "black": round(black_fraction, 4),
        "mean_rgb": [round(float(x), 3) for x in mean_rgb],
        "family": got,
        "checks": checks,
    }
