"""Procedural VFX training clips: shape, alpha, colour conventions, determinism and per-element looks."""

from __future__ import annotations

import numpy as np
import pytest

from vfxgen.errors import UsageError
from vfxgen.training.synth import ELEMENTS, synth_clip, synth_dataset_items

T, H, W = 9, 48, 48
SEEDS = range(6)

# Words a caption must contain (one of) so that the text names what the clip shows.
CAPTION_WORDS = {
    "fire": ("fire", "flame"),
    "smoke": ("smoke",),
    "explosion": ("explosion", "blast", "detonation", "exploding"),
    "sparks": ("spark",),
    "dust": ("dust",),
    "magic": ("magic", "arcane"),
    "lightning": ("lightning", "electric"),
    "water_splash": ("splash",),
    "muzzle_flash": ("muzzle flash", "gunshot flash"),
}


def clip(element: str, seed: int, frames: int = T, height: int = H, width: int = W):
    return synth_clip(element, frames, height, width, np.random.default_rng(seed))


def mean_colour(rgba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    mask = rgba[..., 3] > threshold
    assert mask.any()
    return rgba[..., :3][mask].mean(axis=0)


def test_elements_list():
    assert ELEMENTS == (
        "fire",
        "smoke",
        "explosion",
        "sparks",
        "dust",
        "magic",
        "lightning",
        "water_splash",
        "muzzle_flash",
    )
    assert set(CAPTION_WORDS) == set(ELEMENTS)


@pytest.mark.parametrize("element", ELEMENTS)
def test_clip_conventions(element):
    for seed in SEEDS:
        rgba, caption = clip(element, seed)
        assert rgba.shape == (T, H, W, 4)
        assert rgba.dtype == np.float32
        assert np.isfinite(rgba).all()
        assert rgba.min() >= 0.0 and rgba.max() <= 1.0
        alpha = rgba[..., 3]
        # Straight colour: exactly 0 on the transparent background.
        assert not rgba[..., :3][alpha == 0].any()
        # Non-trivial alpha: a solid part, a clear background, and it moves.
        assert (alpha > 0.5).any(), (element, seed)
        assert (alpha == 0).mean() > 0.1, (element, seed)
        assert (alpha < 0.02).mean() > 0.3, (element, seed)
        assert np.abs(alpha - alpha[:1]).max() > 0.2, (element, seed)
        assert isinstance(caption, str) and caption == caption.strip() and "  " not in caption
        assert any(word in caption for word in CAPTION_WORDS[element]), caption


@pytest.mark.parametrize("element", ELEMENTS)
def test_straight_colour_is_not_darkened_by_alpha(element):
    # Where the element is faint, its straight colour is still a plausible colour, not dimmed to black.
    rgba, _ = clip(element, 3, 17, 64, 64)
    alpha = rgba[..., 3]
    faint = (alpha > 0.02) & (alpha < 0.2)
    solid = alpha > 0.6
    if faint.sum() > 20 and solid.any():
        faint_luma = rgba[..., :3][faint].max(axis=-1).mean()
        solid_luma = rgba[..., :3][solid].max(axis=-1).mean()
        assert faint_luma > 0.35 * solid_luma


@pytest.mark.parametrize("element", ELEMENTS)
def test_deterministic_per_seed(element):
    a, cap_a = clip(element, 7)
    b, cap_b = clip(element, 7)
    assert cap_a == cap_b
    np.testing.assert_array_equal(a, b)
    others = [clip(element, seed)[0] for seed in (8, 9)]
    assert all(not np.array_equal(a, other) for other in others)


@pytest.mark.parametrize("element", ELEMENTS)
@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 8, 20), (17, 96, 96), (5, 40, 72)])
def test_odd_sizes(element, shape):
    rgba, _ = clip(element, 1, *shape)
    assert rgba.shape == shape + (4,)
    assert np.isfinite(rgba).all() and rgba.min() >= 0.0 and rgba.max() <= 1.0


def test_fire_is_bright_orange_yellow():
    for seed in SEEDS:
        r, g, b = mean_colour(clip("fire", seed)[0])
        assert r > g > b, (seed, r, g, b)
        assert r > 0.85 and g > 0.3 and b < 0.5, (seed, r, g, b)


def test_smoke_is_grey_and_soft():
    for seed in SEEDS:
        rgba, _ = clip("smoke", seed)
        r, g, b = mean_colour(rgba, 0.2)
        assert abs(r - g) < 0.03 and abs(g - b) < 0.03, (seed, r, g, b)
        assert rgba[..., 3].max() < 0.97  # smoke is never fully opaque


