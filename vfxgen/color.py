"""Colour maths as pure numpy functions: sRGB transfer and (un)premultiplication.

The sRGB curve is the IEC 61966-2-1 piecewise function (what OCIO's `srgb_tx` / OIIO's "sRGB" to
`lin_rec709_scene` conversion computes); primaries are Rec.709 on both sides, so only the transfer
changes. Kept in numpy so the model side and the I/O side agree to the bit and tests can call it.
"""

from __future__ import annotations

import numpy as np

LINEAR_COLORSPACE = "lin_rec709_scene"
SRGB_COLORSPACE = "srgb_rec709_scene"


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Decode sRGB-encoded values to scene-linear (float32). Sign-symmetric outside [0, 1].

    Computed in float64 and rounded once, so sRGB -> linear -> sRGB returns the float32 it started from
    (1.0 stays 1.0): the canonical clip is linear and straight views are computed from it.
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    lin = np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return (np.sign(x) * lin).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Encode scene-linear values with the sRGB transfer (float32, computed in float64)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    enc = np.where(a <= 0.0031308, a * 12.92, 1.055 * np.power(a, 1.0 / 2.4) - 0.055)
    return (np.sign(x) * enc).astype(np.float32)


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight -> premultiplied: colour times alpha, alpha unchanged. Works on `[..., 4]`."""
    rgba = np.asarray(rgba, dtype=np.float32)
    out = rgba.copy()
    out[..., :3] *= rgba[..., 3:4]
    return out


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied -> straight. Where alpha is 0 the colour is 0 (never NaN or inf)."""
    rgba = np.asarray(rgba, dtype=np.float32)
    out = rgba.copy()
    a = rgba[..., 3:4]
    safe = np.where(a > 0, a, 1.0)
    out[..., :3] = np.where(a > 0, rgba[..., :3] / safe, 0.0)
    return out
