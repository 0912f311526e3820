"""Wan 2.1 backbone running Wan-Alpha: vfxgen's output equals an independent port of the released inference
(`tests/wan_alpha_port.py`) on tiny random models saved in the released file layouts.

The base model is a diffusers-layout Wan folder (what `Wan-AI/Wan2.1-T2V-14B-Diffusers` is) built here from the
port's tiny ORIGINAL-layout DiT and VAE with diffusers' own converters; everything Wan-Alpha adds (DoRA with
original module names, LightX2V with diff/diff_b/diff_m, the two-decoder VAE file, the Gaussian mask) goes to
vfxgen as the released files. The port gets the same files and the prompt's text-encoder output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import vfxgen
from tests import wan_alpha_port as port

SIZE, FRAMES = 32, 5


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1, written out here so the comparison shares no colour code with vfxgen."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _save_wan_folder(root: Path, files: dict[str, str]) -> Path:
    """A diffusers-layout WanPipeline folder holding the port's tiny base DiT and VAE, a tiny UMT5 text encoder
    and a byte tokenizer (no download)."""
    from diffusers import UniPCMultistepScheduler, WanPipeline
    from transformers import ByT5Tokenizer, UMT5Config, UMT5EncoderModel

    config, state = port.load_original_dit(files["ckpt_dir"])
    transformer = port.original_dit_to_diffusers(config, state)
    vae = port.original_vae_to_diffusers(torch.load(files["vae_pth"], map_location="cpu", weights_only=True))
    torch.manual_seed(7)
    text_encoder = UMT5EncoderModel(
        UMT5Config(vocab_size=384, d_model=config["text_dim"], d_kv=8, d_ff=48, num_layers=1, num_heads=4)
    ).eval()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    pipe = WanPipeline(
        tokenizer=ByT5Tokenizer(), text_encoder=text_encoder, transformer=transformer, vae=vae, scheduler=scheduler
    )
    folder = root / "Wan2.1-T2V-tiny-Diffusers"
    pipe.save_pretrained(folder, safe_serialization=True)
    (folder / "vfxgen.json").write_text(json.dumps({"sample_size": [SIZE, SIZE, FRAMES]}))
    return folder


@pytest.fixture(scope="module")
def wan(tmp_path_factory):
    root = tmp_path_factory.mktemp("wan")
    files = port.write_tiny_release_files(str(root), width=SIZE, height=SIZE, frame_num=FRAMES)
    folder = _save_wan_folder(root, files)
    return folder, files


def _context(folder: Path, prompt: str) -> torch.Tensor:
    """The prompt's text-encoder features `(L, dim)` as the port takes them (the release's T5 call: padded to
    512 tokens with an attention mask, cut back to the prompt's tokens)."""
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(folder)
    ids = pipe.tokenizer(prompt, padding="max_length", max_length=512, truncation=True, return_tensors="pt")
    with torch.no_grad():
        out = pipe.text_encoder(ids.input_ids, ids.attention_mask).last_hidden_state[0]
    return out[: int(ids.attention_mask.sum())].float()


def _reference(folder: Path, files: dict[str, str], **kwargs) -> np.ndarray:
    """The port's premultiplied frames for "burning fire" on the tiny release files (its text input: the
    folder's own text encoder), with the shot settings in `kwargs`."""
    context = _context(folder, "burning fire")
    common = {"frame_num": FRAMES, "width": SIZE, "height": SIZE, "dora_path": files["dora"]}
    result = port.generate(files["ckpt_dir"], files["vae_pth"], files["decoder"], context, **common, **kwargs)
    return _port_premultiplied(result)


def _port_premultiplied(result: dict) -> np.ndarray:
    rgb, alpha = result["float"].rgb, result["float"].alpha[..., None]
    return np.concatenate([_srgb_to_linear(rgb) * alpha, alpha], axis=-1)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("seed", [0, 5])
