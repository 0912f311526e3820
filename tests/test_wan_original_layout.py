"""`--model` as a Wan folder in the ORIGINAL Wan-AI layout (what Wan-Alpha's README downloads: `Wan2.1-T2V-14B/`
with the release's config.json, DiT safetensors, `Wan2.1_VAE.pth`, the T5 encoder `.pth` and `google/umt5-xxl/`).

The tiny folder holds the reference port's tiny DiT and VAE, a tiny T5 encoder state dict with the release's
own module names (`wan/modules/t5.py`: `blocks.N.attn.q`, `blocks.N.ffn.gate.0`, a position table per block),
saved in bfloat16 as the released file is, and a byte tokenizer. The prompt's text features for the port come
from `_t5_reference` below, a re-implementation of the release's encoder written for this test, so neither
vfxgen's T5 conversion nor transformers' UMT5 is on the reference side.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import vfxgen
from tests import wan_alpha_port as port
from tests.test_wan import _port_premultiplied

SIZE, FRAMES = 32, 5
T5_FILE, TOKENIZER_DIR = "models_t5_umt5-xxl-enc-bf16.pth", "google/umt5-xxl"
#: The tiny T5: the byte tokenizer's 384 ids, width = the tiny DiT's text_dim, umt5's 32 buckets.
TINY_T5 = {"vocab": 384, "dim": port.TinyDiT().text_dim, "heads": 4, "ffn": 48, "layers": 2, "buckets": 32}


# ------------------------------------------------------------------------------------------------------
# The release's T5 encoder, written out for the test
# ------------------------------------------------------------------------------------------------------
def original_t5_shapes(vocab: int, dim: int, heads: int, ffn: int, layers: int, buckets: int) -> dict[str, tuple]:
    """Names and shapes of the release's umt5 `T5Encoder` (shared_pos=False: one position table per block)."""
    shapes: dict[str, tuple] = {"token_embedding.weight": (vocab, dim)}
    for n in range(layers):
        block = f"blocks.{n}"
        shapes[f"{block}.norm1.weight"] = (dim,)
        for proj in "qkvo":
            shapes[f"{block}.attn.{proj}.weight"] = (dim, dim)
        shapes[f"{block}.norm2.weight"] = (dim,)
        shapes[f"{block}.ffn.gate.0.weight"] = (ffn, dim)
        shapes[f"{block}.ffn.fc1.weight"] = (ffn, dim)
        shapes[f"{block}.ffn.fc2.weight"] = (dim, ffn)
        shapes[f"{block}.pos_embedding.embedding.weight"] = (buckets, heads)
    shapes["norm.weight"] = (dim,)
    return shapes


