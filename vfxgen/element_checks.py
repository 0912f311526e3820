"""Does an RGBA clip look like the element a stock preset names? The demo model's acceptance checks.

One definition, used by `benchmarks/presets.py` (every preset x seeds 0-9 on the bundled model), by the test
suite (the procedural training data and one bundled-model shot must pass them) and by anyone checking a
retrained model. Per clip (premultiplied scene-linear, the `Clip` convention):

    visible   1-70 % of the pixels have alpha > 0.5 (per frame, on average)      qc's `size` check
    not cut   the element does not touch all four edges in most frames           qc's `framing` check
    black     opaque black (alpha > 0.5, scene-linear luminance < 0.005) is at   qc's `black` check
              most 5 % of the visible element (25 % for smoke, dust and explosion: their presets' [qc] table)
    colour    the mean straight sRGB colour where alpha > 0.5 is in the element's family: fire, explosion,
              sparks, muzzle flash warm; smoke and dust grey or brown; lightning, magic, water cool or white

The first three are `vfxgen.qc`'s functions with the preset's limits, so they cannot drift apart from what
`vfxgen qc` reports; the colour family is the one check qc has no notion of. `vfxgen qc` on the written shot
is the fifth check (it needs files, so the benchmark runs it, not this module).
"""

from __future__ import annotations

import numpy as np

from vfxgen.qc import Thresholds, check_black, check_framing, check_size

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


def element_thresholds(element: str) -> Thresholds:
    """The QC limits of `element`'s stock preset: the defaults plus its [qc] table (smoke, dust and explosion
    allow 25 % opaque black)."""
    from vfxgen.presets import load_preset

    return Thresholds().with_values(load_preset(element).qc, f" in preset {element!r}")


def element_checks(premult: np.ndarray, element: str, thresholds: Thresholds | None = None) -> dict:
    """The four picture checks of one premultiplied scene-linear RGBA clip `[T, H, W, 4]` against the stock
    preset `element` (its colour family, its preset's QC limits unless `thresholds`), with the figures.

    Visible, not cut and black are `vfxgen qc`'s own size, framing and black checks (one definition);
    only the colour family is this module's. `hot` and `peak` report how much of the element is above 1.0
    in scene-linear and its brightest value (hot cores; a figure, not a check).
    """
    from vfxgen.color import linear_to_srgb, unpremultiply

    t = thresholds if thresholds is not None else element_thresholds(element)
    size, framing = check_size(premult[..., 3], t), check_framing(premult[..., 3], t, 0)
    black = check_black(premult, t)
    visible = premult[..., 3] > t.visible_alpha
    linear = np.clip(unpremultiply(premult)[..., :3], 0, None)
    # A hot core (above 1.0) counts at its own hue, scaled into range, not as the white a clipping display shows.
    straight = linear_to_srgb(linear / np.maximum(linear.max(-1, keepdims=True), 1.0))
    mean_rgb = straight[visible].mean(0) if visible.any() else np.zeros(3)
    brightest = linear.max(-1)[visible] if visible.any() else np.zeros(1)
    got = colour_family(mean_rgb) if visible.any() else "none"
    checks = {
        "visible": size.status == "pass",
        "not_cut": framing.status != "fail",
        "black": black.status != "fail",
        "colour": got == FAMILY[element],
    }
    return {
        "coverage": round(float(size.value), 4),
        "cut_frames": round(float(framing.value), 3),
        "black": round(float(black.value or 0.0), 4),
        "mean_rgb": [round(float(x), 3) for x in mean_rgb],
        "family": got,
        "hot": round(float((brightest > 1.0).mean()), 4),  # share of the element above 1.0 (not a check)
        "peak": round(float(brightest.max()), 3),
        "checks": checks,
    }
