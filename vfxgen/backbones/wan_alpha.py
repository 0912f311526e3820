"""Wan-Alpha's released weights on diffusers' Wan classes, merged exactly as the release merges them.

Wan-Alpha (github.com/WeChatCV/Wan-Alpha) ships no model of its own: it is Wan2.1-T2V-14B in the ORIGINAL
Wan layout, a DoRA, the LightX2V step-distill LoRA, and a decoder file holding LoRA deltas for two copies
of the Wan VAE decoder (colour "vae_fgr.", alpha "vae_pha."); v2 adds a Gaussian mask that shifts the
initial noise. The release folds every delta into the weights before sampling, with its own arithmetic
(DoRA without rank scaling, LightX2V deltas cast to the model dtype first, decoder LoRA per kernel tap),
samples with a flow UniPC whose sigma grid starts at 0.999, and embeds the timestep in float64. Each
function below reproduces one of those steps on diffusers' `WanTransformer3DModel`, `AutoencoderKLWan`
and `UniPCMultistepScheduler`, so the stock `WanPipeline` then runs the released model.

Original names are mapped to diffusers names by diffusers' own converters
(`convert_wan_transformer_to_diffusers`, `convert_wan_vae_to_diffusers`), never by a table of ours, so
the mapping cannot drift from the one used to load the base weights.

Merge precision: the release merges into float32 weights. Here a merge runs in float32 (or the weight's
dtype if wider) and the result is stored in the weight's dtype, so a float32 model is bit-identical to
the release and a bfloat16 model is the release's result rounded once.

`tests/wan_alpha_port.py` is an independent reference port; `tests/test_wan_alpha_weights.py` compares
the two bit for bit on tiny files in the release layouts.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers, convert_wan_vae_to_diffusers
from safetensors import SafetensorError, safe_open

from vfxgen.errors import InputError, ModelError

# The release's WanModel defaults: Wan2.1's config.json omits patch_size, text_dim, qk_norm and
# cross_attn_norm (the release's class even ignores them in a config), so these values always apply.
ORIGINAL_DIT_DEFAULTS: dict[str, Any] = {
    "model_type": "t2v",
    "patch_size": (1, 2, 2),
    "in_dim": 16,
    "dim": 2048,
    "ffn_dim": 8192,
    "freq_dim": 256,
    "text_dim": 4096,
    "out_dim": 16,
    "num_heads": 16,
    "num_layers": 32,
    "qk_norm": True,
    "cross_attn_norm": True,
    "eps": 1e-6,
}
DIT_CONFIG_NAME = "config.json"
DIT_WEIGHTS_GLOB = "diffusion_pytorch_model*.safetensors"
DIT_INDEX_NAME = "diffusion_pytorch_model.safetensors.index.json"

# Wan2.1_VAE.pth's architecture (release `_video_vae`); only the width is read from the file.
ORIGINAL_VAE_CONFIG: dict[str, Any] = {
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
}

DECODER_PREFIXES = {"fgr": "vae_fgr.", "pha": "vae_pha."}

# The release's sampler: FlowUniPCMultistepScheduler(shift=1) then set_timesteps(n, shift=5).
RELEASE_SCHEDULER_SETTINGS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "flow_shift": 5.0,
    "solver_order": 2,
    "solver_type": "bh2",
    "predict_x0": True,
    "lower_order_final": True,
    "disable_corrector": [],
    "final_sigmas_type": "zero",
    "thresholding": False,
    "use_dynamic_shifting": False,
    "use_karras_sigmas": False,
    "use_exponential_sigmas": False,
    "use_beta_sigmas": False,
    "shift_terminal": None,
}

LIGHTX2V_PREFIXES = ("", "diffusion_model.")
LIGHTX2V_PAIRS = (("lora_A.weight", "lora_B.weight"), ("lora_down.weight", "lora_up.weight"))
LIGHTX2V_DIFFS = (("diff", "weight"), ("diff_b", "bias"), ("diff_m", "modulation"))


# ------------------------------------------------------------------------------------------------------
# Reading files
# ------------------------------------------------------------------------------------------------------
def read_safetensors(path: str | Path, dtype_for: Any = None) -> dict[str, torch.Tensor]:
    """All tensors of a .safetensors file; `dtype_for(name)` (optional) gives each tensor's dtype as it is
    read, so a 14B shard is never held twice at full precision."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            out = {}
            for key in fh.keys():
                tensor = fh.get_tensor(key)
                out[key] = tensor.to(dtype_for(key)) if dtype_for is not None else tensor
            return out
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelError(
            f"cannot read {path} as safetensors ({exc})".replace("\n", " "),
            "check the path and that the download is complete",
        ) from exc


