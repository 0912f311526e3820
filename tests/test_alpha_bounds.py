"""Clearing opaque black from a matte (`vfxgen.alpha_bounds`), with known answers and qc's own black check."""

from __future__ import annotations

import numpy as np
import pytest

from vfxgen.alpha_bounds import CLEAR_FULL_LUMINANCE, clear_black, colour_floor
from vfxgen.qc import REC709_LUMA, Thresholds, check_black


def holed_element() -> np.ndarray:
    """One 16x16 frame, premultiplied linear: a bright orange square with an opaque black hole, a dim glow
    ramp beside it and empty background."""
    px = np.zeros((1, 16, 16, 4), np.float32)
    px[0, 2:10, 2:10] = [0.8, 0.4, 0.1, 1.0]  # bright, opaque
    px[0, 4:6, 4:6] = [0.0, 0.0, 0.0, 1.0]  # the hole: opaque black
    px[0, 12, :, :3] = np.linspace(0.0, 0.02, 16)[:, None]  # a grey ramp across the black level
    px[0, 12, :, 3] = 0.9
    return px


def test_black_is_cleared_bright_is_kept_and_the_ramp_follows_luminance() -> None:
    px = holed_element()
    out = clear_black(px)
    assert np.array_equal(out[..., :3], px[..., :3])  # colour untouched
    assert np.all(out[0, 4:6, 4:6, 3] == 0)  # the hole is transparent now
    bright = np.ones((16, 16), bool)
    bright[4:6, 4:6] = False
    assert np.array_equal(out[0, 2:10, 2:10, 3][bright[2:10, 2:10]], px[0, 2:10, 2:10, 3][bright[2:10, 2:10]])
    ramp_luma = px[0, 12, :, :3] @ REC709_LUMA
    expected = np.minimum(0.9, ramp_luma / CLEAR_FULL_LUMINANCE)
    assert np.allclose(out[0, 12, :, 3], expected, atol=1e-6)
    assert out[0, 12, 0, 3] == 0 and out[0, 12, -1, 3] == pytest.approx(0.9)
    assert np.array_equal(px, holed_element())  # the input is not modified


def test_a_cleared_clip_passes_qcs_black_check_and_stays_valid_premultiplied() -> None:
    t = Thresholds()
    px = holed_element()
    assert check_black(px, t).status == "fail"  # 4 of 60 opaque pixels black: 6.7 % > 5 %
    out = clear_black(px)
    assert check_black(out, t).status == "pass" and check_black(out, t).value == 0
    rng = np.random.default_rng(0)
    noisy = rng.random((3, 8, 8, 4), dtype=np.float32)
    noisy[..., :3] *= noisy[..., 3:] * rng.random((3, 8, 8, 1), dtype=np.float32) ** 6  # many dark pixels
    cleared = clear_black(noisy)
    visible = cleared[..., 3] > t.visible_alpha
    assert not np.any(visible & (cleared[..., :3] @ REC709_LUMA < t.black_luma))
    assert np.all(cleared[..., :3] <= cleared[..., 3:] + 1e-7)  # colour never exceeds its alpha
    assert np.all(cleared[..., 3] <= noisy[..., 3])  # it only ever lowers alpha


def test_floor_raises_alpha_to_the_brightest_channel() -> None:
    alpha = np.array([[0.1, 0.9]], np.float32)
    colour = np.array([[[0.5, 0.2, 0.0], [0.3, 0.3, 0.3]]], np.float32)
    assert np.array_equal(colour_floor(alpha, colour), np.array([[0.5, 0.9]], np.float32))
    with pytest.raises(ValueError):
        clear_black(holed_element(), full_at=0)


