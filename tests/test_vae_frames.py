"""Every 4k+1 frame count decodes to itself (CogVideoX's VAE alone turns 5 frames into 8)."""

from __future__ import annotations

import json

import pytest
import torch
from diffusers import AutoencoderKLCogVideoX
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir, tiny_vae
from vfxgen.cli.app import app
from vfxgen.models.vae import frames_for_latents, pad_to_odd_latents


@pytest.fixture(scope="module")
def vae() -> AutoencoderKLCogVideoX:
    torch.manual_seed(0)
    return tiny_vae().eval()


def _latents(vae, frames: int) -> torch.Tensor:
    x = torch.rand(1, 3, frames, 16, 16, generator=torch.Generator().manual_seed(frames)) * 2 - 1
    with torch.no_grad():
        return vae.encode(x).latent_dist.mode()


@pytest.mark.parametrize("frames", [5, 13, 21])
def test_an_even_latent_count_decodes_to_the_frames_it_came_from(vae, frames: int) -> None:
    latents = _latents(vae, frames)
    count = latents.shape[2]
    assert count % 2 == 0 and frames_for_latents(count) == frames
    with torch.no_grad():
        raw = vae.decode(latents).sample
        fixed = vae.decode(pad_to_odd_latents(latents, dim=2)).sample[:, :, : frames_for_latents(count)]
    assert raw.shape[2] == 4 * count  # the stock decode: 8 for 5, 16 for 13 (if diffusers fixes it, drop the pad)
    assert fixed.shape[2] == frames


@pytest.mark.parametrize("frames", [1, 9, 17])
def test_an_odd_latent_count_is_decoded_untouched(vae, frames: int) -> None:
    latents = _latents(vae, frames)
    assert pad_to_odd_latents(latents, dim=2) is latents
    with torch.no_grad():
        assert vae.decode(latents).sample.shape[2] == frames


def test_padding_changes_the_kept_frames_only_through_the_chunk_statistics(vae) -> None:
    """5 frames from 2 latents padded to 3 vs the first 5 of 9 frames decoded from (l0, l1, l2): the kept
    frames see the same latents through causal convolutions; only GroupNorm's statistics over the chunk differ."""
    latents = _latents(vae, 9)
    with torch.no_grad():
        nine = vae.decode(latents).sample[:, :, :5]
        five = vae.decode(pad_to_odd_latents(latents[:, :, :2], dim=2)).sample[:, :, :5]
        stock_five = vae.decode(latents[:, :, :2]).sample[:, :, :5]
    padded_error = (five - nine).abs().mean().item()
    stock_error = (stock_five - nine).abs().mean().item()
    assert padded_error < 0.5 * stock_error, (padded_error, stock_error)


def test_generate_writes_the_frames_asked_for(tmp_path) -> None:
    model = save_tiny_model_dir(tmp_path / "t2v")
    out = tmp_path / "shot"
    args = ["generate", "fire", "-o", str(out), "--model", str(model), "--steps", "1", "--frames", "5"]
    result = CliRunner().invoke(app, [*args, "--format", "exr", "--width", "32", "--height", "32"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "shot.json").read_text())
    assert manifest["frames"] == 5 and len(manifest["files"]["exr"]) == 5
    assert sorted(p.name for p in (out / "rgba").iterdir())[-1] == "shot.1005.exr"


def test_the_vae_stage_trains_on_5_frame_clips(tmp_path) -> None:
    runner = CliRunner()
    steps = [
        ["train", "init", "--arch", "test", "-o", str(tmp_path / "m")],
        ["dataset", "synth", "-o", str(tmp_path / "d"), "--count", "2", "--frames", "5", "--size", "32"],
        ["train", "--stage", "vae", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "d"),
         "-o", str(tmp_path / "run"), "--steps", "1", "--batch", "1"],
    ]
    for args in steps:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "loss.csv").is_file()


@pytest.mark.parametrize("arch", ["test", "demo-v2"])
def test_an_initialised_vae_compresses_time_as_its_config_says(tmp_path, arch):
    """diffusers' CogVideoX VAE compresses time once per downsampling block: a 2-block VAE configured as 4x
    decoded 9 frames to 5 (the pipeline trusts the config for the latent frame count)."""
    from diffusers import AutoencoderKLCogVideoX

    from vfxgen.training.architectures import ARCHITECTURES, init_model

    init_model(tmp_path / arch, arch)
    vae = AutoencoderKLCogVideoX.from_pretrained(tmp_path / arch, subfolder="vae")
    width, height, frames = ARCHITECTURES[arch]["size"]
    with torch.no_grad():
        latents = vae.encode(torch.zeros(1, 3, frames, height, width)).latent_dist.mode()
    assert latents.shape[2] == (frames - 1) // vae.config.temporal_compression_ratio + 1
