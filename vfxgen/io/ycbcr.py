"""BT.709 Y'CbCr <-> RGB for movies, done in numpy rather than by swscale, and PyAV frames <-> numpy.

Why here and not FFmpeg: swscale's default RGB -> Y'CbCr is BT.601, and even told BT.709 limited range
(`reformat(dst_colorspace="ITU709", dst_color_range="MPEG")`) it is up to 3.9 10-bit codes off with alpha
not exact (measured with PyAV 18.1 / FFmpeg 8.1; `tests/test_video.py::
test_own_bt709_conversion_is_exact_where_swscale_is_not`); this rounds once and keeps alpha exact.
Reading inverts the same maths for 4:4:4 planar frames (ProRes decodes to `yuva444p12le`) and otherwise
asks swscale with the matrix and range the file is tagged with. `vfxgen.io.video` encodes and decodes.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

__all__ = [
    "frame_to_rgba",
    "make_frame",
    "plane_view",
    "rgb_to_ycbcr709",
    "ycbcr_to_rgb",
    "yuv_frame",
]

# BT.709 luma coefficients.
KR = 0.2126
KB = 0.0722
KG = 1.0 - KR - KB

# FFmpeg enum values (AVColorPrimaries / AVColorTransferCharacteristic / AVColorSpace / AVColorRange).
AVCOL_BT709 = 1
AVCOL_RANGE_MPEG = 1
AVCOL_RANGE_JPEG = 2

# Luma coefficients (Kr, Kb) by AVColorSpace, for decoding; unknown or unspecified -> BT.601.
MATRIX_COEFFS: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),  # BT.709
    4: (0.30, 0.11),  # FCC
    5: (0.299, 0.114),  # BT.470BG (BT.601 625)
    6: (0.299, 0.114),  # SMPTE 170M (BT.601 525)
    7: (0.212, 0.087),  # SMPTE 240M
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
    10: (0.2627, 0.0593),  # BT.2020 constant luminance (decoded as NCL: close enough for import)
}
BT601 = (0.299, 0.114)
# The same, as swscale colourspace names for `VideoFrame.reformat`.
SWS_COLORSPACE: dict[int, str] = {
    1: "ITU709",
    4: "FCC",
    5: "ITU601",
    6: "ITU601",
    7: "SMPTE240M",
    9: "BT2020",
}


# --------------------------------------------------------------------------------------------------
# colour maths (pure numpy, float32)
# --------------------------------------------------------------------------------------------------
def rgb_to_ycbcr709(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-linear R'G'B' in [0, 1] `[..., 3]` -> (Y' in [0, 1], Cb, Cr in [-0.5, 0.5]) with BT.709."""
    rgb = np.asarray(rgb, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = np.float32(KR) * r + np.float32(KG) * g + np.float32(KB) * b
    cb = (b - y) * np.float32(0.5 / (1.0 - KB))
    cr = (r - y) * np.float32(0.5 / (1.0 - KR))
    return y, cb, cr


def ycbcr_to_rgb(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, kr: float = KR, kb: float = KB) -> np.ndarray:
    """(Y' in [0, 1], Cb, Cr in [-0.5, 0.5]) -> R'G'B' `[..., 3]` float32 (not clamped)."""
    kg = 1.0 - kr - kb
    r = y + np.float32(2.0 * (1.0 - kr)) * cr
    b = y + np.float32(2.0 * (1.0 - kb)) * cb
    g = (y - np.float32(kr) * r - np.float32(kb) * b) * np.float32(1.0 / kg)
    return np.stack([r, g, b], axis=-1).astype(np.float32, copy=False)


def limited_codes(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, bits: int) -> tuple[np.ndarray, ...]:
    """Normalised Y'CbCr -> integer limited-range codes (Y 16..235, C 16..240 scaled to `bits`)."""
    scale = float(1 << (bits - 8))
    top = (1 << bits) - 1
    dtype = np.uint16 if bits > 8 else np.uint8
    yq = np.clip(np.rint((16.0 + 219.0 * y) * scale), 0, top).astype(dtype)
    cbq = np.clip(np.rint((128.0 + 224.0 * cb) * scale), 0, top).astype(dtype)
    crq = np.clip(np.rint((128.0 + 224.0 * cr) * scale), 0, top).astype(dtype)
    return yq, cbq, crq


def full_codes(a: np.ndarray, bits: int) -> np.ndarray:
    """[0, 1] -> full-range integer codes (alpha is always full range)."""
    top = (1 << bits) - 1
    dtype = np.uint16 if bits > 8 else np.uint8
    return np.clip(np.rint(np.asarray(a, dtype=np.float32) * top), 0, top).astype(dtype)


def subsample_420(c: np.ndarray) -> np.ndarray:
    """Box-average a chroma plane 2x2 (odd sizes: the last row/column is repeated), like FFmpeg's default."""
    h, w = c.shape
    if h % 2 or w % 2:
        c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2])


