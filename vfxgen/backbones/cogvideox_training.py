"""CogVideoX's training hooks: what `vfxgen train` asks the model's backbone for (`Backbone.training()`).

`vfxgen.training.train` owns the loop (accelerate, checkpoints, resumable batches, logs); everything that
depends on the base model is here: loading the stock pipeline, encoding clips to scaled latents, the text
features, the RoPE, the diffusion loss the model was pre-trained with, and the RGBA method and its weights
file. CogVideoX: DDPM noise from the model's scheduler, v-prediction, MSE on v (CogVideoX's x0 loss weighted
by 1/(1 - alpha_bar)); TransPixar's alpha tokens (`vfxgen.models.transpixar`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfxgen.errors import UsageError


class CogVideoXTraining:
    """Training hooks for a CogVideoX text-to-video model folder."""

    stages = ("vae", "rgb", "alpha")

    @staticmethod
    def recipe(config):
        """vfxgen's default RGBA recipe with the run's RGB convention."""
        from dataclasses import replace

        from vfxgen.pipelines.recipe import VFXGEN_DEFAULT

        return replace(VFXGEN_DEFAULT, rgb=config.rgb, source=f"vfxgen train --rgb {config.rgb}")

    @staticmethod
    def load_pipeline(info):
        """The stock `CogVideoXPipeline` in float32 (training keeps master weights in float32)."""
        from diffusers import CogVideoXPipeline

        if info.image_to_video:
            raise UsageError("training an image-to-video model is not supported yet", "train on a text-to-video model")
        with warnings.catch_warnings():  # diffusers 0.42 renames torch_dtype; older releases need it
            warnings.simplefilter("ignore", FutureWarning)
            pipe = CogVideoXPipeline.from_pretrained(str(info.path), torch_dtype=torch.float32, use_safetensors=True)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    @staticmethod
    @torch.no_grad()
    def encode_clips(pipe, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, 3, T, H, W]` in [-1, 1] -> the VAE posterior's (mean, std) scaled as the transformer sees
        latents, `[B, F, C, h, w]`."""
        scale = pipe.vae.config.scaling_factor
        dist = pipe.vae.encode(video).latent_dist
        return (dist.mean * scale).permute(0, 2, 1, 3, 4), (dist.std * scale).permute(0, 2, 1, 3, 4)

    @staticmethod
    def rope(pipe, height: int, width: int, latent_frames: int, device):
        """The 3D RoPE of a clip (None for models with learned positions)."""
        if not pipe.transformer.config.use_rotary_positional_embeddings:
            return None
        return pipe._prepare_rotary_positional_embeddings(height, width, latent_frames, device)

    @staticmethod
    def encode_text(pipe, captions: list[str], device) -> torch.Tensor:
        """Text features as the stock pipeline computes them (no CFG batch)."""
        embeds, _ = pipe.encode_prompt(
            captions,
            do_classifier_free_guidance=False,
            max_sequence_length=pipe.transformer.config.max_text_seq_length,
            device=device,
        )
        return embeds

    @staticmethod
    def diffusion_loss(
        module, pipe, latents, text, rope, rng: np.random.Generator, device, teacher=None, held=None
    ) -> torch.Tensor:
        """DDPM noise at a random timestep per clip, v-prediction target, MSE. Clips marked in `held` take the
        frozen `teacher`'s prediction as their target (`--hold-elements`)."""
        from vfxgen.backbones.hold import hold_targets

        scheduler = pipe.scheduler
        noise = torch.from_numpy(rng.standard_normal(latents.shape).astype(np.float32)).to(device)
        t = torch.from_numpy(rng.integers(0, scheduler.config.num_train_timesteps, latents.shape[0])).to(device)
        noisy = scheduler.add_noise(latents, noise, t)
        target = scheduler.get_velocity(latents, noise, t)

        def predict(net, rows=slice(None)):
            out = net(
                hidden_states=noisy[rows], encoder_hidden_states=text[rows], timestep=t[rows], image_rotary_emb=rope
            )
            return out.sample

        target = hold_targets(target, held, lambda rows: predict(teacher, rows))
        return F.mse_loss(predict(module).float(), target.float())

    @staticmethod
    def apply_alpha_method(transformer, rank: int, lora_alpha: float, attention: str):
        """TransPixar on the transformer: alpha tokens, domain embedding, alpha-only LoRA (trainable)."""
        from vfxgen.models.transpixar import apply_transpixar

        return apply_transpixar(transformer, rank, lora_alpha, attention)

    @staticmethod
    def alpha_weights_shape(path: Path) -> tuple[int, float]:
        """(rank, lora_alpha) of a saved alpha LoRA, from its header."""
        from vfxgen.models.transpixar import rgba_lora_shape

        return rgba_lora_shape(path)

    @staticmethod
    def load_alpha_weights(module, path: Path) -> None:
        """A saved alpha LoRA into a transformer made by `apply_alpha_method` (same rank), keeping its attention
        mode and leaving the LoRA trainable: `vfxgen train --init-lora`."""
        from vfxgen.models.transpixar import load_rgba_lora

        load_rgba_lora(module, path)

    @staticmethod
    def save_alpha_weights(module, path: Path, metadata: dict[str, str]) -> None:
        """The trained alpha weights in the release's LoRA layout (what `--lora` loads)."""
        from vfxgen.models.transpixar import save_rgba_lora

        save_rgba_lora(module, path, metadata)
