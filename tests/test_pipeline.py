"""RGBA pipelines end to end on tiny offline CogVideoX model directories (seconds on CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.tiny_models import save_tiny_model_dir
from vfxgen.errors import ModelError, UsageError
from vfxgen.pipelines.model_dirs import resolve_model
from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline
from vfxgen.shapes import check_clip_shape as check_size


@pytest.fixture(scope="module")
def t2v_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")


@pytest.fixture(scope="module")
def i2v_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "i2v", kind="i2v")


@pytest.fixture(scope="module")
def t2v(t2v_dir):
    return RGBAPipeline.from_pretrained(t2v_dir, device="cpu")


def test_generate_is_reproducible_and_seed_dependent(t2v):
    request = GenerationRequest("burning fireball", steps=2, seed=3)
    a, b = t2v.generate(request), t2v.generate(request)
    c = t2v.generate(GenerationRequest("burning fireball", steps=2, seed=4))
    assert a.frames.shape == (9, 32, 48, 4)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert a.metadata["seed"] == 3 and a.metadata["model_native_size"] == [48, 32, 9]
    assert len(a.metadata["lora_sha256"]) == 64  # the whole sha256: it names the exact weights


def test_alpha_reduce_max_is_at_least_mean(t2v):
    mean = t2v.generate(GenerationRequest("smoke", steps=2, seed=1))
    biggest = t2v.generate(GenerationRequest("smoke", steps=2, seed=1, alpha_reduce="max"))
    assert np.all(biggest.alpha >= mean.alpha - 1e-6)
    assert (biggest.alpha - mean.alpha).max() > 1e-3


def test_progress_callback_sees_every_step(t2v):
    seen = []
    t2v.generate(GenerationRequest("fire", steps=3), progress=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_rgb_colour_never_exceeds_alpha_before_unpremultiply(t2v):
    clip = t2v.generate(GenerationRequest("fire", steps=2, seed=2))
    assert np.isfinite(clip.frames).all()
    assert clip.frames.min() >= 0 and clip.frames.max() <= 1
    assert np.all(clip.rgb[clip.alpha == 0] == 0)


def test_animate_alpha_conditions_the_alpha_half(i2v_dir):
    pipe = RGBAPipeline.from_pretrained(i2v_dir, device="cpu")
    rng = np.random.default_rng(0)
    image = rng.random((32, 48, 4), dtype=np.float32)
    other = image.copy()
    other[..., 3] = 1.0 - other[..., 3]
    request = GenerationRequest("flicker", steps=2, seed=1)
    a = pipe.animate(image, request)
    b = pipe.animate(other, request)
    c = pipe.animate(image, request)
    assert np.array_equal(a.frames, c.frames)  # the conditioning hook is removed after each call
    assert np.abs(a.alpha - b.alpha).max() > 1e-3
    rgb_only = pipe.animate(image[..., :3], request)
    assert rgb_only.frames.shape == (9, 32, 48, 4)


def test_animate_needs_image_to_video_model(t2v_dir):
    with pytest.raises(ModelError, match="text-to-video"):
        RGBAPipeline.from_pretrained(t2v_dir, device="cpu", image_to_video=True)


@pytest.mark.parametrize(
    "frames,height,width,match",
    [(10, 32, 48, "4k\\+1"), (9, 30, 48, "height must be a multiple of 8"), (9, 32, 4, "width")],
)
def test_invalid_sizes_rejected_before_loading(t2v_dir, frames, height, width, match):
    info = resolve_model(t2v_dir)
    with pytest.raises(UsageError, match=match):
        GenerationRequest("x", frames=frames, height=height, width=width).resolved(info)


def test_check_size_suggests_a_fix():
    with pytest.raises(UsageError) as err:
        check_size(48, 480, 720)
    assert "use 45 or 49" in err.value.one_line()
    with pytest.raises(UsageError) as err:
        check_size(49, 480, 721)
    assert "use --width 720" in err.value.one_line()


def test_model_dir_that_is_not_cogvideox(tmp_path, t2v_dir):
    other = tmp_path / "sd"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ModelError, match="StableDiffusionPipeline model, which no installed backbone runs"):
        resolve_model(other)
    with pytest.raises(ModelError, match="no model_index.json"):
        resolve_model(tmp_path)


def test_pickle_only_weights_are_refused(tmp_path, t2v_dir):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(t2v_dir, copy)
    for f in (copy / "vae").glob("*.safetensors"):
        f.rename(f.with_suffix(".bin"))
    with pytest.raises(ModelError, match="pickle"):
        resolve_model(copy)


def test_lora_for_another_model_size_is_refused(tmp_path, t2v_dir):
    from tests.tiny_models import tiny_transformer
    from vfxgen.models.transpixar import apply_transpixar, save_rgba_lora

    wide = tiny_transformer("5b")
    wide.transformer_blocks = wide.transformer_blocks[:1]  # a "different size": one block only
    save_rgba_lora(apply_transpixar(wide, rank=2), tmp_path / "other.safetensors")
    with pytest.raises(ModelError, match="blocks.1.attn1.to_q.lora_A.weight") as err:
        RGBAPipeline.from_pretrained(t2v_dir, tmp_path / "other.safetensors", device="cpu")
    assert "another CogVideoX size" in err.value.one_line()


def test_unknown_device_is_a_usage_error(t2v_dir):
    with pytest.raises(UsageError, match="device"):
        RGBAPipeline.from_pretrained(t2v_dir, device="tpu")


@pytest.mark.parametrize("cache", ["fbc", "pab", "faster"])
def test_step_caches_run_with_the_rgba_processor(t2v_dir, t2v, cache):
    cached = RGBAPipeline.from_pretrained(t2v_dir, device="cpu", cache=cache)
    assert cached.pipe.transformer.is_cache_enabled
    request = GenerationRequest("fire", steps=8, seed=5)
    a, b = cached.generate(request), cached.generate(request)
    assert np.array_equal(a.frames, b.frames)  # cache state is reset between shots
    reference = t2v.generate(request)
    assert a.frames.shape == reference.frames.shape
    assert np.abs(a.frames - reference.frames).mean() < 0.2  # an approximation of the same shot
