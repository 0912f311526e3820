"""The RGB/alpha flow-difference metric (paper supplement Sec. 9) on clips whose motion we know."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from vfxgen.clip import Clip
from vfxgen.errors import InputError, OutputError, UsageError
from vfxgen.flow import (
    FARNEBACK_PARAMS,
    FlowReport,
    flow_difference,
    pair_difference,
    plot_flow,
    to_uint8,
)

H, W, T, P = 96, 128, 6, 48
COLOUR = np.array([1.0, 0.6, 0.2], np.float32)  # orange: gray = 0.674 x the patch, not the patch itself


def _patch() -> np.ndarray:
    """A textured Gaussian blob: texture gives Farneback something to track inside the blob."""
    rng = np.random.default_rng(1)
    tex = cv2.GaussianBlur(rng.random((P, P)).astype(np.float32), (0, 0), 1.5)
    tex = (tex - tex.min()) / (tex.max() - tex.min())
    yy, xx = np.mgrid[:P, :P]
    env = np.exp(-(((xx - P / 2) / (P / 4)) ** 2 + ((yy - P / 2) / (P / 4)) ** 2))
    return ((0.4 + 0.6 * tex) * env).astype(np.float32)


PATCH = _patch()


def _place(x: int) -> np.ndarray:
    canvas = np.zeros((H, W), np.float32)
    canvas[24 : 24 + P, x : x + P] = PATCH
    return canvas


def _luma(rgb: np.ndarray) -> np.ndarray:
    # Rec.601 weights, as cv2.COLOR_RGB2GRAY uses.
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def blob_clip(extra_alpha_speed: int = 0) -> Clip:
    """Colour blob moving 2 px/frame; alpha = the blob's luminance moving 2 + k px/frame."""
    frames = np.zeros((T, H, W, 4), np.float32)
    for t in range(T):
        frames[t, ..., :3] = _place(10 + 2 * t)[..., None] * COLOUR
        frames[t, ..., 3] = _luma(_place(10 + (2 + extra_alpha_speed) * t)[..., None] * COLOUR)
    return Clip(frames)


def test_aligned_alpha_scores_about_zero() -> None:
    report = flow_difference(blob_clip(0))
    assert report.pairs == T - 1
    assert (report.height, report.width) == (H, W)
    assert report.mean < 0.05
    assert max(report.per_pair) < 0.05


def test_grows_monotonically_with_misalignment() -> None:
    means = [flow_difference(blob_clip(k)).mean for k in range(4)]
    assert means[0] < 0.05
    assert all(b > a + 0.05 for a, b in zip(means, means[1:], strict=False)), means