def write_tiny_t5(path: Path, seed: int = 11, **sizes: int) -> dict[str, torch.Tensor]:
    """A random T5 encoder state dict with the release's names, saved with torch.save in bfloat16 (as
    models_t5_umt5-xxl-enc-bf16.pth); returns it as saved."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in original_t5_shapes(**{**TINY_T5, **sizes}).items():
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
            value = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif "pos_embedding" in name or name == "token_embedding.weight":
            value = torch.randn(shape, generator=gen)
        else:
            value = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        state[name] = value.to(torch.bfloat16).contiguous()
    torch.save(state, path)
    return state


def _rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


def _relative_buckets(length: int, buckets: int, max_distance: int = 128) -> torch.Tensor:
    """Bidirectional T5 buckets of `key - query`: half the buckets per sign, exact below a quarter, log above."""
    rel = torch.arange(length)[None, :] - torch.arange(length)[:, None]
    half = buckets // 2
    exact = half // 2
    out = (rel > 0).long() * half
    rel = rel.abs()
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (half - exact)).long()
    return out + torch.where(rel < exact, rel, large.clamp(max=half - 1))


def _t5_reference(state: dict[str, torch.Tensor], ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The release's `T5Encoder.forward` in float32: per block, unscaled attention with the block's relative
    position bias (masked keys set to the float32 minimum), then `fc2(fc1(x) * gelu_tanh(gate(x)))`, both
    pre-RMS-normed and residual; a final RMS norm. `ids`, `mask`: (B, L) -> (B, L, dim)."""
    w = {k: v.float() for k, v in state.items()}
    batch, length = ids.shape
    heads = w["blocks.0.pos_embedding.embedding.weight"].shape[1]
    layers = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    bucket = _relative_buckets(length, w["blocks.0.pos_embedding.embedding.weight"].shape[0])
    x = w["token_embedding.weight"][ids]
    for n in range(layers):
        p = f"blocks.{n}."
        h = _rms_norm(x, w[p + "norm1.weight"])
        q, k, v = (torch.matmul(h, w[f"{p}attn.{c}.weight"].T).view(batch, length, heads, -1) for c in "qkv")
        bias = w[p + "pos_embedding.embedding.weight"][bucket].permute(2, 0, 1)[None]
        bias = bias.masked_fill(mask[:, None, None, :] == 0, torch.finfo(torch.float32).min)
        attn = torch.softmax(torch.einsum("binc,bjnc->bnij", q, k) + bias, dim=-1)
        out = torch.einsum("bnij,bjnc->binc", attn, v).reshape(batch, length, -1)
        x = x + torch.matmul(out, w[p + "attn.o.weight"].T)
        h = _rms_norm(x, w[p + "norm2.weight"])
        gate = torch.nn.functional.gelu(torch.matmul(h, w[p + "ffn.gate.0.weight"].T), approximate="tanh")
        x = x + torch.matmul(torch.matmul(h, w[p + "ffn.fc1.weight"].T) * gate, w[p + "ffn.fc2.weight"].T)
    return _rms_norm(x, w["norm.weight"])


