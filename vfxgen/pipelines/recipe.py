"""A model's RGBA recipe: how its RGB half is meant, how alpha is read, and how it is sampled.

The same TransPixar transformer gives right or wrong pictures depending on conventions its LoRA was
trained with, which the weights cannot tell. So they are data, resolved once per loaded model:

    rgb              straight       the RGB half is colour over a background; premultiply it by alpha
                                    (the release and the paper's training data)
                     premultiplied  the RGB half is colour over black (vfxgen's demo model)
    alpha_reduce     max | mean     alpha from the 3 decoded channels of the alpha half
    scheduler        dpm | ddim | model    sampler class (`model` keeps the model folder's own)
    timestep_spacing trailing | leading | linspace
    noise            shared         the alpha half starts from the RGB half's noise (the release)
                     independent    one draw for both halves
    steps, guidance, dynamic_cfg    defaults for shots that do not set them
    vae_tiling, vae_slicing         decode in tiles / one video at a time (the release turns both on; above
                                    the VAE's tile size, half its sample size, tiles blend: other pixels)

Where a recipe comes from, first match wins for each field:
1. CLI flags (`--rgb`, `--alpha-reduce`, `--scheduler`, `--noise`, ...; `--recipe release` starts from
   the release's recipe whatever the files say);
2. the LoRA's safetensors metadata `vfxgen:recipe` (written by `vfxgen train`);
3. a LoRA whose sha256 is the released file's (`RELEASE_SHA256`): `RELEASE`;
4. the model folder's `vfxgen.json` key `"recipe"`;
5. otherwise a **guess**, said in one `warning:` line naming `--recipe` and recorded as
   `source = "guessed: ..."` in shot.json: `RELEASE` for a metadata-less LoRA in the release's layout,
   `VFXGEN_DEFAULT` for anything else. Keys, rank and shapes cannot identify the release: vfxgen writes
   its own LoRAs in the release's key layout, and CogVideoX-5B-I2V and 1.5-5B have the same shapes, so a
   re-saved vfxgen LoRA or a third-party one would be read with the wrong colour convention (colour
   multiplied by alpha twice) without a word.

Cheap by design (JSON and a safetensors header only), so the whole recipe is known before any weights
load and the manifest of every shot records exactly what was used.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vfxgen.errors import ModelError, UsageError

RECIPE_METADATA_KEY = "vfxgen:recipe"
RGB_CONVENTIONS = ("straight", "premultiplied")
ALPHA_REDUCTIONS = ("max", "mean")
SCHEDULERS = {
    "dpm": "CogVideoXDPMScheduler",
    "ddim": "CogVideoXDDIMScheduler",
    "unipc": "UniPCMultistepScheduler",  # Wan: flow-matching UniPC on the release's sigma grid
    "model": None,
}
SPACINGS = ("trailing", "leading", "linspace")
NOISE_MODES = ("shared", "independent")
#: CogVideoX-5B's transformer: 42 blocks of width 3072 (48 heads x 64); the released LoRA targets it.
RELEASE_TRANSFORMER = {"blocks": 42, "width": 3072}
_RELEASE_KEY = re.compile(
    r"transformer\.transformer_blocks\.(\d+)\.attn1\.(to_q|to_k|to_v|to_out\.0)\.lora_[AB]\.weight"
)


@dataclass(frozen=True)
class RGBARecipe:
    """See the module docstring; `source` says where the recipe came from (for the manifest)."""

    rgb: str = "premultiplied"
    alpha_reduce: str = "mean"
    scheduler: str = "dpm"
    timestep_spacing: str = "trailing"
    noise: str = "independent"
    steps: int = 50
    guidance: float = 6.0
    dynamic_cfg: bool = True
    vae_tiling: bool = False
    vae_slicing: bool = False
    flow_shift: float = 0.0  # flow-matching models (Wan): the sampler's timestep shift; 0 = not a flow model
    alpha_shift_mean: float = 0.0  # Wan-Alpha v2: the initial noise moves by (1 - mask) * this outside the mask
    source: str = "vfxgen default"

    def checked(self) -> RGBARecipe:
        """Every field valid, else one UsageError naming the option that sets it."""
        choices = {
            "rgb": RGB_CONVENTIONS,
            "alpha_reduce": ALPHA_REDUCTIONS,
            "scheduler": tuple(SCHEDULERS),
            "timestep_spacing": SPACINGS,
            "noise": NOISE_MODES,
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"unknown {option} {value!r} ({self.source})", f"use one of {', '.join(allowed)}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise UsageError(f"recipe steps must be a positive integer, got {self.steps!r} ({self.source})", "fix it")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def scheduler_class(self) -> str | None:
        """The diffusers scheduler class name, or None to keep the model folder's own."""
        return SCHEDULERS[self.scheduler]


