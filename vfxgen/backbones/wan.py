"""Wan 2.1 (text-to-video, diffusers layout): the spec. RGBA is carried the Wan-Alpha way: one latent, decoded
by two VAE decoders (colour and alpha) that share the encoder; the DiT is Wan2.1 with Wan-Alpha's DoRA folded
in (and optionally a step-distillation LoRA), sampled by flow-matching UniPC (`vfxgen.backbones.wan_runtime`).

Latent geometry: the causal Wan VAE maps `4k + 1` frames to `k + 1` latent frames and 8x8 pixels to one latent
pixel; the DiT patches 1x2x2 latents per token, so sizes are multiples of 16. Native size: the folder's
`vfxgen.json` (`"sample_size": [width, height, frames]`), else Wan-Alpha's 832x480, 81 frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vfxgen.backbones.base import Backbone, check_safetensors_dir, read_json, register_backbone
from vfxgen.errors import ModelError

#: Wan-Alpha's released size (its shell scripts: --size 832*480 --frame_num 81).
WAN_ALPHA_SIZE = (832, 480, 81)


@register_backbone
class Wan(Backbone):
    name = "wan"
    label = "Wan 2.1"
    recipes = ("wan-alpha-v1", "wan-alpha-v2")
    load_files = ("vae_decoder", "distill", "alpha_mask")
    required_files = {"vae_decoder": "pass --vae-decoder Wan-Alpha-v2-VAE.bin (or v1's Wan-Alpha-VAE.bin)"}
    lora_hint = "pass --lora with Wan-Alpha's DoRA (.safetensors, as released)"
    # Wan-Alpha was trained on "The background of this video is transparent. ... Realistic style." prompts, and
    # samples with its distilled 4 steps and no guidance: presets' CogVideoX steps/guidance would undo that.
    prompt_style = "transparent"
    preset_sampling = False

    @classmethod
    def recognises(cls, index: dict) -> bool:
        return str(index.get("_class_name", "")) == "WanPipeline"

    @classmethod
    def describe(cls, path: Path, index: dict) -> dict[str, Any]:
        config = read_json(path / "transformer" / "config.json", "transformer/config.json")
        if config.get("_class_name") != "WanTransformer3DModel":
            raise ModelError(f"{path}/transformer is not a WanTransformer3DModel", "check the model directory")
        if config.get("in_channels") != config.get("out_channels"):
            raise ModelError(
                f"{path} is a Wan image-to-video model, which vfxgen does not run yet",
                "use a Wan 2.1 text-to-video model (Wan2.1-T2V-14B in diffusers layout)",
            )
        for component in ("transformer", "vae", "text_encoder"):
            check_safetensors_dir(path / component)
        vae = read_json(path / "vae" / "config.json", "vae/config.json")
        spatial = int(vae.get("scale_factor_spatial", 8))
        patch = config.get("patch_size", [1, 2, 2])
        scheduler_file = path / "scheduler" / "scheduler_config.json"
        scheduler = read_json(scheduler_file, "scheduler/scheduler_config.json") if scheduler_file.is_file() else {}
        hints_file = path / "vfxgen.json"
        hints = read_json(hints_file, "vfxgen.json") if hints_file.is_file() else {}
        width, height, frames = hints.get("sample_size", WAN_ALPHA_SIZE)
        return {
            "pipeline_class": "WanPipeline",
            "image_to_video": False,
            "sample_frames": int(frames),
            "sample_height": int(height),
            "sample_width": int(width),
            "use_learned_positions": False,
            "spatial_multiple": spatial * int(patch[1]),
            "train_timesteps": int(scheduler.get("num_train_timesteps", 1000)),
        }

    @classmethod
    def guess_recipe(cls, lora_path: Path | None, options: Any) -> Any:
        """Wan-Alpha's DoRA records no recipe: the release's v2 when a Gaussian mask is given, else v1."""
        from dataclasses import replace

        from vfxgen.pipelines.recipe import WAN_ALPHA_V1, WAN_ALPHA_V2

        recipe = WAN_ALPHA_V2 if options.alpha_mask is not None else WAN_ALPHA_V1
        return replace(recipe, source=f"{recipe.source} (the weights record no recipe; --alpha-mask selects v2)")

    @classmethod
    def runtime(cls) -> type:
        from vfxgen.backbones.wan_runtime import WanRuntime

        return WanRuntime