def _context(folder: Path, state: dict[str, torch.Tensor], prompt: str) -> torch.Tensor:
    """The prompt's features `(L, dim)` as the release computes them: the folder's tokenizer padded to 512 with
    a mask, the encoder, cut back to the prompt's tokens."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder / TOKENIZER_DIR), local_files_only=True)
    ids = tokenizer(prompt, padding="max_length", max_length=512, truncation=True, return_tensors="pt")
    with torch.no_grad():
        out = _t5_reference(state, ids.input_ids, ids.attention_mask)[0]
    return out[: int(ids.attention_mask.sum())]


# ------------------------------------------------------------------------------------------------------
# The tiny folders
# ------------------------------------------------------------------------------------------------------
def _original_folder(files: dict[str, str]) -> tuple[Path, dict[str, torch.Tensor]]:
    """The port's tiny original-layout DiT folder (config.json, safetensors, Wan2.1_VAE.pth) completed with
    the T5 `.pth`, the tokenizer folder and a vfxgen.json giving the tiny native size."""
    from transformers import ByT5Tokenizer

    folder = Path(files["ckpt_dir"])
    state = write_tiny_t5(folder / T5_FILE)
    ByT5Tokenizer().save_pretrained(folder / TOKENIZER_DIR)
    (folder / "vfxgen.json").write_text(json.dumps({"sample_size": [SIZE, SIZE, FRAMES]}))
    return folder, state


def _diffusers_folder(root: Path, original: Path) -> Path:
    """The same weights in diffusers' layout: DiT and VAE by the port's converters, the T5 by vfxgen's
    conversion (checked against `_t5_reference` on its own below), a stock flow UniPC scheduler."""
    from diffusers import UniPCMultistepScheduler, WanPipeline
    from transformers import ByT5Tokenizer

    from vfxgen.backbones.wan_alpha import load_original_t5

    config, state = port.load_original_dit(str(original))
    pipe = WanPipeline(
        tokenizer=ByT5Tokenizer(),
        text_encoder=load_original_t5(original / T5_FILE),
        transformer=port.original_dit_to_diffusers(config, state),
        vae=port.original_vae_to_diffusers(torch.load(original / "Wan2.1_VAE.pth", weights_only=True)),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
    )
    folder = root / "Wan2.1-T2V-tiny-Diffusers"
    pipe.save_pretrained(folder, safe_serialization=True)
    (folder / "vfxgen.json").write_text(json.dumps({"sample_size": [SIZE, SIZE, FRAMES]}))
    return folder


@pytest.fixture(scope="module")
def wan(tmp_path_factory):
    root = tmp_path_factory.mktemp("wan_original")
    files = port.write_tiny_release_files(str(root), width=SIZE, height=SIZE, frame_num=FRAMES)
    folder, t5_state = _original_folder(files)
    return folder, files, t5_state


def _linked_copy(original: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    """`target` holding links to every entry of `original` except `skip` (to vary one file cheaply)."""
    target.mkdir()
    for entry in original.iterdir():
        if entry.name not in skip:
            (target / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    return target


# ------------------------------------------------------------------------------------------------------
# Recognition (no weights)
# ------------------------------------------------------------------------------------------------------
def test_an_original_folder_is_recognised_and_described_like_the_diffusers_layout(wan):
    from vfxgen.pipelines.model_dirs import resolve_model

    folder, _, _ = wan
    info = resolve_model(folder)
    assert (info.backbone, info.pipeline_class, info.image_to_video) == ("wan", "WanPipeline", False)
    assert (info.sample_width, info.sample_height, info.sample_frames) == (SIZE, SIZE, FRAMES)
    assert (info.spatial_multiple, info.train_timesteps, info.prompt_style) == (16, 1000, "transparent")


def test_without_vfxgen_json_the_native_size_is_wan_alphas(wan, tmp_path):
    from vfxgen.pipelines.model_dirs import resolve_model

    info = resolve_model(_linked_copy(wan[0], tmp_path / "plain", skip=("vfxgen.json",)))
    assert (info.sample_width, info.sample_height, info.sample_frames) == (832, 480, 81)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("i2v", "is a Wan image-to-video model (original layout), which vfxgen does not run yet"),
        (T5_FILE, f"has no {T5_FILE} (the T5 text encoder)"),
        ("Wan2.1_VAE.pth", "has no Wan2.1_VAE.pth (the Wan VAE)"),
        ("google", "has no google/umt5-xxl/ tokenizer folder"),
        ("diffusion_pytorch_model.safetensors", "has no diffusion_pytorch_model*.safetensors (the Wan DiT)"),
    ],
)
def test_an_unusable_original_folder_is_refused_in_one_line(wan, tmp_path, change, message):
    from vfxgen.errors import ModelError
    from vfxgen.pipelines.model_dirs import resolve_model

    folder = _linked_copy(wan[0], tmp_path / "m", skip=("config.json", change))
    config = json.loads((wan[0] / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": change if change == "i2v" else "t2v"}))
    with pytest.raises(ModelError) as err:
        resolve_model(folder)
    assert message in str(err.value) and "\n" not in err.value.one_line()


def test_a_folder_with_neither_index_nor_wan_config_keeps_the_old_refusal(tmp_path):
    from vfxgen.errors import ModelError
    from vfxgen.pipelines.model_dirs import resolve_model

    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["Something"]}))
    with pytest.raises(ModelError, match="has no model_index.json"):
        resolve_model(tmp_path)


# ------------------------------------------------------------------------------------------------------
# The text encoder
# ------------------------------------------------------------------------------------------------------
def test_the_converted_t5_computes_the_releases_encoder(tmp_path):
    """Longer prompts, a batch with padding, more layers and d_kv 64 as umt5-xxl has (64 heads of 64). Outputs
    are of size ~4; float32 operation order alone moves them by ~2e-5 here (the release's own module differs
    from either by as much), a wrong name or activation by O(1)."""
    from vfxgen.backbones.wan_alpha import load_original_t5

    sizes = {"vocab": 500, "dim": 128, "heads": 2, "ffn": 160, "layers": 3}
    state = write_tiny_t5(tmp_path / T5_FILE, seed=3, **sizes)
    model = load_original_t5(tmp_path / T5_FILE)
    assert (model.config.d_kv, model.config.num_heads, model.config.vocab_size) == (64, 2, 500)
    ids = torch.randint(0, 500, (2, 512), generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(2, 512, dtype=torch.long)
    mask[0, :300], mask[1, :9] = 1, 1
    with torch.no_grad():
        ours = model(ids * mask, mask).last_hidden_state
        ref = _t5_reference(state, ids * mask, mask)
    for row, kept in enumerate((300, 9)):
        assert float((ours[row, :kept] - ref[row, :kept]).abs().max()) <= 1e-4


def test_a_t5_with_other_names_is_refused(tmp_path):
    from vfxgen.backbones.wan_alpha import load_original_t5
    from vfxgen.errors import ModelError

    state = write_tiny_t5(tmp_path / T5_FILE)
    torch.save({**state, "pos_embedding.embedding.weight": torch.zeros(32, 4)}, tmp_path / T5_FILE)
    with pytest.raises(ModelError, match="'pos_embedding.embedding.weight' that the umt5-xxl encoder does not have"):
        load_original_t5(tmp_path / T5_FILE)


# ------------------------------------------------------------------------------------------------------
# Whole shots
# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_an_original_folder_equals_the_released_inference(wan, version):
    folder, files, t5_state = wan
    mask = files["mask"] if version == "v2" else None
    clip = vfxgen.generate(
        "burning fire",
        model=folder,
        lora=files["dora"],
        vae_decoder=files["decoder"],
        distill=files["lightx2v"],
        alpha_mask=mask,
        seed=3,
        device="cpu",
    )
    ref = port.generate(
        files["ckpt_dir"],
        files["vae_pth"],
        files["decoder"],
        _context(folder, t5_state, "burning fire"),
        seed=3,
        frame_num=FRAMES,
        width=SIZE,
        height=SIZE,
        dora_path=files["dora"],
        lightx2v_path=files["lightx2v"],
        mask_path=mask,
        alpha_shift_mean=port.ALPHA_SHIFT_MEAN_RELEASED,
    )
    expected = _port_premultiplied(ref)
    assert clip.pixels.shape == expected.shape
    difference = float(np.abs(clip.pixels - expected).max())
    assert difference <= 1e-4, difference
    assert clip.metadata["recipe"]["source"].startswith(f"Wan-Alpha release {version}")


def test_the_cli_gives_the_same_pixels_from_either_layout(wan, tmp_path):
    """Same weights, same shot. Not bit for bit: diffusers' loader leaves the weights as views into the
    memory-mapped safetensors (not 64-byte aligned) and CPU matrix kernels round differently there (1e-6
    in one DiT call with equal weights; equal once both are copied to aligned memory). Measured through the
    API: 1.6e-6 in float32, so the half-float EXRs differ in <0.1% of values, by one half-float step."""
    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.io.exr import read_exr_sequence

    folder, files, _ = wan
    diffusers_folder = _diffusers_folder(tmp_path, folder)
    wan_alpha = ["--lora", files["dora"], "--vae-decoder", files["decoder"], "--distill", files["lightx2v"]]
    shots = {}
    for name, model in (("original", folder), ("diffusers", diffusers_folder)):
        args = ["generate", "burning fire", "--model", str(model), *wan_alpha, "--alpha-mask", files["mask"]]
        result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / name), "--format", "exr", "--seed", "4"])
        assert result.exit_code == 0, result.output
        shots[name] = read_exr_sequence(tmp_path / name / "rgba").pixels
    difference = np.abs(shots["original"] - shots["diffusers"])
    step = np.spacing(np.maximum(np.abs(shots["diffusers"]), 2**-14).astype(np.float16)).astype(np.float32)
    assert np.all(difference <= step) and np.mean(difference > 0) < 0.01, float(difference.max())
    assert float(np.abs(shots["original"]).max()) > 0


def test_a_t5_pickle_that_is_not_tensors_is_refused_in_one_line(wan, tmp_path):
    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    folder, files, _ = wan
    bad = _linked_copy(folder, tmp_path / "bad", skip=(T5_FILE,))
    torch.save({"token_embedding.weight": argparse.Namespace(code="anything")}, bad / T5_FILE)
    args = ["generate", "fire", "--model", str(bad), "--lora", files["dora"], "--vae-decoder", files["decoder"]]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "shot")])
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.output and "weights_only=True" in result.output
    assert T5_FILE in result.output and not (tmp_path / "shot").exists()