def load_pickle_tensors(path: str | Path, what: str) -> dict[str, torch.Tensor] | torch.Tensor:
    """A torch.save file (the Wan-Alpha decoder .bin, the v2 mask) holding a tensor or a dict of tensors.

    Loaded with `weights_only=True`: these files come from the internet and a full unpickle runs any code
    they carry. Anything that loader refuses, or that is not tensors, is refused in one line with a command
    that re-saves the file as plain tensors (to run only on a file whose source you trust)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{what} {path} does not exist", "check the path")
    try:
        loaded = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as exc:
        raise _unsafe_pickle_error(path, what, "holds objects that are not plain tensors") from exc
    if isinstance(loaded, torch.Tensor):
        return loaded
    if isinstance(loaded, dict) and loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return {str(k): v for k, v in loaded.items()}
    raise _unsafe_pickle_error(path, what, f"holds a {type(loaded).__name__}, not a tensor or a dict of tensors")


def _unsafe_pickle_error(path: Path, what: str, problem: str) -> ModelError:
    """The one-line refusal of a pickle, with the conversion one-liner for a trusted file."""
    src, dst = str(path), str(path.with_name(path.name + ".tensors.pt"))
    command = (
        f'python -c "import torch; x = torch.load({src!r}, weights_only=False); '
        f"torch.save({{k: torch.as_tensor(v) for k, v in x.items()}} if isinstance(x, dict) else torch.as_tensor(x), "
        f'{dst!r})"'
    )
    return ModelError(
        f"{what} {path} {problem}; vfxgen loads pickles only with weights_only=True",
        f"if you trust its source, re-save it as plain tensors with: {command} and use {dst}",
    )


# ------------------------------------------------------------------------------------------------------
# Name mapping (diffusers' converters are the source of truth)
# ------------------------------------------------------------------------------------------------------
def _converted_name(converter: Any, original: str) -> str:
    """The diffusers name a converter gives one original key (the converters map each key on its own)."""
    (name,) = converter({original: original}).keys()
    return name


def dit_name(original: str) -> str:
    """diffusers `WanTransformer3DModel` name of an original Wan DiT weight (e.g. `blocks.0.self_attn.q.weight`
    -> `blocks.0.attn1.to_q.weight`, `blocks.0.modulation` -> `blocks.0.scale_shift_table`)."""
    return _converted_name(convert_wan_transformer_to_diffusers, original)


def vae_name(original: str) -> str:
    """diffusers `AutoencoderKLWan` name of an original Wan VAE weight (e.g. `decoder.upsamples.3.resample.1.weight`
    -> `decoder.up_blocks.0.upsamplers.0.resample.1.weight`)."""
    return _converted_name(convert_wan_vae_to_diffusers, original)


def _merge_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for half-precision weights (the release merges in float32), the weight's dtype otherwise."""
    return torch.promote_types(dtype, torch.float32)


# ------------------------------------------------------------------------------------------------------
# 1. The DiT in the original layout
# ------------------------------------------------------------------------------------------------------
def load_original_dit(
    path: str | Path, dtype: torch.dtype = torch.float32, config: str | Path | dict | None = None
) -> WanTransformer3DModel:
    """An ORIGINAL-layout Wan T2V DiT as a diffusers `WanTransformer3DModel` (eval, no grad).

    `path` is a folder (config.json + `diffusion_pytorch_model*.safetensors`, sharded with an index or not)
    or one .safetensors file; `config` (a dict or a JSON path) defaults to the config.json in the folder or
    beside the file. Keys are converted by diffusers' own converter and loaded strictly. With a half
    `dtype`, diffusers' `_keep_in_fp32_modules` stay float32, as `from_pretrained(torch_dtype=...)` does.
    The model is built without initialising its weights, so a 14B model is held once."""
    path = Path(path)
    original = _original_dit_config(path, config)
    model_config = diffusers_dit_config(original)
    keep = WanTransformer3DModel._keep_in_fp32_modules or []

    def dtype_for(key: str) -> torch.dtype:
        converted = dit_name(key.removeprefix("model.").removeprefix("diffusion_model."))
        return torch.float32 if dtype in (torch.float16, torch.bfloat16) and _in_modules(converted, keep) else dtype

    state: dict[str, torch.Tensor] = {}
    for file in _dit_weight_files(path):
        state.update(read_safetensors(file, dtype_for))
    state = {k.removeprefix("diffusion_model."): v for k, v in state.items()}
    converted = convert_wan_transformer_to_diffusers(state)
    return _assign_weights(_empty_model(WanTransformer3DModel, model_config), converted, path)


def _in_modules(name: str, modules: Iterable[str]) -> bool:
    """diffusers' rule for `_keep_in_fp32_modules`: a module name among the dotted parts."""
    parts = name.split(".")
    return any(m in parts for m in modules)