def test_a_key_with_a_black_point_clears_dim_pixels_with_their_colour() -> None:
    """The water splash's key (0.005 .. 0.1): the ramp between the points, full alpha above, nothing at or below
    the black point - colour included, so the result stays valid premultiplied colour."""
    px = holed_element()
    px[0, 13, :, :3] = np.linspace(0.0, 0.2, 16)[:, None]  # grey from black to bright, alpha 0.9
    px[0, 13, :, 3] = 0.9
    out = clear_black(px, full_at=0.1, clear_at=0.005)
    luma = px[0, 13, :, :3] @ REC709_LUMA
    expected = np.minimum(0.9, np.clip((luma - 0.005) / 0.095, 0, 1))
    assert np.allclose(out[0, 13, :, 3], expected, atol=1e-6)
    assert np.all(out[0, 13, luma <= 0.005] == 0)  # colour and alpha cleared at the black point
    assert np.array_equal(out[0, 13, luma >= 0.1], px[0, 13, luma >= 0.1])  # bright: kept exactly
    assert np.array_equal(out[0, 2:4, 2:10], px[0, 2:4, 2:10])  # the bright square too
    assert np.all(out[..., :3] <= out[..., 3:] + 1e-7)  # valid premultiplied colour everywhere
    # Between the points a pixel keeps its hue: the colour is scaled, never shifted.
    mid = (luma > 0.005) & (luma < 0.1) & (out[0, 13, :, 3] > 0)
    ratio = out[0, 13, mid, :3] / px[0, 13, mid, :3]
    assert np.allclose(ratio, ratio[:, :1], atol=1e-6)
    assert np.array_equal(clear_black(px, CLEAR_FULL_LUMINANCE, 0.0), clear_black(px))  # the default is the old one
    # A hot core at a soft edge (colour above its alpha, as an HDR emitter's glow is) is not cut: kept exactly.
    hot = np.zeros((1, 1, 2, 4), np.float32)
    hot[0, 0, 0] = [3.0, 2.0, 1.0, 0.5]  # luminance far above the white point
    hot[0, 0, 1] = [0.02, 0.02, 0.02, 0.01]  # dim emission outside its matte, not cut (key 0.16 > alpha 0.01)
    assert np.array_equal(clear_black(hot, 0.1, 0.005), hot)
    with pytest.raises(ValueError):
        clear_black(px, full_at=0.01, clear_at=0.02)


# --- keyed_matte: the footage keyed, its gain set by the model's matte -------------------------------------------
def _grey_element(level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(footage over black [F, H, W, 3], true alpha, a coarse 'model' matte: wider than the element, noisy)."""
    yy, xx = np.mgrid[:32, :32]
    truth = np.clip(2.0 - np.hypot(yy - 16, xx - 16) / 5, 0, 1)[None].repeat(3, 0).astype(np.float32)
    footage = (truth[..., None] * np.float32(level) * np.array([1.0, 0.95, 0.9], np.float32)).astype(np.float32)
    rng = np.random.default_rng(0)
    wide = np.clip(2.0 - np.hypot(yy - 16, xx - 16) / 6, 0, 1)[None].repeat(3, 0)
    model = np.clip(wide + rng.normal(0, 0.1, wide.shape), 0, 1).astype(np.float32)
    return footage, truth, model


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a > 0.5, b > 0.5).sum() / np.logical_or(a > 0.5, b > 0.5).sum())


@pytest.mark.parametrize("level", [0.35, 0.6])
def test_a_grey_element_is_keyed_at_its_own_level_which_a_max_key_cannot_know(level) -> None:
    from vfxgen.alpha_bounds import element_level, keyed_matte

    footage, truth, model = _grey_element(level)
    # The model's matte is wider than the element: its solid edge reads darker, the high percentile does not.
    assert element_level(model, footage) == pytest.approx(level, abs=0.05)
    keyed, got = keyed_matte(model, footage)
    assert got == element_level(model, footage)
    assert _iou(keyed, truth) > 0.9 and _iou(model, truth) < 0.8
    assert _iou(footage.max(-1), truth) < 0.7  # the max-channel key makes grey smoke half transparent
    assert np.all(keyed >= colour_floor(np.zeros_like(keyed), footage))  # never below the colour's own floor


def test_light_is_keyed_like_a_max_key_and_an_empty_matte_falls_back_to_one() -> None:
    from vfxgen.alpha_bounds import KEY_LEVEL_RANGE, element_level, keyed_matte

    footage, _, model = _grey_element(1.0)
    keyed, level = keyed_matte(model, footage)
    assert level == KEY_LEVEL_RANGE[1] and np.array_equal(keyed, footage.max(-1))
    assert element_level(np.zeros_like(model), footage * 0.3) == 1.0  # nothing solid: no level to read
    dim, _, _ = _grey_element(0.01)
    assert element_level(np.ones_like(model), dim) == 1.0  # solid but all below KEY_MIN_PEAK: haze, not a level
