"""vfxgen.backbones.wan_alpha against the independent reference port (tests/wan_alpha_port.py).

Every file is a tiny one in the ORIGINAL release layout, written by the port's writers; nothing is mocked.
The merges, decoders and mask shift must be bit-identical to the port (which was checked bit-identical to
the release's own code); the scheduler must follow the port's solver to 1e-6 on the exact same grid.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import pytest
import torch
from diffusers import UniPCMultistepScheduler
from diffusers.models.embeddings import Timesteps
from safetensors.torch import save_file

from tests import wan_alpha_port as port
from vfxgen.backbones import wan_alpha
from vfxgen.errors import InputError, ModelError

FRAMES, HEIGHT, WIDTH = 5, 32, 32


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> dict[str, str]:
    """The complete tiny release set: base DiT folder (+ Wan2.1_VAE.pth), DoRA, LightX2V, decoder file, mask."""
    torch.set_num_threads(1)
    return port.write_tiny_release_files(str(tmp_path_factory.mktemp("wan_alpha")), WIDTH, HEIGHT, FRAMES)


def port_dit(ckpt: str, dora: str | None, lightx2v: str | None, ratio: float = 1.0):
    """The port's merged DiT: merges in the original layout, then the port's conversion to diffusers."""
    config, state = port.load_original_dit(ckpt)
    if dora is not None:
        state = port.merge_dora(state, port.read_safetensors(dora), ratio)
    patched = 0
    if lightx2v is not None:
        state, patched = port.merge_lightx2v(state, port.read_safetensors(lightx2v))
    return port.original_dit_to_diffusers(config, state), patched


def max_abs_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def assert_same_weights(expected: torch.nn.Module, actual: torch.nn.Module) -> None:
    """Same names, dtypes and bits."""
    want, got = expected.state_dict(), actual.state_dict()
    assert want.keys() == got.keys()
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert torch.equal(got[name], want[name]), f"{name}: max diff {float((got[name] - want[name]).abs().max())}"


# ------------------------------------------------------------------------------------------------------
# DiT: loading, DoRA, LightX2V
# ------------------------------------------------------------------------------------------------------
def test_dora_and_lightx2v_merges_are_bit_identical_to_the_port(release) -> None:
    expected, port_patched = port_dit(release["ckpt_dir"], release["dora"], release["lightx2v"])
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    base = {k: v.clone() for k, v in model.state_dict().items()}
    merged_dora = wan_alpha.merge_dora(model, release["dora"])
    patched = wan_alpha.merge_lightx2v(model, release["lightx2v"])
    assert merged_dora == 2 * 10  # 2 blocks x (q, k, v, o of both attentions, ffn.0, ffn.2)
    assert patched == port_patched
    assert_same_weights(expected, model)
    assert max_abs_diff(expected.state_dict(), model.state_dict()) == 0.0
    assert max_abs_diff(base, model.state_dict()) > 1e-3  # the merges did something


def test_unmerged_dit_loads_like_the_port(release) -> None:
    expected, _ = port_dit(release["ckpt_dir"], None, None)
    assert_same_weights(expected, wan_alpha.load_original_dit(release["ckpt_dir"]))


def test_dora_and_lightx2v_file_variants_match_the_port(release, tmp_path) -> None:
    """DoRA with the "diffusion_model." prefix, no adapter token, a float32 file and ratio 0.5; LightX2V with
    no prefix and PEFT lora_A/lora_B names instead of lora_down/lora_up."""
    _, dit_state = port.load_original_dit(release["ckpt_dir"])
    dora = str(tmp_path / "dora_prefixed.safetensors")
    port.write_tiny_dora(dora, dit_state, prefix="diffusion_model.", adapter=None, dtype=torch.float32, seed=7)
    lightx2v = str(tmp_path / "lightx2v_peft.safetensors")
    renamed = {
        k.removeprefix("diffusion_model.").replace("lora_down.", "lora_A.").replace("lora_up.", "lora_B."): v
        for k, v in port.read_safetensors(release["lightx2v"]).items()
    }
    save_file(renamed, lightx2v)
    expected, port_patched = port_dit(release["ckpt_dir"], dora, lightx2v, ratio=0.5)
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    wan_alpha.merge_dora(model, dora, ratio=0.5)
    assert wan_alpha.merge_lightx2v(model, lightx2v) == port_patched
    assert_same_weights(expected, model)


def test_diff_m_reaches_scale_shift_table(release) -> None:
    """`blocks.N.diff_m` patches the block modulation (diffusers' scale_shift_table), `head.head.diff_b` the
    output bias, `norm3.diff` the affine cross-attention norm (diffusers' norm2)."""
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    lora = port.read_safetensors(release["lightx2v"])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wan_alpha.merge_lightx2v(model, release["lightx2v"])
    after = model.state_dict()
    for n in range(2):
        name = f"blocks.{n}.scale_shift_table"
        assert torch.equal(after[name], before[name] + lora[f"diffusion_model.blocks.{n}.diff_m"].float())
        assert not torch.equal(after[name], before[name])
        norm = f"blocks.{n}.norm2.weight"
        assert torch.equal(after[norm], before[norm] + lora[f"diffusion_model.blocks.{n}.norm3.diff"].float())
    assert torch.equal(
        after["proj_out.bias"], before["proj_out.bias"] + lora["diffusion_model.head.head.diff_b"].float()
    )
    assert torch.equal(after["scale_shift_table"], before["scale_shift_table"])  # head modulation: no diff_m for it


def test_dora_for_another_model_is_refused_and_changes_nothing(release, tmp_path) -> None:
    bigger = port.write_tiny_wan_dit(str(tmp_path / "bigger"), port.TinyDiT(num_layers=3))
    dora = str(tmp_path / "dora_3_layers.safetensors")
    port.write_tiny_dora(dora, bigger)
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ModelError) as err:
        wan_alpha.merge_dora(model, dora)
    line = err.value.one_line()
    assert "\n" not in line and dora in line and "blocks.2." in line and err.value.hint
    assert max_abs_diff(before, model.state_dict()) == 0.0


def test_lightx2v_that_patches_nothing_is_refused(release, tmp_path) -> None:
    path = str(tmp_path / "unrelated.safetensors")
    save_file({"lora_unet_down.lora_down.weight": torch.zeros(2, 3), "other.diff": torch.zeros(3)}, path)
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    with pytest.raises(ModelError, match="patched no weight"):
        wan_alpha.merge_lightx2v(model, path)


def test_sharded_single_file_and_bf16_loads(release, tmp_path) -> None:
    """A sharded folder with an index, and one .safetensors file with an explicit config, load the same model;
    bf16 keeps diffusers' fp32 modules (scale_shift_table, time_embedder, norms) in float32."""
    reference = wan_alpha.load_original_dit(release["ckpt_dir"])
    _, state = port.load_original_dit(release["ckpt_dir"])
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    names = sorted(state)
    halves = {"diffusion_pytorch_model-00001-of-00002.safetensors": names[::2]}
    halves["diffusion_pytorch_model-00002-of-00002.safetensors"] = names[1::2]
    for file, keys in halves.items():
        save_file({k: state[k] for k in keys}, str(sharded / file))
    weight_map = {k: file for file, keys in halves.items() for k in keys}
    (sharded / wan_alpha.DIT_INDEX_NAME).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    config = os.path.join(release["ckpt_dir"], "config.json")
    (sharded / "config.json").write_text(open(config).read())
    assert_same_weights(reference, wan_alpha.load_original_dit(sharded))
    single = os.path.join(release["ckpt_dir"], port.DIT_WEIGHTS_NAME)
    assert_same_weights(reference, wan_alpha.load_original_dit(single, config=json.load(open(config))))
    half = wan_alpha.load_original_dit(release["ckpt_dir"], dtype=torch.bfloat16)
    assert half.blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
    assert half.blocks[0].scale_shift_table.dtype == torch.float32
    assert half.condition_embedder.time_embedder.linear_1.weight.dtype == torch.float32


# ------------------------------------------------------------------------------------------------------
# VAE decoders
# ------------------------------------------------------------------------------------------------------
def test_both_decoders_are_bit_identical_to_the_port(release) -> None:
    expected_fgr, expected_pha = port.build_vae_decoders(release["vae_pth"], release["decoder"])
    base = wan_alpha.load_original_vae(release["vae_pth"])
    assert_same_weights(port.original_vae_to_diffusers(torch.load(release["vae_pth"], weights_only=True)), base)
    untouched = {k: v.clone() for k, v in base.state_dict().items()}
    fgr, pha = wan_alpha.alpha_decoders(base, release["decoder"])
    assert_same_weights(expected_fgr, fgr)
    assert_same_weights(expected_pha, pha)
    assert max_abs_diff(untouched, base.state_dict()) == 0.0  # the base VAE stays the base
    assert max_abs_diff(fgr.state_dict(), pha.state_dict()) > 1e-3
    assert max_abs_diff(untouched, fgr.state_dict()) > 1e-3


def test_decoder_file_without_alpha_decoder_is_refused(release, tmp_path) -> None:
    state = torch.load(release["decoder"], weights_only=True)
    path = str(tmp_path / "colour_only.bin")
    torch.save({k: v for k, v in state.items() if k.startswith("vae_fgr.")}, path)
    with pytest.raises(ModelError, match="vae_pha"):
        wan_alpha.alpha_decoders(wan_alpha.load_original_vae(release["vae_pth"]), path)


@pytest.mark.parametrize(
    "content",
    [
        {"vae_fgr.decoder.conv1.lora_B.default.weight": torch.zeros(1), "args": argparse.Namespace(rank=128)},
        np.zeros((3, 4, 4), dtype=np.float32),
        {"vae_fgr.decoder.conv1.lora_B.default.weight": torch.zeros(1), "epoch": 3},
    ],
    ids=["object", "numpy", "non-tensor-entry"],
)
def test_pickle_holding_non_tensors_is_refused_in_one_line(tmp_path, content) -> None:
    path = tmp_path / "decoder.bin"
    torch.save(content, path)
    with pytest.raises(ModelError) as err:
        wan_alpha.load_pickle_tensors(path, "Wan-Alpha VAE decoder file")
    line = err.value.one_line()
    assert "\n" not in line and str(path) in line
    assert "weights_only=True" in line and "python -c" in line and "torch.save(" in line


def test_pickled_tensors_load(release) -> None:
    mask = wan_alpha.load_pickle_tensors(release["mask"], "Gaussian mask")
    assert isinstance(mask, torch.Tensor) and mask.dtype == torch.float32
    state = wan_alpha.load_pickle_tensors(release["decoder"], "decoder")
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())


