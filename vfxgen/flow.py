"""RGB-vs-alpha optical-flow difference: the TransPixar alignment metric (paper supplement Sec. 9).

For every consecutive frame pair, dense optical flow is computed twice with OpenCV's Farneback method,
once on the grayscale of the colour and once on the alpha, and the metric is the per-pixel Euclidean
distance between the two flow fields, averaged over pixels (per pair) and over pairs (the clip). Motion
is compared, not appearance, so a matte that moves with its colour scores ~0 whatever it looks like.

Fixed choices, so figures are comparable across runs and with the paper:

- Farneback parameters `(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5,
  poly_sigma=1.2, flags=0)`, the common OpenCV example values used by the official evaluation.
- Input is **8-bit**: colour is the display-encoded colour as the source stored it (`Clip.colour_as_stored`:
  a straight PNG's RGB everywhere, colour where alpha is 0 included; the model's decoded RGB half; a
  TransPixar rgb.mp4 as it is), rounded to uint8 and converted with `cv2.COLOR_RGB2GRAY`; alpha is rounded to
  uint8 the same way. This is required, not cosmetic: Farneback's polynomial fit and its internal
  thresholds assume 0..255 intensities, and float frames in [0, 1] silently yield a flow of ~1e-8 px
  everywhere, i.e. a "perfect" score of 0 for any clip.

Speed: each pair costs two Farneback calls (~50 ms each at 720x480 on one core of this machine). OpenCV
releases the GIL and gains nothing from its own threads here, so pairs run on a thread pool, one pair
per worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vfxgen.clip import Clip
from vfxgen.errors import InputError, OutputError, UsageError

#: `cv2.calcOpticalFlowFarneback` arguments after `flow`: pyr_scale, levels, winsize, iterations,
#: poly_n, poly_sigma, flags. Kept in one place so tests and docs quote the same values.
FARNEBACK_PARAMS: tuple[float, int, int, int, int, float, int] = (0.5, 3, 15, 3, 5, 1.2, 0)


@dataclass
class FlowReport:
    """Result of `flow_difference`: the clip mean and one value per consecutive frame pair (pixels)."""

    mean: float
    per_pair: list[float]
    height: int
    width: int
    pairs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (`mean`, `per_pair`, `height`, `width`, `pairs`)."""
        return asdict(self)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round [0, 1] floats to uint8 (clipping out-of-range values), as an 8-bit video would store them."""
    return np.clip(np.rint(np.asarray(values, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _planes(clip: Clip, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit gray of the colour and the 8-bit alpha of one frame."""
    import cv2

    gray = cv2.cvtColor(to_uint8(clip.colour_as_stored()[index]), cv2.COLOR_RGB2GRAY)
    return gray, to_uint8(clip.frames[index, ..., 3])


def _farneback(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcOpticalFlowFarneback(prev, nxt, None, *FARNEBACK_PARAMS)


def pair_difference(
    gray_prev: np.ndarray, gray_next: np.ndarray, alpha_prev: np.ndarray, alpha_next: np.ndarray
) -> float:
    """Mean per-pixel Euclidean distance between colour flow and alpha flow for one pair of uint8 frames."""
    for plane in (gray_prev, gray_next, alpha_prev, alpha_next):
        if plane.dtype != np.uint8:
            # Float planes give ~zero flow (see module docstring): refuse rather than report a fake 0.
            raise UsageError(
                f"optical flow needs uint8 planes, got {plane.dtype}",
                "convert with vfxgen.flow.to_uint8 (values in [0, 1] scaled to 0..255)",
            )
    import cv2

    diff = _farneback(gray_prev, gray_next) - _farneback(alpha_prev, alpha_next)
    distance = cv2.magnitude(diff[..., 0], diff[..., 1])
    return float(distance.mean(dtype=np.float64))


def default_workers() -> int:
    """Worker threads to use: the CPUs this process may run on (affinity-aware where the OS says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def flow_difference(
    clip: Clip,
    workers: int | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> FlowReport:
    """RGB/alpha flow difference of `clip` (lower is better aligned; 0 = alpha moves exactly like colour).

    `workers` threads run frame pairs in parallel (default: all CPUs available to the process);
    `progress(n)` is called with the number of pairs just finished, for a CLI progress bar.
    """
    if clip.num_frames < 2:
        raise InputError(
            f"flow difference needs at least 2 frames, the clip has {clip.num_frames}",
            "give a clip or sequence with two or more frames",
        )
    if workers is not None and workers < 1:
        raise UsageError(f"workers must be at least 1, got {workers}", "pass a positive worker count")
    alpha_8bit = to_uint8(clip.frames[..., 3])
    if alpha_8bit.min() == alpha_8bit.max():
        # A matte with no edge anywhere has no flow to compare: 0.0 would read as "perfectly aligned".
        state = "empty" if alpha_8bit.max() == 0 else "full" if alpha_8bit.min() == 255 else "constant"
        raise InputError(
            f"alignment is not measurable: the alpha is {state} ({alpha_8bit.max() / 255:.3g}) in every frame",
            "eval-flow needs a matte with edges; check the source has the right alpha channel",
        )
    n_workers = min(workers or default_workers(), clip.num_frames - 1)

    # Each frame's 8-bit planes are computed once (a frame belongs to two pairs) and are small
    # (2 x H x W bytes), so holding them all costs far less than the float clip itself.
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="vfxgen-flow") as pool:
        planes = list(pool.map(lambda i: _planes(clip, i), range(clip.num_frames)))

        def one_pair(i: int) -> float:
            (g0, a0), (g1, a1) = planes[i], planes[i + 1]
            value = pair_difference(g0, g1, a0, a1)
            if progress is not None:
                progress(1)
            return value

        per_pair = list(pool.map(one_pair, range(clip.num_frames - 1)))

    return FlowReport(
        mean=float(np.mean(per_pair)),
        per_pair=per_pair,
        height=clip.height,
        width=clip.width,
        pairs=len(per_pair),
    )


def plot_flow(report: FlowReport, path: str | os.PathLike[str]) -> Path:
    """Write a PNG of the per-pair flow difference with its mean, so a spike (a popping matte) shows.

    Uses matplotlib's object API on an Agg canvas, never pyplot, so it does not touch the global
    backend of a caller's interactive session and works headless on a farm.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    if not out.parent.is_dir():
        raise OutputError(f"cannot write the plot {out}: folder {out.parent} does not exist", "create it first")
    fig = Figure(figsize=(8, 3.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(1, report.pairs + 1)
    ax.plot(x, report.per_pair, marker="o" if report.pairs <= 64 else None, lw=1.2, label="per pair")
    ax.axhline(report.mean, color="tab:red", ls="--", lw=1, label=f"mean {report.mean:.4f}")
    ax.set_xlabel("frame pair (i -> i+1)")
    ax.set_ylabel("flow difference (px)")
    ax.set_title(f"RGB vs alpha optical-flow difference ({report.width}x{report.height})")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    try:
        fig.savefig(out, format="png")
    except OSError as exc:
        raise OutputError(f"cannot write the plot {out}: {exc.strerror or exc}", "check the path") from exc
    return out