def _original_dit_config(path: Path, config: str | Path | dict | None) -> dict[str, Any]:
    """The original Wan config.json (release `WanModel` argument names), refusing what is not a Wan T2V DiT."""
    if isinstance(config, dict):
        raw = dict(config)
    else:
        file = Path(config) if config is not None else (path if path.is_dir() else path.parent) / DIT_CONFIG_NAME
        try:
            raw = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot read the Wan DiT config {file} ({exc})",
                "pass the original Wan2.1 config.json (it sits beside the diffusion_pytorch_model shards)",
            ) from exc
    if raw.get("_class_name") == "WanTransformer3DModel":
        raise ModelError(
            f"{path} is a diffusers-layout Wan transformer, not the original Wan layout",
            "load it with WanTransformer3DModel.from_pretrained, or point at the original Wan2.1-T2V-14B folder",
        )
    merged = {**ORIGINAL_DIT_DEFAULTS, **raw}
    if merged["model_type"] != "t2v":
        raise ModelError(
            f"{path} is a Wan {merged['model_type']} model; Wan-Alpha is built on the text-to-video model",
            "use the Wan2.1-T2V-14B base weights",
        )
    return merged


def diffusers_dit_config(original: dict[str, Any]) -> dict[str, Any]:
    """`WanTransformer3DModel` arguments from an original Wan config (release argument names, defaults filled)."""
    cfg = {**ORIGINAL_DIT_DEFAULTS, **original}
    dim, heads = int(cfg["dim"]), int(cfg["num_heads"])
    if dim % heads:
        raise ModelError(f"Wan config has dim {dim} not divisible by num_heads {heads}", "check the config.json")
    return {
        "patch_size": tuple(int(p) for p in cfg["patch_size"]),
        "num_attention_heads": heads,
        "attention_head_dim": dim // heads,
        "in_channels": int(cfg["in_dim"]),
        "out_channels": int(cfg["out_dim"]),
        "text_dim": int(cfg["text_dim"]),
        "freq_dim": int(cfg["freq_dim"]),
        "ffn_dim": int(cfg["ffn_dim"]),
        "num_layers": int(cfg["num_layers"]),
        "cross_attn_norm": bool(cfg["cross_attn_norm"]),
        "qk_norm": "rms_norm_across_heads" if cfg["qk_norm"] else None,
        "eps": float(cfg["eps"]),
    }


def _dit_weight_files(path: Path) -> list[Path]:
    """The safetensors file(s) of an original DiT: the index's shards, else every matching file, else `path`."""
    if path.is_file():
        return [path]
    index = path / DIT_INDEX_NAME
    if index.is_file():
        try:
            names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read the shard index {index} ({exc})", "re-download the index json") from exc
        files = [path / n for n in names]
    else:
        files = sorted(path.glob(DIT_WEIGHTS_GLOB))
    if not files:
        raise ModelError(
            f"{path} holds no {DIT_WEIGHTS_GLOB}",
            "point at the Wan2.1-T2V-14B folder (config.json + diffusion_pytorch_model-*.safetensors)",
        )
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ModelError(f"Wan DiT shard {missing[0]} is missing", "complete the download of the base model")
    return files


def _empty_model(cls: type, config: dict[str, Any]) -> torch.nn.Module:
    """A diffusers model whose parameters are not allocated (buffers are real: RoPE tables are not saved)."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        return cls(**config)


def _assign_weights(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path) -> Any:
    """Load `state` strictly into an empty model, taking the tensors as they are (no copy)."""
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[:2]
        raise ModelError(
            f"{source} does not fit {type(model).__name__} with its config ({' '.join(first)[:300]})",
            "check that the config.json matches the weights (an original-layout Wan2.1 T2V model)",
        ) from exc
    return model.eval().requires_grad_(False)


# ------------------------------------------------------------------------------------------------------
# 2. DoRA (release `load_dora`)
# ------------------------------------------------------------------------------------------------------
def _lora_target(key: str) -> str:
    """A `.lora_B.` key's target weight: the adapter token after `lora_B` (if any) and `lora_B` removed."""
    parts = key.split(".")
    at = parts.index("lora_B")
    if len(parts) > at + 2:
        del parts[at + 1]
    del parts[at]
    return ".".join(parts)