def test_wan_alpha_equals_the_released_inference(wan, version, seed):
    folder, files = wan
    mask = files["mask"] if version == "v2" else None
    clip = vfxgen.generate(
        "burning fire",
        model=folder,
        lora=files["dora"],
        vae_decoder=files["decoder"],
        distill=files["lightx2v"],
        alpha_mask=mask,
        seed=seed,
        device="cpu",
    )
    expected = _reference(
        folder,
        files,
        seed=seed,
        lightx2v_path=files["lightx2v"],
        mask_path=mask,
        alpha_shift_mean=port.ALPHA_SHIFT_MEAN_RELEASED,
    )
    assert clip.pixels.shape == expected.shape
    difference = float(np.abs(clip.pixels - expected).max())
    assert difference <= 1e-4, difference
    assert clip.metadata["recipe"]["source"].startswith(f"Wan-Alpha release {version}")
    assert clip.metadata["recipe"]["steps"] == 4 and clip.metadata["recipe"]["guidance"] == 1.0


@pytest.mark.parametrize("solver", ["unipc", "dpm++"])
def test_classifier_free_guidance_equals_the_released_loop(wan, solver):
    folder, files = wan
    clip = vfxgen.generate(
        "burning fire",
        scheduler={"unipc": "unipc", "dpm++": "dpm"}[solver],
        model=folder,
        lora=files["dora"],
        vae_decoder=files["decoder"],
        guidance=3.0,
        negative="blurry",
        steps=6,
        seed=2,
        device="cpu",
    )
    expected = _reference(
        folder, files, seed=2, steps=6, guide_scale=3.0, context_null=_context(folder, "blurry"), solver=solver
    )
    difference = float(np.abs(clip.pixels - expected).max())
    assert difference <= 1e-4, difference


def test_the_cli_writes_the_same_pixels_as_the_api(wan, tmp_path):
    """The shot's EXR holds the API's clip, cast to half (the writer is a plain cast); the generation record
    names the recipe and every Wan-Alpha file by content."""
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.io.exr import read_exr_sequence

    folder, files = wan
    wan_alpha = ["--lora", files["dora"], "--vae-decoder", files["decoder"], "--distill", files["lightx2v"]]
    args = ["generate", "burning fire", "--model", str(folder), *wan_alpha, "--alpha-mask", files["mask"]]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "shot"), "--format", "exr", "--seed", "5"])
    assert result.exit_code == 0, result.output
    clip = vfxgen.generate(
        "burning fire",
        model=folder,
        lora=files["dora"],
        vae_decoder=files["decoder"],
        distill=files["lightx2v"],
        alpha_mask=files["mask"],
        seed=5,
    )
    written = read_exr_sequence(tmp_path / "shot" / "rgba")
    np.testing.assert_array_equal(written.pixels, clip.pixels.astype(np.float16).astype(np.float32))
    record = json.loads((tmp_path / "shot" / "shot.json").read_text())["generation"]
    assert record["recipe"]["alpha_shift_mean"] == 0.05 and record["recipe"]["flow_shift"] == 5.0
    assert len(record["vae_decoder_sha256"]) == 64 and len(record["alpha_mask_sha256"]) == 64
    import hashlib

    weights = record["model_files_sha256"]  # every weight file of the base model, by content
    assert (
        "transformer/diffusion_pytorch_model.safetensors" in weights
        and "vae/diffusion_pytorch_model.safetensors" in weights
    )
    for name, digest in weights.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    resumed = CliRunner().invoke(
        app, [*args, "-o", str(tmp_path / "shot"), "--format", "exr", "--seed", "5", "--resume"]
    )
    assert resumed.exit_code == 0 and "skipped" in resumed.output, resumed.output


