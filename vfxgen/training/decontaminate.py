"""The paper's preprocessing of matting footage (TransPixar supplement Sec. 8), as pure functions.

Background blending ("blend each subsequent frame with this static background"): the first frame of
each *window* (each clip is what the model sees) is blurred with a 201-pixel Gaussian and that one
plate is put under every frame of the window with the (refined) matte: foreground over plate. The paper
does this so the RGB video has a simple, static background exactly where the alpha video is black,
instead of the busy or screen-coloured surroundings of matting footage, which makes RGB and alpha easy
to align. Read as written, the decontamination formula is that same blend with the choked matte
(see `decontaminate`), so the two steps are one operation here.

What is stored: the dataset format (`vfxgen.training.data`) holds straight sRGB colour plus alpha and
`vfxgen train` premultiplies (`rgb * alpha`) to make the RGB video it trains on, while the paper trains
on the opaque composite. Here the paper's preprocessed RGB frame is stored as the *straight colour*
under the original matte. Where the object is opaque this is the source colour; where alpha is 0 it is
dropped (to_uint8 zeroes it, training multiplies it by 0); in the soft edge - the only place the
background can reach the model - the colour is the paper's mix of object and smooth static background
instead of whatever the source screen spilled there. Premultiplying a stored clip gives the paper's RGB
frame multiplied by the alpha (up to 8-bit rounding).

It runs at the cropped *source* resolution, before the resize (`vfxgen.training.prepare` calls
`preprocess_matting` per window): the paper's 201-pixel blur kernel is in source pixels (HD
VideoMatte240K frames), not in the pixels of a 64x64 training clip, where it would flatten the
background to one colour.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfxgen.errors import UsageError

GAIN = 1.1  # the supplement's gain (gamma)
CHOKE = 0.5  # the supplement's choke (chi)
BLUR_KSIZE = 201  # the supplement's Gaussian kernel for the static background


def refine_mask(alpha: np.ndarray, gain: float = GAIN, choke: float = CHOKE) -> np.ndarray:
    """The refined *foreground* matte: a levels operation set by gain (gamma) and choke (chi).

        refined = clip((gain * alpha - choke) / (1 - choke), 0, 1)

    i.e. a linear ramp from a black point `choke / gain` to a white point `1 / gain` (like Keylight's
    Clip Black / Clip White). Gain > 1 makes the near-opaque core fully opaque (alpha >= 1/1.1 = 0.909
    becomes 1); choke > 0 shrinks the matte from its soft side (alpha <= 0.5/1.1 = 0.455 becomes 0), so
    the band where colour may be contaminated is narrowed and sharpened - "the sharpness and influence
    of the mask edges". The supplement gives only the two numbers; this definition is ours. Properties:
    0 stays 0 and 1 stays 1, it is monotonic in alpha, non-decreasing in gain, non-increasing in choke,
    and gain=1, choke=0 is the identity.
    """
    if not gain > 0:
        raise UsageError(f"the mask gain must be positive, got {gain}", f"use e.g. {GAIN}")
    if not 0 <= choke < 1:
        raise UsageError(f"the mask choke must be in [0, 1), got {choke}", f"use e.g. {CHOKE}")
    alpha = np.asarray(alpha, dtype=np.float32)
    return np.clip((gain * alpha - choke) / (1.0 - choke), 0.0, 1.0).astype(np.float32)


def decontaminate(
    rgb: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray | float,
    gain: float = GAIN,
    choke: float = CHOKE,
) -> np.ndarray:
    """The supplement's colour decontamination, as written: `RGB * (1 - m) + m * Background`.

    Read literally, m = 1 selects Background, so m must be 1 where the *background* is: m is the
    refined background mask `1 - refine_mask(alpha, gain, choke)` (were it the foreground matte, the
    formula would paint the background over the object and keep the contaminated surroundings, the
    opposite of its purpose). So the result keeps the source colour where the refined matte is 1
    (alpha >= 1/gain), is pure Background where it is 0 (alpha <= choke/gain), and mixes in between:
    contaminated edge colour is replaced by the background the object is placed on. This is the same
    operation as the supplement's background blending, with the choked matte; `gain=1, choke=0` gives
    the plain composite `rgb * alpha + background * (1 - alpha)`.

    rgb: `[..., H, W, 3]`; alpha: `[..., H, W]`; background: anything that broadcasts to rgb (a static
    `[H, W, 3]` plate, a colour, or 0 for black). Returns float32 clipped to [0, 1].
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    m = 1.0 - refine_mask(alpha, gain, choke)[..., None]
    background = np.asarray(background, dtype=np.float32)
    return np.clip(rgb * (1.0 - m) + m * background, 0.0, 1.0).astype(np.float32)


def blurred_background(first_frame_rgb: np.ndarray, ksize: int = BLUR_KSIZE) -> np.ndarray:
    """The supplement's static background: the first frame under a `ksize` x `ksize` Gaussian blur.

    `cv2.GaussianBlur(frame, (ksize, ksize), 0)`: sigma 0 lets OpenCV derive it from the kernel size
    (0.3 * ((ksize - 1) / 2 - 1) + 0.8 = 30.5 for 201), borders reflected (OpenCV's default).
    """
    if ksize < 1 or ksize % 2 == 0:
        raise UsageError(f"the blur kernel must be odd and positive, got {ksize}", f"use e.g. {BLUR_KSIZE}")
    frame = np.ascontiguousarray(first_frame_rgb, dtype=np.float32)
    return cv2.GaussianBlur(frame, (ksize, ksize), 0)


def preprocess_matting(
    rgb: np.ndarray,
    alpha: np.ndarray,
    decontaminate_colour: bool = True,
    blur_background: bool = True,
    gain: float = GAIN,
    choke: float = CHOKE,
    blur_ksize: int = BLUR_KSIZE,
) -> np.ndarray:
    """One window of a matting pair -> straight RGBA `[T, H, W, 4]` as stored (see the module doc).

    Background = `blurred_background(rgb[0])`, static over the window, when `blur_background`; else
    black, the colour a stored clip's transparent area has (and what training composites over).
    With `decontaminate_colour` every frame is `decontaminate(rgb, alpha, Background, gain, choke)`;
    without it, a blurred background is still blended under with the original matte
    (`rgb * alpha + Background * (1 - alpha)`) and, without either, the colour is kept as it is.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    alpha = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0)
    background = blurred_background(rgb[0], blur_ksize) if blur_background else None
    if decontaminate_colour:
        colour = decontaminate(rgb, alpha, 0.0 if background is None else background, gain, choke)
    elif background is not None:
        colour = decontaminate(rgb, alpha, background, gain=1.0, choke=0.0)
    else:
        colour = np.clip(rgb, 0.0, 1.0)
    return np.concatenate([colour, alpha[..., None]], axis=-1)
