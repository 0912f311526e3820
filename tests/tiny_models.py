"""Tiny random CogVideoX configurations (2B-like, 5B-like, 5B-I2V-like) for fast CPU tests."""

from __future__ import annotations

import torch
from diffusers import CogVideoXTransformer3DModel
from diffusers.models.embeddings import get_3d_rotary_pos_embed
from diffusers.pipelines.cogvideo.pipeline_cogvideox import get_resize_crop_region_for_grid

TEXT_LEN = 8
TEXT_DIM = 16
LATENT_C = 4
LATENT_F = 3  # 9 pixel frames
LATENT_HW = (8, 12)


def tiny_transformer(kind: str = "5b", seed: int = 0) -> CogVideoXTransformer3DModel:
    """kind: '2b' (sincos positions, no RoPE), '5b' (RoPE), 'i2v' (RoPE + learned positions, 2C input)."""
    torch.manual_seed(seed)
    h, w = LATENT_HW
    return CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=LATENT_C * (2 if kind == "i2v" else 1),
        out_channels=LATENT_C,
        time_embed_dim=8,
        text_embed_dim=TEXT_DIM,
        num_layers=2,
        sample_width=w,
        sample_height=h,
        sample_frames=(LATENT_F - 1) * 4 + 1,
        patch_size=2,
        max_text_seq_length=TEXT_LEN,
        use_rotary_positional_embeddings=kind != "2b",
        use_learned_positional_embeddings=kind == "i2v",
    ).eval()


def rope_for(transformer: CogVideoXTransformer3DModel, frames: int = LATENT_F):
    """The RoPE the stock pipeline computes for `frames` latent frames (None for sincos models)."""
    cfg = transformer.config
    if not cfg.use_rotary_positional_embeddings:
        return None
    gh, gw = LATENT_HW[0] // cfg.patch_size, LATENT_HW[1] // cfg.patch_size
    crops = get_resize_crop_region_for_grid((gh, gw), cfg.sample_width // 2, cfg.sample_height // 2)
    return get_3d_rotary_pos_embed(cfg.attention_head_dim, crops, (gh, gw), frames)


def random_inputs(transformer: CogVideoXTransformer3DModel, frames: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    c = transformer.config.in_channels
    x = torch.randn(1, frames, c, *LATENT_HW, generator=g)
    text = torch.randn(1, TEXT_LEN, TEXT_DIM, generator=g)
    t = torch.tensor([500])
    return x, text, t


def tiny_vae():
    """A tiny random CogVideoX VAE: spatial factor 4 (3 blocks), temporal 4, as the real one in time."""
    from diffusers import AutoencoderKLCogVideoX

    return AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 3,
        up_block_types=("CogVideoXUpBlock3D",) * 3,
        block_out_channels=(8, 8, 8),
        latent_channels=LATENT_C,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )


def save_tiny_model_dir(path, kind: str = "t2v", lora_seed: int | None = 5):
    """A complete tiny diffusers CogVideoX model directory (+ bundled TransPixar LoRA), made offline.

    Spatial VAE factor 4 (3 blocks), temporal 4, patch 2: sizes are multiples of 8, native 32x48x9.
    """
    from diffusers import (
        CogVideoXDPMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXPipeline,
    )
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    from vfxgen.models.transpixar import apply_transpixar, save_rgba_lora
    from vfxgen.pipelines.recipe import VFXGEN_DEFAULT, recipe_metadata

    torch.manual_seed(0)
    transformer = tiny_transformer("i2v" if kind == "i2v" else "5b")
    vae = tiny_vae()
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=384, d_model=TEXT_DIM, d_ff=32, d_kv=8, num_layers=1, num_heads=2)
    )
    tokenizer = ByT5Tokenizer()
    scheduler = CogVideoXDPMScheduler(timestep_spacing="trailing", prediction_type="v_prediction")
    cls = CogVideoXImageToVideoPipeline if kind == "i2v" else CogVideoXPipeline
    pipe = cls(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler)
    pipe.save_pretrained(str(path), safe_serialization=True)
    if lora_seed is not None:
        apply_transpixar(transformer, rank=4)
        g = torch.Generator().manual_seed(lora_seed)
        with torch.no_grad():
            for p in transformer.parameters():
                if p.requires_grad:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        # Recorded as `vfxgen train` records it, so the tiny model is not a metadata-less (guessed) LoRA.
        save_rgba_lora(transformer, path / "transpixar_lora.safetensors", recipe_metadata(VFXGEN_DEFAULT))
    return path
