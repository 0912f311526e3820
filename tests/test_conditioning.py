"""Replacement conditioning (animate from a still on any model, matte for footage) on tiny offline models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.tiny_models import save_tiny_model_dir
from vfxgen.alpha_bounds import clear_black
from vfxgen.clip import Clip
from vfxgen.errors import InputError, UsageError
from vfxgen.pipelines.conditioning import (
    DEFAULT_LEAD_IN,
    Conditioning,
    Pin,
    ReplacementConditioning,
    fit_frames,
    fit_still,
    lead_in_pins,
    pin_and_denoise,
    plan_windows,
    pull_matte,
    still_pins,
    to_model_rgb,
    unfit,
    window_weights,
)
from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline


@pytest.fixture(scope="module")
def t2v(tmp_path_factory):
    return RGBAPipeline.from_pretrained(save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v"), device="cpu")


@pytest.fixture(scope="module")
def i2v(tmp_path_factory):
    path = save_tiny_model_dir(tmp_path_factory.mktemp("models") / "i2v", kind="i2v")
    return RGBAPipeline.from_pretrained(path, device="cpu")


def still(seed=0, channels=4, h=32, w=48):
    rng = np.random.default_rng(seed)
    return rng.random((h, w, channels), dtype=np.float32)


def rgb_clip(frames=9, h=32, w=48, seed=0):
    """Colour over black, alpha 1: what `read_clip` gives for an RGB movie or PNG sequence."""
    rng = np.random.default_rng(seed)
    rgb = rng.random((frames, h, w, 3), dtype=np.float32) * 0.8
    return Clip(np.concatenate([rgb, np.ones((frames, h, w, 1), np.float32)], axis=-1), fps=12)


# --- pure functions -------------------------------------------------------------------------------------
def test_windows_cover_the_clip_with_overlap():
    assert plan_windows(9, 9, 2) == [(0, 9)]
    assert plan_windows(5, 9, 2) == [(0, 9)]  # shorter: one window, the last frame held
    assert plan_windows(20, 9, 2) == [(0, 9), (6, 15), (11, 20)]  # spread evenly
    assert plan_windows(17, 9, 2) == [(0, 9), (4, 13), (8, 17)]
    assert plan_windows(10, 9, 0) == [(0, 9), (1, 10)]
    assert plan_windows(16, 9, 2) == [(0, 9), (7, 16)]
    with pytest.raises(InputError, match="no frames"):
        plan_windows(0, 9, 2)
    with pytest.raises(UsageError, match="overlap"):
        plan_windows(20, 9, 9)


def test_window_weights_cross_fade_and_sum_to_one():
    windows = plan_windows(20, 9, 2)
    w = window_weights(windows, 20)
    assert np.allclose(w.sum(axis=0), 1.0)
    assert w[0, 0] == 1 and w[1, 0] == 0 and w[2, 19] == 1
    assert 0 < w[1, 7] < w[1, 8] < 1  # the second window fades in over the shared frames
    assert np.all(w[0, 9:] == 0)


def test_fit_pad_keeps_aspect_and_unfit_inverts_it():
    frames = np.zeros((2, 30, 90, 1), np.float32)
    frames[:, 10:20, 30:60] = 1.0
    fitted, place = fit_frames(frames, 32, 48, "pad")
    assert fitted.shape == (2, 32, 48, 1)
    assert (place.height, place.width) == (16, 48) and place.top == 8
    assert fitted[:, :8].max() == 0 and fitted[:, -8:].max() == 0  # black borders
    back = unfit(fitted, place)
    assert back.shape == frames.shape
    assert np.abs(back - frames).mean() < 0.1
    stretched, place = fit_frames(frames, 32, 48, "stretch")
    assert (place.top, place.left, place.height, place.width) == (0, 0, 32, 48)


def test_still_to_model_convention():
    image = np.array([[[1.0, 0.5, 0.2, 0.5], [0.3, 0.3, 0.3, 0.0]]], np.float32)
    assert np.allclose(to_model_rgb(image, "premultiplied"), [[[0.5, 0.25, 0.1], [0, 0, 0]]])
    assert np.allclose(to_model_rgb(image, "straight"), [[[1.0, 0.5, 0.2], [0, 0, 0]]])
    assert np.allclose(to_model_rgb(image[..., :3], "premultiplied"), image[..., :3])
    fitted = fit_still(image, 4, 16, "pad")  # 2x1 -> 8x4 in the middle of 16x4
    assert fitted.shape == (4, 16, 4) and fitted[0, 0, 3] == 0 and fitted[0, 4, 3] == 0.5


def test_conditioning_options_are_checked():
    assert Conditioning().resolved(image_to_video=False).mode == "replace"
    assert Conditioning().resolved(image_to_video=True).mode == "native"
    for bad, match in [
        (dict(mode="inpaint"), "--conditioning"),
        (dict(strength=0.0), "--strength"),
        (dict(strength=1.5), "--strength"),
        (dict(strength=float("nan")), "--strength"),
        (dict(resample=-1), "--resample"),
        (dict(fit="crop"), "--fit"),
        (dict(overlap=-1), "--overlap"),
        (dict(lead_in=1.0), "--lead-in"),
        (dict(lead_in=-0.1), "--lead-in"),
        (dict(lead_in=float("nan")), "--lead-in"),
    ]:
        with pytest.raises(UsageError, match=match):
            Conditioning(**bad).checked()
    with pytest.raises(UsageError, match="image-to-video"):
        Conditioning(mode="native").resolved(image_to_video=False)
    assert Conditioning().resolved(image_to_video=False).lead_in == DEFAULT_LEAD_IN  # replacement eases out
    assert Conditioning(lead_in=0).resolved(image_to_video=False).lead_in == 0
    assert Conditioning().resolved(image_to_video=True).lead_in == 0  # native conditioning has no pins
    with pytest.raises(UsageError, match="--lead-in"):
        Conditioning(mode="native", lead_in=0.2).resolved(image_to_video=True)


# --- animate: frame-0 replacement -------------------------------------------------------------------------
def test_replacement_ends_with_frame_zero_equal_to_the_still_latent(t2v):
    req = t2v.check(GenerationRequest("flicker", steps=4, seed=2), text_required=False)
    image = still(1)
    pins = still_pins(t2v, image, req)
    assert [p.start for p in pins] == [0, 3]  # RGB frame 0 and alpha frame 0 (F = 3 latent frames)
    latents = pin_and_denoise(t2v, req, pins, Conditioning(mode="replace"))
    assert latents.shape == (1, 6, 4, 8, 12)
    assert torch.equal(latents[:, 0], pins[0].latent[:, 0].to(latents.dtype))
    assert torch.equal(latents[:, 3], pins[1].latent[:, 0].to(latents.dtype))
    plain = t2v.denoise(GenerationRequest("flicker", steps=4, seed=2))[1]
    assert (plain[:, 0] - latents[:, 0]).abs().max() > 1e-2  # without it frame 0 is something else
    assert not torch.equal(plain[:, 1:3], latents[:, 1:3])  # and the rest of the shot follows the still


def test_rgb_still_pins_the_rgb_half_only(t2v):
    req = t2v.check(GenerationRequest("flicker", steps=3, seed=2), text_required=False)
    pins = still_pins(t2v, still(1, channels=3), req)
    assert len(pins) == 1
    latents = pin_and_denoise(t2v, req, pins, Conditioning(mode="replace"))
    assert torch.equal(latents[:, 0], pins[0].latent[:, 0])


def test_strength_below_one_releases_the_pin_for_the_last_steps(t2v):
    req = t2v.check(GenerationRequest("flicker", steps=4, seed=2), text_required=False)
    pins = still_pins(t2v, still(1), req)
    hook = ReplacementConditioning(pins, steps=4, strength=0.5)
    latents, generator = t2v.initial_latents(req)
    out = t2v.denoise_latents(req, hook.prepare(latents, t2v.runtime.scheduler, 4), generator, step_hook=hook)
    assert hook.replaced_at == [0, 1]
    assert not torch.equal(out[:, 0], pins[0].latent[:, 0])


def test_lead_in_holds_the_next_latent_frame_to_the_held_still_for_the_first_steps(t2v):
    req = t2v.check(GenerationRequest("flicker", steps=4, seed=2), text_required=False)
    image = still(1)
    lead = lead_in_pins(t2v, image, req, 0.5)
    assert [(p.start, p.until) for p in lead] == [(1, 0.5), (4, 0.5)]  # RGB and alpha latent frame 1 (F = 3)
    held = t2v.runtime.encode_frames(np.repeat(to_model_rgb(image, req.rgb)[None], 5, axis=0))  # 1 + 4x temporal
    assert torch.equal(lead[0].latent[:, 0], held[:, 1])
    hook = ReplacementConditioning(still_pins(t2v, image, req) + lead, steps=4)
    scheduler = t2v.runtime.scheduler
    hook.prepare(torch.zeros(1, 6, 4, 8, 12), scheduler, 4)
    for step, t in enumerate(scheduler.timesteps):
        before = torch.randn(1, 6, 4, 8, 12)
        after = hook(t2v.runtime.pipe, step, t, {"latents": before})["latents"]
        assert not torch.equal(after[:, 0], before[:, 0])  # frame 0: every step
        assert torch.equal(after[:, 1], before[:, 1]) == (step >= 2)  # frame 1: the first half only
        assert torch.equal(after[:, 2], before[:, 2])  # the rest: never
    # Held to the end (until 1), frame 1 would come out as the held still; eased (0.5) it does not.
    whole = lead_in_pins(t2v, image, req, 0.99)
    pinned = pin_and_denoise(t2v, req, still_pins(t2v, image, req) + whole, Conditioning(mode="replace"))
    assert torch.equal(pinned[:, 1], whole[0].latent[:, 0])
    eased = pin_and_denoise(t2v, req, still_pins(t2v, image, req) + lead, Conditioning(mode="replace"))
    assert (eased[:, 1] - lead[0].latent[:, 0]).abs().max() > 1e-3


def test_animate_eases_out_of_the_still_by_default_and_records_it(t2v):
    image = still(2)
    request = GenerationRequest("flicker", steps=10, seed=1)  # 0.1 of 10 steps: the first one is held
    eased = t2v.animate(image, request)
    plain = t2v.animate(image, request, conditioning=Conditioning(mode="replace", lead_in=0))
    assert eased.metadata["conditioning"]["lead_in"] == DEFAULT_LEAD_IN
    assert plain.metadata["conditioning"]["lead_in"] == 0
    assert eased.metadata["conditioning"]["target"] == "first frame (rgb + alpha)"
    assert not np.array_equal(eased.pixels[1:], plain.pixels[1:])


@pytest.mark.parametrize("scheduler", ["dpm", "ddim"])
def test_resampling_keeps_the_pin_and_changes_the_rest(tmp_path_factory, scheduler):
    path = save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")
    pipe = RGBAPipeline.from_pretrained(path, device="cpu", scheduler=scheduler)
    req = pipe.check(GenerationRequest("flicker", steps=4, seed=2), text_required=False)
    pins = still_pins(pipe, still(1), req)
    once = pin_and_denoise(pipe, req, pins, Conditioning(mode="replace"))
    twice = pin_and_denoise(pipe, req, pins, Conditioning(mode="replace", resample=2))
    assert torch.equal(twice[:, 0], pins[0].latent[:, 0])
    assert torch.isfinite(twice).all()
    assert (once[:, 1:3] - twice[:, 1:3]).abs().max() > 1e-3


def test_animate_runs_on_a_text_to_video_model_and_records_it(t2v):
    image = still(3, h=20, w=40)  # another size: fitted (padded) to the native 48x32
    request = GenerationRequest("flicker", steps=2, seed=1)
    a = t2v.animate(image, request)
    b = t2v.animate(image, request)
    assert a.frames.shape == (9, 32, 48, 4)
    assert np.array_equal(a.pixels, b.pixels)  # reproducible: the replacement noise is seeded too
    record = a.metadata["conditioning"]
    assert record["mode"] == "replace" and record["strength"] == 1.0 and record["source_size"] == [40, 20]
    with pytest.raises(UsageError, match="RGB or RGBA"):
        t2v.animate(np.zeros((32, 48, 2), np.float32), request)
    with pytest.raises(UsageError, match="image-to-video"):
        t2v.animate(image, request, conditioning=Conditioning(mode="native"))


def test_image_to_video_model_keeps_native_and_can_add_replacement(i2v):
    image = still(4)
    request = GenerationRequest("flicker", steps=2, seed=1)
    native = i2v.animate(image, request)
    assert native.metadata["conditioning"]["mode"] == "native"
    req = i2v.check(request, text_required=False)
    pins = still_pins(i2v, image, req)
    latents = pin_and_denoise(
        i2v, req, pins, Conditioning(mode="replace"), image=i2v.runtime.to_pipe_image(image[..., :3])
    )
    assert torch.equal(latents[:, 0], pins[0].latent[:, 0])
    both = i2v.animate(image, request, conditioning=Conditioning(mode="replace"))
    assert both.metadata["conditioning"]["native_image"] is True
    assert not np.array_equal(both.pixels, native.pixels)


# --- matte: the RGB half pinned to the footage -------------------------------------------------------------
def test_matte_generates_alpha_while_rgb_half_equals_the_footage(t2v):
    clip = rgb_clip()
    kept = []
    out = pull_matte(t2v, clip, GenerationRequest("fire", steps=3, seed=0), keep_latents=kept)
    ((window, latents, footage_latents),) = kept
    assert window == (0, 9)
    assert torch.equal(latents[:, :3], footage_latents.to(latents.dtype))  # RGB half = the footage's latents
    plain = t2v.denoise(GenerationRequest("fire", steps=3, seed=0))[1]
    assert not torch.equal(plain[:, 3:], latents[:, 3:])  # the alpha half attended to it
    assert out.pixels.shape == clip.pixels.shape
    assert np.array_equal(out.pixels[..., :3], clip.pixels[..., :3])  # the colour is the input's, bit for bit
    assert 0 <= out.alpha.min() and out.alpha.max() <= 1 and out.alpha.std() > 0
    record = out.metadata["conditioning"]
    assert record["windows"] == [[0, 9]] and record["target"] == "rgb half (all frames)"


def test_matte_of_a_longer_larger_clip_runs_in_windows(t2v):
    clip = rgb_clip(frames=13, h=40, w=70, seed=3)
    seen = []
    kept = []
    out = pull_matte(
        t2v,
        clip,
        GenerationRequest("", steps=2, seed=0),
        progress=lambda i, n: seen.append((i, n)),
        cond=Conditioning(overlap=2),
        keep_latents=kept,
    )
    assert [w for w, _, _ in kept] == [(0, 9), (4, 13)]
    for _, latents, footage in kept:
        assert torch.equal(latents[:, :3], footage)
    assert out.pixels.shape == (13, 40, 70, 4)
    assert np.array_equal(out.pixels[..., :3], clip.pixels[..., :3])
    assert seen[-1] == (4, 4) and len(seen) == 4
    assert out.metadata["conditioning"]["windows"] == [[0, 9], [4, 13]]
    assert out.metadata["output_size"] == [70, 40, 13]


def test_matte_strength_below_one_changes_the_colour(t2v):
    clip = rgb_clip(seed=5)
    out = pull_matte(t2v, clip, GenerationRequest("", steps=4, seed=0), cond=Conditioning(strength=0.5))
    assert out.pixels.shape == clip.pixels.shape
    assert not np.allclose(out.pixels[..., :3], clip.pixels[..., :3], atol=1e-3)


def test_matte_refuses_a_clip_that_has_alpha_unless_asked(t2v):
    frames = rgb_clip().frames.copy()
    frames[..., 3] = 0.5
    clip = Clip(frames)
    with pytest.raises(InputError, match="already has an alpha") as err:
        pull_matte(t2v, clip, GenerationRequest("", steps=2))
    assert "--replace-alpha" in err.value.one_line() and "\n" not in err.value.one_line()
    out = pull_matte(t2v, clip, GenerationRequest("", steps=2), cond=Conditioning(replace_alpha=True))
    assert np.allclose(out.pixels[..., :3], clip.pixels[..., :3])  # flattened over black = its premultiplied colour
    assert out.metadata["conditioning"]["replace_alpha"] is True


def test_pin_shapes_are_what_the_sequence_expects(t2v):
    pin = Pin(3, torch.zeros(1, 3, 4, 8, 12))
    assert (pin.start, pin.stop) == (3, 6)


def test_matte_clears_where_the_footage_is_black_unless_kept(t2v):
    frames = np.zeros((9, 32, 48, 4), np.float32)
    frames[..., 3] = 1.0
    frames[:, 8:24, 12:36, :3] = [0.9, 0.5, 0.2]  # an element on black
    clip = Clip(frames, fps=12)
    black = np.ones((32, 48), bool)
    black[8:24, 12:36] = False
    req = dict(prompt="fire", steps=2, seed=0)
    model = Conditioning(matte_alpha="model")  # the model's own alpha: what clear_black has to clean
    default = pull_matte(t2v, clip, GenerationRequest(**req), cond=model)
    kept = pull_matte(t2v, clip, GenerationRequest(**req, clear_black=False), cond=model)
    assert default.metadata["clear_black"] is True and kept.metadata["clear_black"] is False
    assert np.all(default.alpha[:, black] == 0)  # nothing is visible there
    assert kept.alpha[:, black].max() > 0.05  # the model's own guess, kept when asked
    assert np.array_equal(default.alpha[:, ~black], kept.alpha[:, ~black])  # the element itself is untouched


def test_matte_keys_the_footage_at_the_level_the_model_sets_by_default(t2v):
    """`--matte-alpha keyed` (the default on a premultiplied model): the delivered alpha is the footage's brightest
    channel over the element level read from the model's own matte, then cleared where black; `model` keeps the
    model's alpha; keyed cannot key a colour it does not keep (strength < 1)."""
    from vfxgen.alpha_bounds import keyed_matte
    from vfxgen.pipelines.conditioning import footage_over_black

    clip = rgb_clip(seed=2)
    req = dict(prompt="smoke", steps=2, seed=0)
    keyed = pull_matte(t2v, clip, GenerationRequest(**req))
    raw = pull_matte(t2v, clip, GenerationRequest(**req, clear_black=False), alpha_floor=False)
    model = pull_matte(t2v, clip, GenerationRequest(**req), cond=Conditioning(matte_alpha="model"))
    record = keyed.metadata["conditioning"]
    assert record["matte_alpha"] == "keyed" and model.metadata["conditioning"]["matte_alpha"] == "model"
    want, level = keyed_matte(raw.alpha, footage_over_black(clip, False))
    assert record["key_level"] == level and model.metadata["conditioning"]["key_level"] is None
    expected = clear_black(np.concatenate([clip.pixels[..., :3], want[..., None]], axis=-1))[..., 3]
    np.testing.assert_array_equal(keyed.alpha, expected)
    assert not np.array_equal(keyed.alpha, model.alpha)
    with pytest.raises(UsageError, match="--matte-alpha keyed") as err:
        pull_matte(t2v, clip, GenerationRequest(**req), cond=Conditioning(strength=0.5, matte_alpha="keyed"))
    assert "\n" not in err.value.one_line()
    with pytest.raises(UsageError, match="unknown --matte-alpha"):
        Conditioning(matte_alpha="luma").checked()
