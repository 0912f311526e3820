"""What an element's own colour says about its matte, for elements over black.

A generated or pulled matte is a guess; premultiplied colour over black bounds it from both sides:

- **floor**: premultiplied colour never exceeds its alpha, so alpha >= the brightest channel of the colour
  over black (`vfxgen matte`'s `alpha_floor`, in display-encoded values as the footage is read);
- **keyed** (`keyed_matte`, `vfxgen matte`'s default on premultiplied models): the floor scaled by the element's
  own level - the brightness of its straight colour where the model's matte is solid - so grey smoke keys as
  dense as it is, where a max-channel key (level 1) leaves it half transparent;
- **clear black** (this module's `clear_black`): where the colour is black there is nothing to see, so the
  alpha there is cleared. Light (fire, sparks, lightning, a muzzle flash, magic) and a splash lit over
  black have no opaque black; an opaque black pixel delivered in such an element punches a black hole into
  the plate it is comped over, which `vfxgen qc`'s `black` check fails. The small demo model's alpha blob is
  often wider than its colour (the thin elements' "black holes"); a compositor cleans that by hand with a
  luminance key multiplied into the matte. This does it once, with the same threshold qc measures.

The clearing is a luminance key on the matte with a black point and a white point (`key_black`, `key_white`
settings; defaults 0 and `CLEAR_FULL_LUMINANCE`): at or below the black point the element is cleared,
from the white point the model's alpha is kept. The defaults clear only what qc calls black. An element whose
body is never dark - a lit water splash - can take a higher white point, which also clears the dim, smudged
matte the small model leaves between droplets, and a black point that clears the faint haze around it.

Dark matter that really occludes (smoke, dust, an explosion's smoke) can be opaque and dark: its presets
leave `clear_black` off, and `--keep-black` turns it off anywhere.
"""

from __future__ import annotations

import numpy as np

from vfxgen.qc import REC709_LUMA, Thresholds

#: Premultiplied scene-linear luminance at which alpha may reach 1: twice qc's black level, so a cleared
#: clip has no pixel with alpha > 0.5 darker than qc's `black_luma` (0.005) - none of qc's opaque black.
CLEAR_FULL_LUMINANCE = 2 * Thresholds().black_luma


def clear_black(
    premult: np.ndarray, full_at: float = CLEAR_FULL_LUMINANCE, clear_at: float = 0.0
) -> np.ndarray:
    """Premultiplied linear RGBA `[..., 4]` -> a copy whose alpha is at most the luminance key
    `(luminance - clear_at) / (full_at - clear_at)`, clipped to [0, 1].

    Bright pixels (luminance >= `full_at`) keep their alpha exactly. With `clear_at` 0 the colour is kept as it
    is: it already is at most its alpha (a single channel of luminance `l` is at most `l / 0.0722`, and
    `full_at` is far below 0.0722). With a black point above 0 the key can cut a dim pixel's alpha below its
    colour; there, and only there, the colour is scaled down to the new alpha (the cleared part goes with its
    colour, as a keyer's premultiply does). A pixel the key does not cut keeps its colour exactly, so a hot
    core above 1.0 (bright, never cut) is never clipped.
    """
    if not 0.0 <= clear_at < full_at:
        raise ValueError(f"need 0 <= clear_at < full_at, got clear_at={clear_at}, full_at={full_at}")
    out = np.array(premult, dtype=np.float32, copy=True)
    luminance = np.maximum(np.nan_to_num(out[..., :3]) @ REC709_LUMA, 0.0)
    key = np.clip((luminance - clear_at) / (full_at - clear_at), 0.0, 1.0)
    cut = key < out[..., 3]
    out[..., 3] = np.minimum(out[..., 3], key)
    if clear_at > 0:
        peak = np.max(out[..., :3], axis=-1)
        over = cut & (peak > out[..., 3])
        scale = np.where(over, out[..., 3] / np.maximum(peak, 1e-12), 1.0)
        out[..., :3] *= scale[..., None]
    return out


#: `keyed_matte`: the element's level is this percentile of colour / alpha where the model's alpha is solid.
KEY_LEVEL_PERCENTILE = 75
#: ... over at least this many solid pixels brighter than `KEY_MIN_PEAK`; fewer, and the level is 1 (a max key).
KEY_MIN_SOLID = 20
KEY_MIN_PEAK = 0.02
#: The level is kept in this range: a darker estimate would turn faint haze opaque.
KEY_LEVEL_RANGE = (0.05, 1.0)


def element_level(alpha: np.ndarray, colour_over_black: np.ndarray) -> float:
    """How bright the element's own (straight) colour is where it is solid, read from a matte and its footage.

    Where alpha is solid (> 0.5), straight colour = footage / alpha; its brightest channel at the
    `KEY_LEVEL_PERCENTILE`th percentile is the element's level: about 1 for light (fire, sparks, lightning),
    about 0.3-0.6 for grey smoke or brown dust. A high percentile, because the solid region of a generated matte
    is usually wider than the element, and its edges read too dark.
    """
    peak = np.asarray(colour_over_black, np.float32).max(axis=-1)
    alpha = np.asarray(alpha, np.float32)
    solid = (alpha > 0.5) & (peak > KEY_MIN_PEAK)
    if int(solid.sum()) < KEY_MIN_SOLID:
        return KEY_LEVEL_RANGE[1]
    level = np.percentile(peak[solid] / alpha[solid], KEY_LEVEL_PERCENTILE)
    return float(np.clip(level, *KEY_LEVEL_RANGE))


def keyed_matte(alpha: np.ndarray, colour_over_black: np.ndarray) -> tuple[np.ndarray, float]:
    """`vfxgen matte --matte-alpha keyed`: (the footage's brightest channel / the element's level, clipped to
    [0, 1]; the level), with the level from the model's matte (`element_level`).

    An element shot on black is keyed from its own brightness; what a key cannot know is the gain - how bright
    the element is where it is solid (a max-channel key assumes 1, which makes grey smoke half transparent).
    The model's alpha, too coarse per pixel on a small model, sets that one number. With a level of 1 it is the
    max-channel key; it never falls below `colour_floor`.
    """
    level = element_level(alpha, colour_over_black)
    peak = np.asarray(colour_over_black, np.float32).max(axis=-1)
    return np.clip(peak / level, 0.0, 1.0).astype(np.float32), level


def colour_floor(alpha: np.ndarray, colour_over_black: np.ndarray) -> np.ndarray:
    """Alpha raised to at least the brightest channel of the (display-encoded) colour over black."""
    return np.maximum(alpha, np.asarray(colour_over_black).max(axis=-1))
