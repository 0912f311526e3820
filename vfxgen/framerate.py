"""One frame-rate function for every file vfxgen writes or checks: EXR headers, movies, .nk, OTIO, QC.

Users type rates as decimals (`--fps 23.98`, `23.976`, `29.97`); files carry rationals (EXR's
`FramesPerSecond`, a movie's time base). Converting in several places with different tolerances and
denominators made a shot fail its own QC (`23.98` in shot.json, `23.976` in the ProRes). So every rate
goes through `frame_rate` once: the NTSC family (n x 1000/1001 for n = 24, 30, 48, 60, 120, and 25/50's
none) is recognised within 0.005 fps of its decimal, anything else becomes the nearest fraction with a
denominator up to 1001. `Clip` stores `float(frame_rate(fps))`, so shot.json holds the same rate the
files carry.
"""

from __future__ import annotations

import math
from fractions import Fraction

from vfxgen.errors import UsageError

#: The model rates: TransPixar/CogVideoX-5B and the demo model sample at 8 fps.
DEFAULT_FPS = 8.0
_NTSC_BASES = (24, 30, 48, 60, 120)
_NTSC_TOLERANCE = 5e-3
#: Two rates closer than this are the same rate (after `frame_rate`, only float rounding remains).
SAME_RATE_TOLERANCE = 1e-6


def frame_rate(fps: float | int | str | Fraction) -> Fraction:
    """Any user value -> the exact rational rate: `23.98` and `23.976` -> 24000/1001, `24` -> 24, `12.5` -> 25/2."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise UsageError(f"fps {fps!r} is not a number", "use e.g. --fps 24 or --fps 23.976") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"fps must be a positive number, got {fps}", "use e.g. --fps 24")
    if isinstance(fps, Fraction):
        return fps
    for base in _NTSC_BASES:
        ntsc = Fraction(base * 1000, 1001)
        if abs(value - float(ntsc)) < _NTSC_TOLERANCE:
            return ntsc
    return Fraction(value).limit_denominator(1001)


def same_rate(a: float | None, b: float | None) -> bool:
    """True when two rates (as typed or as read from files) are the same frame rate."""
    if a is None or b is None:
        return a is b
    return abs(float(frame_rate(a)) - float(frame_rate(b))) < SAME_RATE_TOLERANCE
