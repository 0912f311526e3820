"""Hot cores: the srgb-shoulder encoding (vfxgen.highlights) from data to model record to decode and back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.tiny_models import save_tiny_model_dir
from vfxgen.clip import Clip
from vfxgen.color import linear_to_srgb, srgb_to_linear
from vfxgen.errors import InputError
from vfxgen.highlights import HOT_CORES, NO_HIGHLIGHTS, Highlights, highlights_from
from vfxgen.pipelines.conditioning import encoded_still, footage_over_black
from vfxgen.pipelines.model_dirs import resolve_model
from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline
from vfxgen.training.synth import HOT_PEAKS, synth_clip


def test_shoulder_round_trips_is_the_identity_below_the_knee_and_has_no_kink():
    linear = np.array([0.0, 0.01, 0.3, 0.6, 0.9, 1.0, 1.5, 3.0, 6.0, 8.0], np.float32)
    encoded = HOT_CORES.encode(linear_to_srgb(linear))
    assert np.all(np.diff(encoded) > 0) and encoded.min() >= 0 and encoded.max() == pytest.approx(1.0)
    np.testing.assert_allclose(srgb_to_linear(HOT_CORES.decode(encoded)), linear, rtol=1e-4, atol=1e-6)
    below = np.linspace(0.0, HOT_CORES.knee, 50, dtype=np.float32)
    assert np.array_equal(HOT_CORES.encode(below), below)  # ordinary colour means what it always meant
    assert np.array_equal(HOT_CORES.decode(below), below)
    k, h = HOT_CORES.knee, 1e-4
    slope_above = (HOT_CORES.encode(np.float64(k + h)) - k) / h
    assert slope_above == pytest.approx(1.0, abs=2e-3)  # smooth at the knee: no band in a gradient
    assert HOT_CORES.encode(np.float32(100.0)) == 1.0  # beyond the peak: held at the top
    assert HOT_CORES.decode(np.float32(0.986)) > linear_to_srgb(np.float32(3.5))  # the top holds the hot values


def test_no_highlights_clips_at_one_and_decodes_as_it_is():
    values = np.array([-0.2, 0.0, 0.5, 0.95, 1.0, 3.0], np.float32)
    assert np.array_equal(NO_HIGHLIGHTS.encode(values), np.clip(values, 0, 1))
    assert np.array_equal(NO_HIGHLIGHTS.decode(np.clip(values, 0, 1)), np.clip(values, 0, 1))
    assert not NO_HIGHLIGHTS.hdr and NO_HIGHLIGHTS.to_dict() == {"encoding": "none"}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("hot", "must be an object"),
        ({"encoding": "pq"}, "encoding 'pq'"),
        ({"encoding": "srgb-shoulder", "knee": 1.2}, "'knee' must be in"),
        ({"encoding": "srgb-shoulder", "peak": 1.0}, "'peak' must be above 1"),
        ({"encoding": "srgb-shoulder", "peak": True}, "'peak' must be a number"),
        ({"encoding": "srgb-shoulder", "gamma": 2.2}, "unknown keys"),
    ],
)
def test_a_bad_highlights_record_is_one_line_naming_the_file(record, message):
    with pytest.raises(InputError, match=message) as err:
        highlights_from(record, "model/vfxgen.json")
    line = err.value.one_line()
    assert "model/vfxgen.json" in line and "highlights" in line and "\n" not in line


def test_records_round_trip():
    assert highlights_from(None, "x") == NO_HIGHLIGHTS
    assert highlights_from({"encoding": "none"}, "x") == NO_HIGHLIGHTS
    assert highlights_from(HOT_CORES.to_dict(), "x") == HOT_CORES
    assert highlights_from({"encoding": "srgb-shoulder", "knee": 0.7, "peak": 16}, "x") == Highlights(
        "srgb-shoulder", 0.7, 16.0
    )


# --- data --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("element", ["sparks", "lightning", "muzzle_flash", "fire", "smoke", "water_splash"])
def test_hot_core_data_is_the_same_drawing_with_emitters_above_one(element):
    plain, caption = synth_clip(element, 9, 48, 48, np.random.default_rng([4, 2]))
    hot, hot_caption = synth_clip(element, 9, 48, 48, np.random.default_rng([4, 2]), HOT_CORES)
    assert caption == hot_caption and np.array_equal(plain[..., 3], hot[..., 3])  # the same element
    assert hot.min() >= 0.0 and hot.max() <= 1.0  # stored in [0, 1], like any dataset
    linear = srgb_to_linear(HOT_CORES.decode(hot[..., :3]))
    visible = hot[..., 3] > 0.5
    share_hot = float((linear.max(-1)[visible] > 1.0).mean())
    if element in HOT_PEAKS:
        assert share_hot > 0.02, share_hot
        assert linear.max() <= HOT_PEAKS[element] * 1.001
    else:  # reflecting or softly glowing: the same colour, only re-encoded
        assert share_hot == 0.0
        np.testing.assert_allclose(linear, srgb_to_linear(plain[..., :3]), atol=2e-5)


def test_dataset_synth_hot_cores_records_the_encoding_and_training_carries_it_to_the_model(tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.training.data import RGBAClipDataset

    out = tmp_path / "hdr"
    result = CliRunner().invoke(
        app, ["dataset", "synth", "-o", str(out), "--count", "4", "--size", "32", "--elements", "sparks", "--hot-cores"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "dataset.json").read_text())["highlights"] == HOT_CORES.to_dict()
    assert RGBAClipDataset(out).info.highlights == HOT_CORES
    plain = tmp_path / "plain"
    result = CliRunner().invoke(app, ["dataset", "synth", "-o", str(plain), "--count", "2", "--size", "32"])
    assert result.exit_code == 0, result.output
    assert "highlights" not in json.loads((plain / "dataset.json").read_text())


# --- the model ---------------------------------------------------------------------------------------------
#: A knee the tiny random model's mid-grey colour reaches (it draws no near-white pixels).
LOW_KNEE = Highlights("srgb-shoulder", knee=0.5, peak=8.0)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The same tiny weights twice: without a record, and with `highlights` in vfxgen.json."""
    root = tmp_path_factory.mktemp("hl")
    plain = save_tiny_model_dir(root / "plain")
    hot = save_tiny_model_dir(root / "hot")
    (hot / "vfxgen.json").write_text(json.dumps({"highlights": LOW_KNEE.to_dict()}))
    return plain, hot


