"""Wan 2.1's runtime: Wan-Alpha's weights on diffusers' stock `WanPipeline`, sampled and decoded as released.

Loading (`WanRuntime.load`): the Wan folder (diffusers layout, or the original Wan-AI layout assembled from
its DiT shards, `Wan2.1_VAE.pth`, the T5 `.pth` and tokenizer), then what Wan-Alpha adds, each merged exactly as
its release merges it (`vfxgen.backbones.wan_alpha`): the DoRA (`--lora`, original Wan module names), an
optional step-distillation LoRA (`--distill`, LightX2V with its diff/diff_b/diff_m terms), the release's float64
timestep sinusoid, and two copies of the VAE whose decoders carry the colour and alpha deltas (`--vae-decoder`).

Sampling: one `randn(16, T', H/8, W/8)` float32 draw from a seeded CPU generator (the release draws on its CUDA
device, so a seed gives other noise there), moved by `(1 - mask) * 0.05` outside the Gaussian mask in v2
(`--alpha-mask`); the stock pipeline call with `output_type="latent"` and the release's flow-matching UniPC
(shift 5; 4 steps: timesteps 999, 937, 833, 624); guidance 1 runs one DiT call per step (no CFG). Decoding:
both decoders from the one latent; colour straight, alpha = the mean of the alpha decoder's three channels
(`RGBAPipeline.decode` with the recipe's `alpha_reduce = "mean"`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from vfxgen.backbones.base import step_callback
from vfxgen.backbones.devices import parse_device
from vfxgen.backbones.wan import (
    ORIGINAL_T5,
    ORIGINAL_TOKENIZER,
    ORIGINAL_VAE,
    is_original_layout,
    is_transpixar_adapter,
)
from vfxgen.errors import ModelError, UsageError, VfxgenWarning
from vfxgen.models.transpixar import check_finite_tensors
from vfxgen.quiet import quiet_libraries
from vfxgen.request import GenerationRequest, LoadOptions, ModelChoice

quiet_libraries()

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: Wan's text length: prompts are encoded to (and zero-padded to) this many tokens, all of them attended.
TEXT_LEN = 512


def latent_normalisation(vae, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The Wan VAE's per-channel (mean, 1/std) as `[1, C, 1, 1, 1]` float32: the DiT sees `(z - mean) / std`."""
    shape = (1, vae.config.z_dim, 1, 1, 1)
    mean = torch.tensor(vae.config.latents_mean, dtype=torch.float32, device=device).view(shape)
    return mean, 1.0 / torch.tensor(vae.config.latents_std, dtype=torch.float32, device=device).view(shape)


def load_wan_pipeline(path: Path):
    """A Wan folder in either layout as diffusers' float32 `WanPipeline` (also what `vfxgen train` loads)."""
    return _original_pipeline(path) if is_original_layout(path) else _diffusers_pipeline(path)


def _diffusers_pipeline(path: Path):
    """A diffusers-layout folder (`Wan2.1-T2V-14B-Diffusers`) as diffusers loads it, in float32."""
    from diffusers import WanPipeline

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return WanPipeline.from_pretrained(str(path), torch_dtype=torch.float32, use_safetensors=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot load {path}: {exc}", "check the model directory is complete") from exc


def _original_pipeline(path: Path):
    """An original-layout folder (Wan-AI's `Wan2.1-T2V-14B`, what Wan-Alpha's README downloads) assembled into
    the same float32 `WanPipeline`: the DiT shards and `Wan2.1_VAE.pth` by diffusers' converters, the T5 `.pth`
    as a transformers `UMT5EncoderModel`, the folder's tokenizer, and the release's sampler (the folder has
    no scheduler config; the recipe's settings are applied afterwards as for the diffusers layout)."""
    from diffusers import WanPipeline
    from transformers import AutoTokenizer

    from vfxgen.backbones import wan_alpha

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path / ORIGINAL_TOKENIZER), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"cannot load the tokenizer {path / ORIGINAL_TOKENIZER}: {exc}".replace("\n", " "),
            "complete the download of Wan2.1-T2V-14B (google/umt5-xxl/ holds the tokenizer files)",
        ) from exc
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=wan_alpha.load_original_t5(path / ORIGINAL_T5, torch.float32),
        transformer=wan_alpha.load_original_dit(path, torch.float32),
        vae=wan_alpha.load_original_vae(path / ORIGINAL_VAE, torch.float32),
        scheduler=wan_alpha.release_scheduler(),
    )