def test_wan_alpha_files_are_refused_on_other_models_and_required_on_wan(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    cog = CliRunner().invoke(app, ["generate", "fire", "-o", str(tmp_path / "a"), "--vae-decoder", files["decoder"]])
    assert cog.exit_code == 2 and "--vae-decoder does not apply to CogVideoX models" in cog.output
    bare = CliRunner().invoke(
        app, ["generate", "fire", "--model", str(folder), "--lora", files["dora"], "-o", str(tmp_path / "b")]
    )
    assert bare.exit_code == 2 and "--vae-decoder" in bare.output and not (tmp_path / "b").exists()
    wrong = CliRunner().invoke(
        app,
        [
            "generate",
            "fire",
            "--model",
            str(folder),
            "--recipe",
            "release",
            "-o",
            str(tmp_path / "c"),
            "--lora",
            files["dora"],
            "--vae-decoder",
            files["decoder"],
        ],
    )
    assert wrong.exit_code == 2 and "wan-alpha-v1, wan-alpha-v2" in wrong.output


def test_presets_speak_wan_alphas_prompt_style_and_keep_its_distilled_sampler(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    wan_alpha = ["--lora", files["dora"], "--vae-decoder", files["decoder"], "--distill", files["lightx2v"]]
    shot = tmp_path / "fire"
    args = ["generate", "--preset", "fire", "--model", str(folder), *wan_alpha, "-o", str(shot), "--format", "exr"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    record = json.loads((shot / "shot.json").read_text())["generation"]
    assert record["prompt"].startswith("The background of this video is transparent. A fireball of roaring")
    assert record["prompt"].endswith("Realistic style.") and "black" not in record["prompt"]
    # The fire preset asks for 50 steps at guidance 6 (CogVideoX's); Wan-Alpha keeps its 4 steps, no guidance.
    assert (record["steps"], record["guidance"], record["preset"]) == (4, 1.0, "fire")
    qc = CliRunner().invoke(app, ["qc", str(shot), "--json"])  # a random tiny model may fail checks (exit 9)
    assert qc.exit_code in (0, 9) and "manifest" in qc.output


def test_transpixar_on_wan_trains_and_generates(wan, tmp_path):
    """`vfxgen train --stage alpha` on a Wan folder trains TransPixar's alpha tokens (only the LoRA and the
    domain embedding change), writes the adapter in the reference's key names with its recipe, and
    `generate` runs it: [RGB | alpha] latent frames, both halves decoded by the stock VAE."""
    from safetensors import safe_open
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.models.transpixar_wan import DOMAIN_KEY

    folder, _ = wan
    data, run, shot = tmp_path / "data", tmp_path / "run", tmp_path / "shot"
    synth = ["dataset", "synth", "-o", str(data), "--count", "4", "--frames", str(FRAMES), "--size", str(SIZE)]
    assert CliRunner().invoke(app, synth).exit_code == 0
    train = ["train", "--model", str(folder), "--data", str(data), "-o", str(run), "--steps", "2", "--batch", "2"]
    result = CliRunner().invoke(app, [*train, "--rank", "4", "--lora-alpha", "4", "--seed", "0"])
    assert result.exit_code == 0, result.output
    adapter = run / "transpixar_lora.safetensors"
    with safe_open(str(adapter), framework="pt") as handle:
        keys, metadata = set(handle.keys()), handle.metadata()
        assert float(handle.get_tensor(DOMAIN_KEY).abs().max()) > 0  # trained away from its zero start
    assert "diffusion_model.blocks.0.self_attn.q.lora_B.weight" in keys
    assert json.loads(metadata["vfxgen:recipe"])["steps"] == 30 and metadata["vfxgen:lora_alpha"] == "4.0"
    args = ["generate", "fire", "--model", str(folder), "--lora", str(adapter), "-o", str(shot), "--format", "exr"]
    result = CliRunner().invoke(app, [*args, "--steps", "3"])
    assert result.exit_code == 0, result.output
    record = json.loads((shot / "shot.json").read_text())["generation"]
    assert record["recipe"]["source"] == "LoRA transpixar_lora.safetensors"  # the recipe the adapter records
    assert (record["guidance"], record["recipe"]["flow_shift"], record["steps"]) == (5.0, 5.0, 3)
    stray = CliRunner().invoke(app, [*args[:-4], "-o", str(tmp_path / "x"), "--vae-decoder", str(adapter)])
    assert stray.exit_code == 2 and "--vae-decoder is not used by these weights" in stray.output
    refused = CliRunner().invoke(app, [*train[:-2], "-o", str(tmp_path / "r"), "--stage", "rgb"])
    assert refused.exit_code == 2 and "use --stage alpha" in refused.output and not (tmp_path / "r").exists()
    # A warm start from the adapter (`--init-lora`): one small step moves it a little, not back to zeros.
    warm = tmp_path / "warm"
    again = [*train[:-2], "-o", str(warm), "--steps", "1", "--lr", "1e-5", "--init-lora", str(adapter)]
    result = CliRunner().invoke(app, [*again, "--rank", "4", "--lora-alpha", "4"])
    assert result.exit_code == 0, result.output
    with safe_open(str(adapter), framework="pt") as a, safe_open(str(warm / adapter.name), framework="pt") as b:
        start, moved = a.get_tensor(DOMAIN_KEY), b.get_tensor(DOMAIN_KEY)
    assert not torch.equal(start, moved) and (moved - start).norm() < 0.25 * start.norm()
    # Every clip held (`--hold-elements`): its target is the warm-started model's own prediction, nothing moves.
    elements = {json.loads(line)["element"] for line in (data / "manifest.jsonl").read_text().splitlines()}
    held = [
        *again[:-2],
        "-o",
        str(tmp_path / "held"),
        "--init-lora",
        str(adapter),
        "--hold-elements",
        ",".join(elements),
    ]
    result = CliRunner().invoke(app, [*held, "--rank", "4", "--lora-alpha", "4"])
    assert result.exit_code == 0, result.output
    with safe_open(str(adapter), framework="pt") as a, safe_open(str(tmp_path / "held" / adapter.name), "pt") as b:
        assert all(torch.equal(a.get_tensor(key), b.get_tensor(key)) for key in a.keys())


def test_flow_shift_changes_the_wan_sampler_and_is_refused_elsewhere(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    kwargs = {"model": folder, "lora": files["dora"], "vae_decoder": files["decoder"], "seed": 1}
    default, shifted = vfxgen.generate("fire", **kwargs), vfxgen.generate("fire", flow_shift=3.0, **kwargs)
    assert default.metadata["recipe"]["flow_shift"] == 5.0 and shifted.metadata["recipe"]["flow_shift"] == 3.0
    assert np.abs(default.pixels - shifted.pixels).max() > 1e-3
    cog = CliRunner().invoke(app, ["generate", "fire", "-o", str(tmp_path / "a"), "--flow-shift", "3"])
    assert cog.exit_code == 2 and "--flow-shift does not apply to CogVideoX models" in cog.output


@pytest.fixture(scope="module")
def wan_pipeline(wan):
    from vfxgen.pipelines.rgba import RGBAPipeline

    folder, files = wan
    return RGBAPipeline.from_pretrained(folder, files["dora"], vae_decoder=files["decoder"], device="cpu")


def test_animate_on_wan_pins_the_stills_latent_as_frame_zero(wan_pipeline, tmp_path):
    """Frame-0 replacement on Wan's `[B, C, F, h, w]` latents with its flow-matching sampler: at strength 1 the
    final latent's first frame is exactly the still's (the alpha comes from the alpha decoder: Wan-Alpha
    carries no alpha frames to pin)."""
    import torch

    from vfxgen.pipelines.conditioning import Conditioning, pin_and_denoise, still_pins

    still = np.random.default_rng(0).random((SIZE, SIZE, 4)).astype(np.float32)
    req = wan_pipeline.check(vfxgen.GenerationRequest("fire", seed=3), text_required=False)
    pins = still_pins(wan_pipeline, still, req)
    assert len(pins) == 1 and pins[0].latent.shape == (1, 16, 1, SIZE // 8, SIZE // 8)
    latents = pin_and_denoise(wan_pipeline, req, pins, Conditioning(mode="replace"))
    assert torch.equal(latents[:, :, 0].float(), pins[0].latent[:, :, 0])
    assert not torch.equal(latents[:, :, 1].float(), latents[:, :, 0].float())  # the rest is generated
    clip = wan_pipeline.animate(still, vfxgen.GenerationRequest("fire", seed=3))
    assert clip.pixels.shape == (FRAMES, SIZE, SIZE, 4)
    assert clip.metadata["conditioning"]["target"] == "first frame (rgb)"


def test_matte_on_wan_keeps_the_footages_colour_and_reads_alpha_from_the_alpha_decoder(wan_pipeline):
    import torch

    from vfxgen.clip import Clip
    from vfxgen.pipelines.conditioning import Conditioning, pull_matte

    rgb = np.random.default_rng(1).random((FRAMES, SIZE, SIZE, 3)).astype(np.float32) * 0.5
    footage = Clip.from_premultiplied(np.concatenate([rgb, np.ones_like(rgb[..., :1])], -1), 8.0)
    kept: list = []
    out = pull_matte(
        wan_pipeline,
        footage,
        vfxgen.GenerationRequest("fire", clear_black=False),  # the alpha decoder's own reading, not cleared
        cond=Conditioning(mode="replace"),
        keep_latents=kept,
    )
    (_, final, pinned) = kept[0]
    assert torch.equal(final.float(), pinned)  # every latent frame held: the alpha decoder reads the footage
    np.testing.assert_array_equal(out.pixels[..., :3], footage.pixels[..., :3])  # colour bit for bit
    _, alpha3 = wan_pipeline.runtime.decode_rgba(pinned)
    np.testing.assert_allclose(out.alpha, np.clip(alpha3.mean(-1), 0, 1), atol=1e-6)


def test_animate_and_matte_commands_make_wan_shots(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.clip import Clip
    from vfxgen.io.images import write_png, write_png_sequence

    folder, files = wan
    weights = ["--model", str(folder), "--lora", files["dora"], "--vae-decoder", files["decoder"], "--format", "exr"]
    still = tmp_path / "still.png"
    write_png(still, np.random.default_rng(2).random((SIZE, SIZE, 4)).astype(np.float32))
    animate = CliRunner().invoke(app, ["animate", str(still), "fire", "-o", str(tmp_path / "anim"), *weights])
    assert animate.exit_code == 0, animate.output
    rgb = np.random.default_rng(3).random((FRAMES, SIZE, SIZE, 3)).astype(np.float32) * 0.5
    footage = Clip.from_premultiplied(np.concatenate([rgb, np.ones_like(rgb[..., :1])], -1), 8.0)
    write_png_sequence(footage, tmp_path / "plate", "plate")
    matte = CliRunner().invoke(app, ["matte", str(tmp_path / "plate"), "fire", "-o", str(tmp_path / "matte"), *weights])
    assert matte.exit_code == 0, matte.output
    assert json.loads((tmp_path / "matte" / "shot.json").read_text())["generation"]["model"] == folder.name
    resample = CliRunner().invoke(app, ["animate", str(still), "-o", str(tmp_path / "r"), "--resample", "1", *weights])
    assert resample.exit_code == 2 and "--resample does not apply to Wan 2.1 models" in resample.output
    assert "generating" not in resample.output  # refused before the weights load


def test_settings_that_do_nothing_on_wan_are_refused_before_loading(wan, tmp_path):
    """CogVideoX-only settings, a sampler Wan does not run, a mask the recipe does not use, a v2 recipe without
    its mask, --flow-shift on the folder's own sampler: one line each, nothing loaded or written."""
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    base = ["generate", "fire", "--model", str(folder), "--lora", files["dora"], "--vae-decoder", files["decoder"]]
    cases = {
        ("--attention", "full"): "--attention does not apply to Wan 2.1 models",
        ("--noise", "independent"): "--noise does not apply to Wan 2.1 models",
        ("--dynamic-cfg",): "--dynamic-cfg does not apply to Wan 2.1 models",
        ("--timestep-spacing", "leading"): "--timestep-spacing does not apply to Wan 2.1 models",
        ("--scheduler", "ddim"): "--scheduler ddim does not run Wan 2.1 models",
        ("--recipe", "wan-alpha-v1", "--alpha-mask", files["mask"]): "--alpha-mask is for Wan-Alpha v2",
        ("--recipe", "wan-alpha-v2"): "moves the noise by Wan-Alpha's Gaussian mask",
        ("--scheduler", "model", "--flow-shift", "3"): "--flow-shift sets the unipc and dpm samplers",
    }
    for i, (extra, message) in enumerate(cases.items()):
        result = CliRunner().invoke(app, [*base, "-o", str(tmp_path / f"s{i}"), *extra])
        assert result.exit_code == 2 and message in result.output, (extra, result.output)
        assert "generating" not in result.output and not (tmp_path / f"s{i}").exists()


def test_resume_tells_wan_alpha_v1_from_v2(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    shot = str(tmp_path / "shot")
    base = ["generate", "fire", "--model", str(folder), "--lora", files["dora"], "--vae-decoder", files["decoder"]]
    assert CliRunner().invoke(app, [*base, "-o", shot, "--alpha-mask", files["mask"], "--format", "exr"]).exit_code == 0
    again = CliRunner().invoke(app, [*base, "-o", shot, "--recipe", "wan-alpha-v1", "--format", "exr", "--resume"])
    assert again.exit_code == 4 and "recipe.alpha_shift_mean 0.05 -> 0.0" in again.output, again.output


def test_a_users_preset_sampling_on_wan_is_said_and_the_rate_is_wans(wan, tmp_path):
    folder, files = wan
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "mine.toml").write_text(
        'name = "mine"\ndescription = "test"\nprompt = "a {subject}"\ndefault_subject = "fire"\n'
        "[defaults]\nsteps = 8\nguidance = 3.0\nseed = 4\n"
    )
    kwargs = {"model": folder, "lora": files["dora"], "vae_decoder": files["decoder"]}
    from vfxgen.errors import VfxgenWarning

    with pytest.warns(VfxgenWarning, match="preset mine: guidance, steps not used on Wan 2.1 models"):
        clip = vfxgen.generate(preset="mine", presets_dir=[presets], **kwargs)
    assert (clip.metadata["steps"], clip.metadata["seed"], clip.fps) == (4, 4, 16.0)


def test_damaged_wan_files_are_one_line_model_errors(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files = wan
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x01\x02")
    args = ["generate", "fire", "--model", str(folder), "--lora", files["dora"], "--vae-decoder", files["decoder"]]
    result = CliRunner().invoke(app, [*args, "--distill", str(junk), "-o", str(tmp_path / "a")])
    assert result.exit_code == 6 and "cannot read" in result.output and "internal error" not in result.output
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "vfxgen.json").write_text(json.dumps({"sample_size": [32, 32]}))
    result = CliRunner().invoke(app, [*args[:2], "--model", str(broken), *args[4:], "-o", str(tmp_path / "b")])
    assert result.exit_code == 6 and "sample_size must be [width, height, frames]" in result.output


def test_vae_tiling_and_slicing_run_on_wan(wan_pipeline, wan):
    from vfxgen.pipelines.rgba import RGBAPipeline

    folder, files = wan
    tiled = RGBAPipeline.from_pretrained(
        folder, files["dora"], vae_decoder=files["decoder"], device="cpu", vae_tiling=True, vae_slicing=True
    )
    request = vfxgen.GenerationRequest("fire", seed=2)
    clip, plain = tiled.generate(request), wan_pipeline.generate(request)
    assert clip.metadata["vae_tiling"] and clip.metadata["vae_slicing"]
    np.testing.assert_allclose(clip.pixels, plain.pixels, atol=1e-5)  # a 32x32 shot fits in one tile