def test_a_model_that_records_hot_cores_decodes_the_top_of_its_range_above_one(models):
    plain_dir, hot_dir = models
    assert resolve_model(plain_dir).highlights == NO_HIGHLIGHTS and resolve_model(hot_dir).highlights == LOW_KNEE
    req = GenerationRequest("fire", steps=2, seed=3)
    plain = RGBAPipeline.from_pretrained(plain_dir, device="cpu").generate(req)
    hot = RGBAPipeline.from_pretrained(hot_dir, device="cpu").generate(GenerationRequest("fire", steps=2, seed=3))
    assert np.array_equal(plain.alpha, hot.alpha)  # same weights, same latents: only the colour's meaning moves
    # The RGB half as decoded (colour over black, in [0, 1]) is read through the shoulder as a premultiplied
    # value: only pixels whose premultiplied colour reaches the top of the range get hot.
    alpha = plain.alpha[..., None]
    premult = np.minimum(plain.source_rgb, alpha)
    visible = np.broadcast_to(alpha > 0.01, premult.shape)
    expected = LOW_KNEE.decode(premult) / np.maximum(alpha, 1e-6)
    np.testing.assert_allclose(hot.frames[..., :3][visible], expected[visible], rtol=1e-4, atol=1e-4)
    straight_linear = hot.pixels[..., :3] / np.maximum(alpha, 1e-6)
    assert premult.max() > 0.6 and straight_linear[visible].max() > 1.0  # scene-linear above 1: a hot core
    below = (premult <= LOW_KNEE.knee) & visible
    np.testing.assert_allclose(hot.pixels[..., :3][below], plain.pixels[..., :3][below], rtol=1e-5, atol=1e-6)
    soft = (alpha[..., 0] < LOW_KNEE.knee) & (alpha[..., 0] > 0.01)  # a soft edge never turns hot
    assert soft.any() and hot.pixels[..., :3][soft].max() <= plain.pixels[..., :3][soft].max() + 1e-6


def test_conditioning_input_is_encoded_the_models_way():
    hot_footage = Clip(pixels=np.concatenate([np.full((1, 8, 8, 3), 4.0, np.float32), np.ones((1, 8, 8, 1))], -1))
    assert footage_over_black(hot_footage).max() == 1.0  # a clipped model sees white
    assert footage_over_black(hot_footage, highlights=HOT_CORES).max() == pytest.approx(
        float(HOT_CORES.encode(linear_to_srgb(np.float32(4.0)))), abs=1e-6
    )
    still = np.concatenate([np.full((8, 8, 3), 1.6, np.float32), np.ones((8, 8, 1), np.float32)], -1)
    assert encoded_still(still, NO_HIGHLIGHTS)[..., :3].max() == 1.0
    assert 0.9 < encoded_still(still, HOT_CORES)[..., :3].max() < 1.0
    assert np.array_equal(encoded_still(still, HOT_CORES)[..., 3], still[..., 3])
    half = still.copy()
    half[..., 3] = 0.5  # premultiplied 0.8: below the knee, so the model's value is the plain one
    assert encoded_still(half, HOT_CORES)[..., :3].max() == pytest.approx(1.0)
    assert encoded_still(half, HOT_CORES, "straight")[..., :3].max() == pytest.approx(
        float(HOT_CORES.encode(np.float32(1.6)))
    )


def test_a_bad_record_stops_generate_before_anything_is_written(tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    model = save_tiny_model_dir(tmp_path / "m", lora_seed=None)
    (model / "vfxgen.json").write_text(json.dumps({"highlights": {"encoding": "srgb-shoulder", "knee": 2}}))
    result = CliRunner().invoke(app, ["generate", "fire", "--model", str(model), "-o", str(tmp_path / "shot")])
    assert result.exit_code != 0
    assert "vfxgen.json: key 'highlights' 'knee' must be in" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "shot").exists()
