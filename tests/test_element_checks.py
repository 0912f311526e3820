"""The demo model's acceptance checks (vfxgen.element_checks) on clips with known answers, and the procedural
training data held to them: a model cannot learn an element its data does not show."""

import numpy as np
import pytest

from vfxgen.clip import Clip
from vfxgen.element_checks import FAMILY, colour_family, element_checks, element_thresholds
from vfxgen.presets import load_preset, preset_names
from vfxgen.training.elements import ELEMENTS
from vfxgen.training.synth import synth_clip


@pytest.mark.parametrize(
    ("srgb", "family"),
    [
        ((1.0, 0.45, 0.05), "warm"),  # flame orange
        ((1.0, 0.95, 0.75), "warm"),  # white-hot spark: bright, faintly yellow
        ((0.5, 0.2, 0.05), "warm"),  # deep ember: saturated
        ((0.71, 0.62, 0.52), "grey/brown"),  # the dust preset's own mid colour (#b59f85): sand, lit, not glowing
        ((0.56, 0.4, 0.3), "grey/brown"),  # reddish-brown dust
        ((0.45, 0.45, 0.45), "grey/brown"),
        ((0.9, 0.9, 0.9), "cool/white"),
        ((0.6, 0.75, 1.0), "cool/white"),
        ((0.6, 0.3, 0.9), "cool/white"),  # magic violet
        ((0.2, 0.9, 0.2), "other"),
    ],
)
def test_colour_families(srgb, family):
    assert colour_family(np.array(srgb)) == family


def test_every_stock_preset_has_a_family():
    assert set(FAMILY) == set(preset_names()) == set(ELEMENTS)


def _premultiplied(straight_srgb: np.ndarray) -> np.ndarray:
    return Clip(straight_srgb).pixels  # the project's own straight sRGB -> premultiplied scene-linear


def _square(colour, size: int, frames: int = 3) -> np.ndarray:
    clip = np.zeros((frames, 32, 32, 4), np.float32)
    lo = (32 - size) // 2
    clip[:, lo : lo + size, lo : lo + size] = (*colour, 1.0)
    return clip


def test_checks_on_known_clips():
    good = element_checks(_premultiplied(_square((1.0, 0.5, 0.1), 8)), "fire")
    assert all(good["checks"].values()) and good["coverage"] == pytest.approx(64 / 1024)
    assert good["family"] == "warm"

    black = element_checks(_premultiplied(_square((0.0, 0.0, 0.0), 8)), "fire")
    assert not black["checks"]["black"] and black["black"] == 1.0

    filled = element_checks(_premultiplied(_square((1.0, 0.5, 0.1), 32)), "fire")
    assert not filled["checks"]["visible"] and not filled["checks"]["not_cut"]

    empty = element_checks(np.zeros((3, 32, 32, 4), np.float32), "fire")
    assert not empty["checks"]["visible"] and empty["family"] == "none"

    wrong = element_checks(_premultiplied(_square((0.5, 0.6, 1.0), 8)), "fire")
    assert not wrong["checks"]["colour"] and wrong["family"] == "cool/white"


@pytest.mark.parametrize("element", ELEMENTS)
def test_training_data_passes_the_acceptance_checks(element):
    # Every clip the demo model learns from (dataset synth at its size) shows the element its preset names.
    rng = np.random.default_rng(1234)
    failures = []
    for _ in range(24):
        clip, caption = synth_clip(element, 9, 64, 64, rng)
        result = element_checks(_premultiplied(clip), element)
        if not all(result["checks"].values()):
            failures.append((caption, result))
    assert len(failures) <= 1, failures


def test_every_preset_caption_is_one_its_element_was_trained_on():
    # A caption-style model (the demo) gets the preset's `caption`: it must be a caption `dataset synth` writes
    # for that element, or the end of one (leading adjectives dropped: "burning fireball" of "hot orange burning
    # fireball"). A caption missing the colour word the data always has ("swirling magic energy") is not.
    rng = np.random.default_rng(7)
    for name in preset_names():
        captions = {synth_clip(name, 2, 16, 16, rng)[1] for _ in range(1000)}
        caption = load_preset(name).caption
        assert any(c == caption or c.endswith(" " + caption) for c in captions), (name, caption)


def test_each_preset_s_own_qc_limits_apply():
    # A square whose middle fifth is opaque black: a hole in a flame, but allowed in smoke (its [qc] table).
    clip = _square((0.4, 0.4, 0.42), 10)
    clip[:, 11:13, 11:21, :3] = 0.0
    holed = _premultiplied(clip)
    assert element_checks(holed, "smoke")["black"] == pytest.approx(0.2)
    assert element_checks(holed, "smoke")["checks"]["black"]
    assert not element_checks(holed, "fire")["checks"]["black"]
    assert element_checks(holed, "fire", element_thresholds("smoke"))["checks"]["black"]