# --------------------------------------------------------------------------------------------------
# frame planes
# --------------------------------------------------------------------------------------------------
def plane_view(plane: Any, dtype: type, height: int, width: int) -> np.ndarray:
    """A writable `[height, width]` numpy view of a PyAV plane, skipping the line padding."""
    itemsize = np.dtype(dtype).itemsize
    stride = plane.line_size // itemsize
    flat = np.frombuffer(plane, dtype=dtype)
    return flat[: height * stride].reshape(height, stride)[:, :width]


def make_frame(pix_fmt: str, planes: list[np.ndarray], tag_bt709: bool = True) -> av.VideoFrame:
    """Build a planar VideoFrame from integer planes (full-size luma first), tagged BT.709 limited."""
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, pix_fmt)
    for plane, values in zip(frame.planes, planes, strict=True):
        plane_view(plane, values.dtype.type, values.shape[0], values.shape[1])[...] = values
    if tag_bt709:
        frame.color_primaries = AVCOL_BT709
        frame.color_trc = AVCOL_BT709
        frame.colorspace = AVCOL_BT709
        frame.color_range = AVCOL_RANGE_MPEG
    return frame


def yuv_frame(rgb: np.ndarray, alpha: np.ndarray | None, pix_fmt: str) -> av.VideoFrame:
    """Straight/premultiplied display RGB `[H, W, 3]` (+ alpha) -> BT.709 limited-range planar frame."""
    bits = 10 if pix_fmt.endswith("10le") else 8
    y, cb, cr = rgb_to_ycbcr709(np.clip(rgb, 0.0, 1.0))
    if pix_fmt.startswith(("yuv420p", "yuva420p")):
        cb, cr = subsample_420(cb), subsample_420(cr)
    planes = list(limited_codes(y, cb, cr, bits))
    if alpha is not None:
        planes.append(full_codes(alpha, bits))
    return make_frame(pix_fmt, planes)


def range_of(frame: av.VideoFrame) -> int:
    """The frame's colour range; unspecified means limited except for the `yuvj*` formats."""
    rng = int(frame.color_range or 0)
    if rng in (AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG):
        return rng
    return AVCOL_RANGE_JPEG if frame.format.name.startswith("yuvj") else AVCOL_RANGE_MPEG


def frame_to_rgba(frame: av.VideoFrame) -> tuple[np.ndarray, bool]:
    """Any decoded frame -> (float32 `[H, W, 4]` display RGB + alpha (1 when none), has_alpha)."""
    fmt = frame.format
    comps = fmt.components
    has_alpha = any(c.is_alpha for c in comps)
    name = fmt.name
    h, w = frame.height, frame.width
    # Planar 4:4:4 Y'CbCr, little-endian or 8-bit (ProRes 4444 decodes to yuva444p12le): exact inverse here.
    if (
        name.startswith(("yuv444p", "yuva444p"))
        and not fmt.is_big_endian
        and len(comps) in (3, 4)
        and all(c.width == w and c.height == h for c in comps)
    ):
        bits = comps[0].bits
        dtype = np.uint16 if bits > 8 else np.uint8
        planes = [plane_view(p, dtype, h, w).astype(np.float32) for p in frame.planes[: len(comps)]]
        kr, kb = MATRIX_COEFFS.get(int(frame.colorspace or 0), BT601)
        if range_of(frame) == AVCOL_RANGE_JPEG:
            top = float((1 << bits) - 1)
            mid = float(1 << (bits - 1))
            y, cb, cr = planes[0] / top, (planes[1] - mid) / top, (planes[2] - mid) / top
        else:
            scale = float(1 << (bits - 8))
            y = (planes[0] / scale - 16.0) / 219.0
            cb = (planes[1] / scale - 128.0) / 224.0
            cr = (planes[2] / scale - 128.0) / 224.0
        rgba = np.empty((h, w, 4), np.float32)
        rgba[..., :3] = ycbcr_to_rgb(y, cb, cr, kr, kb)
        rgba[..., 3] = planes[3] / float((1 << bits) - 1) if has_alpha else 1.0
        return np.clip(rgba, 0.0, 1.0), has_alpha
    # Everything else: swscale, told the matrix and range the file is tagged with.
    colorspace = SWS_COLORSPACE.get(int(frame.colorspace or 0), "ITU601")
    rng = "JPEG" if range_of(frame) == AVCOL_RANGE_JPEG else "MPEG"
    has_alpha = has_alpha or fmt.has_palette
    target = "gbrapf32le" if has_alpha else "gbrpf32le"
    if fmt.is_rgb or fmt.has_palette:
        out = frame.reformat(format=target)
    else:
        out = frame.reformat(format=target, src_colorspace=colorspace, src_color_range=rng)
    arr = out.to_ndarray().astype(np.float32, copy=False)
    if not has_alpha:
        arr = np.concatenate([arr, np.ones((h, w, 1), np.float32)], axis=-1)
    return np.clip(arr, 0.0, 1.0), has_alpha
