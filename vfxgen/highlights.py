"""How a model's display-encoded colour carries scene-linear values above 1.0 (hot cores).

A diffusion model's RGB half lives in [0, 1] (a VAE trained on display-referred video). An element that emits
light - a fire's core, a spark's head, a lightning bolt - is brighter than 1.0 in scene-linear, and a
compositor expects it to be: a hot core blooms and survives grading. A plain sRGB encoding clips it.

`Highlights` is the encoding a model was trained with, recorded in its vfxgen.json:

    "highlights": {"encoding": "srgb-shoulder", "knee": 0.8, "peak": 8.0}

`srgb-shoulder`: the sRGB transfer, extended above 1.0 with its own power law (`vfxgen.color`), then a shoulder
that is the identity up to `knee` and compresses everything from `knee` to scene-linear `peak` into
[knee, 1] (a rational curve, smooth at the knee, exactly invertible). Below the knee nothing changes, so
ordinary colour means what it always meant; the top of the range holds the hot values. Without the key
(`none`) colour is clipped at 1.0, as every CogVideoX, TransPixar and Wan-Alpha weight expects.

The dataset writer encodes with it (`vfxgen dataset synth --hot-cores`: the straight colour, hot only where
the element is dense), the trainer records it in the model's vfxgen.json, and the pipeline decodes with it
and encodes conditioning footage and stills with it. A premultiplied model's RGB half is decoded on the
premultiplied value (the same where alpha is 1): a pixel is hot only where the colour over black itself
reaches the shoulder, so a soft edge whose generated alpha is smaller than its colour - where straight colour
is least sure - never turns hot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vfxgen.color import linear_to_srgb
from vfxgen.errors import InputError

SHOULDER = "srgb-shoulder"
ENCODINGS = ("none", SHOULDER)


@dataclass(frozen=True)
class Highlights:
    """A colour encoding: `none` (clip at 1.0) or `srgb-shoulder` from display value `knee` up to
    scene-linear `peak` (`encode`/`decode` work on sRGB display values, extended above 1.0)."""

    encoding: str = "none"
    knee: float = 0.8
    peak: float = 8.0

    @property
    def hdr(self) -> bool:
        """Whether the encoding carries values above 1.0."""
        return self.encoding == SHOULDER

    @property
    def _top(self) -> float:
        """`peak` as an extended sRGB display value: where the shoulder reaches 1.0."""
        return float(linear_to_srgb(np.float64(self.peak)))

    @property
    def _bend(self) -> float:
        """The shoulder's constant, chosen so its slope at the knee is 1 (no kink in the ramp)."""
        return (1.0 - self.knee) / (self._top - 1.0)

    def encode(self, display: np.ndarray) -> np.ndarray:
        """Extended sRGB display values (may exceed 1) -> the model's [0, 1] values (float32)."""
        x = np.clip(np.asarray(display, np.float64), 0.0, None)
        if not self.hdr:
            return np.minimum(x, 1.0).astype(np.float32)
        k, c = self.knee, self._bend
        t = np.clip((x - k) / (self._top - k), 0.0, 1.0)
        shoulder = k + (1.0 - k) * t * (1.0 + c) / (t + c)
        return np.where(x <= k, x, shoulder).astype(np.float32)

    def decode(self, model: np.ndarray) -> np.ndarray:
        """The model's [0, 1] values -> extended sRGB display values (above 1 where the encoding is HDR)."""
        e = np.clip(np.asarray(model, np.float64), 0.0, 1.0)
        if not self.hdr:
            return e.astype(np.float32)
        k, c = self.knee, self._bend
        s = np.clip((e - k) / (1.0 - k), 0.0, 1.0)
        t = s * c / (1.0 + c - s)
        return np.where(e <= k, e, k + t * (self._top - k)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """The vfxgen.json / dataset.json record."""
        if not self.hdr:
            return {"encoding": "none"}
        return {"encoding": self.encoding, "knee": self.knee, "peak": self.peak}


NO_HIGHLIGHTS = Highlights()
#: What `vfxgen dataset synth --hot-cores` encodes with: display 0.8 .. 1.0 holds scene-linear 0.6 .. 8.0
#: (1.0 at 0.906, 2.0 at 0.961, 4.0 at 0.986).
HOT_CORES = Highlights(SHOULDER, knee=0.8, peak=8.0)


def highlights_from(record: Any, where: str) -> Highlights:
    """A `highlights` record (vfxgen.json, dataset.json) -> `Highlights`; absent (None) is `none`.
    A bad record is one `InputError` naming `where` and the key."""
    if record is None:
        return NO_HIGHLIGHTS

    def bad(problem: str) -> InputError:
        example = '{"encoding": "srgb-shoulder", "knee": 0.8, "peak": 8.0}'
        return InputError(f"{where}: key 'highlights' {problem}", f'write {example} or {{"encoding": "none"}}')

    if not isinstance(record, dict):
        raise bad(f"must be an object, got {type(record).__name__}")
    unknown = sorted(set(record) - {"encoding", "knee", "peak"})
    if unknown:
        raise bad(f"has unknown keys {unknown}")
    encoding = record.get("encoding", "none")
    if encoding not in ENCODINGS:
        raise bad(f"has encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    if encoding == "none":
        return NO_HIGHLIGHTS
    knee, peak = record.get("knee", HOT_CORES.knee), record.get("peak", HOT_CORES.peak)
    for name, value in (("knee", knee), ("peak", peak)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise bad(f"'{name}' must be a number, got {value!r}")
    if not 0.5 <= knee < 1.0:
        raise bad(f"'knee' must be in [0.5, 1), got {knee}")
    if not 1.0 < peak <= 1024.0:
        raise bad(f"'peak' must be above 1 and at most 1024, got {peak}")
    return Highlights(SHOULDER, float(knee), float(peak))
