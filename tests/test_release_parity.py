"""Release parity: vfxgen with the release's recipe reproduces the official TransPixar sampling.

`release_sample` below is our own port, written from the release's public code (CogVideoX/cli.py,
pipeline_rgba.py, rgba_utils.py of wileewang/TransPixar), not from vfxgen: a stock diffusers CogVideoX
transformer with a release-style attention processor (LoRA computed on every token then added to the
alpha half, RoPE applied to each half, the dense 0/1 mask *added* to the logits), the domain embedding
added after the patch embedding, and the release's loop (F-frame noise repeated for the alpha half,
CogVideoXDPMScheduler with trailing spacing, dynamic CFG, max-of-channels alpha, rgb * alpha).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
from diffusers.models.embeddings import apply_rotary_emb
from diffusers.utils.torch_utils import randn_tensor
from safetensors.torch import load_file, save_file

from tests.tiny_models import save_tiny_model_dir
from vfxgen.errors import VfxgenWarning
from vfxgen.pipelines.recipe import RELEASE, is_release_layout, resolve_recipe
from vfxgen.pipelines.rgba import GenerationRequest, LoadOptions, RGBAPipeline

PROMPT, SEED, STEPS, GUIDANCE = "fire", 3, 4, 6.0


@pytest.fixture(scope="module")
def release_files(tmp_path_factory):
    """A tiny CogVideoX folder and a LoRA file as the release ships it: its key layout, a 3-D
    `domain_emb`, no metadata (so lora_alpha = 1, scale 1/rank)."""
    root = tmp_path_factory.mktemp("release")
    model = save_tiny_model_dir(root / "model")
    state = load_file(model / "transpixar_lora.safetensors")
    g = torch.Generator().manual_seed(11)
    state = {k: torch.randn(v.shape, generator=g) * 0.5 for k, v in state.items()}
    state["domain_emb"] = state["domain_emb"].reshape(1, 1, -1)
    lora = root / "release_lora.safetensors"
    save_file(state, lora)
    return model, lora


class ReleaseStyleProcessor:
    """Attention as the release computes it (rgba_utils.RGBALoRACogVideoXAttnProcessor, in our words)."""

    def __init__(self, lora: dict[str, tuple[torch.Tensor, torch.Tensor]], scale: float, mask: torch.Tensor):
        self.lora, self.scale, self.mask = lora, scale, mask

    def _delta(self, name: str, x: torch.Tensor) -> torch.Tensor:
        down, up = self.lora[name]
        return x @ down.T @ up.T * self.scale

    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        text = encoder_hidden_states.shape[1]
        x = torch.cat([encoder_hidden_states, hidden_states], dim=1)
        batch, _, _ = x.shape
        video = x.shape[1] - text
        half = video // 2
        q, k, v = attn.to_q(x), attn.to_k(x), attn.to_v(x)
        for name, t in (("to_q", q), ("to_k", k), ("to_v", v)):
            t[:, -half:] += self._delta(name, x)[:, -half:]  # computed on all tokens, kept on alpha
        heads = attn.heads
        q, k, v = (t.view(batch, -1, heads, t.shape[-1] // heads).transpose(1, 2) for t in (q, k, v))
        q, k = attn.norm_q(q), attn.norm_k(k)
        if image_rotary_emb is not None:
            for t in (q, k):
                t[:, :, text : text + half] = apply_rotary_emb(t[:, :, text : text + half], image_rotary_emb)
                t[:, :, text + half :] = apply_rotary_emb(t[:, :, text + half :], image_rotary_emb)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=self.mask)
        out = out.transpose(1, 2).reshape(batch, -1, heads * q.shape[-1])
        projected = attn.to_out[0](out)
        projected[:, -half:] += self._delta("to_out.0", out)[:, -half:]
        projected = attn.to_out[1](projected)
        return projected[:, text:], projected[:, :text]


def release_transformer(model_dir, lora_file, text_len: int, video_tokens: int) -> CogVideoXTransformer3DModel:
    transformer = CogVideoXTransformer3DModel.from_pretrained(str(model_dir / "transformer")).eval()
    weights = load_file(lora_file)
    rank = weights["transformer.transformer_blocks.0.attn1.to_q.lora_A.weight"].shape[0]
    total = text_len + video_tokens
    mask = torch.ones(total, total, dtype=torch.bool)
    mask[:text_len, text_len + video_tokens // 2 :] = False  # text may not see alpha...
    mask = mask.to(torch.float32)  # ...but the release casts the mask to the model dtype: it is *added*
    for i, block in enumerate(transformer.transformer_blocks):
        prefix = f"transformer.transformer_blocks.{i}.attn1"
        lora = {
            name: (weights[f"{prefix}.{name}.lora_A.weight"], weights[f"{prefix}.{name}.lora_B.weight"])
            for name in ("to_q", "to_k", "to_v", "to_out.0")
        }
        block.attn1.set_processor(ReleaseStyleProcessor(lora, 1.0 / rank, mask))
    domain = weights["domain_emb"].reshape(1, 1, -1)

    def add_domain(_module, _inputs, output):  # the release adds it to the alpha half after patch embedding
        output[:, text_len + video_tokens // 2 :] += domain
        return output

    transformer.patch_embed.register_forward_hook(add_domain)
    return transformer


@torch.no_grad()
def release_sample(model_dir, lora_file, frames: int, height: int, width: int):
    """The release's sampling loop (pipeline_rgba.CogVideoXPipeline.__call__ + cli.py), ported."""
    pipe = CogVideoXPipeline.from_pretrained(str(model_dir))
    pipe.vae.enable_slicing()  # cli.py does both, whatever the size
    pipe.vae.enable_tiling()
    scheduler = CogVideoXDPMScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing")
    text_len = pipe.transformer.config.max_text_seq_length
    latent_frames = (frames - 1) // pipe.vae_scale_factor_temporal + 1
    h, w = height // pipe.vae_scale_factor_spatial, width // pipe.vae_scale_factor_spatial
    video_tokens = 2 * latent_frames * (h // 2) * (w // 2)
    transformer = release_transformer(model_dir, lora_file, text_len, video_tokens)
    generator = torch.Generator().manual_seed(SEED)  # torch.manual_seed(seed) in the release: the same stream
    positive, negative = pipe.encode_prompt(PROMPT, None, True, max_sequence_length=text_len, device="cpu")
    embeds = torch.cat([negative, positive])
    scheduler.set_timesteps(STEPS)
    timesteps = scheduler.timesteps
    shape = (1, latent_frames, pipe.vae.config.latent_channels, h, w)
    latents = (randn_tensor(shape, generator=generator) * scheduler.init_noise_sigma).repeat(1, 2, 1, 1, 1)
    rope = pipe._prepare_rotary_positional_embeddings(height, width, latent_frames, torch.device("cpu"))
    old_prediction = None
    for i, t in enumerate(timesteps):
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        prediction = transformer(
            hidden_states=model_input,
            encoder_hidden_states=embeds,
            timestep=t.expand(2),
            image_rotary_emb=rope,
            return_dict=False,
        )[0].float()
        scale = 1 + GUIDANCE * ((1 - math.cos(math.pi * ((STEPS - t.item()) / STEPS) ** 5.0)) / 2)
        uncond, cond = prediction.chunk(2)
        prediction = uncond + scale * (cond - uncond)
        latents, old_prediction = scheduler.step(
            prediction,
            old_prediction,
            t,
            timesteps[i - 1] if i > 0 else None,
            latents,
            eta=0.0,
            generator=generator,
            return_dict=False,
        )
    rgb_latents, alpha_latents = latents.chunk(2, dim=1)

    def decode(z):
        return pipe.video_processor.postprocess_video(video=pipe.decode_latents(z), output_type="np")[0]

    rgb, alpha = decode(rgb_latents), decode(alpha_latents)
    alpha = np.max(alpha, axis=-1, keepdims=True)
    return latents, np.concatenate([rgb * alpha, alpha], axis=-1)


@pytest.mark.parametrize("size", [None, (64, 384)], ids=["native", "above-tile-size"])
def test_release_recipe_with_official_mask_reproduces_the_release(release_files, size):
    """At the native size and above the VAE's tile size (half its sample size: 360 px wide here, as 720x480
    is for CogVideoX-5B), where the release's tiled decode blends tiles: the release recipe tiles too."""
    model, lora = release_files
    options = LoadOptions(device="cpu", recipe="release", attention="official")
    pipe = RGBAPipeline.from_pretrained(model, lora, options)
    assert type(pipe.pipe.scheduler).__name__ == "CogVideoXDPMScheduler"
    assert pipe.pipe.scheduler.config.timestep_spacing == "trailing"
    height, width = size or (None, None)
    if size is not None:
        assert width > pipe.pipe.vae.tile_sample_min_width  # the case the issue found: tiles blend here
    request = GenerationRequest(PROMPT, steps=STEPS, guidance=GUIDANCE, seed=SEED, height=height, width=width)
    req, latents = pipe.denoise(request)
    assert (req.rgb, req.noise, req.alpha_reduce, req.dynamic_cfg) == ("straight", "shared", "max", True)
    want_latents, want_rgba = release_sample(model, lora, req.frames, req.height, req.width)
    assert torch.allclose(latents.float(), want_latents, atol=1e-5, rtol=0), (latents - want_latents).abs().max()
    clip = pipe.decode(req, latents)
    premultiplied = np.concatenate([clip.frames[..., :3] * clip.frames[..., 3:], clip.frames[..., 3:]], axis=-1)
    assert np.abs(premultiplied - want_rgba).max() < 1e-5
    assert 0.05 < want_rgba[..., 3].mean() < 0.95 or want_rgba[..., 3].std() > 0.01  # not a degenerate clip


def test_independent_noise_or_another_convention_changes_the_result(release_files):
    """Each recipe field is live: flip one and the output moves away from the release's."""
    model, lora = release_files
    pipe = RGBAPipeline.from_pretrained(model, lora, LoadOptions(device="cpu", recipe="release", attention="official"))
    base = GenerationRequest(PROMPT, steps=2, seed=SEED)
    req, shared = pipe.denoise(base)
    _, independent = pipe.denoise(GenerationRequest(PROMPT, steps=2, seed=SEED, noise="independent"))
    assert not torch.allclose(shared, independent)
    straight = pipe.decode(req, shared)
    over_black = pipe.decode(GenerationRequest(**{**req.__dict__, "rgb": "premultiplied"}), shared)
    alpha = straight.frames[..., 3:]
    np.testing.assert_allclose(over_black.frames[..., 3:], alpha)
    # premultiplied reading: colour = min(decoded, alpha) over black; straight: colour x alpha.
    decoded = straight.frames[..., :3]
    np.testing.assert_allclose(over_black.frames[..., :3] * alpha, np.minimum(decoded, alpha) * (alpha > 0), atol=2e-6)


def test_release_layout_detection_is_for_the_5b_shape_only():
    width, blocks = 3072, 42
    header = {"domain_emb": {"shape": [1, 1, width]}}
    for i in range(blocks):
        for name in ("to_q", "to_k", "to_v", "to_out.0"):
            header[f"transformer.transformer_blocks.{i}.attn1.{name}.lora_A.weight"] = {"shape": [128, width]}
            header[f"transformer.transformer_blocks.{i}.attn1.{name}.lora_B.weight"] = {"shape": [width, 128]}
    assert is_release_layout(header)
    smaller = {k: v for k, v in header.items() if ".41." not in k}
    assert not is_release_layout(smaller)
    other_width = {k: {"shape": [128, 1920]} if k.endswith("lora_A.weight") else v for k, v in header.items()}
    assert not is_release_layout(other_width)


def test_recipe_sources_and_precedence(release_files, tmp_path):
    model, lora = release_files
    # A LoRA without metadata on a small model, no folder recipe: a guess, said in a warning.
    with pytest.warns(VfxgenWarning, match="--recipe release or --recipe vfxgen"):
        guessed = resolve_recipe({}, lora)
    assert guessed.source.startswith("guessed: vfxgen") and guessed.rgb == "premultiplied"
    import warnings

    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        resolve_recipe({}, lora)  # resolved again by the loader: the guess is said once per process
    assert not [w for w in again if issubclass(w.category, VfxgenWarning)]
    hints = {"recipe": {"rgb": "straight", "noise": "shared"}}
    from_folder = resolve_recipe(hints, lora)
    assert (from_folder.rgb, from_folder.noise, from_folder.source) == ("straight", "shared", "model vfxgen.json")
    # vfxgen train writes its recipe into the LoRA: it wins over the folder's.
    from vfxgen.pipelines.recipe import recipe_metadata

    trained = tmp_path / "trained.safetensors"
    save_file(load_file(lora), trained, metadata=recipe_metadata(RELEASE))
    assert resolve_recipe(hints, trained).alpha_reduce == "max"
    assert resolve_recipe(hints, trained, scheduler="ddim").scheduler == "ddim"
    with pytest.raises(Exception, match="--scheduler"):
        resolve_recipe(hints, trained, scheduler="euler")


def test_a_metadata_less_lora_of_release_shape_is_a_guess_unless_its_hash_is_the_releases(tmp_path, monkeypatch):
    """Keys, rank and shapes cannot identify the release (vfxgen LoRAs share its layout; I2V and 1.5 share its
    shapes): without metadata the release recipe is a warned guess, and exact only by the file's sha256."""
    from vfxgen.pipelines import recipe as recipe_module
    from vfxgen.pipelines.model_dirs import file_sha256

    state = {"domain_emb": torch.zeros(1, 1, 3072)}
    for i in range(42):
        for name in ("to_q", "to_k", "to_v", "to_out.0"):
            state[f"transformer.transformer_blocks.{i}.attn1.{name}.lora_A.weight"] = torch.zeros(1, 3072)
            state[f"transformer.transformer_blocks.{i}.attn1.{name}.lora_B.weight"] = torch.zeros(3072, 1)
    lora = tmp_path / "pytorch_lora_weights.safetensors"
    save_file(state, lora)
    with pytest.warns(VfxgenWarning, match="guessed the release recipe"):
        guessed = resolve_recipe({}, lora)
    assert guessed.source.startswith("guessed: release") and guessed.rgb == "straight"
    monkeypatch.setattr(recipe_module, "RELEASE_SHA256", frozenset({file_sha256(lora)}))
    known = resolve_recipe({}, lora)
    assert known.source == "TransPixar release (sha256)" and known.vae_tiling
    assert resolve_recipe({}, lora, base="vfxgen").source == "vfxgen default"  # --recipe always wins


def test_bundled_model_recipe_is_recorded_in_the_manifest(tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    result = CliRunner().invoke(
        app, ["generate", "fire", "-o", str(tmp_path / "s"), "--steps", "2", "--format", "exr", "--noise", "shared"]
    )
    assert result.exit_code == 0, result.output
    generation = json.loads((tmp_path / "s" / "shot.json").read_text())["generation"]
    recipe = generation["recipe"]
    # The bundled LoRA records the recipe it was trained with (`vfxgen train` writes it); the LoRA's record wins
    # over the folder's vfxgen.json, and the two agree.
    assert recipe["rgb"] == "premultiplied" and recipe["source"] == "LoRA transpixar_lora.safetensors"
    from vfxgen.pipelines.model_dirs import DEFAULT_MODEL_DIR

    hinted = json.loads((DEFAULT_MODEL_DIR / "vfxgen.json").read_text())["recipe"]
    shot_overrides = ("noise", "steps")  # this command's own --noise and --steps
    assert {k: recipe[k] for k in hinted if k not in shot_overrides} == {
        k: v for k, v in hinted.items() if k not in shot_overrides
    }
    assert recipe["noise"] == "shared" and generation["noise"] == "shared"
    assert generation["scheduler"] == "CogVideoXDPMScheduler" and generation["timestep_spacing"] == "trailing"


def test_release_weights_get_a_noncommercial_notice_and_shot_json_says_so(release_files, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.licences import TRANSPIXAR_RELEASE

    model, lora = release_files
    args = ["generate", "fire", "--model", str(model), "--lora", str(lora), "--steps", "1", "--format", "exr"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "s"), "--recipe", "release"])
    assert result.exit_code == 0, result.output
    assert result.output.count("noncommercial research only") == 1  # once per run
    assert json.loads((tmp_path / "s" / "shot.json").read_text())["generation"]["weights_licence"] == TRANSPIXAR_RELEASE
    other = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "v"), "--recipe", "vfxgen"])
    assert other.exit_code == 0 and "noncommercial" not in other.output


def test_weight_hashes_are_remembered_on_disk_by_path_size_and_mtime(tmp_path, monkeypatch):
    """A farm runs a process per task: large weights are hashed once, then read from the cache while the
    file's path, size and mtime are unchanged (a changed file is hashed again)."""
    import os

    from vfxgen.pipelines import model_dirs

    monkeypatch.setenv("VFXGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(model_dirs, "DISK_CACHE_MIN_BYTES", 0)
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"a" * 1000)
    first = model_dirs.file_sha256(weights)
    assert json.loads(model_dirs.hash_cache_file().read_text())[str(weights.resolve())]["sha256"] == first
    stat = weights.stat()
    weights.write_bytes(b"b" * 1000)  # same size; the mtime put back: the cache cannot tell
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    monkeypatch.setattr(model_dirs, "_HASHES", {})  # a new process
    assert model_dirs.file_sha256(weights) == first  # read from the disk cache, not rehashed
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    monkeypatch.setattr(model_dirs, "_HASHES", {})
    assert model_dirs.file_sha256(weights) != first  # touched: hashed again