def _sampler(folder_scheduler, recipe):
    """The recipe's sampler on the release's grid: `unipc` (Wan-Alpha's), `dpm` (the release's dpm++), or
    `model` (the folder's own scheduler, as saved)."""
    from vfxgen.backbones import wan_alpha
    from vfxgen.backbones.wan_samplers import release_dpm_scheduler

    if recipe.scheduler == "unipc":
        return wan_alpha.release_scheduler(folder_scheduler.config, shift=recipe.flow_shift)
    if recipe.scheduler == "dpm":
        return release_dpm_scheduler(folder_scheduler.config, shift=recipe.flow_shift)
    if recipe.scheduler == "model":
        return folder_scheduler
    raise UsageError(f"--scheduler {recipe.scheduler} does not run Wan models", "use unipc, dpm or model")


class WanRuntime:
    """A loaded Wan 2.1 with Wan-Alpha merged: latents in, latents out, colour and alpha out."""

    def __init__(self, pipe, vae_alpha, device: torch.device, model_name: str, mask, recipe) -> None:
        self.pipe = pipe  # the stock WanPipeline; its `vae` decodes colour
        self.vae_alpha = vae_alpha  # the same VAE with the alpha decoder's deltas (Wan-Alpha), or None
        self.joint = vae_alpha is None  # TransPixar on Wan: `[RGB | alpha]` latent frames, one stock VAE
        self.device = device
        self.model_name = model_name
        self.mask = mask  # Wan-Alpha v2's Gaussian mask (T', h, w), or None
        self.recipe = recipe

    @classmethod
    def load(cls, choice: ModelChoice, options: LoadOptions, image_to_video: bool | None = None) -> WanRuntime:
        """Load the Wan folder (either layout) and merge Wan-Alpha into it; the recipe's sampler replaces the
        folder's."""
        from vfxgen.backbones import wan_alpha

        info, recipe = choice.info, choice.recipe
        if image_to_video:
            raise ModelError(f"{info.path} is a text-to-video Wan model", "animate with Wan is not supported yet")
        dev = parse_device(options.device)
        dtype = DTYPES[options.resolved_dtype()]
        # Merged in float32 (as the release merges), cast to the compute dtype afterwards.
        pipe = load_wan_pipeline(info.path)
        for component in ("transformer", "vae", "text_encoder"):
            check_finite_tensors(getattr(pipe, component).state_dict().items(), info.path / component)
        joint = is_transpixar_adapter(choice.lora)  # TransPixar's alpha tokens, else Wan-Alpha's two decoders
        if joint:
            from vfxgen.models.transpixar_wan import adapter_shape, apply_transpixar_wan, load_wan_alpha_weights

            rank, lora_alpha = adapter_shape(choice.lora)
            apply_transpixar_wan(pipe.transformer, rank, lora_alpha)
            load_wan_alpha_weights(pipe.transformer, choice.lora)
            vae_alpha = None
        else:
            wan_alpha.merge_dora(pipe.transformer, choice.lora)
            if options.distill is not None:
                wan_alpha.merge_lightx2v(pipe.transformer, options.distill)
            wan_alpha.release_time_embedding(pipe.transformer)
            pipe.vae, vae_alpha = wan_alpha.alpha_decoders(pipe.vae, options.vae_decoder)
        pipe.scheduler = _sampler(pipe.scheduler, recipe)
        mask = wan_alpha.load_pickle_tensors(options.alpha_mask, "alpha mask") if options.alpha_mask else None
        if mask is not None and not isinstance(mask, torch.Tensor):
            raise ModelError(f"{options.alpha_mask} holds no tensor", "pass Wan-Alpha's gauss_mask file")
        pipe.transformer.to(dtype).eval()
        pipe.text_encoder.to(dtype)
        pipe.set_progress_bar_config(disable=True)
        if options.compile:
            pipe.transformer.compile(dynamic=False)
        for vae in (pipe.vae, vae_alpha):  # diffusers' own tiled / sliced Wan VAE decode (less memory)
            if vae is not None and (options.vae_tiling or recipe.vae_tiling):
                vae.enable_tiling()
            if vae is not None and (options.vae_slicing or recipe.vae_slicing):
                vae.enable_slicing()
        if options.offload == "model":
            pipe.enable_model_cpu_offload(device=dev)
        elif options.offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=dev)
        else:
            pipe.to(dev)
        if vae_alpha is not None:
            vae_alpha.to(dev)
        return cls(pipe, vae_alpha, dev, info.name, mask, recipe)

    # --- geometry and sampling ------------------------------------------------------------------------
    @property
    def scheduler(self):
        return self.pipe.scheduler

    def latent_frames(self, frames: int) -> int:
        return (frames - 1) // self.pipe.vae_scale_factor_temporal + 1

    #: Latents are `[B, C, F, h, w]`: frames on axis 2.
    latent_frame_dim = 2

    def alpha_frames_start(self, frames: int) -> int | None:
        """TransPixar: the alpha half starts after the RGB frames. None for Wan-Alpha, which carries colour
        and alpha in one latent (two decoders): no alpha frames to pin."""
        return self.latent_frames(frames) if self.joint else None

    def initial_latents(self, req: GenerationRequest) -> tuple[torch.Tensor, torch.Generator]:
        """One float32 draw of `(16, T', H/8, W/8)` from a CPU generator seeded with the shot's seed; in v2
        shifted by `(1 - mask) * alpha_shift_mean` outside the subject (the mask resized in bf16)."""
        from vfxgen.backbones import wan_alpha

        pipe = self.pipe
        shape = (
            pipe.vae.config.z_dim,
            self.latent_frames(req.frames) * (2 if self.joint else 1),  # TransPixar: one draw for both halves
            req.height // pipe.vae_scale_factor_spatial,
            req.width // pipe.vae_scale_factor_spatial,
        )
        generator = torch.Generator(device="cpu").manual_seed(req.seed)
        noise = torch.randn(shape, generator=generator, dtype=torch.float32)
        if self.mask is not None and self.recipe.alpha_shift_mean:
            if self.mask.shape[0] not in (1, shape[1]):
                raise UsageError(
                    f"the alpha mask has {self.mask.shape[0]} frames but the shot has {shape[1]} latent frames",
                    f"use a mask made for {req.frames} frames, or --frames {(self.mask.shape[0] - 1) * 4 + 1}",
                )
            noise = wan_alpha.shift_noise_with_mask(noise, self.mask, self.recipe.alpha_shift_mean)
        return noise[None], generator

    def text_seen(self, text: str, what: str = "prompt") -> str:
        """The part of `text` Wan's text encoder reads (512 tokens); warns when it is cut."""
        tokenizer = self.pipe.tokenizer
        ids = tokenizer(text, add_special_tokens=True, truncation=False).input_ids
        if len(ids) <= TEXT_LEN:
            return text
        kept = tokenizer(text, max_length=TEXT_LEN, truncation=True, add_special_tokens=True).input_ids
        seen = tokenizer.decode(kept, skip_special_tokens=True)
        warnings.warn(
            f"the {what} is {len(ids)} tokens long but {self.model_name} reads {TEXT_LEN}: the last "
            f"{len(ids) - len(kept)} were dropped (shorten it, or see shot.json)",
            VfxgenWarning,
            stacklevel=3,
        )
        return seen

    def denoise(self, req: GenerationRequest, latents, generator, progress=None, image=None, step_hook=None):
        """The stock `WanPipeline` call with the shot's latents -> final latents `[1, 16, T', h, w]`."""
        if image is not None:
            raise UsageError("Wan models do not take an image yet", "use a CogVideoX model for animate")

        with torch.inference_mode():
            return self.pipe(
                prompt=req.prompt,
                negative_prompt=req.negative_prompt or None,
                height=req.height,
                width=req.width,
                num_frames=req.frames,
                num_inference_steps=req.steps,
                guidance_scale=req.guidance,
                generator=generator,
                latents=latents,
                output_type="latent",
                callback_on_step_end=step_callback(step_hook, progress, req.steps),
                callback_on_step_end_tensor_inputs=list(getattr(step_hook, "tensor_inputs", ["latents"])),
                max_sequence_length=TEXT_LEN,
            ).frames

    def guided_prediction(self, x_t, t, prompt_embeds):
        raise UsageError("--resample is not supported on Wan models yet", "drop --resample")

    # --- pixels ---------------------------------------------------------------------------------------
    def decode_rgba(self, latents: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """One latent -> (colour, alpha channels) as the two decoders give them, float32 `[F, H, W, 3]` in
        [0, 1]: Wan-Alpha carries RGBA in one latent read by two decoders."""
        with torch.inference_mode():
            if self.joint:  # TransPixar: RGB frames then alpha frames, each half through the stock VAE
                rgb, alpha = latents.chunk(2, dim=2)
                return self._decode(self.pipe.vae, rgb), self._decode(self.pipe.vae, alpha)
            return self._decode(self.pipe.vae, latents), self._decode(self.vae_alpha, latents)

    def _decode(self, vae, latents: torch.Tensor) -> np.ndarray:
        mean, inv_std = latent_normalisation(vae)
        z = latents.float().cpu() / inv_std + mean
        video = vae.decode(z.to(vae.device, vae.dtype), return_dict=False)[0].float().clamp(-1, 1)  # [1, 3, F, H, W]
        frames = (video[0].permute(1, 2, 3, 0).cpu().numpy() + 1.0) / 2.0
        return frames.astype(np.float32)

    def encode_frames(self, frames: np.ndarray) -> torch.Tensor:
        """`[T, H, W, 3]` in [0, 1] (T = 1 or 4k + 1) -> clean latents `[1, 16, F, h, w]` in the DiT's space:
        the encoder's posterior mean, normalised as `decode_rgba` un-normalises (`(z - mean) / std`)."""
        vae = self.pipe.vae
        video = torch.from_numpy(np.ascontiguousarray(np.asarray(frames, np.float32).transpose(3, 0, 1, 2)))[None]
        video = (video * 2.0 - 1.0).to(vae.device, vae.dtype)  # [1, 3, T, H, W]
        with torch.inference_mode():
            z = vae.encode(video).latent_dist.mode().float().cpu()
        mean, inv_std = latent_normalisation(vae)
        return (z - mean) * inv_std

    def to_pipe_image(self, image: np.ndarray):
        raise UsageError("Wan models do not take an image yet", "use a CogVideoX model for animate")

    def alpha_first_frame(self, alpha_latent, start):
        raise UsageError("Wan models do not take an image yet", "use a CogVideoX model for animate")

    def record(self) -> dict:
        """What shot.json records about the loaded sampler and device."""
        return {
            "scheduler": type(self.pipe.scheduler).__name__,
            "timestep_spacing": self.recipe.timestep_spacing,  # unused by the release grid; --resume compares it
            "flow_shift": self.recipe.flow_shift,
            "device": str(self.device),
            "device_type": self.device.type,
        }