# ------------------------------------------------------------------------------------------------------
# Scheduler, time embedding, v2 mask
# ------------------------------------------------------------------------------------------------------
def test_scheduler_uses_the_release_grid_and_follows_the_port(tmp_path) -> None:
    scheduler = wan_alpha.release_scheduler()
    scheduler.set_timesteps(4)
    assert scheduler.timesteps.tolist() == [999, 937, 833, 624]
    assert torch.equal(scheduler.sigmas, port.release_schedule(4)[1])
    for steps in (1, 2, 8, 50):
        scheduler.set_timesteps(steps)
        timesteps, sigmas = port.release_schedule(steps)
        assert torch.equal(scheduler.timesteps, timesteps) and torch.equal(scheduler.sigmas, sigmas)
    stock = UniPCMultistepScheduler.from_config(scheduler.config)
    stock.set_timesteps(4)
    assert stock.timesteps.tolist()[-1] == 625  # what the subclass exists to avoid

    scheduler.save_config(str(tmp_path))
    reloaded = wan_alpha.ReleaseFlowUniPCScheduler.from_config(
        wan_alpha.ReleaseFlowUniPCScheduler.load_config(str(tmp_path))
    )
    pipeline_like = wan_alpha.release_scheduler({**stock.config, "flow_shift": 3.0, "solver_order": 3})
    for other in (reloaded, pipeline_like):
        other.set_timesteps(4)
        assert other.timesteps.tolist() == [999, 937, 833, 624]

    scheduler = wan_alpha.release_scheduler()
    scheduler.set_timesteps(4)
    reference = port.FlowUniPC(4)
    gen = torch.Generator().manual_seed(0)
    x_ref = torch.randn(1, 16, 2, 3, 5, generator=gen)
    x = x_ref.clone()
    worst = 0.0
    for t in reference.timesteps:
        velocity = torch.randn(x.shape, generator=gen)
        x_ref = reference.step(velocity, t, x_ref)
        x = scheduler.step(velocity, t, x, return_dict=False)[0]
        worst = max(worst, float((x - x_ref).abs().max()))
    assert worst <= 1e-6


