"""Colour spaces through OCIO (the OCIO built into OpenImageIO's wheel): names, EXR tags, conversions.

    colorspace(name)          a `ColorSpace`: canonical name, interop ID, chromaticities, linear or not
    exr_colorspace(name)      the same, refusing spaces that are not scene-linear (EXR deliveries are)
    convert(rgb, src, dst)    RGB `[..., 3]` from one space to another (OIIO `ImageBufAlgo.colorconvert`)

The config: `$OCIO` when set (the facility's), else `ocio://studio-config-latest`, the ACES studio config
built into OCIO 2.3+: every space of the default CG config (ACEScg, ACES2065-1, lin_rec709, lin_p3d65,
sRGB ...) plus camera spaces (ARRI LogC3/4, S-Log3, V-Log, RED Log3G10 ...). Names resolve through the
config's aliases, so `lin_rec709_scene`, `lin_rec709`, `Linear Rec.709 (sRGB)` are one space, and
`ACEScg`, `lin_ap1_scene` another.

vfxgen's internal state stays what `vfxgen.color` says (straight sRGB-encoded Rec.709); conversions to
and from another space happen at the file boundary, through scene-linear Rec.709 (`lin_rec709_scene`).
A linear-to-linear conversion is a 3x3 matrix, so it commutes with premultiplication: premultiplied EXR
pixels convert as they are, and alpha never changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import OpenImageIO as oiio

from vfxgen.color import LINEAR_COLORSPACE
from vfxgen.errors import UsageError

__all__ = ["DEFAULT_CONFIG", "ColorSpace", "colorspace", "config_name", "convert", "exr_colorspace"]

DEFAULT_CONFIG = "ocio://studio-config-latest"
#: vfxgen's working space (the Clip's colour, decoded) and the default EXR colour space.
WORKING = LINEAR_COLORSPACE


@dataclass(frozen=True)
class ColorSpace:
    """One colour space of the active config.

    `name`: the config's canonical name (what Nuke's OCIO colorspace knob shows, e.g. `ACEScg`,
    `Linear Rec.709 (sRGB)`); `interop_id`: the colour-interop ID OIIO writes to EXR as `colorInteropID`
    (e.g. `lin_ap1_scene`), or the name when the space has no standard one; `chromaticities`: the 8 CIE xy values
    (R, G, B, white) where the space has primaries; `linear`: scene-linear (a matrix away from lin_rec709).
    """

    name: str
    interop_id: str
    chromaticities: tuple[float, ...] | None
    linear: bool
    config: str


def config_name() -> str:
    """The OCIO config in use: `$OCIO` if set, else OCIO's built-in studio config."""
    return os.environ.get("OCIO") or DEFAULT_CONFIG


@lru_cache(maxsize=4)
def _config(name: str) -> oiio.ColorConfig:
    config = oiio.ColorConfig(name)
    if config.getNumColorSpaces() == 0:
        raise UsageError(f"cannot load the OCIO config {name!r}", "check $OCIO (a config.ocio path or ocio:// URI)")
    return config


def colorspace(name: str) -> ColorSpace:
    """Look `name` (or an alias: `ACEScg`, `lin_ap1_scene`, `lin_rec709`) up in the active config."""
    cfg_name = config_name()
    cfg = _config(cfg_name)
    text = (name or "").strip()
    canonical = cfg.resolve(text) if text else ""
    if not text or canonical not in cfg.getColorSpaceNames():
        linear = [n for n in cfg.getColorSpaceNames() if cfg.isColorSpaceLinear(n) and cfg.get_color_interop_id(n)]
        raise UsageError(
            f"unknown colour space {name!r} in the OCIO config {cfg_name}",
            f"use one of its names or aliases, e.g. {', '.join(linear[:6])}",
        )
    chroma = cfg.get_chromaticities(canonical)
    interop = cfg.get_color_interop_id(canonical)
    if not interop or interop.startswith("ocio:"):  # no standard interop ID: tag the file with the name
        interop = canonical
    return ColorSpace(
        name=canonical,
        interop_id=interop,
        chromaticities=tuple(float(v) for v in chroma) if chroma else None,
        linear=bool(cfg.isColorSpaceLinear(canonical)) and not cfg.isData(canonical),
        config=cfg_name,
    )


def exr_colorspace(name: str) -> ColorSpace:
    """A space an EXR delivery may be written in: scene-linear (premultiplied linear light), not data."""
    space = colorspace(name)
    if not space.linear:
        raise UsageError(
            f"colour space {space.name!r} is not scene-linear; vfxgen writes EXR as premultiplied linear light",
            "use a linear space such as lin_rec709_scene, ACEScg or ACES2065-1",
        )
    return space


def is_working(space: ColorSpace) -> bool:
    """True for lin_rec709 (no conversion needed)."""
    return space.name == colorspace(WORKING).name


def convert(rgb: np.ndarray, src: str, dst: str) -> np.ndarray:
    """RGB float `[..., 3]` from colour space `src` to `dst` (names or aliases), float32, same shape.

    Runs OCIO through OIIO's `ImageBufAlgo.colorconvert` on a float buffer (no alpha involved: callers
    pass colour only and handle premultiplication; see the module docstring).
    """
    source, target = colorspace(src), colorspace(dst)
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    if source.name == target.name:
        return rgb.copy()
    flat = rgb.reshape(1, -1, 3)
    if flat.shape[1] == 0:
        return rgb.copy()
    buf = oiio.ImageBuf(oiio.ImageSpec(flat.shape[1], 1, 3, "float"))
    buf.set_pixels(oiio.ROI(), flat)
    out = oiio.ImageBufAlgo.colorconvert(buf, source.name, target.name, False, colorconfig=source.config)
    if out.has_error:
        raise UsageError(
            f"cannot convert {source.name} to {target.name}: {out.geterror()}", "check the colour space names"
        )
    return np.asarray(out.get_pixels("float"), np.float32).reshape(rgb.shape)


@lru_cache(maxsize=64)
def _matrix(src: str, dst: str, config: str) -> tuple[tuple[float, ...], ...]:
    basis = convert(np.eye(3, dtype=np.float32), src, dst)  # row i: the image of primary i
    return tuple(tuple(float(v) for v in row) for row in basis)


def linear_matrix(src: str, dst: str) -> np.ndarray:
    """The 3x3 matrix `M` with `rgb_dst = rgb_src @ M` between two scene-linear spaces (OCIO's own numbers).

    Found by converting the three primaries through OCIO once; valid because a linear-to-linear OCIO
    transform is a matrix (checked: both spaces must be linear). Applying it in numpy keeps per-frame work
    cheap and commutes with premultiplication.
    """
    source, target = colorspace(src), colorspace(dst)
    for space in (source, target):
        if not space.linear:
            raise UsageError(f"colour space {space.name!r} is not scene-linear", "use a linear space such as ACEScg")
    return np.array(_matrix(source.name, target.name, source.config), np.float32)