def test_equals_direct_opencv_computation() -> None:
    rng = np.random.default_rng(7)
    noise = rng.random((5, 64, 80, 4)).astype(np.float32)
    base = np.stack([cv2.GaussianBlur(f, (0, 0), 1.2) for f in noise])  # blurs each channel of a frame
    frames = np.clip((base - 0.5) * 4 + 0.5, 0, 1).astype(np.float32)
    # Shift content a little per frame so the flows are non-trivial.
    for t in range(5):
        frames[t] = np.roll(frames[t], (t, 2 * t), axis=(0, 1))
    clip = Clip(frames)
    # The clip is premultiplied at heart: colour where alpha is exactly 0 does not exist (it reads as 0).
    frames[..., :3] = np.where(frames[..., 3:] > 0, frames[..., :3], 0.0)

    expected = []
    for t in range(4):
        gray = [
            cv2.cvtColor(np.clip(np.round(f[..., :3] * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
            for f in (frames[t], frames[t + 1])
        ]
        alpha = [np.clip(np.round(f[..., 3] * 255), 0, 255).astype(np.uint8) for f in (frames[t], frames[t + 1])]
        f_rgb = cv2.calcOpticalFlowFarneback(gray[0], gray[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        f_a = cv2.calcOpticalFlowFarneback(alpha[0], alpha[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
        expected.append(float(np.linalg.norm(f_rgb - f_a, axis=2).mean()))

    report = flow_difference(clip, workers=3)
    assert report.per_pair == pytest.approx(expected, abs=1e-6)
    assert report.mean == pytest.approx(float(np.mean(expected)), abs=1e-6)
    assert FARNEBACK_PARAMS == (0.5, 3, 15, 3, 5, 1.2, 0)
    # Threads change nothing but speed (OpenCV's own stripe split may move the last few bits).
    assert flow_difference(clip, workers=1).per_pair == pytest.approx(report.per_pair, abs=1e-9)


def test_float_input_pitfall_is_handled() -> None:
    """Farneback on [0, 1] floats reports ~no motion; the metric must convert to uint8 first."""
    moving = blob_clip(0)
    static_alpha = moving.frames.copy()
    static_alpha[..., 3] = static_alpha[0, ..., 3]  # colour moves, alpha does not: clearly misaligned
    clip = Clip(static_alpha)

    g0 = _luma(clip.rgb[0])
    g1 = _luma(clip.rgb[1])
    float_flow = cv2.calcOpticalFlowFarneback(g0, g1, None, *FARNEBACK_PARAMS)
    assert np.abs(float_flow).max() < 1e-3  # the pitfall itself: float input "sees" nothing

    assert flow_difference(clip).mean > 0.2  # our metric converts to uint8 and sees the motion
    with pytest.raises(UsageError, match="uint8"):
        pair_difference(g0, g1, clip.alpha[0], clip.alpha[1])


def test_to_uint8_rounds_and_clips() -> None:
    out = to_uint8(np.array([-0.5, 0.0, 0.5 / 255, 1.5 / 255, 0.5, 1.0, 2.0]))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 0, 2, 128, 255, 255]


def test_needs_two_frames() -> None:
    with pytest.raises(InputError, match="at least 2 frames"):
        flow_difference(Clip(np.zeros((1, 8, 8, 4), np.float32)))
    with pytest.raises(UsageError):
        flow_difference(blob_clip(0), workers=0)


def test_progress_and_report_serialise() -> None:
    seen: list[int] = []
    report = flow_difference(blob_clip(1), progress=seen.append)
    assert sum(seen) == T - 1
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {"mean", "per_pair", "height", "width", "pairs"}
    assert data["pairs"] == len(data["per_pair"]) == T - 1


def test_plot_writes_png(tmp_path) -> None:
    report = FlowReport(mean=0.2, per_pair=[0.1, 0.3, 0.2], height=4, width=6, pairs=3)
    out = plot_flow(report, tmp_path / "flow.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputError):
        plot_flow(report, tmp_path / "missing" / "flow.png")


def _straight_png_with_background(tmp_path):
    """A 16-bit straight PNG sequence: the blob's matte moves 2 px/frame, and the file's RGB holds a
    textured background colour everywhere (alpha 0 there) that moves 3 px/frame the other way."""
    from vfxgen.io.images import _png_spec, _quantize, write_image_atomic

    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.random((H, W + 40)).astype(np.float32), (0, 0), 2.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    spec = _png_spec(W, H, 4, "uint16")
    for t in range(T):
        frame = np.zeros((H, W, 4), np.float32)
        frame[..., :3] = (0.2 + 0.6 * texture[:, 40 - 3 * t : 40 - 3 * t + W])[..., None] * COLOUR
        frame[..., 3] = np.clip(_place(10 + 2 * t) * 1.5, 0, 1)
        write_image_atomic(tmp_path / f"blob.{1001 + t:04d}.png", _quantize(frame, np.uint16), spec, 1001 + t)
    return tmp_path / "blob.####.png"


def test_eval_flow_on_a_straight_source_measures_the_files_own_colour(tmp_path) -> None:
    """Regression: the colour where alpha is 0 was dropped (premultiplied canonical clip), so the metric
    measured the matte against itself (0.048 instead of 1.366 on the issue's clip)."""
    from vfxgen.io import read_clip

    pattern = _straight_png_with_background(tmp_path)
    clip = read_clip(pattern)
    ours = flow_difference(clip).mean
    # Independently: OpenCV on the files' own 16-bit RGB and alpha, read with OpenCV (BGRA), to 8 bits.
    files = sorted(tmp_path.glob("blob.*.png"))
    bgra = [cv2.imread(str(f), cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535.0 for f in files]
    gray = [cv2.cvtColor(to_uint8(f[..., 2::-1]), cv2.COLOR_RGB2GRAY) for f in bgra]
    alpha = [to_uint8(f[..., 3]) for f in bgra]
    expected = np.mean([pair_difference(gray[i], gray[i + 1], alpha[i], alpha[i + 1]) for i in range(T - 1)])
    assert ours == pytest.approx(expected, abs=1e-6)
    assert ours > 1.0  # the background's opposite motion is measured, not dropped


def test_straight_to_straight_export_keeps_the_colour_where_alpha_is_0(tmp_path) -> None:
    from vfxgen.io import read_clip
    from vfxgen.io.images import write_png_sequence

    src = tmp_path / "src"
    src.mkdir()
    clip = read_clip(_straight_png_with_background(src))
    write_png_sequence(clip, tmp_path / "out", "blob")
    again = read_clip(tmp_path / "out" / "blob.####.png")
    clear = clip.alpha == 0
    assert clear.any()
    np.testing.assert_allclose(again.colour_as_stored()[clear], clip.colour_as_stored()[clear], atol=1 / 65535)
    assert again.colour_as_stored()[clear].mean() > 0.1