VFXGEN_DEFAULT = RGBARecipe()
#: What the official TransPixar release does with its CogVideoX-5B LoRA (CogVideoX/cli.py, pipeline_rgba.py).
RELEASE = RGBARecipe(
    rgb="straight",
    alpha_reduce="max",
    scheduler="dpm",
    timestep_spacing="trailing",
    noise="shared",
    steps=50,
    guidance=6.0,
    dynamic_cfg=True,
    vae_tiling=True,  # cli.py: pipe.vae.enable_slicing(); pipe.vae.enable_tiling()
    vae_slicing=True,
    source="TransPixar release",
)
#: Wan-Alpha as released (generate_dora_lightx2v[_mask].py + its shell scripts): 4 LightX2V-distilled UniPC steps
#: with shift 5, no CFG, straight colour, alpha = mean of the alpha decoder's three channels; v2 moves the initial
#: noise by (1 - mask) * 0.05 (the released script's value; its CLI default is 0.03).
WAN_ALPHA_V1 = RGBARecipe(
    rgb="straight",
    alpha_reduce="mean",
    scheduler="unipc",
    timestep_spacing="trailing",
    noise="shared",  # one latent carries both colour and alpha
    steps=4,
    guidance=1.0,
    dynamic_cfg=False,
    flow_shift=5.0,
    source="Wan-Alpha release v1",
)
WAN_ALPHA_V2 = replace(WAN_ALPHA_V1, alpha_shift_mean=0.05, source="Wan-Alpha release v2")
#: TransPixar on Wan as its `wan` branch samples (inference.sh: UniPC, shift 5, 30 steps, guidance 5): alpha
#: tokens in the DiT, both halves decoded by the stock VAE (docs/design/transpixar-on-wan.md).
WAN_TRANSPIXAR = replace(WAN_ALPHA_V1, steps=30, guidance=5.0, source="TransPixar on Wan (its wan branch)")
NAMED = {
    "release": RELEASE,
    "vfxgen": VFXGEN_DEFAULT,
    "wan-alpha-v1": WAN_ALPHA_V1,
    "wan-alpha-v2": WAN_ALPHA_V2,
    "transpixar-wan": WAN_TRANSPIXAR,
}
#: sha256 of the released TransPixar LoRA file(s): recognised as the release without `--recipe release`.
#: Empty until someone adds the hash of a real download (none of these machines can fetch it).
RELEASE_SHA256: frozenset[str] = frozenset()
_WARNED: set[str] = set()
_FIELDS = tuple(f.name for f in fields(RGBARecipe) if f.name != "source")


def resolve_recipe(
    model_hints: dict,
    lora_path: Path | None,
    base: str | None = None,
    scheduler: str | None = None,
    timestep_spacing: str | None = None,
    named: tuple[str, ...] = ("release", "vfxgen"),
    guess: Callable[[Path | None], RGBARecipe] | None = None,
    flow_shift: float | None = None,
) -> RGBARecipe:
    """The recipe for a model folder's `vfxgen.json` hints and a LoRA file (see the module docstring).

    `base` (one of `named`, the recipes the model's backbone runs) starts from that named recipe instead;
    `scheduler` and `timestep_spacing` override the sampler. Per-shot fields (rgb, noise, alpha_reduce, steps,
    guidance, dynamic_cfg) are overridden by the shot's `GenerationRequest`. `guess(lora_path)`: the backbone's
    recipe for weights that record none (default: CogVideoX's, `guess_transpixar_recipe`).
    """
    if base is not None:
        if base not in named:
            raise UsageError(f"unknown --recipe {base!r} for this model", f"use one of {', '.join(named)}")
        recipe = NAMED[base]
    else:
        recipe = _from_lora(lora_path) if lora_path is not None else None
        if recipe is None:
            recipe = _from_dict(model_hints.get("recipe"), "model vfxgen.json")
        if recipe is None:
            recipe = (guess or guess_transpixar_recipe)(lora_path)
    if flow_shift is not None and not 0 < flow_shift < 1000:
        raise UsageError(f"--flow-shift must be between 0 and 1000, got {flow_shift:g}", "use e.g. --flow-shift 3")
    overrides = (("scheduler", scheduler), ("timestep_spacing", timestep_spacing), ("flow_shift", flow_shift))
    changes = {k: v for k, v in overrides if v is not None}
    if changes:
        recipe = replace(recipe, **changes, source=f"{recipe.source} + command line")
    return recipe.checked()


