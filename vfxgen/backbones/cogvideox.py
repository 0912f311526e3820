"""CogVideoX (2B, 5B, 5B-I2V, 1.5, and vfxgen's demo model): the spec. TransPixar carries RGBA as joint
tokens: `2F` latent frames, the RGB half then the alpha half, in one DiT (`vfxgen.models.transpixar`).

Latent geometry: the causal VAE maps `4k + 1` frames to `k + 1` latent frames (the first on its own),
`2^(blocks - 1)` pixels to one latent pixel, and the transformer patches `patch_size` latents per token, so
sizes are multiples of `spatial * patch`. The runtime (`cogvideox_runtime.py`) imports torch and diffusers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vfxgen.backbones.base import Backbone, check_safetensors_dir, read_json, register_backbone
from vfxgen.errors import ModelError


@register_backbone
class CogVideoX(Backbone):
    name = "cogvideox"
    label = "CogVideoX"
    recipes = ("release", "vfxgen")
    lora_hint = "pass --lora FILE (e.g. the released TransPixar LoRA for CogVideoX-5B)"

    @classmethod
    def guess_recipe(cls, lora_path: Path | None, options: Any) -> Any:
        """A TransPixar LoRA without a recorded recipe: guessed from its layout, said in one warning."""
        from vfxgen.pipelines.recipe import guess_transpixar_recipe

        return guess_transpixar_recipe(lora_path)

    @classmethod
    def recognises(cls, index: dict) -> bool:
        return str(index.get("_class_name", "")).startswith("CogVideoX")

    @classmethod
    def describe(cls, path: Path, index: dict) -> dict[str, Any]:
        config = read_json(path / "transformer" / "config.json", "transformer/config.json")
        if config.get("_class_name") != "CogVideoXTransformer3DModel":
            raise ModelError(f"{path}/transformer is not a CogVideoXTransformer3DModel", "check the model directory")
        for component in ("transformer", "vae", "text_encoder"):
            check_safetensors_dir(path / component)
        vae_config = read_json(path / "vae" / "config.json", "vae/config.json")
        spatial = 2 ** (len(vae_config.get("block_out_channels", [0, 0, 0, 0])) - 1)
        scheduler_file = path / "scheduler" / "scheduler_config.json"
        scheduler = read_json(scheduler_file, "scheduler/scheduler_config.json") if scheduler_file.is_file() else {}
        return {
            "pipeline_class": str(index.get("_class_name", "")),
            "image_to_video": config.get("in_channels") == 2 * vae_config.get("latent_channels", 16),
            "sample_frames": int(config.get("sample_frames", 49)),
            "sample_height": int(config.get("sample_height", 60)) * spatial,
            "sample_width": int(config.get("sample_width", 90)) * spatial,
            "use_learned_positions": bool(config.get("use_learned_positional_embeddings", False)),
            "spatial_multiple": spatial * int(config.get("patch_size", 2)),
            "train_timesteps": int(scheduler.get("num_train_timesteps", 1000)),
        }

    @classmethod
    def runtime(cls) -> type:
        from vfxgen.backbones.cogvideox_runtime import CogVideoXRuntime

        return CogVideoXRuntime

    @classmethod
    def training(cls) -> type:
        from vfxgen.backbones.cogvideox_training import CogVideoXTraining

        return CogVideoXTraining
