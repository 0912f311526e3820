"""Compositing maths: "over" in scene-linear light, plate fitting policies, plate length policies.

Expected values are computed here from the sRGB formula (IEC 61966-2-1), not with the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from vfxgen.clip import Clip
from vfxgen.compositing import checkerboard, fit_plate, match_length, over, over_checkerboard
from vfxgen.errors import UsageError


def to_lin(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def to_srgb(v: float) -> float:
    return v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


def flat_clip(colour: float, alpha: float, frames: int = 2, height: int = 4, width: int = 6) -> Clip:
    rgba = np.empty((frames, height, width, 4), np.float32)
    rgba[..., :3], rgba[..., 3] = colour, alpha
    return Clip(rgba)


def test_over_is_the_linear_premultiplied_formula() -> None:
    fg = flat_clip(0.8, 0.5)
    plate = np.full((2, 4, 6, 3), 0.2, np.float32)
    lin = to_lin(0.8) * 0.5 + to_lin(0.2) * 0.5
    assert np.allclose(over(fg, plate, linear=True), lin, atol=1e-6)
    out = over(fg, plate)
    assert out.shape == (2, 4, 6, 3) and out.dtype == np.float32
    assert np.allclose(out, to_srgb(lin), atol=1e-6)
    assert abs(to_srgb(lin) - 0.5) > 0.05  # the naive sRGB blend (0.5) would be visibly wrong


def test_over_alpha_zero_gives_the_plate_and_one_the_element_exactly() -> None:
    rng = np.random.default_rng(0)
    plate = rng.random((2, 4, 6, 3), dtype=np.float32)
    colour = rng.random((2, 4, 6, 3), dtype=np.float32)
    fg = Clip(np.concatenate([colour, np.zeros((2, 4, 6, 1), np.float32)], -1))
    assert np.array_equal(over(fg, plate), plate)
    fg = Clip(np.concatenate([colour, np.ones((2, 4, 6, 1), np.float32)], -1))
    assert np.array_equal(over(fg, plate), fg.rgb)


def test_over_still_plate_broadcasts_and_keeps_hdr() -> None:
    fg = flat_clip(0.5, 0.25, frames=3)
    still = np.full((4, 6, 3), 1.5, np.float32)  # an HDR plate value above 1 is not clipped
    out = over(fg, still, linear=True)
    assert out.shape == (3, 4, 6, 3)
    assert np.allclose(out, to_lin(0.5) * 0.25 + to_lin(1.5) * 0.75, atol=1e-5)


def test_over_refuses_mismatched_plates() -> None:
    fg = flat_clip(0.5, 0.5, frames=3)
    with pytest.raises(UsageError, match="plate is 5x4 but the element is 6x4"):
        over(fg, np.zeros((3, 4, 5, 3), np.float32))
    with pytest.raises(UsageError, match="plate has 2 frames but the element has 3"):
        over(fg, np.zeros((2, 4, 6, 3), np.float32))


# --- fit_plate -----------------------------------------------------------------------------------
def test_fit_error_names_both_sizes_and_the_options() -> None:
    plate = np.zeros((1, 10, 20, 3), np.float32)
    with pytest.raises(UsageError, match="plate is 20x10 but the element is 40x30") as info:
        fit_plate(plate, 30, 40)
    assert "--fit stretch" in info.value.hint and "--fit center" in info.value.hint
    assert fit_plate(plate, 10, 20) is plate  # same size: untouched under every policy
    with pytest.raises(UsageError, match="unknown --fit"):
        fit_plate(plate, 30, 40, "zoom")


def test_fit_stretch_resizes_in_linear_light() -> None:
    plate = np.zeros((1, 2, 2, 3), np.float32)
    plate[:, :, 1] = 1.0  # left column black, right column white
    out = fit_plate(plate, 2, 1, "stretch")  # area average of the two columns
    assert out.shape == (1, 2, 1, 3)
    assert np.allclose(out, to_srgb(0.5), atol=1e-5)  # linear average, ~0.735, not 0.5
    big = fit_plate(np.full((2, 3, 5, 3), 0.3, np.float32), 12, 7, "stretch")
    assert big.shape == (2, 12, 7, 3) and np.allclose(big, 0.3, atol=1e-5)


def test_fit_letterboxes() -> None:
    plate = np.full((1, 10, 20, 3), 0.6, np.float32)  # 2:1 into a square
    out = fit_plate(plate, 20, 20, "fit")
    assert out.shape == (1, 20, 20, 3)
    assert np.all(out[:, :5] == 0) and np.all(out[:, 15:] == 0)  # black bars top and bottom
    assert np.allclose(out[:, 5:15], 0.6, atol=1e-5)
    pillar = fit_plate(np.full((1, 20, 10, 3), 0.6, np.float32), 20, 40, "fit")  # 1:2 into 2:1
    assert np.all(pillar[:, :, :15] == 0) and np.all(pillar[:, :, 25:] == 0)
    assert np.allclose(pillar[:, :, 15:25], 0.6, atol=1e-5)


def test_fill_scales_to_cover_and_centre_crops() -> None:
    plate = np.zeros((1, 20, 40, 3), np.float32)
    plate[..., 10:30, :] = 1.0  # the middle half of the width is white
    out = fit_plate(plate, 20, 20, "fill")  # same height, so no scaling: a centre crop of 20 columns
    assert out.shape == (1, 20, 20, 3) and np.all(out == 1.0)
    small = fit_plate(np.full((1, 5, 10, 3), 0.4, np.float32), 20, 20, "fill")  # enlarged x4 to 20x40
    assert small.shape == (1, 20, 20, 3) and np.allclose(small, 0.4, atol=1e-5)


def test_center_pads_and_crops_without_scaling() -> None:
    rng = np.random.default_rng(1)
    plate = rng.random((2, 10, 10, 3), dtype=np.float32)
    padded = fit_plate(plate, 20, 16, "center")
    assert padded.shape == (2, 20, 16, 3)
    assert np.array_equal(padded[:, 5:15, 3:13], plate)
    assert padded[:, :5].max() == 0 and padded[:, :, :3].max() == 0
    cropped = fit_plate(plate, 4, 6, "center")
    assert np.array_equal(cropped, plate[:, 3:7, 2:8])


# --- match_length ----------------------------------------------------------------------------------
def test_hold_repeats_the_last_frame_and_cuts_longer_plates() -> None:
    plate = np.arange(3, dtype=np.float32)[:, None, None, None] * np.ones((3, 2, 2, 3), np.float32)
    held = match_length(plate, 5, "hold")
    assert held.shape == (5, 2, 2, 3)
    assert [float(f[0, 0, 0]) for f in held] == [0, 1, 2, 2, 2]
    assert [float(f[0, 0, 0]) for f in match_length(plate, 2, "hold")] == [0, 1]
    assert match_length(plate, 3) is plate


def test_still_is_always_held_and_moving_mismatch_is_an_error() -> None:
    still = np.full((1, 2, 2, 3), 0.3, np.float32)
    assert match_length(still, 4).shape == (4, 2, 2, 3)  # default policy "error" still holds a still
    with pytest.raises(UsageError, match="plate has 3 frames but the element has 5") as info:
        match_length(np.zeros((3, 2, 2, 3), np.float32), 5)
    assert "--length hold" in info.value.hint
    with pytest.raises(UsageError, match="unknown --length"):
        match_length(still, 4, "loop")


def test_checkerboard_helpers_unchanged() -> None:
    board = checkerboard(4, 4, square=2)
    assert board.shape == (4, 4, 3) and board[0, 0, 0] == pytest.approx(0.65)
    assert over_checkerboard(flat_clip(0.5, 1.0).frames).shape == (2, 4, 6, 3)