def test_explosion_grows_from_a_hot_core_to_darker_smoke():
    for seed in SEEDS:
        rgba, _ = clip("explosion", seed, 17, 64, 64)
        area = (rgba[..., 3] > 0.1).sum(axis=(1, 2))
        assert area[-1] > 4 * max(area[0], 1), (seed, area)
        first_r, first_g, first_b = mean_colour(rgba[1:3])
        assert first_r > first_g > first_b and first_r > 0.9
        assert mean_colour(rgba[-2:]).max() < mean_colour(rgba[1:3]).max() - 0.3


def test_element_palettes():
    for seed in SEEDS:
        r, g, b = mean_colour(clip("sparks", seed)[0], 0.3)
        assert r >= g > b, ("sparks", seed)
        r, g, b = mean_colour(clip("dust", seed)[0], 0.2)
        assert r > g > b and r - b > 0.15, ("dust", seed)
        r, g, b = mean_colour(clip("lightning", seed)[0])
        assert b >= max(r, g) and b > 0.9, ("lightning", seed)  # blue-white / violet
        r, g, b = mean_colour(clip("water_splash", seed)[0])
        assert b >= g > r - 0.05, ("water_splash", seed)
        r, g, b = mean_colour(clip("muzzle_flash", seed)[0], 0.3)
        assert r >= g > b and r > 0.75, ("muzzle_flash", seed)


def test_muzzle_flash_is_brief():
    for seed in SEEDS:
        rgba, _ = clip("muzzle_flash", seed, 17, 48, 48)
        lit = (rgba[..., 3] > 0.5).any(axis=(1, 2))
        assert lit[0], seed  # the (first) flash is on the first frame: frame 1001 lines up with the trigger
        caption = clip("muzzle_flash", seed, 17, 48, 48)[1]
        if "flashes" not in caption:  # a single shot: at most three bright frames
            assert lit.sum() <= 3


def test_unknown_element_and_bad_sizes():
    with pytest.raises(UsageError) as info:
        synth_clip("tornado", T, H, W, np.random.default_rng(0))
    assert "fire" in info.value.hint and "muzzle_flash" in info.value.hint
    with pytest.raises(UsageError):
        synth_clip("fire", 0, H, W, np.random.default_rng(0))
    with pytest.raises(UsageError):
        synth_clip("fire", T, 4, W, np.random.default_rng(0))


def test_dataset_items_are_deterministic_and_independent_of_count():
    short = list(synth_dataset_items(4, T, 32, 32, seed=5))
    long = list(synth_dataset_items(12, T, 32, 32, seed=5))
    assert len(short) == 4 and len(long) == 12
    for (e1, c1, x1), (e2, c2, x2) in zip(short, long[:4], strict=True):
        assert e1 == e2 and c1 == c2
        np.testing.assert_array_equal(x1, x2)
    again = list(synth_dataset_items(12, T, 32, 32, seed=5))
    assert [(e, c) for e, c, _ in again] == [(e, c) for e, c, _ in long]
    other = list(synth_dataset_items(12, T, 32, 32, seed=6))
    assert any(not np.array_equal(x, y) for (_, _, x), (_, _, y) in zip(long, other, strict=True))
    # Balanced: every element appears once per cycle of len(ELEMENTS) items.
    assert sorted(e for e, _, _ in long[: len(ELEMENTS)]) == sorted(ELEMENTS)
    for element, caption, rgba in long:
        assert rgba.shape == (T, 32, 32, 4) and rgba.dtype == np.float32
        assert any(word in caption for word in CAPTION_WORDS[element])


def test_dataset_items_subset_and_errors():
    items = list(synth_dataset_items(6, T, 24, 24, seed=0, elements=("fire", "smoke")))
    assert {e for e, _, _ in items} == {"fire", "smoke"}
    assert list(synth_dataset_items(0, T, 24, 24, seed=0)) == []
    with pytest.raises(UsageError):
        list(synth_dataset_items(2, T, 24, 24, seed=0, elements=("fire", "rain")))
    with pytest.raises(UsageError):
        list(synth_dataset_items(2, T, 24, 24, seed=0, elements=()))
    with pytest.raises(UsageError):
        list(synth_dataset_items(-1, T, 24, 24, seed=0))