def test_release_time_embedding_matches_the_port(release) -> None:
    """The float64 sinusoid equals the port's bit for bit (diffusers' float32 one does not), and the whole
    merged DiT then gives the port's prediction bit for bit."""
    t = torch.tensor([999, 937, 833, 624], dtype=torch.int64)
    sinusoid = wan_alpha.ReleaseTimestepSinusoid(32)
    assert torch.equal(sinusoid(t), port.ReleaseTimeSinusoid(32)(t))
    stock = Timesteps(32, flip_sin_to_cos=True, downscale_freq_shift=0)(t)
    assert float((stock - sinusoid(t)).abs().max()) > 0

    expected, _ = port_dit(release["ckpt_dir"], release["dora"], release["lightx2v"])
    model = wan_alpha.load_original_dit(release["ckpt_dir"])
    wan_alpha.merge_dora(model, release["dora"])
    wan_alpha.merge_lightx2v(model, release["lightx2v"])
    assert wan_alpha.release_time_embedding(model) is model
    assert isinstance(model.condition_embedder.timesteps_proj, wan_alpha.ReleaseTimestepSinusoid)
    gen = torch.Generator().manual_seed(5)
    latents = torch.randn(1, 16, 2, 4, 4, generator=gen)
    context = port.pad_context(torch.randn(7, 32, generator=gen))[None]
    with torch.no_grad():
        for step in t:
            want = expected(latents, step[None], context, return_dict=False)[0]
            got = model(latents, step[None], context, return_dict=False)[0]
            assert torch.equal(got, want)


def test_mask_shift_is_bit_identical_to_the_port(release) -> None:
    noise = port.initial_noise(3, FRAMES, HEIGHT, WIDTH)
    mask = wan_alpha.load_pickle_tensors(release["mask"], "Gaussian mask")
    assert mask.shape[1:] != noise.shape[2:]  # the bilinear resize is exercised
    expected = port.shift_noise_with_mask(noise, port.load_gauss_mask(release["mask"]), 0.05)
    shifted = wan_alpha.shift_noise_with_mask(noise, mask, 0.05)
    assert shifted.dtype == torch.float32
    assert torch.equal(shifted, expected)
    assert torch.equal(wan_alpha.shift_noise_with_mask(noise[None], mask, 0.05)[0], expected)  # batched latents
    assert float((shifted - noise).abs().max()) > 0.01


def test_mask_with_the_wrong_frame_count_is_refused(release) -> None:
    noise = port.initial_noise(3, FRAMES, HEIGHT, WIDTH)
    mask = torch.ones(noise.shape[1] + 1, 6, 6)
    with pytest.raises(InputError, match="latent frames"):
        wan_alpha.shift_noise_with_mask(noise, mask, 0.05)
