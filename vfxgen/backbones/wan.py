"""Wan 2.1 (text-to-video): the spec. RGBA is carried the Wan-Alpha way: one latent, decoded by two VAE
decoders (colour and alpha) that share the encoder; the DiT is Wan2.1 with Wan-Alpha's DoRA folded in (and
optionally a step-distillation LoRA), sampled by flow-matching UniPC (`vfxgen.backbones.wan_runtime`).

Latent geometry: the causal Wan VAE maps `4k + 1` frames to `k + 1` latent frames and 8x8 pixels to one latent
pixel; the DiT patches 1x2x2 latents per token, so sizes are multiples of 16. Native size: the folder's
`vfxgen.json` (`"sample_size": [width, height, frames]`), else Wan-Alpha's 832x480, 81 frames.

Two folder layouts: diffusers' (`model_index.json` naming `WanPipeline`) and the ORIGINAL one Wan-Alpha's README
downloads (`Wan2.1-T2V-14B/`: the release's `config.json` with `model_type`, the DiT shards, `Wan2.1_VAE.pth`,
the T5 encoder `.pth` and the `google/umt5-xxl/` tokenizer), which `WanRuntime.load` assembles from its parts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vfxgen.backbones.base import PICKLE_SUFFIXES, Backbone, check_safetensors_dir, read_json, register_backbone
from vfxgen.errors import ModelError

#: Wan-Alpha's released size (its shell scripts: --size 832*480 --frame_num 81).
WAN_ALPHA_SIZE = (832, 480, 81)

# The original Wan-AI layout (Wan2.1-T2V-14B as released; the release's `wan/configs`: t5_checkpoint,
# t5_tokenizer, vae_checkpoint; the DiT is `WanModel.from_pretrained(folder)`).
ORIGINAL_CONFIG = "config.json"
ORIGINAL_DIT_GLOB = "diffusion_pytorch_model*.safetensors"
ORIGINAL_VAE = "Wan2.1_VAE.pth"
ORIGINAL_T5 = "models_t5_umt5-xxl-enc-bf16.pth"
ORIGINAL_TOKENIZER = "google/umt5-xxl"
#: The release's VAE compresses 8x8 pixels per latent pixel; its DiT patches 1x2x2 (config.json omits both).
ORIGINAL_VAE_SPATIAL, ORIGINAL_PATCH = 8, (1, 2, 2)


@register_backbone
class Wan(Backbone):
    name = "wan"
    label = "Wan 2.1"
    recipes = ("wan-alpha-v1", "wan-alpha-v2", "transpixar-wan")
    required_files = {"vae_decoder": "pass --vae-decoder Wan-Alpha-v2-VAE.bin (or v1's Wan-Alpha-VAE.bin)"}
    lora_hint = "pass --lora with Wan-Alpha's DoRA (.safetensors, as released)"
    # Wan-Alpha was trained on "The background of this video is transparent. ... Realistic style." prompts, and
    # samples with its distilled 4 steps and no guidance: presets' CogVideoX steps/guidance would undo that.
    prompt_style = "transparent"
    preset_sampling = False
    fps = 16.0  # Wan 2.1's sample_fps (wan/configs/shared_config.py), what Wan-Alpha's save_video writes
    schedulers = ("unipc", "dpm", "model")

    @classmethod
    def recognises(cls, index: dict) -> bool:
        return str(index.get("_class_name", "")) == "WanPipeline"

    @classmethod
    def recognises_folder(cls, path: Path) -> bool:
        """An original-layout Wan folder: no model_index.json, the release's `config.json` (`WanModel`
        arguments with a `model_type`). Any `model_type` is claimed so `describe` can refuse i2v in one line."""
        config = _original_config(path)
        return config is not None and config.get("_class_name", "WanModel") == "WanModel" and "model_type" in config

    @classmethod
    def describe(cls, path: Path, index: dict | None) -> dict[str, Any]:
        if index is None:
            return _describe_original(path)
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
        return _fields(path, spatial * int(patch[1]), int(scheduler.get("num_train_timesteps", 1000)))

    @classmethod
    def required_files_for(cls, lora_path: Path) -> dict[str, str]:
        return {} if is_transpixar_adapter(lora_path) else cls.required_files

    @classmethod
    def unused_files_for(cls, lora_path: Path) -> tuple[str, ...]:
        """TransPixar's adapter decodes both halves with the stock VAE and runs its own sampling."""
        return ("vae_decoder", "distill", "alpha_mask") if is_transpixar_adapter(lora_path) else ()

    @classmethod
    def guess_recipe(cls, lora_path: Path | None, options: Any) -> Any:
        """Wan-Alpha's DoRA records no recipe: the release's v2 when a Gaussian mask is given, else v1; a
        TransPixar adapter without vfxgen's metadata (trained by its `wan` branch): that branch's sampling."""
        from dataclasses import replace

        from vfxgen.pipelines.recipe import WAN_ALPHA_V1, WAN_ALPHA_V2, WAN_TRANSPIXAR

        if lora_path is not None and is_transpixar_adapter(lora_path):
            return replace(WAN_TRANSPIXAR, source=f"{WAN_TRANSPIXAR.source} (the adapter records no recipe)")
        recipe = WAN_ALPHA_V2 if options.alpha_mask is not None else WAN_ALPHA_V1
        return replace(recipe, source=f"{recipe.source} (the weights record no recipe; --alpha-mask selects v2)")

    @classmethod
    def runtime(cls) -> type:
        from vfxgen.backbones.wan_runtime import WanRuntime

        return WanRuntime

    @classmethod
    def training(cls) -> type:
        from vfxgen.backbones.wan_training import WanTraining

        return WanTraining