def dora_targets(keys: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """Original weight name -> (lora_B, lora_A, magnitude) keys of a DoRA file. Only `.lora_B.` keys start a
    target (the release ignores everything else); a leading `diffusion_model.` is dropped."""
    out = {}
    for key in keys:
        if ".lora_B." not in key:
            continue
        target = _lora_target(key).removeprefix("diffusion_model.")
        magnitude = key.replace(".lora_B.", ".lora_magnitude_vector.").replace("lora_B", "lora_magnitude_vector")
        out[target] = (key, key.replace(".lora_B.", ".lora_A."), magnitude)
    return out


def merge_dora(transformer: WanTransformer3DModel, dora_path: str | Path, ratio: float = 1.0) -> int:
    """Fold a Wan-Alpha DoRA into `transformer` in place, as the release does; returns the weights merged.

    `W' = W + ratio * (B @ A)` with `B @ A` in the file's dtype and no rank scaling (training used
    lora_alpha = rank); `W_new = m / max(||W'_row||, 1e-8) * W'`, one L2 norm per output row. Every target
    is checked before anything changes, so a refused file leaves the model untouched."""
    dora = read_safetensors(dora_path)
    targets = dora_targets(dora)
    if not targets:
        raise ModelError(f"{dora_path} holds no DoRA tensors (no '.lora_B.' keys)", "pass the Wan-Alpha DoRA file")
    params = dict(transformer.named_parameters())
    resolved = {original: dit_name(original) for original in targets}
    _refuse_unknown_targets(dora_path, "DoRA", [o for o, n in resolved.items() if n not in params])
    _refuse_missing_partners(dora_path, dora, [k for keys in targets.values() for k in keys[1:]])
    with torch.no_grad():
        for original, (b_key, a_key, m_key) in targets.items():
            param = params[resolved[original]]
            param.copy_(_dora_weight(param, dora[b_key], dora[a_key], dora[m_key], ratio))
    return len(targets)


def _dora_weight(
    weight: torch.Tensor, up: torch.Tensor, down: torch.Tensor, magnitude: torch.Tensor, ratio: float
) -> torch.Tensor:
    """One DoRA-merged weight (release arithmetic; 1x1-conv LoRA tensors are squeezed to 2-D and back)."""
    if up.dim() > 2:
        delta = ratio * torch.mm(up.flatten(1), down.flatten(1))
        delta = delta.reshape(*delta.shape, *([1] * (up.dim() - 2)))
    else:
        delta = ratio * torch.mm(up, down)
    merged = weight.detach().to(_merge_dtype(weight.dtype)) + delta
    dims = tuple(range(1, merged.dim())) if merged.dim() > 2 else 1
    norm = torch.linalg.norm(merged, dim=dims, keepdim=True).clamp(min=1e-8)
    return (magnitude.view_as(norm) / norm) * merged


def _refuse_unknown_targets(path: str | Path, kind: str, unknown: list[str]) -> None:
    """One line for a LoRA file made for another model: how many targets are missing and the first one."""
    if unknown:
        raise ModelError(
            f"{kind} file {path} patches {len(unknown)} weight(s) this Wan DiT does not have (first: {unknown[0]})",
            f"use the Wan-Alpha {kind} for the Wan2.1-T2V-14B base model this folder holds",
        )


def _refuse_missing_partners(path: str | Path, state: dict[str, torch.Tensor], needed: list[str]) -> None:
    """One line for a LoRA file with a `lora_B` whose `lora_A` (or DoRA magnitude) is absent."""
    missing = [k for k in needed if k not in state]
    if missing:
        raise ModelError(f"{path} lacks {len(missing)} LoRA tensor(s) (first: {missing[0]})", "re-download the file")


# ------------------------------------------------------------------------------------------------------
# 3. LightX2V step-distill LoRA (release `WanLoraWrapper`)
# ------------------------------------------------------------------------------------------------------
def lightx2v_targets(keys: Iterable[str]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(pairs, diffs) in original names, by the release's rules: for each prefix ("" then "diffusion_model."),
    a key ending in lora_A/lora_down with its partner present names `<module>.weight`; `diff`, `diff_b`,
    `diff_m` name `.weight`, `.bias`, `.modulation` (names made by `str.replace`, as the release makes them).
    Other keys (`.alpha` included) are ignored."""
    keys = list(keys)
    present = set(keys)
    pairs: dict[str, tuple[str, str]] = {}
    diffs: dict[str, str] = {}
    for prefix in LIGHTX2V_PREFIXES:
        for key in (k for k in keys if k.startswith(prefix)):
            rest = key[len(prefix) :]
            for suffix_a, suffix_b in LIGHTX2V_PAIRS:
                partner = key.replace(suffix_a, suffix_b)
                if key.endswith(suffix_a) and partner in present:
                    pairs[rest.replace(suffix_a, "weight")] = (key, partner)
            for suffix, target in LIGHTX2V_DIFFS:
                if key.endswith(suffix):
                    diffs[rest.replace(suffix, target)] = key
    return pairs, diffs


def merge_lightx2v(transformer: WanTransformer3DModel, path: str | Path, alpha: float = 1.0) -> int:
    """Fold the LightX2V distill LoRA into `transformer` in place; returns the number of tensors patched.

    As the release: every file tensor is first cast to the merge dtype; a lora pair adds `(B @ A) * alpha`
    where the shapes fit, else a `diff` adds `diff * alpha` where the shapes fit; mismatches are skipped.
    `diff_m` patches the block's `modulation`, diffusers' `blocks.N.scale_shift_table`; diffusers' own Wan
    LoRA loader (0.42) drops `diff_m` and the norm `diff`s, hence this merge. The release uses alpha 1.0."""
    compute = _merge_dtype(transformer.dtype)
    lora = {k: v.to(compute) for k, v in read_safetensors(path).items()}
    pairs, diffs = lightx2v_targets(lora)
    params = dict(transformer.named_parameters())
    patched = 0
    with torch.no_grad():
        for original in pairs.keys() | diffs.keys():
            param = params.get(dit_name(original))
            if param is None:
                continue
            update = _lightx2v_update(param, lora, pairs.get(original), diffs.get(original), alpha)
            if update is not None:
                param.copy_(update)
                patched += 1
    if patched == 0:
        raise ModelError(
            f"LightX2V file {path} patched no weight of this Wan DiT",
            "pass the Wan2.1 T2V 14B LightX2V distill LoRA (lightx2v_T2V_14B_cfg_step_distill_..._lora_*.safetensors)",
        )
    return patched


def _lightx2v_update(
    param: torch.Tensor,
    lora: dict[str, torch.Tensor],
    pair: tuple[str, str] | None,
    diff: str | None,
    alpha: float,
) -> torch.Tensor | None:
    """The patched value of one weight, or None where the release skips it (shape mismatch). A pair wins."""
    compute = _merge_dtype(param.dtype)
    base = param.detach().to(compute)
    if pair is not None:
        down = lora[pair[0]].to(param.device, compute)
        up = lora[pair[1]].to(param.device, compute)
        if param.shape == (up.shape[0], down.shape[1]):
            return base + torch.matmul(up, down) * alpha
        return None
    delta = lora[diff].to(param.device, compute)
    return base + delta * alpha if param.shape == delta.shape else None


# ------------------------------------------------------------------------------------------------------
# 4. The VAE and its two LoRA-merged decoders (release `WanVAE.__init__`, `load_decoder_lora`)
# ------------------------------------------------------------------------------------------------------
def load_original_vae(path: str | Path, dtype: torch.dtype = torch.float32) -> AutoencoderKLWan:
    """Wan2.1_VAE.pth (original layout, a torch.save state dict) as a diffusers `AutoencoderKLWan` (eval, no
    grad), converted by diffusers' converter and loaded strictly. Only the width is read from the file."""
    state = load_pickle_tensors(path, "Wan VAE")
    if not isinstance(state, dict) or "encoder.conv1.weight" not in state:
        raise ModelError(f"{path} is not an original-layout Wan VAE state dict", "pass Wan2.1_VAE.pth")
    config = {**ORIGINAL_VAE_CONFIG, "base_dim": int(state["encoder.conv1.weight"].shape[0])}
    converted = convert_wan_vae_to_diffusers({k: v.to(dtype) for k, v in state.items()})
    return _assign_weights(_empty_model(AutoencoderKLWan, config), converted, Path(path))


def split_decoder_file(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """{"fgr": ..., "pha": ...}: keys starting with "vae_fgr." / "vae_pha." and containing "decoder", with the
    prefix removed (the release keeps nothing else of the file)."""
    return {
        which: {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix) and "decoder" in k}
        for which, prefix in DECODER_PREFIXES.items()
    }


def decoder_lora_targets(keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Original VAE weight name -> (lora_B, lora_A) keys: only `.lora_B.` keys count; the training wrapper's
    `.conv3D.` level is removed."""
    return {
        _lora_target(key).replace(".conv3D.", "."): (key, key.replace(".lora_B.", ".lora_A."))
        for key in keys
        if ".lora_B." in key
    }


def merge_decoder_lora(vae: AutoencoderKLWan, lora: dict[str, torch.Tensor], alpha: float = 1.0) -> int:
    """Fold one decoder's LoRA into `vae` in place (release arithmetic); returns the weights merged.

    `r = B.shape[1]`; for conv kernels each tap is `alpha * B[:, :, 0..] @ A[:, :, tap]` in the file dtype,
    written into a zero delta of the weight's dtype, then `W + delta / r` (PEFT scaling lora_alpha/r with
    lora_alpha 1); a 2-D weight gets `W + alpha * (B @ A) / r` in the file dtype."""
    targets = decoder_lora_targets(lora)
    params = dict(vae.named_parameters())
    resolved = {original: vae_name(original) for original in targets}
    unknown = [o for o, n in resolved.items() if n not in params]
    if unknown:
        raise ModelError(
            f"decoder LoRA patches {len(unknown)} weight(s) this Wan VAE does not have (first: {unknown[0]})",
            "use the Wan-Alpha VAE decoder file with the Wan2.1 VAE (Wan2.1_VAE.pth)",
        )
    _refuse_missing_partners("the decoder file", lora, [a for _, a in targets.values()])
    with torch.no_grad():
        for original, (b_key, a_key) in targets.items():
            param = params[resolved[original]]
            param.copy_(_decoder_lora_weight(param, lora[b_key], lora[a_key], alpha))
    return len(targets)


def _decoder_lora_weight(weight: torch.Tensor, up: torch.Tensor, down: torch.Tensor, alpha: float) -> torch.Tensor:
    """One decoder weight with its LoRA merged, tap by tap as the release loops."""
    rank = float(up.shape[1])
    base = weight.detach().to(_merge_dtype(weight.dtype))
    if up.dim() == 2:
        return base + alpha * torch.mm(up, down) / rank
    up2 = up.reshape(up.shape[0], up.shape[1])
    delta = torch.zeros_like(base)
    for tap in itertools.product(*(range(n) for n in down.shape[2:])):
        index = (slice(None), slice(None), *tap)
        delta[index] = alpha * torch.mm(up2, down[index])
    return base + delta / rank


def alpha_decoders(vae: AutoencoderKLWan, decoder_path: str | Path) -> tuple[AutoencoderKLWan, AutoencoderKLWan]:
    """(colour VAE, alpha VAE): two copies of `vae` (left untouched) with the decoder file's "vae_fgr." resp.
    "vae_pha." LoRA merged. The release decodes the final latent with each; alpha is the mean of the alpha
    decoder's three channels."""
    state = load_pickle_tensors(decoder_path, "Wan-Alpha VAE decoder file")
    if not isinstance(state, dict):
        raise ModelError(f"{decoder_path} holds one tensor, not a decoder state dict", "pass Wan-Alpha's VAE .bin")
    loras = split_decoder_file(state)
    for which, prefix in DECODER_PREFIXES.items():
        if not decoder_lora_targets(loras[which]):
            raise ModelError(
                f"{decoder_path} holds no '{prefix}decoder...lora_B' tensors",
                "pass Wan-Alpha's VAE decoder file (the .bin released with the DoRA)",
            )
    out = []
    for which in DECODER_PREFIXES:
        copy_ = copy.deepcopy(vae)
        merge_decoder_lora(copy_, loras[which])
        out.append(copy_)
    return out[0], out[1]


# ------------------------------------------------------------------------------------------------------
# 5. The release's sampler grid
# ------------------------------------------------------------------------------------------------------
def release_sigmas(steps: int, num_train_timesteps: int = 1000) -> np.ndarray:
    """The release's unshifted grid: `linspace(sigma_max, 0, steps + 1)[:-1]` in float64, where sigma_max is
    the top of its float32 training table `1 - 1/N` (0.999 for N = 1000), not diffusers' 1.0."""
    sigma_max = float(np.float32(1.0 - 1.0 / num_train_timesteps))
    return np.linspace(sigma_max, 0.0, steps + 1)[:-1].copy()


class ReleaseFlowUniPCScheduler(UniPCMultistepScheduler):
    """diffusers' UniPC whose `set_timesteps(n)` uses the release's sigma grid (top 0.999): the distilled
    4 steps are then [999, 937, 833, 624] as the LightX2V LoRA was distilled for (the stock flow grid starts at
    1.0 and gives 625). The shift, int64 truncation and solver are diffusers', identical to the release's.

    It round-trips through `from_config` / `save_config` as this class; a config saved with it and reloaded
    as plain `UniPCMultistepScheduler` (e.g. by a diffusers pipeline loader) loses the grid, so vfxgen
    builds it with `release_scheduler` rather than reading it from a folder."""

    def set_timesteps(
        self,
        num_inference_steps: int | None = None,
        device: str | torch.device | None = None,
        sigmas: list[float] | None = None,
        mu: float | None = None,
    ) -> None:
        """Stock `set_timesteps`, fed the release grid unless the caller passes its own sigmas."""
        if sigmas is None and num_inference_steps is not None:
            sigmas = release_sigmas(num_inference_steps, self.config.num_train_timesteps)
        super().set_timesteps(num_inference_steps, device=device, sigmas=sigmas, mu=mu)


def release_scheduler(config: dict[str, Any] | None = None, shift: float | None = None) -> ReleaseFlowUniPCScheduler:
    """The release's sampler (flow UniPC, order 2, bh2, predict x0, shift 5, grid from 0.999). `config` (e.g.
    a pipeline's scheduler config) is accepted for the `from_config` idiom; the release settings win, except
    `shift` (the recipe's `flow_shift`, `--flow-shift`) when given."""
    accepted = set(inspect.signature(UniPCMultistepScheduler.__init__).parameters) - {"self"}
    base = {k: v for k, v in (config or {}).items() if k in accepted}
    chosen = {"flow_shift": float(shift)} if shift else {}
    return ReleaseFlowUniPCScheduler.from_config({**base, **RELEASE_SCHEDULER_SETTINGS, **chosen})


# ------------------------------------------------------------------------------------------------------
# 6. The time embedding and the v2 noise shift
# ------------------------------------------------------------------------------------------------------
class ReleaseTimestepSinusoid(torch.nn.Module):
    """The release's `sinusoidal_embedding_1d`: `cat(cos, sin)` of `t * 10000^(-i/half)` computed in float64,
    returned as float32. diffusers' `Timesteps` computes it in float32 and differs by up to ~4e-5 at t ~ 1000,
    which the time MLP and the 40 blocks' modulation then carry."""

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        if num_channels % 2:
            raise ModelError(f"Wan freq_dim {num_channels} is odd", "check the DiT config (freq_dim is 256)")
        self.num_channels = num_channels

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        """(N,) timesteps (any shape is flattened, like diffusers' 1-D contract) -> (N, num_channels) float32."""
        device = timesteps.device
        work = torch.device("cpu") if device.type == "mps" else device  # MPS has no float64
        position = timesteps.reshape(-1).to(work, torch.float64)
        half = self.num_channels // 2
        freqs = torch.pow(10000, -torch.arange(half, device=work).to(position).div(half))
        angles = torch.outer(position, freqs)
        return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1).float().to(device)


def release_time_embedding(transformer: WanTransformer3DModel) -> WanTransformer3DModel:
    """Swap `condition_embedder.timesteps_proj` (the sinusoid; `time_proj` is the Linear after the MLP) for the
    release's float64 computation. In place, idempotent; returns the transformer."""
    embedder = transformer.condition_embedder
    embedder.timesteps_proj = ReleaseTimestepSinusoid(int(transformer.config.freq_dim))
    return transformer


def shift_noise_with_mask(noise: torch.Tensor, mask: torch.Tensor, alpha_shift_mean: float) -> torch.Tensor:
    """v2's initial latent: `noise + (1 - mask) * bf16(alpha_shift_mean)`, away from the subject.

    As the release: the (T', h, w) mask is cast to bfloat16, resized bilinearly (align_corners=False) to the
    latent grid in bfloat16, the product stays bfloat16 and the sum with float32 noise is float32. `noise` is
    (C, T', H', W') or (B, C, T', H', W'); the mask broadcasts over batch and channels and needs T' frames
    (or 1): the release has no temporal resize."""
    if mask.dim() == 2:
        mask = mask[None]
    frames = noise.shape[-3]
    if mask.dim() != 3 or mask.shape[0] not in (1, frames):
        raise InputError(
            f"Gaussian mask of shape {tuple(mask.shape)} does not fit {frames} latent frames",
            f"make a (T', h, w) mask with T' = {frames} = (frames - 1) // 4 + 1 (the release's gen_gaussian_mask.py)",
        )
    low = mask.to(noise.device, torch.bfloat16)
    resized = F.interpolate(low[:, None], size=tuple(noise.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
    shift = torch.tensor(alpha_shift_mean, dtype=torch.bfloat16, device=noise.device)
    return noise + (1 - resized) * shift


# ------------------------------------------------------------------------------------------------------
# 7. The text encoder in the original layout (release `T5EncoderModel`: models_t5_umt5-xxl-enc-bf16.pth)
# ------------------------------------------------------------------------------------------------------
# Per-block names of the release's `wan/modules/t5.py` `T5SelfAttention` (umt5: each block has its own
# relative position table) -> transformers' `UMT5Block`. The release's FFN is `fc1(x) * gelu_tanh(gate(x))`;
# transformers' gated FFN is `gelu_new(wi_0(x)) * wi_1(x)`, so the gate is wi_0 and fc1 is wi_1.
T5_BLOCK_NAMES: dict[str, str] = {
    "norm1.weight": "layer.0.layer_norm.weight",
    "attn.q.weight": "layer.0.SelfAttention.q.weight",
    "attn.k.weight": "layer.0.SelfAttention.k.weight",
    "attn.v.weight": "layer.0.SelfAttention.v.weight",
    "attn.o.weight": "layer.0.SelfAttention.o.weight",
    "pos_embedding.embedding.weight": "layer.0.SelfAttention.relative_attention_bias.weight",
    "norm2.weight": "layer.1.layer_norm.weight",
    "ffn.gate.0.weight": "layer.1.DenseReluDense.wi_0.weight",
    "ffn.fc1.weight": "layer.1.DenseReluDense.wi_1.weight",
    "ffn.fc2.weight": "layer.1.DenseReluDense.wo.weight",
}
T5_TOP_NAMES: dict[str, str] = {
    "token_embedding.weight": "shared.weight",
    "norm.weight": "encoder.final_layer_norm.weight",
}
# What the file's shapes cannot say: umt5-xxl's bucket range and epsilon (release `T5RelativeEmbedding`
# max_dist=128, `T5LayerNorm` eps=1e-6), and its gated tanh-GELU feed-forward.
T5_FIXED_CONFIG: dict[str, Any] = {
    "relative_attention_max_distance": 128,
    "layer_norm_epsilon": 1e-6,
    "feed_forward_proj": "gated-gelu",
    "dropout_rate": 0.0,
}


def t5_name(original: str) -> str:
    """transformers `UMT5EncoderModel` name of an original Wan T5 encoder weight (e.g.
    `blocks.3.ffn.gate.0.weight` -> `encoder.block.3.layer.1.DenseReluDense.wi_0.weight`); ModelError for a
    name the release's umt5 encoder does not have (a shared position table means T5, not umt5)."""
    if original in T5_TOP_NAMES:
        return T5_TOP_NAMES[original]
    block, _, rest = original.removeprefix("blocks.").partition(".")
    if original.startswith("blocks.") and block.isdigit() and rest in T5_BLOCK_NAMES:
        return f"encoder.block.{block}.{T5_BLOCK_NAMES[rest]}"
    raise ModelError(
        f"the Wan T5 file has a weight {original!r} that the umt5-xxl encoder does not have",
        "pass Wan2.1's models_t5_umt5-xxl-enc-bf16.pth (the original T5 encoder state dict)",
    )


def umt5_config_from_state(state: dict[str, torch.Tensor]) -> Any:
    """The `UMT5Config` of an original Wan T5 encoder state dict, sizes read from its tensors (umt5-xxl:
    vocab 256384, d_model 4096, 64 heads of 64, d_ff 10240, 24 layers, 32 buckets), so a tiny file works."""
    from transformers import UMT5Config

    try:
        vocab, d_model = state["token_embedding.weight"].shape
        buckets, heads = state["blocks.0.pos_embedding.embedding.weight"].shape
        inner = state["blocks.0.attn.q.weight"].shape[0]
        d_ff = state["blocks.0.ffn.fc1.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise ModelError(
            f"the Wan T5 file lacks or misshapes {exc}", "pass Wan2.1's models_t5_umt5-xxl-enc-bf16.pth"
        ) from exc
    layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    if inner % heads:
        raise ModelError(f"the Wan T5 file has {inner} attention features for {heads} heads", "re-download it")
    return UMT5Config(
        vocab_size=int(vocab),
        d_model=int(d_model),
        d_kv=int(inner) // int(heads),
        d_ff=int(d_ff),
        num_layers=layers,
        num_heads=int(heads),
        relative_attention_num_buckets=int(buckets),
        **T5_FIXED_CONFIG,
    )


def original_t5_to_umt5(state: dict[str, torch.Tensor], source: Path, dtype: torch.dtype = torch.float32) -> Any:
    """A transformers `UMT5EncoderModel` (eval, no grad) holding an original Wan T5 encoder state dict: names
    mapped by `t5_name`, loaded strictly into a model built without initialising its 5.7B weights."""
    from transformers import UMT5EncoderModel

    config = umt5_config_from_state(state)
    converted = {t5_name(k): v.to(dtype) for k, v in state.items()}
    converted["encoder.embed_tokens.weight"] = converted["shared.weight"]  # one table, tied
    model = _assign_weights(_empty_model(UMT5EncoderModel, {"config": config}), converted, source)
    model.encoder.set_input_embeddings(model.shared)
    return model


def load_original_t5(path: str | Path, dtype: torch.dtype = torch.float32) -> Any:
    """models_t5_umt5-xxl-enc-bf16.pth (the release's T5 encoder, a torch.save state dict read with
    `weights_only=True`) as a transformers `UMT5EncoderModel`, which diffusers' `WanPipeline` runs as the
    release runs its own encoder (the same maths: `tests/test_wan_original_layout.py`)."""
    state = load_pickle_tensors(path, "Wan T5 encoder")
    if not isinstance(state, dict) or "token_embedding.weight" not in state:
        raise ModelError(
            f"{path} is not an original Wan T5 encoder state dict", "pass Wan2.1's models_t5_umt5-xxl-enc-bf16.pth"
        )
    return original_t5_to_umt5(state, Path(path), dtype)
