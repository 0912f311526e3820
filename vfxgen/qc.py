"""Element QC: the checks a stock-element library applies to a delivered RGBA element.

    run_qc(premult, fps, ...)    every check on scene-linear premultiplied RGBA `[T, H, W, 4]`; a `QCReport`
    load_element(src)            the delivered pixels of a shot / sequence / movie, as stored (NaN kept;
                                 `vfxgen.io.delivered`)
    qc_source(src)               both: what `vfxgen qc SHOT` runs

The checks work on the data as delivered (premultiplied scene-linear Rec.709, what Nuke reads), not on
the straight `Clip`, because a straight clip cannot hold what some checks look for: colour where alpha
is 0 (it unpremultiplies to 0) and NaN/inf (a `Clip` refuses them).

Each check returns a `Check` with a status: `pass`, `warn` (a finding a person should look at; it does
not fail the element unless `strict`), `fail`, `info` (reported, not judged) or `skip` (not applicable,
e.g. no manifest). Every limit is a field of `Thresholds` with the default documented there and in
docs/nuke-after-effects.md; `vfxgen qc --threshold NAME=VALUE` overrides any of them.

Pure numpy; optical flow (the `flow` check) uses `vfxgen.flow` (OpenCV Farneback).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from vfxgen.errors import InputError, UsageError
from vfxgen.io.delivered import Element, load_element

__all__ = ["Check", "Element", "QCReport", "Thresholds", "load_element", "qc_source", "run_qc"]

STATUSES = ("pass", "info", "skip", "warn", "fail")
#: The smallest default margin between an element's body and its background. A soft edge takes a few pixels
#: to fall from alpha 0.05 to 1/255 at any resolution: at 64 px, 3 % of the side (2 px) counted the clean
#: falloff of procedural smoke and dust (exact alpha, zero background) as haze in 7-10 of 10 clips.
MIN_MARGIN_PX = 6
REC709_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class Thresholds:
    """The limits of every check (defaults chosen for 8-bit-visible defects; all overridable).

    matte_alpha       alpha at or above which a pixel counts as covered by the element (1/255)
    full_alpha        alpha at or above which a pixel counts as opaque; a frame opaque everywhere has no matte
    noise_floor       background alpha at or above this is haze (a partly transparent background; 1/255)
    noise_area        fail when more than this fraction of the background pixels is haze (0.01 = 1 %)
    core_alpha        alpha of the element's body: background lies more than `margin` px away from it
    margin            px between the element's body and what counts as background (0: 3 % of the short side,
                      at least `MIN_MARGIN_PX`)
    outside_color     premultiplied colour above alpha by more than this (or below 0) is colour outside the matte
    outside_area      warn when more than this fraction of pixels has colour outside the matte (0.001 = 0.1 %)
    halo_stops        warn when the matte edge is this many stops (log2) darker or brighter than the body next to it
    solid_alpha       alpha of the opaque body the edge is compared with (halo); no such pixels: check skipped
    edge_alpha        the edge band for the halo check: `edge_alpha <= alpha < 0.5`
    border_alpha      warn when alpha on the outermost pixel row/column reaches this (element cut by the frame)
    ends_coverage     when set, fail unless the first and last frames cover at most this fraction (clean in/out)
    flow_max          warn when the RGB/alpha flow difference (eval-flow, px) exceeds this
    fps_tolerance     frame rates closer than this agree (manifest vs files)
    visible_alpha     alpha above which a pixel is part of the visible element (size, black holes, framing)
    visible_min       fail when the element covers less than this fraction of the frame on average (a speck)
    visible_max       fail when it covers more than this on average (a full-frame wash; fog presets relax it)
    black_luma        scene-linear (premultiplied) luminance below which a visible pixel is black
    black_area        fail when more than this fraction of the visible element is opaque black (a hole in a
                      comp; dark-smoke presets relax it)
    cut_frames        fail when more than this fraction of frames has the element cut on all four edges
    """

    matte_alpha: float = 1 / 255
    full_alpha: float = 0.999
    noise_floor: float = 1 / 255
    noise_area: float = 0.01
    core_alpha: float = 0.05
    margin: int = 0
    outside_color: float = 1 / 255
    outside_area: float = 0.001
    halo_stops: float = 1.0
    solid_alpha: float = 0.95
    edge_alpha: float = 0.05
    border_alpha: float = 0.05
    ends_coverage: float | None = None
    flow_max: float = 2.0
    fps_tolerance: float = 1e-3
    visible_alpha: float = 0.5
    visible_min: float = 0.01
    visible_max: float = 0.70
    black_luma: float = 0.005
    black_area: float = 0.05
    cut_frames: float = 0.5

    def changed(self) -> dict[str, Any]:
        """The limits that differ from the defaults (what a preset relaxed, or `--threshold` set)."""
        default = Thresholds()
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)
        }

    def with_values(self, values: dict[str, Any], where: str) -> Thresholds:
        """A copy with `values` (numbers, from a preset's [qc] table or a shot.json) checked like overrides."""
        return self.with_overrides({k: "none" if v is None else str(v) for k, v in values.items()}, where)

    def with_overrides(self, items: dict[str, str], where: str = "") -> Thresholds:
        """`{"noise_area": "0.05"}` -> a copy with those limits; `UsageError` naming the known ones."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, text in items.items():
            if name not in known:
                raise UsageError(f"unknown QC threshold {name!r}{where}", f"use one of: {', '.join(known)}")
            try:
                if text.strip().lower() in ("none", "off") and name == "ends_coverage":
                    changes[name] = None
                elif name == "margin":
                    value = float(text)
                    if not math.isfinite(value) or value != int(value) or not 0 <= value <= 10_000:
                        raise UsageError(
                            f"QC threshold margin={text!r}{where} must be a whole number of pixels",
                            "e.g. margin=6 (0: 3 % of the short side)",
                        )
                    changes[name] = int(value)
                else:
                    changes[name] = float(text)
            except ValueError:
                raise UsageError(f"QC threshold {name}={text!r} is not a number", f"e.g. {name}=0.05") from None
            if (isinstance(changes[name], float) and not math.isfinite(changes[name])) or (
                changes[name] is not None and changes[name] < 0
            ):
                raise UsageError(f"QC threshold {name}={text} must be a finite number >= 0", f"e.g. {name}=0.05")
        return replace(self, **changes)


@dataclass
class Check:
    """One check's outcome: `value` measured against `limit`, a one-line `detail`, extra numbers in `data`."""

    name: str
    title: str
    status: str
    detail: str
    value: float | None = None
    limit: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class QCReport:
    """All checks of one element. `failed` is true when a check failed (or warned, when `strict`)."""

    source: str
    frames: int
    width: int
    height: int
    fps: float
    checks: list[Check]
    thresholds: Thresholds
    strict: bool = False

    @property
    def failures(self) -> list[Check]:
        bad = ("fail", "warn") if self.strict else ("fail",)
        return [c for c in self.checks if c.status in bad]

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "passed": not self.failed,
            "strict": self.strict,
            "failed": [c.name for c in self.failures],
            "checks": [asdict(c) for c in self.checks],
            "thresholds": asdict(self.thresholds),
        }


