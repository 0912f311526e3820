"""Wan's training hooks: TransPixar on Wan 2.1 as TransPixar's `wan` branch trains it
(docs/design/transpixar-on-wan.md, section 8): the alpha method of `vfxgen.models.transpixar_wan`, both halves
encoded by the stock Wan VAE, and rectified flow: one logit-normal `t` per clip, `x_t = (1 - t) x + t n`, target
`n - x`, plain MSE over both halves, timestep `1000 t`. `vfxgen train` owns the loop (accelerate, checkpoints,
resumable batches); this module owns what depends on Wan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfxgen.backbones.wan_runtime import TEXT_LEN as WAN_TEXT_LEN
from vfxgen.errors import UsageError


class WanTraining:
    """Training hooks for a Wan 2.1 text-to-video folder (either layout); the alpha stage only."""

    stages = ("alpha",)

    @staticmethod
    def recipe(config):
        """What the trained adapter samples with: TransPixar-on-Wan's (30 UniPC steps, shift 5, guidance 5),
        the run's RGB convention."""
        from dataclasses import replace

        from vfxgen.pipelines.recipe import WAN_TRANSPIXAR

        return replace(WAN_TRANSPIXAR, rgb=config.rgb, source=f"vfxgen train --rgb {config.rgb} (TransPixar on Wan)")

    @staticmethod
    def load_pipeline(info):
        from vfxgen.backbones.wan_runtime import load_wan_pipeline

        pipe = load_wan_pipeline(info.path)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    @staticmethod
    @torch.no_grad()
    def encode_clips(pipe, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`[B, 3, T, H, W]` in [-1, 1] -> the posterior's (mean, std) normalised as the DiT sees latents
        (`(z - mean) / std` per channel), in the loop's `[B, F, C, h, w]` layout."""
        vae = pipe.vae
        dist = vae.encode(video.to(vae.dtype)).latent_dist
        from vfxgen.backbones.wan_runtime import latent_normalisation

        mean, inv_std = latent_normalisation(vae, video.device)
        latent_mean = (dist.mean.float() - mean) * inv_std
        latent_std = dist.std.float() * inv_std
        return latent_mean.permute(0, 2, 1, 3, 4), latent_std.permute(0, 2, 1, 3, 4)

    @staticmethod
    def rope(pipe, height: int, width: int, latent_frames: int, device):
        """None: Wan computes its RoPE inside the transformer (shared by both halves: `SharedRope`)."""
        return None

    @staticmethod
    def encode_text(pipe, captions: list[str], device) -> torch.Tensor:
        embeds, _ = pipe.encode_prompt(
            captions, do_classifier_free_guidance=False, max_sequence_length=WAN_TEXT_LEN, device=device
        )
        return embeds

    @staticmethod
    def diffusion_loss(
        module, pipe, latents, text, rope, rng: np.random.Generator, device, teacher=None, held=None
    ) -> torch.Tensor:
        """Rectified flow on `[B, F', C, h, w]` latents (F' = 2F for RGBA): logit-normal t, velocity `n - x`.
        Clips marked in `held` take the frozen `teacher`'s prediction as their target (`--hold-elements`)."""
        from vfxgen.backbones.hold import hold_targets

        x = latents.permute(0, 2, 1, 3, 4)  # Wan's [B, C, F', h, w]
        noise = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32)).to(device)
        t = torch.from_numpy(1.0 / (1.0 + np.exp(-rng.standard_normal(x.shape[0])))).float().to(device)
        tt = t.view(-1, 1, 1, 1, 1)
        noisy = (1.0 - tt) * x + tt * noise

        def predict(net, rows=slice(None)):
            return net(
                hidden_states=noisy[rows],
                timestep=t[rows] * 1000.0,
                encoder_hidden_states=text[rows],
                return_dict=False,
            )[0]

        target = hold_targets(noise - x, held, lambda rows: predict(teacher, rows))
        return F.mse_loss(predict(module).float(), target.float())

    @staticmethod
    def apply_alpha_method(transformer, rank: int, lora_alpha: float, attention: str):
        """TransPixar's alpha tokens on the Wan transformer; Wan has no text-to-alpha attention to block, so only
        the paper's own mode is offered."""
        if attention != "transpixar":
            raise UsageError(f"--attention {attention} is not offered on Wan", "leave --attention out")
        from vfxgen.models.transpixar_wan import apply_transpixar_wan

        return apply_transpixar_wan(transformer, rank, lora_alpha)

    @staticmethod
    def alpha_weights_shape(path: Path) -> tuple[int, float]:
        """(rank, lora_alpha) of a saved Wan adapter, from its header."""
        from vfxgen.models.transpixar_wan import adapter_shape

        return adapter_shape(path)

    @staticmethod
    def load_alpha_weights(module, path: Path) -> None:
        """A saved adapter into a transformer made by `apply_alpha_method` (same rank): `vfxgen train --init-lora`."""
        from vfxgen.models.transpixar_wan import load_wan_alpha_weights

        load_wan_alpha_weights(module, path)

    @staticmethod
    def save_alpha_weights(module, path: Path, metadata: dict[str, str]) -> None:
        """The adapter in TransPixar's own Wan key names (plus vfxgen's recipe and LoRA alpha metadata)."""
        from vfxgen.models.transpixar_wan import save_wan_alpha_weights

        save_wan_alpha_weights(module, path, metadata)