def recipe_metadata(recipe: RGBARecipe) -> dict[str, str]:
    """safetensors metadata that records a recipe in a LoRA file (what `vfxgen train` writes)."""
    data = {k: v for k, v in recipe.to_dict().items() if k != "source"}
    return {RECIPE_METADATA_KEY: json.dumps(data, sort_keys=True)}


def _from_dict(data: Any, source: str) -> RGBARecipe | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ModelError(f"the recipe in {source} is not a JSON object", "fix or remove it")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ModelError(f"unknown recipe field {unknown[0]!r} in {source}", f"known fields: {', '.join(_FIELDS)}")
    return RGBARecipe(**{**asdict(VFXGEN_DEFAULT), **data, "source": source})


def _from_lora(path: Path) -> RGBARecipe | None:
    header = read_safetensors_header(path)
    metadata = header.get("__metadata__") or {}
    if RECIPE_METADATA_KEY in metadata:
        try:
            data = json.loads(metadata[RECIPE_METADATA_KEY])
        except ValueError as exc:
            raise ModelError(f"{path} has a damaged {RECIPE_METADATA_KEY}", "re-export the LoRA") from exc
        return _from_dict(data, f"LoRA {path.name}")
    if RELEASE_SHA256 and is_release_layout(header):  # hash only what could be the release
        from vfxgen.pipelines.model_dirs import file_sha256

        if file_sha256(path) in RELEASE_SHA256:
            return replace(RELEASE, source="TransPixar release (sha256)")
    return None


def guess_transpixar_recipe(lora_path: Path | None) -> RGBARecipe:
    """Nothing says how this TransPixar LoRA was trained: guess from its layout, and say so once."""
    import warnings

    from vfxgen.errors import VfxgenWarning

    release = lora_path is not None and is_release_layout(read_safetensors_header(lora_path))
    guess = RELEASE if release else VFXGEN_DEFAULT
    name = "release" if release else "vfxgen"
    what = f"LoRA {lora_path.name}" if lora_path is not None else "the model"
    why = "it has the release's layout" if release else "it is not in the release's layout"
    message = (
        f"{what} records no RGBA recipe; guessed the {name} recipe ({why}): pass --recipe release or "
        "--recipe vfxgen to say which"
    )
    if message not in _WARNED:  # the recipe is resolved before loading and again by the loader: say it once
        _WARNED.add(message)
        warnings.warn(message, VfxgenWarning, stacklevel=4)
    return replace(guess, source=f"guessed: {name} ({why})")


def is_release_layout(header: dict) -> bool:
    """Keys of the released TransPixar LoRA (all four projections of every block + `domain_emb`) on a
    CogVideoX-5B-shaped transformer (42 blocks, LoRA input width 3072)."""
    blocks: set[int] = set()
    width = None
    for key, info in header.items():
        match = _RELEASE_KEY.fullmatch(key)
        if match:
            blocks.add(int(match[1]))
            if key.endswith(".to_q.lora_A.weight"):
                width = info.get("shape", [None, None])[-1]
    return (
        "domain_emb" in header
        and blocks == set(range(RELEASE_TRANSFORMER["blocks"]))
        and width == RELEASE_TRANSFORMER["width"]
    )


def read_safetensors_header(path: str | os.PathLike) -> dict:
    """The JSON header of a safetensors file (tensor names, dtypes, shapes and `__metadata__`), without
    reading any tensor: 8 bytes of little-endian length, then that much JSON."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                raise ValueError(f"header of {length} bytes")
            return json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"cannot read {path} as safetensors: {exc}", "the file is damaged or not safetensors") from exc