# --- helpers ------------------------------------------------------------------------------------
def box_sum(x: np.ndarray, radius: int) -> np.ndarray:
    """Sum of `x` `[H, W]` over the (2r+1)^2 window around each pixel (zero outside), via an integral image."""
    r = int(radius)
    padded = np.pad(np.asarray(x, np.float64), ((r + 1, r), (r + 1, r)))
    c = padded.cumsum(0).cumsum(1)
    n = 2 * r + 1
    return c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` (square neighbourhood) of a true pixel of `mask` `[H, W]`."""
    return box_sum(mask, radius) > 0.5


def _pct(x: float) -> str:
    return f"{100 * x:.3g} %"


def _frames_text(indices: list[int], first_frame: int) -> str:
    numbers = [first_frame + i for i in indices]
    return ", ".join(map(str, numbers[:6])) + (" ..." if len(numbers) > 6 else "")


# --- the checks ---------------------------------------------------------------------------------
def check_values(premult: np.ndarray) -> Check:
    """NaN or inf in any channel, alpha outside [0, 1]: data a compositor cannot use (fail)."""
    finite = np.isfinite(premult)
    bad = int((~finite).sum())
    alpha = np.where(finite[..., 3], premult[..., 3], 0.0)
    out_of_range = int(((alpha < -1e-3) | (alpha > 1 + 1e-3)).sum())  # half float rounds 1.0 exactly
    data = {"non_finite": bad, "alpha_out_of_range": out_of_range}
    if bad or out_of_range:
        parts = ([f"{bad} NaN/inf values"] if bad else []) + (
            [f"{out_of_range} alpha values outside [0, 1]"] if out_of_range else []
        )
        frame = int(np.argwhere((~finite).reshape(len(premult), -1).any(1))[0, 0]) if bad else None
        data["first_bad_frame_index"] = frame
        return Check("values", "NaN / inf / alpha range", "fail", "; ".join(parts), bad + out_of_range, 0, data)
    return Check("values", "NaN / inf / alpha range", "pass", "all values finite, alpha in [0, 1]", 0, 0, data)


def check_matte(alpha: np.ndarray, t: Thresholds, first_frame: int) -> Check:
    """Empty (nothing there) or full (opaque everywhere: no matte) frames; a dropout between covered frames."""
    covered = alpha >= t.matte_alpha
    coverage = covered.reshape(len(alpha), -1).mean(1)
    empty = [i for i, c in enumerate(coverage) if c == 0]
    full = [i for i in range(len(alpha)) if bool((alpha[i] >= t.full_alpha).all())]
    nonempty = [i for i in range(len(alpha)) if i not in empty]
    dropouts = [i for i in empty if nonempty and nonempty[0] < i < nonempty[-1]]
    data = {
        "coverage": [round(float(c), 5) for c in coverage],
        "empty_frames": [first_frame + i for i in empty],
        "full_frames": [first_frame + i for i in full],
    }
    mean = float(coverage.mean())
    title = "empty or full matte"
    if len(empty) == len(alpha):
        return Check("matte", title, "fail", f"empty matte: alpha < {t.matte_alpha:.3g} everywhere", mean, None, data)
    if len(full) == len(alpha):
        return Check("matte", title, "fail", "full matte: opaque everywhere, no transparency", mean, None, data)
    if full:
        detail = f"opaque over the whole frame in frame(s) {_frames_text(full, first_frame)}"
        return Check("matte", title, "warn", detail, mean, None, data)
    if dropouts:
        detail = f"empty frame(s) {_frames_text(dropouts, first_frame)} between covered ones (a dropout)"
        return Check("matte", title, "warn", detail, mean, None, data)
    detail = f"covers {_pct(mean)} of the frame on average ({_pct(coverage.min())}-{_pct(coverage.max())})"
    return Check("matte", title, "pass", detail, mean, None, data)


def _margin(t: Thresholds, height: int, width: int) -> int:
    return t.margin or max(MIN_MARGIN_PX, round(0.03 * min(height, width)))


def check_noise(alpha: np.ndarray, t: Thresholds) -> Check:
    """Haze: alpha at or above the noise floor in the background (more than `margin` px from the body)."""
    radius = _margin(t, *alpha.shape[1:])
    background = haze = 0
    peak = 0.0
    for frame in alpha:
        bg = ~dilate(frame >= t.core_alpha, radius)
        background += int(bg.sum())
        haze += int((bg & (frame >= t.noise_floor)).sum())
        if bg.any():
            peak = max(peak, float(frame[bg].max()))
    title = "alpha noise in the background"
    data = {"background_pixels": background, "haze_pixels": haze, "max_background_alpha": peak, "margin_px": radius}
    if background == 0:
        return Check("noise", title, "skip", "no background: the element fills every frame", None, t.noise_area, data)
    fraction = haze / background
    detail = (
        f"{_pct(fraction)} of the background has alpha >= {t.noise_floor:.3g} (max {peak:.3g}; "
        f"background = over {radius} px from alpha >= {t.core_alpha:g})"
    )
    return Check("noise", title, "fail" if fraction > t.noise_area else "pass", detail, fraction, t.noise_area, data)


def check_outside(premult: np.ndarray, t: Thresholds) -> Check:
    """Colour outside the matte: premultiplied RGB above alpha (or below 0) in the transparent part.

    Where alpha is 0, colour is emission: legitimate in an EXR (an additive glow Nuke's over adds to the
    plate), but often garbage left by a key or a lossy codec; so it is a warning, never silent. In the
    opaque body (alpha >= `full_alpha`) colour above 1 is ordinary HDR and is not counted.
    """
    rgb = np.nan_to_num(premult[..., :3], nan=0.0, posinf=0.0, neginf=0.0)
    alpha = np.nan_to_num(premult[..., 3])
    peak = rgb.max(-1)
    soft = alpha < t.full_alpha
    over = soft & (peak > alpha + t.outside_color)
    negative = rgb.min(-1) < -t.outside_color
    emission = over & (alpha <= 0)
    total = int((over | negative).sum())
    fraction = total / alpha.size
    data = {
        "pixels": total,
        "emission_pixels": int(emission.sum()),
        "over_alpha_pixels": int((over & (alpha > 0)).sum()),
        "negative_pixels": int(negative.sum()),
        "max_emission": float(peak[alpha <= 0].max()) if (alpha <= 0).any() else 0.0,
    }
    detail = (
        f"{_pct(fraction)} of pixels: {data['emission_pixels']} with colour where alpha is 0 (emission, "
        f"max {data['max_emission']:.3g}), {data['over_alpha_pixels']} with RGB > alpha, "
        f"{data['negative_pixels']} negative"
    )
    status = "warn" if fraction > t.outside_area else "pass"
    return Check("outside", "colour outside the matte", status, detail, fraction, t.outside_area, data)


def check_halo(premult: np.ndarray, t: Thresholds) -> Check:
    """Dark or bright fringe: the edge's straight colour against the opaque body next to it, in stops.

    For every edge pixel (`edge_alpha <= alpha < 0.5`) within `margin` px of the body (alpha >=
    `solid_alpha`), the luminance of its straight (unpremultiplied) colour is divided by the mean
    luminance of the body pixels around it; the median of log2 of that ratio over all edge pixels is the
    figure. A clean soft edge keeps its colour (about 0 stops); colour premultiplied twice darkens the
    edge by log2(alpha) (about -2 stops: a dark halo); an edge keyed off a bright background is brighter.
    A hot core (straight luminance above 1.0: an emitter, not a surface) is not body here: the glow around
    it is meant to be dimmer than it, and that is not a fringe.
    """
    radius = _margin(t, *premult.shape[1:3])
    stops: list[np.ndarray] = []
    for frame in np.nan_to_num(premult):
        alpha = frame[..., 3]
        luma = frame[..., :3] @ REC709_LUMA
        body_luma = luma / np.maximum(alpha, 1e-6)
        body = (alpha >= t.solid_alpha) & (body_luma <= 1.0)
        if not body.any():
            continue
        count = box_sum(body, radius)
        edge = (alpha >= t.edge_alpha) & (alpha < 0.5) & (count > 0)
        if not edge.any():
            continue
        straight = np.maximum(luma[edge] / alpha[edge], 0.0)
        body_mean = (box_sum(np.where(body, body_luma, 0.0), radius)[edge]) / count[edge]
        usable = body_mean > 1e-6
        stops.append(np.log2(np.maximum(straight[usable], 1e-6 * body_mean[usable]) / body_mean[usable]))
    title = "edge halo (dark / bright fringe)"
    values = np.concatenate(stops) if stops else np.zeros(0)
    if values.size == 0:
        detail = f"no opaque body (alpha >= {t.solid_alpha:g}) with an edge next to it; nothing to compare"
        return Check("halo", title, "skip", detail, None, t.halo_stops)
    median = float(np.median(values))
    data = {"edge_pixels": int(values.size), "median_stops": median, "p10": float(np.percentile(values, 10))}
    data["p90"] = float(np.percentile(values, 90))
    kind = "dark" if median < 0 else "bright"
    detail = f"edge colour {abs(median):.2f} stops {'darker' if median < 0 else 'brighter'} than the body next to it"
    if abs(median) > t.halo_stops:
        return Check("halo", title, "warn", f"{kind} fringe: {detail}", median, t.halo_stops, data)
    return Check("halo", title, "pass", detail, median, t.halo_stops, data)


def check_border(alpha: np.ndarray, t: Thresholds, first_frame: int) -> Check:
    """The element touches the frame border (cut off by the frame): alpha on the outermost rows/columns."""
    sides = {"top": alpha[:, 0, :], "bottom": alpha[:, -1, :], "left": alpha[:, :, 0], "right": alpha[:, :, -1]}
    touching = {name: [int(i) for i in np.flatnonzero(edge.max(1) >= t.border_alpha)] for name, edge in sides.items()}
    frames = sorted({i for idx in touching.values() for i in idx})
    peak = float(max(edge.max() for edge in sides.values()))
    data = {"sides": {k: [first_frame + i for i in v] for k, v in touching.items() if v}, "max_border_alpha": peak}
    title = "element touches the frame border"
    if frames:
        which = ", ".join(k for k, v in touching.items() if v)
        detail = f"alpha up to {peak:.3g} on the {which} edge in {len(frames)}/{len(alpha)} frames"
        return Check("border", title, "warn", detail, peak, t.border_alpha, data)
    return Check("border", title, "pass", f"border alpha at most {peak:.3g}", peak, t.border_alpha, data)


def check_size(alpha: np.ndarray, t: Thresholds) -> Check:
    """A visible element: the fraction of pixels with alpha above `visible_alpha`, per frame on average,
    between `visible_min` (less is a speck nobody can use) and `visible_max` (more is a wash over the plate)."""
    coverage = (alpha > t.visible_alpha).reshape(len(alpha), -1).mean(1)
    mean = float(coverage.mean())
    data = {"per_frame": [round(float(c), 5) for c in coverage], "min": t.visible_min, "max": t.visible_max}
    title = "visible element size"
    detail = f"{_pct(mean)} of the frame has alpha > {t.visible_alpha:g} on average"
    if mean < t.visible_min:
        return Check("size", title, "fail", f"a speck: {detail} (at least {_pct(t.visible_min)})", mean, None, data)
    if mean > t.visible_max:
        return Check(
            "size", title, "fail", f"fills the frame: {detail} (at most {_pct(t.visible_max)})", mean, None, data
        )
    return Check("size", title, "pass", detail, mean, None, data)


def check_black(premult: np.ndarray, t: Thresholds) -> Check:
    """Opaque black inside the matte: alpha above `visible_alpha` with scene-linear luminance below `black_luma`.

    Over a plate such a pixel replaces the plate with black (a hole in the comp); a fire, spark or splash
    has none. Luminance is of the premultiplied colour, what the comp adds (dark smoke legitimately has
    some: its preset relaxes `black_area`).
    """
    rgb = np.nan_to_num(premult[..., :3])
    alpha = np.nan_to_num(premult[..., 3])
    visible = alpha > t.visible_alpha
    black = visible & (rgb @ REC709_LUMA < t.black_luma)
    area = int(visible.sum())
    title = "opaque black inside the matte"
    if area == 0:
        return Check("black", title, "skip", "no visible element", None, t.black_area)
    fraction = int(black.sum()) / area
    per_frame = [round(float(b.sum() / max(v.sum(), 1)), 4) for b, v in zip(black, visible, strict=True)]
    detail = f"{_pct(fraction)} of the visible element (alpha > {t.visible_alpha:g}) is black"
    detail += f" (luminance < {t.black_luma:g})"
    status = "fail" if fraction > t.black_area else "pass"
    return Check("black", title, status, detail, fraction, t.black_area, {"per_frame": per_frame})


def check_framing(alpha: np.ndarray, t: Thresholds, first_frame: int) -> Check:
    """Cut on every edge: the visible element (alpha > `visible_alpha`) reaches all four sides of the frame,
    i.e. it is bigger than the frame and a compositor cannot place it; a fail in more than `cut_frames` of
    the frames (fog, rain or a flash preset relaxes it to 1)."""
    visible = alpha > t.visible_alpha
    cut = visible[:, 0, :].any(1) & visible[:, -1, :].any(1) & visible[:, :, 0].any(1) & visible[:, :, -1].any(1)
    fraction = float(cut.mean())
    frames = [int(i) for i in np.flatnonzero(cut)]
    data = {"cut_frames": [first_frame + i for i in frames]}
    title = "cut on every edge"
    detail = f"{len(frames)}/{len(alpha)} frames have the element cut by all four edges of the frame"
    status = "fail" if fraction > t.cut_frames else ("warn" if frames else "pass")
    if frames:
        detail += f" ({_frames_text(frames, first_frame)})"
    return Check("framing", title, status, detail, fraction, t.cut_frames, data)


def check_ends(alpha: np.ndarray, t: Thresholds) -> Check:
    """First and last frame: empty (a clean in/out) or mid-action; and the jump between them (loop seam)."""
    covered = (alpha >= t.matte_alpha).reshape(len(alpha), -1).mean(1)
    first, last = float(covered[0]), float(covered[-1])
    seam = float(np.abs(alpha[0] - alpha[-1]).mean())
    data = {"first_coverage": first, "last_coverage": last, "loop_seam": seam}

    def state(c: float) -> str:
        return "empty" if c == 0 else f"{_pct(c)} covered"

    detail = f"first frame {state(first)}, last frame {state(last)}; first-to-last alpha change {seam:.3g}"
    title = "first / last frame"
    if t.ends_coverage is None:
        return Check("ends", title, "info", detail, max(first, last), None, data)
    status = "fail" if max(first, last) > t.ends_coverage else "pass"
    return Check("ends", title, status, detail, max(first, last), t.ends_coverage, data)


def check_flow(premult: np.ndarray, fps: float, t: Thresholds) -> Check:
    """RGB/alpha optical-flow difference (`vfxgen eval-flow`), px."""
    from vfxgen.clip import Clip
    from vfxgen.flow import flow_difference

    title = "RGB / alpha flow alignment"
    if len(premult) < 2:
        return Check("flow", title, "skip", "one frame: no motion to compare", None, t.flow_max)
    clip = Clip.from_linear_premultiplied(np.nan_to_num(premult), fps)
    try:
        report = flow_difference(Clip(np.clip(clip.frames, 0.0, 1.0), fps))
    except InputError as exc:  # a matte with no edge anywhere: nothing to measure (the matte check says why)
        return Check("flow", title, "skip", exc.message, None, t.flow_max)
    detail = f"flow difference {report.mean:.3f} px over {report.pairs} frame pairs (lower is better)"
    status = "warn" if report.mean > t.flow_max else "pass"
    return Check("flow", title, status, detail, report.mean, t.flow_max, {"per_pair": report.per_pair})


def _same_rate(a: float, b: float, t: Thresholds) -> bool:
    """Rates agree when the one frame-rate function maps them to the same rational (or within the tolerance)."""
    from vfxgen.framerate import frame_rate, same_rate

    if a <= 0 or b <= 0:
        return False
    return same_rate(a, b) or abs(float(frame_rate(a)) - float(frame_rate(b))) <= t.fps_tolerance


def check_manifest(element: Element, t: Thresholds) -> Check:
    """Frame count, size, rate and frame numbers of what is on disk against `shot.json` (and the files)."""
    title = "frames / rate / size vs manifest"
    manifest = element.manifest
    if manifest is None:
        return Check("manifest", title, "skip", "no shot.json (not a shot directory)")
    found = {
        "frames": element.frames,
        "width": element.width,
        "height": element.height,
        "start_frame": element.first_frame,
        "end_frame": element.first_frame + element.frames - 1,
    }
    problems = []
    for key, value in found.items():
        if key in manifest and manifest[key] != value:
            problems.append(f"{key} {manifest[key]} in shot.json, {value} on disk")
    want_fps = manifest.get("fps")
    for where, rate in element.rates.items():
        if isinstance(want_fps, int | float) and rate is not None and not _same_rate(rate, want_fps, t):
            problems.append(f"fps {want_fps:g} in shot.json, {rate:g} in {where}")
    problems.extend(element.problems)
    data = {"manifest": {k: manifest.get(k) for k in (*found, "fps")}, "found": found, "rates": element.rates}
    if problems:
        return Check("manifest", title, "fail", "; ".join(problems), len(problems), 0, data)
    rates = ", ".join(sorted(element.rates)) or "no rate-carrying files"
    rate = f"{want_fps:g} fps" if isinstance(want_fps, int | float) else "no fps in shot.json"
    detail = f"{element.frames} frames {element.width}x{element.height} at {rate} agree ({rates})"
    return Check("manifest", title, "pass", detail, 0, 0, data)


def run_qc(
    premult: np.ndarray,
    fps: float,
    thresholds: Thresholds = Thresholds(),
    *,
    first_frame: int = 1001,
    flow: bool = True,
    element: Element | None = None,
    strict: bool = False,
    source: str = "",
) -> QCReport:
    """Every check on premultiplied scene-linear Rec.709 RGBA `[T, H, W, 4]` (NaN/inf allowed: they are checked)."""
    premult = np.asarray(premult, np.float32)
    if premult.ndim != 4 or premult.shape[-1] != 4 or len(premult) == 0:
        raise InputError(f"QC needs RGBA frames shaped [T, H, W, 4], got {list(premult.shape)}", "give an RGBA clip")
    alpha = np.nan_to_num(premult[..., 3])
    t = thresholds
    checks = [
        check_values(premult),
        check_matte(alpha, t, first_frame),
        check_noise(alpha, t),
        check_outside(premult, t),
        check_halo(premult, t),
        check_border(alpha, t, first_frame),
        check_size(alpha, t),
        check_black(premult, t),
        check_framing(alpha, t, first_frame),
        check_ends(alpha, t),
    ]
    if flow:
        checks.append(check_flow(premult, fps, t))
    else:
        checks.append(Check("flow", "RGB / alpha flow alignment", "skip", "skipped (--no-flow)", None, t.flow_max))
    if element is not None:
        checks.append(check_manifest(element, t))
    _, height, width, _ = premult.shape
    return QCReport(source, len(premult), width, height, fps, checks, t, strict)


def qc_source(
    src: str | os.PathLike[str],
    thresholds: Thresholds | None = None,
    *,
    overrides: dict[str, str] | None = None,
    flow: bool = True,
    strict: bool = False,
) -> QCReport:
    """Load `src` (`load_element`) and run every check; what `vfxgen qc SRC` prints.

    Without `thresholds`, a shot is checked against the defaults with the limits its shot.json says its
    preset relaxed (`qc.limits`); `overrides` (`--threshold NAME=VALUE`) win over both.
    """
    element = load_element(src)
    if thresholds is None:
        thresholds = Thresholds()
        recorded = (element.manifest or {}).get("qc")
        if isinstance(recorded, dict) and isinstance(recorded.get("limits"), dict):
            thresholds = thresholds.with_values(recorded["limits"], f" in {src}/shot.json")
    thresholds = thresholds.with_overrides(overrides or {})
    return run_qc(
        element.premult,
        element.fps,
        thresholds,
        first_frame=element.first_frame,
        flow=flow,
        element=element if element.manifest is not None else None,
        strict=strict,
        source=os.fspath(src),
    )
