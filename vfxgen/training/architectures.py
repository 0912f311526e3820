"""Random-initialised CogVideoX model directories to train from (the bundled demo model's starting point).

The demo architecture keeps CogVideoX's structure (3D causal VAE, MM-DiT with 3D RoPE, T5 text encoder)
at a size a 2-core CPU can train and run: 64x64 pixels, 9 frames, 8 blocks of width 256.

`demo-v2` (in training, not bundled yet: docs/default-model.md) trades the VAE's spatial compression for patch
size: a 2x VAE (4 latent channels) reconstructs thin sparks and bolts that the 4x VAE blurs away, and patch 4
keeps the transformer at 8x8 tokens per latent frame. diffusers' CogVideoX VAE compresses time once per
downsampling block, so a 2-block VAE compresses time 2x: its config must say `temporal_compression_ratio=2`
(the pipeline derives the latent frame count from it).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vfxgen.errors import OutputExistsError, UsageError
from vfxgen.io.safety import check_replaceable, foreign_entries, marked_foreign_entry, refuse_unsafe_output
from vfxgen.quiet import quiet_libraries

ARCHITECTURES = {
    "demo": {
        "size": (64, 64, 9),  # width, height, frames
        "vae": dict(block_out_channels=(16, 32, 64), latent_channels=8, layers_per_block=1, norm_num_groups=8),
        "transformer": dict(num_attention_heads=4, attention_head_dim=64, num_layers=8, time_embed_dim=128),
        "text": dict(d_model=128, d_ff=256, d_kv=32, num_layers=2, num_heads=4),
        "max_text_len": 64,
    },
    "demo-v2": {
        "size": (64, 64, 9),
        "vae": dict(block_out_channels=(32, 64), latent_channels=4, layers_per_block=1, norm_num_groups=8),
        "transformer": dict(num_attention_heads=4, attention_head_dim=64, num_layers=8, time_embed_dim=128),
        "patch_size": 4,
        "text": dict(d_model=128, d_ff=256, d_kv=32, num_layers=2, num_heads=4),
        "max_text_len": 160,
    },
    "test": {
        "size": (32, 32, 9),
        "vae": dict(block_out_channels=(8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2),
        "transformer": dict(num_attention_heads=2, attention_head_dim=16, num_layers=2, time_embed_dim=16),
        "text": dict(d_model=16, d_ff=32, d_kv=8, num_layers=1, num_heads=2),
        "max_text_len": 16,
    },
}


def _model_foreign_entry(path: Path) -> str | None:
    return marked_foreign_entry(
        path, "model_index.json", lambda index: str(index.get("_class_name", "")).startswith("CogVideoX")
    )


def init_model(output: str | os.PathLike, arch: str = "demo", seed: int = 0, overwrite: bool = False) -> Path:
    """Write a random-initialised CogVideoX text-to-video model directory (diffusers layout)."""
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    quiet_libraries()
    if arch not in ARCHITECTURES:
        raise UsageError(f"unknown architecture {arch!r}", f"use one of {', '.join(ARCHITECTURES)}")
    output = Path(output)
    refuse_unsafe_output(output)
    if output.exists() and foreign_entries(output, lambda name: False):
        check_replaceable(output, _model_foreign_entry, "model directory")
        if not overwrite:
            raise OutputExistsError(f"{output} already exists", "pass --overwrite or choose another -o")
    spec = ARCHITECTURES[arch]
    width, height, frames = spec["size"]
    torch.manual_seed(seed)
    vae_cfg = spec["vae"]
    blocks = len(vae_cfg["block_out_channels"])
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * blocks,
        up_block_types=("CogVideoXUpBlock3D",) * blocks,
        temporal_compression_ratio=min(4, 2 ** (blocks - 1)),  # one 2x time step per downsampling block
        sample_height=height,
        sample_width=width,
        **vae_cfg,
    )
    spatial = 2 ** (blocks - 1)
    text = spec["text"]
    transformer = CogVideoXTransformer3DModel(
        in_channels=vae_cfg["latent_channels"],
        out_channels=vae_cfg["latent_channels"],
        text_embed_dim=text["d_model"],
        sample_width=width // spatial,
        sample_height=height // spatial,
        sample_frames=frames,
        patch_size=spec.get("patch_size", 2),
        max_text_seq_length=spec["max_text_len"],
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=False,
        **spec["transformer"],
    )
    text_encoder = T5EncoderModel(T5Config(vocab_size=384, **text))
    scheduler = CogVideoXDPMScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        snr_shift_scale=1.0,
        timestep_spacing="trailing",
        set_alpha_to_one=True,
        clip_sample=False,
    )
    pipe = CogVideoXPipeline(
        tokenizer=ByT5Tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler
    )
    pipe.save_pretrained(str(output), safe_serialization=True)
    return output