def is_transpixar_adapter(lora_path: Path) -> bool:
    """Whether `--lora` is a TransPixar-on-Wan adapter (its domain embedding key) rather than Wan-Alpha's DoRA;
    reads the safetensors header only."""
    from vfxgen.pipelines.recipe import read_safetensors_header

    return "diffusion_model.modality_embedding" in read_safetensors_header(lora_path)


def _fields(path: Path, spatial_multiple: int, train_timesteps: int) -> dict[str, Any]:
    """The `ModelInfo` fields both layouts share; the native size comes from the folder's vfxgen.json."""
    hints_file = path / "vfxgen.json"
    hints = read_json(hints_file, "vfxgen.json") if hints_file.is_file() else {}
    size = hints.get("sample_size", WAN_ALPHA_SIZE)
    if not (isinstance(size, list | tuple) and len(size) == 3 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ModelError(
            f"{path}/vfxgen.json: sample_size must be [width, height, frames], got {size!r}", "fix or remove it"
        )
    width, height, frames = size
    return {
        "pipeline_class": "WanPipeline",
        "image_to_video": False,
        "sample_frames": int(frames),
        "sample_height": int(height),
        "sample_width": int(width),
        "use_learned_positions": False,
        "spatial_multiple": spatial_multiple,
        "train_timesteps": train_timesteps,
    }


def _original_config(path: Path) -> dict | None:
    """The folder's config.json as a dict, or None when it has none or it is not JSON (then not Wan's)."""
    file = path / ORIGINAL_CONFIG
    if not file.is_file():
        return None
    try:
        config = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def is_original_layout(path: Path) -> bool:
    """Whether `WanRuntime.load` must assemble the folder from the release's files (no model_index.json)."""
    return not (path / "model_index.json").is_file() and Wan.recognises_folder(path)


def _describe_original(path: Path) -> dict[str, Any]:
    """An original-layout folder's fields, after checking it is the T2V model and holds every release file,
    so a wrong or incomplete folder is refused in one line before any weights load."""
    config = _original_config(path) or {}
    kind = str(config.get("model_type"))
    if kind != "t2v":
        what = "image-to-video" if kind == "i2v" else f"{kind!r}"
        raise ModelError(
            f"{path} is a Wan {what} model (original layout), which vfxgen does not run yet",
            "use the Wan2.1 text-to-video model (Wan2.1-T2V-14B, model_type t2v)",
        )
    _check_original_dit(path)
    for name, what in ((ORIGINAL_VAE, "the Wan VAE"), (ORIGINAL_T5, "the T5 text encoder")):
        if not (path / name).is_file():
            raise ModelError(f"{path} has no {name} ({what})", "complete the download of Wan2.1-T2V-14B")
    if not (path / ORIGINAL_TOKENIZER).is_dir():
        raise ModelError(
            f"{path} has no {ORIGINAL_TOKENIZER}/ tokenizer folder", "complete the download of Wan2.1-T2V-14B"
        )
    patch = config.get("patch_size", ORIGINAL_PATCH)
    return _fields(path, ORIGINAL_VAE_SPATIAL * int(patch[1]), 1000)


def _check_original_dit(path: Path) -> None:
    """The DiT must be safetensors (`diffusion_pytorch_model*.safetensors`): pickled shards are refused."""
    if any(path.glob(ORIGINAL_DIT_GLOB)):
        return
    pickles = sorted(p.name for p in path.glob("diffusion_pytorch_model*") if p.name.endswith(PICKLE_SUFFIXES))
    if pickles:
        raise ModelError(
            f"{path} holds the Wan DiT only as pickle weights ({pickles[0]})",
            "vfxgen loads the DiT from safetensors only: use the released diffusion_pytorch_model-*.safetensors",
        )
    raise ModelError(f"{path} has no {ORIGINAL_DIT_GLOB} (the Wan DiT)", "complete the download of Wan2.1-T2V-14B")
