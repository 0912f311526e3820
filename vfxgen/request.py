"""What a shot asks for, before any weights load: every setting declared once (`SETTINGS`), and the objects
that carry them: `GenerationRequest` (the pixels) and `LoadOptions` (how the model loads), both checked
here without torch or diffusers.

`SETTINGS` is the one table of shot settings. From it come: the options of `vfxgen generate`, `animate`
and `matte` (`vfxgen.cli.options.with_settings`; the command functions carry no defaults of their own),
the keys a preset's `[defaults]` and a shot list may set, the keyword arguments of `vfxgen.generate` /
`animate` / `matte`, the generation record in shot.json and what `--resume` compares with it. A new
setting is one `Setting(...)` here plus its field in the object of its layer (`GenerationRequest` and
`LoadOptions` below, `vfxgen.shot.ShotOptions`, `vfxgen.pipelines.conditioning.Conditioning`), and the
code that uses it: `tests/test_settings_schema.py` fails if the two disagree.

Every refusal that needs no model (a bad --frames, --seed, --attention, --cache, an unknown preset or
recipe) happens in milliseconds from these, before `vfxgen.pipelines.rgba` imports torch and diffusers
(5-7 CPU seconds); the pipeline re-exports both names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vfxgen.alpha_bounds import CLEAR_FULL_LUMINANCE
from vfxgen.backbones import backbone_named
from vfxgen.clip import check_finite, check_fps
from vfxgen.errors import UsageError
from vfxgen.framerate import frame_rate
from vfxgen.pipelines.model_dirs import ModelInfo, resolve_lora, resolve_model
from vfxgen.pipelines.recipe import (
    ALPHA_REDUCTIONS,
    NOISE_MODES,
    RGB_CONVENTIONS,
    SCHEDULERS,
    SPACINGS,
    VFXGEN_DEFAULT,
    RGBARecipe,
    resolve_recipe,
)
from vfxgen.shapes import check_clip_shape as check_size

#: TransPixar attention modes (`vfxgen.models.transpixar` implements them).
ATTENTION_MODES = ("transpixar", "full", "rgb-isolated")
OFFLOAD_MODES = ("none", "model", "sequential")
CACHE_MODES = ("none", "fbc", "pab", "faster")
DTYPE_NAMES = ("fp32", "bf16", "fp16")

#: Load settings that name extra weight files (hashed into the generation record).
LOAD_FILES = ("vae_decoder", "distill", "alpha_mask")
#: The commands that make shots (each offers the settings whose `commands` name it).
SHOT_COMMANDS = ("generate", "animate", "matte")
#: Where a setting's value lives: a field of `GenerationRequest` ("request"), `LoadOptions` ("load"),
#: `vfxgen.shot.ShotOptions` ("shot"), `vfxgen.pipelines.conditioning.Conditioning` ("conditioning"), or
#: how a command runs its shots ("run": model, preset, --resume, ...).
LAYERS = ("request", "load", "shot", "conditioning", "run")


@dataclass(frozen=True)
class Setting:
    """One shot setting. `default=None` means "not given": resolved later (preset, model, recipe).

    `affects`: "pixels" (another value makes other pixels: `--resume` compares the shot's generation
    record), "files" (other delivered files: compared with how the shot was written), "" (neither).
    `record`: the key of the generation record (shot.json) that holds its resolved value, dotted for a
    nested one; "" when another record covers it (`official_mask` is recorded as `attention`).
    """

    name: str  # field of its layer's object, Python API keyword
    kind: Any  # the value's type as the CLI parses it: int, float, str, bool, Path, list[Path]
    default: Any
    help: str
    layer: str
    commands: tuple[str, ...] = SHOT_COMMANDS
    affects: str = ""
    presets: bool = False  # a preset's [defaults] may set it
    shot_list: bool = False  # a shot-list entry may set it
    choices: tuple[str, ...] = ()
    key: str = ""  # what users write (shot lists, presets, flag stem): default `name`
    flag: str = ""  # default --KEY with dashes; "--x/--no-x" for a yes/no/unset switch
    parameter: str = ""  # the command function's parameter: default `key` (`compile` shadows a builtin)
    record: str | None = None  # default `name` when it affects pixels or files
    help_by_command: tuple[tuple[str, str], ...] = ()  # (command, help) where a command means another thing
    backbones: tuple[str, ...] = ()  # the model families it applies to (`vfxgen.backbones` names); () = all

    def __post_init__(self) -> None:
        key = self.key or self.name
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "flag", self.flag or "--" + key.replace("_", "-"))
        object.__setattr__(self, "parameter", self.parameter or key)
        if self.record is None:
            object.__setattr__(self, "record", self.name if self.affects else "")

    def help_for(self, command: str) -> str:
        return dict(self.help_by_command).get(command, self.help)

    def check_choice(self, value: Any) -> Any:
        """`value` if it is one of `choices` (or there are none), else one UsageError naming the flag."""
        if self.choices and value is not None and value not in self.choices:
            raise UsageError(f"unknown {self.flag.split('/')[0]} {value!r}", f"use one of {', '.join(self.choices)}")
        return value


GT, AN, MT = ("generate",), ("animate",), ("matte",)
_SIZE = "(default: the model's native)"
SETTINGS: tuple[Setting, ...] = (
    # --- run: what a command runs with (not a property of one shot's pixels) ---------------------------
    Setting("preset", str | None, None, "Preset name or TOML file (see `vfxgen presets list`).", "run",
            shot_list=True),
    Setting("presets_dir", list[Path] | None, None, "Extra directory of preset TOML files.", "run"),
    Setting("model", Path | None, None,
            "Model directory: diffusers CogVideoX or Wan 2.1, or Wan-AI's original Wan layout (default: the bundled "
            "demo model).", "run"),
    Setting("lora", Path | None, None, "RGBA weights .safetensors: a TransPixar LoRA (CogVideoX) or Wan-Alpha's DoRA "
            "(Wan) (default: the model's bundled one).", "run"),
    Setting("overwrite", bool, False, "Replace an existing output.", "run"),
    Setting("resume", bool, False, "Skip shots that are already complete.", "run"),
    Setting("json", bool, False, "Print a JSON result on stdout.", "run", parameter="json_out"),
    # --- request: what decides the pixels (GenerationRequest) ------------------------------------------
    Setting("frames", int | None, None, f"Frame count, 4k+1 {_SIZE}.", "request", GT + AN, "pixels",
            presets=True, shot_list=True),
    Setting("height", int | None, None, "Height in pixels, multiple of 16 for CogVideoX.", "request", GT, "pixels",
            shot_list=True),
    Setting("width", int | None, None, "Width in pixels, multiple of 16 for CogVideoX.", "request", GT, "pixels",
            shot_list=True),
    Setting("steps", int | None, None, "Denoising steps (default: the preset's, else the recipe's: 50 CogVideoX, 4 "
            "Wan-Alpha).", "request",
            affects="pixels", presets=True, shot_list=True),
    Setting("guidance", float | None, None, "CFG scale (default: the preset's, else the recipe's: 6 CogVideoX, 1 "
            "Wan-Alpha).", "request",
            affects="pixels", presets=True, shot_list=True),
    Setting("seed", int, 0, "Random seed; the same seed reproduces the shot (default 0).", "request",
            affects="pixels", presets=True, shot_list=True),
    Setting("negative_prompt", str, "", "Negative prompt.", "request", affects="pixels", shot_list=True,
            key="negative"),
    Setting("fps", float | None, None, "Frame rate written to the outputs (default: the model's, 8 for CogVideoX "
            "and the demo, 16 for Wan).", "request",
            affects="files", presets=True, shot_list=True,
            help_by_command=(("matte", "Frame rate (default: the clip's own)."),)),
    Setting("alpha_reduce", str | None, None, "Alpha from 3 decoded channels: mean or max (default: recipe's).",
            "request", affects="pixels", choices=ALPHA_REDUCTIONS),
    Setting("rgb", str | None, None, "How the model's RGB half is meant: straight (colour over a background; the "
            "release) or premultiplied (over black). Default: the model's recipe.", "request", GT + AN, "pixels",
            choices=RGB_CONVENTIONS),
    Setting("noise", str | None, None, "Alpha half's start noise: shared (the release) or independent. Default: "
            "recipe's.", "request", affects="pixels", choices=NOISE_MODES, backbones=("cogvideox",)),
    Setting("dynamic_cfg", bool | None, None, "Cosine-ramped CFG as in the release (default: recipe's).", "request",
            affects="pixels", flag="--dynamic-cfg/--no-dynamic-cfg", backbones=("cogvideox",)),
    Setting("clear_black", bool | None, None, "Clear the alpha where the colour is black (alpha <= linear "
            "luminance / 0.01), so no opaque black hole reaches the comp: for light and elements over black. "
            "Default: the preset's (on for fire, sparks, lightning, magic, muzzle flash, water splash), else off.",
            "request", affects="pixels", presets=True, shot_list=True, flag="--clear-black/--keep-black",
            help_by_command=(("matte", "Clear the alpha where the footage is black (alpha <= linear luminance / "
                              "0.01): footage over black shows nothing there. Default: on."),)),
    Setting("key_black", float | None, None, "Black point of --clear-black's luminance key: at or below this "
            "premultiplied scene-linear luminance the element is cleared, colour and alpha (default: the preset's, "
            "else 0).", "request", affects="pixels", presets=True, shot_list=True),
    Setting("key_white", float | None, None, "White point of --clear-black's luminance key: from this luminance "
            "the model's alpha is kept (default: the preset's, e.g. 0.1 for a lit water splash, else 0.01: only "
            "what qc calls black is cleared).", "request", affects="pixels", presets=True, shot_list=True),
    # --- load: how the model loads (LoadOptions) -------------------------------------------------------
    Setting("attention", str, "transpixar", "RGBA attention: transpixar (paper Eq. 7, text never attends to "
            "alpha), full, rgb-isolated, or official (the release's additive mask, for bit-for-bit parity with it).",
            "load", affects="pixels", choices=(*ATTENTION_MODES, "official"), backbones=("cogvideox",)),
    Setting("official_mask", bool, False, "Reproduce the release's additive 0/1 mask (slower, for parity).",
            "load", GT, "pixels", record="", backbones=("cogvideox",)),
    Setting("device", str | None, None, "cpu, cuda, cuda:N or mps (default: cuda if present).", "load",
            affects="pixels", record="device_type"),
    Setting("dtype", str | None, None, "fp32, bf16 or fp16 (default: bf16 on CUDA, else fp32).", "load",
            affects="pixels", choices=DTYPE_NAMES),
    Setting("offload", str, "none", "none, model or sequential CPU offload.", "load", choices=OFFLOAD_MODES),
    Setting("vae_tiling", bool, False, "Decode in tiles (less memory).", "load", affects="pixels"),
    Setting("vae_slicing", bool, False, "Decode one clip at a time (less memory).", "load", affects="pixels"),
    Setting("cache", str, "none", "Step caching with diffusers' hooks: none, fbc, pab or faster (faster, "
            "approximate).", "load", GT + AN, "pixels", choices=CACHE_MODES, backbones=("cogvideox",)),
    Setting("compile", bool, False, "torch.compile the transformer (pays off over many shots).", "load", GT + AN,
            parameter="compile_model"),
    Setting("recipe", str | None, None, "Start from a named RGBA recipe instead of the model's: release (the "
            "TransPixar release's) or vfxgen on CogVideoX, wan-alpha-v1 or wan-alpha-v2 on Wan.", "load",
            affects="pixels", record=""),
    Setting("scheduler", str | None, None, "Sampler: dpm (CogVideoX's DPM; on Wan the release's DPM-Solver++), ddim, "
            "unipc (Wan's flow UniPC) or model (the folder's own). Default: recipe's.",
            "load", affects="pixels", choices=tuple(SCHEDULERS), record="recipe.scheduler"),
    Setting("timestep_spacing", str | None, None, "trailing, leading or linspace. Default: recipe's.", "load",
            affects="pixels", choices=SPACINGS, backbones=("cogvideox",)),
    Setting("flow_shift", float | None, None, "Flow-matching models (Wan): the sampler's timestep shift, higher = "
            "more steps at high noise (default: the recipe's, 5 for Wan-Alpha).", "load", affects="pixels",
            record="recipe.flow_shift", backbones=("wan",)),
    Setting("vae_decoder", Path | None, None, "Wan-Alpha: the VAE-decoder file (.bin or .safetensors) holding the "
            "colour and alpha decoders' deltas (Wan-Alpha-v2-VAE.bin).", "load", affects="pixels",
            record="vae_decoder_sha256", backbones=("wan",)),
    Setting("distill", Path | None, None, "Wan: a step-distillation LoRA merged into the DiT (LightX2V, with its "
            "diff/diff_b/diff_m terms), for the recipe's 4 steps.", "load", affects="pixels", record="distill_sha256",
            backbones=("wan",)),
    Setting("alpha_mask", Path | None, None, "Wan-Alpha v2: the Gaussian mask (gauss_mask) that shifts the initial "
            "noise outside the subject; selects the v2 recipe.", "load", affects="pixels",
            record="alpha_mask_sha256",
            backbones=("wan",)),
    # --- shot: how the shot's files are written (vfxgen.shot.ShotOptions) ------------------------------
    Setting("formats", str, "exr,nk,preview,contact", "Comma list of outputs: exr, nk (Nuke script), prores, "
            "png, webm, preview, contact.", "shot", affects="files", key="format", parameter="formats"),
    Setting("colorspace", str, "lin_rec709_scene", "EXR colour space (OCIO name/alias, scene-linear): "
            "lin_rec709_scene, ACEScg, ACES2065-1...", "shot", affects="files"),
    Setting("start_frame", int, 1001, "First frame number of image sequences.", "shot", affects="files"),
    Setting("compression", str, "zip", "EXR compression: zip (lossless), piz, dwaa, none.", "shot", affects="files"),
    Setting("allow_lossy", bool, False, "Accept lossy EXR compression (dwaa/dwab: colour lossy, alpha lossless).",
            "shot"),
    Setting("alpha", str, "straight", "ProRes alpha: straight (AE 'Interpret as straight') or premultiplied.",
            "shot", affects="files", choices=("straight", "premultiplied")),
    # --- conditioning: how an input pins the shot (animate, matte; Conditioning) -----------------------
    Setting("mode", str, "auto", "auto (native on image-to-video models, replace on text-to-video ones), "
            "native, or replace (pin the input's latents at every step; on I2V models on top of the native "
            "conditioning).", "conditioning", AN, "pixels", parameter="conditioning", key="conditioning",
            record="conditioning.mode", choices=("auto", "native", "replace")),
    Setting("strength", float, 1.0, "How long the input stays pinned, as a fraction of the steps: 1 = to the end; "
            "less lets the prompt change it (SDEdit-like).", "conditioning", AN + MT, "pixels",
            record="conditioning.strength"),
    Setting("resample", int, 0, "RePaint resampling jumps per step in the first half of the steps (0-10).",
            "conditioning", AN + MT, "pixels", record="conditioning.resample", backbones=("cogvideox",)),
    Setting("lead_in", float | None, None, "Ease out of the still: the next latent frame (frames 1002-1003 on the "
            "demo, 1002-1005 on CogVideoX) starts held to the still for this fraction of the steps, then is released "
            "(rounded to whole steps; 0 = off; default 0.1 with replacement, which removes most of the pop at frame "
            "1002).", "conditioning",
            AN, "pixels", record="conditioning.lead_in"),
    Setting("fit", str, "pad", "Input of another size than the model's: pad (scale to fit, black borders) or "
            "stretch.", "conditioning", AN + MT, "pixels", record="conditioning.fit", choices=("pad", "stretch")),
    Setting("overlap", int | None, None, "Frames shared by consecutive windows (default: a quarter of the "
            "model's).", "conditioning", MT, "pixels", record="conditioning.overlap"),
    Setting("replace_alpha", bool, False, "The clip has an alpha already: flatten it over black and generate a "
            "new one.", "conditioning", MT, "pixels", record="conditioning.replace_alpha"),
    Setting("matte_alpha", str | None, None, "keyed: the footage's brightest channel over the element's own "
            "level, which the model's alpha sets (where it is solid: colour / alpha, 75th percentile); model: the "
            "model's alpha (raised to that channel on premultiplied models). Default: keyed for models whose RGB "
            "half is premultiplied (the demo), model otherwise (the release, Wan-Alpha).", "conditioning", MT, "pixels",
            record="conditioning.matte_alpha", choices=("keyed", "model")),
)  # fmt: skip
SETTING = {s.name: s for s in SETTINGS}
_BY_KEY = {**{s.name: s for s in SETTINGS}, **{s.key: s for s in SETTINGS}, **{s.parameter: s for s in SETTINGS}}


def settings_of(command: str | None = None, layer: str | None = None) -> tuple[Setting, ...]:
    """The settings a command offers (None: any), of one layer (None: all), in declaration order."""
    return tuple(
        s for s in SETTINGS if (command is None or command in s.commands) and (layer is None or s.layer == layer)
    )


def setting(name: str) -> Setting:
    """The declaration for a field name, a user key (`negative`) or a command parameter (`compile_model`)."""
    return _BY_KEY[name]


def split_settings(values: Mapping[str, Any], command: str | None = None, where: str = "") -> dict[str, dict]:
    """`{layer: {field name: value}}` from values keyed by field name, user key or parameter; a key that is
    not a setting (of `command`, when given) is one UsageError listing what is."""
    layers: dict[str, dict] = {layer: {} for layer in LAYERS}
    offered = settings_of(command)
    for name, value in values.items():
        decl = _BY_KEY.get(name)
        if decl is None or decl not in offered:
            allowed = ", ".join(s.name for s in offered)
            raise UsageError(f"{where or 'the call'} has no setting {name!r}", f"use one of: {allowed}")
        layers[decl.layer][decl.name] = value
    return layers


def check_settings_apply(values: Mapping[str, Any], info: ModelInfo) -> None:
    """Refuse, in one line and before any weights load, a setting given for a model family it does nothing for
    (`Setting.backbones`: `--attention` on Wan, `--vae-decoder` on CogVideoX). Not given = None or the default."""
    for name, value in values.items():
        decl = SETTING.get(name)
        if decl is None or not decl.backbones or info.backbone in decl.backbones or value in (None, decl.default):
            continue
        flag = decl.flag.split("/")[0]
        raise UsageError(f"{flag} does not apply to {backbone_named(info.backbone).label} models", f"drop {flag}")


def preset_keys() -> dict[str, Any]:
    """Keys a preset's `[defaults]` may set -> the value type (int or float)."""
    return {s.key: _plain_type(s.kind) for s in SETTINGS if s.presets}


def shot_list_keys() -> dict[str, Any]:
    """Keys a shot-list entry may set besides `name` and `prompt` -> the accepted value types."""
    return {s.key: _plain_type(s.kind) for s in SETTINGS if s.shot_list}


def _plain_type(kind: Any) -> Any:
    """`int | None` -> int; float also accepts an int (`fps = 24` in TOML)."""
    base = next(t for t in getattr(kind, "__args__", (kind,)) if t is not type(None))
    return (int, float) if base is float else base


def generation_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """The shot.json generation record of resolved values `{field name: value}` (request, load and
    conditioning fields), keyed as `Setting.record` says (dotted keys nest): what `--resume` compares.
    Rates are recorded as the files carry them (23.98 -> 24000/1001) and numbers as floats where the
    setting is a float, so the record and a later request compare equal."""
    record: dict[str, Any] = {}
    for decl in SETTINGS:
        if not decl.record or decl.name not in values:
            continue
        value = values[decl.name]
        if decl.name == "fps":
            value = float(frame_rate(value))
        elif _plain_type(decl.kind) == (int, float) and value is not None:
            value = float(value)
        head, _, tail = decl.record.partition(".")
        if tail:
            record.setdefault(head, {})[tail] = value
        else:
            record[head] = value
    return record


@dataclass(frozen=True)
class ModelChoice:
    """A model folder, its LoRA and the RGBA recipe they load with (`LoadOptions.choose`): resolved once
    per batch (JSON files and one safetensors header) and passed whole to the pipeline, which reads none
    of them again."""

    info: ModelInfo
    lora: Path
    recipe: RGBARecipe


def _default(name: str) -> Any:
    return SETTING[name].default


def _file_hash(path: Path | str | None) -> str:
    """A load file's content hash for the generation record ("" when not given)."""
    from vfxgen.pipelines.model_dirs import file_sha256

    return file_sha256(Path(path)) if path is not None else ""


@dataclass
class LoadOptions:
    """How to load a model, passed whole (`RGBAPipeline.from_pretrained(model, lora, options)`): one
    place to add a load option, shared by every shot of a batch. Defaults and help: `SETTINGS`."""

    attention: str = _default("attention")
    official_mask: bool = _default("official_mask")
    device: str | None = _default("device")
    dtype: str | None = _default("dtype")
    offload: str = _default("offload")
    vae_tiling: bool = _default("vae_tiling")
    vae_slicing: bool = _default("vae_slicing")
    cache: str = _default("cache")
    compile: bool = _default("compile")
    recipe: str | None = _default("recipe")  # "release" | "vfxgen": a named recipe instead of the model's own
    scheduler: str | None = _default("scheduler")  # dpm | ddim | model (None: the recipe's)
    timestep_spacing: str | None = _default("timestep_spacing")
    flow_shift: float | None = _default("flow_shift")  # None: the recipe's
    vae_decoder: Path | None = _default("vae_decoder")  # Wan-Alpha's colour + alpha decoder deltas
    distill: Path | None = _default("distill")  # a step-distillation LoRA (LightX2V)
    alpha_mask: Path | None = _default("alpha_mask")  # Wan-Alpha v2's Gaussian mask

    def checked(self) -> LoadOptions:
        """Every choice valid (cheap), else one UsageError; `--attention official` = transpixar + official mask."""
        for decl in settings_of(layer="load"):
            decl.check_choice(getattr(self, decl.name))
        if self.attention == "official":
            return replace(self, attention="transpixar", official_mask=True)
        return self

    def record(self, recipe: RGBARecipe) -> dict[str, Any]:
        """The load fields as a shot records them, resolved against the recipe the model loads with: the
        release's additive mask as `attention = "official"`, tiling/slicing on where the recipe turns them
        on, the dtype and device type actually used, the recipe's sampler. Imports torch (the device)."""
        return {
            "attention": "official" if self.official_mask else self.attention,
            "device": self.device_type(),
            "dtype": self.resolved_dtype(),
            "vae_tiling": self.vae_tiling or recipe.vae_tiling,
            "vae_slicing": self.vae_slicing or recipe.vae_slicing,
            "cache": self.cache,
            "scheduler": recipe.scheduler,
            "timestep_spacing": recipe.timestep_spacing,
            **({"flow_shift": recipe.flow_shift} if recipe.flow_shift else {}),  # flow-matching models only
            **self.file_hashes(),
        }

    def file_hashes(self) -> dict[str, str]:
        """The extra weight files' content hashes by setting name ("" for a file not given)."""
        return {name: _file_hash(getattr(self, name)) for name in LOAD_FILES}

    def device_type(self) -> str:
        """cpu, cuda or mps: what this load runs on (kernels differ between them, so results do). Imports
        torch (to see the devices): call it once the model is going to load anyway."""
        from vfxgen.backbones.devices import parse_device

        return parse_device(self.device).type

    def resolved_dtype(self) -> str:
        """The weights' dtype this load uses: the option, else bf16 on CUDA and fp32 elsewhere."""
        return self.dtype or ("bf16" if self.device_type() == "cuda" else "fp32")

    def choose(self, model: str | os.PathLike | None, lora: str | os.PathLike | None) -> ModelChoice:
        """The model folder, its LoRA and the recipe they load with under these options, resolved once; a
        setting the model's family does not take (`--vae-decoder` on CogVideoX) is refused here."""
        info = resolve_model(model)
        backbone = backbone_named(info.backbone)
        check_settings_apply({decl.name: getattr(self, decl.name) for decl in settings_of(layer="load")}, info)
        for name in LOAD_FILES:
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise UsageError(f"{SETTING[name].flag} {path} does not exist", "check the path")
        lora_path = resolve_lora(lora, info)
        for name, fix in backbone.required_files_for(lora_path).items():
            if getattr(self, name) is None:
                raise UsageError(f"these {backbone.label} weights need {SETTING[name].flag}", fix)
        for name in backbone.unused_files_for(lora_path):
            if getattr(self, name) is not None:
                raise UsageError(f"{SETTING[name].flag} is not used by these weights ({lora_path.name})", "drop it")
        recipe = self.recipe_for(info, lora_path)
        self._check_recipe(recipe, backbone)
        return ModelChoice(info, lora_path, recipe)

    def _check_recipe(self, recipe: RGBARecipe, backbone) -> None:
        """What the resolved recipe and these options must agree on, refused before any weights load."""
        if recipe.scheduler not in backbone.schedulers:
            raise UsageError(
                f"--scheduler {recipe.scheduler} does not run {backbone.label} models",
                f"use one of {', '.join(backbone.schedulers)}",
            )
        if self.flow_shift is not None and recipe.scheduler == "model":
            raise UsageError("--flow-shift sets the unipc and dpm samplers, not the folder's own", "drop one of them")
        if self.alpha_mask is not None and not recipe.alpha_shift_mean:
            raise UsageError(f"--alpha-mask is for Wan-Alpha v2; the recipe is {recipe.source}", "drop --alpha-mask")
        if recipe.alpha_shift_mean and self.alpha_mask is None:
            raise UsageError(
                f"the {recipe.source} recipe moves the noise by Wan-Alpha's Gaussian mask",
                "pass --alpha-mask gauss_mask, or --recipe wan-alpha-v1",
            )

    def recipe_for(self, info: ModelInfo, lora_path: Path) -> RGBARecipe:
        """The model's RGBA recipe (LoRA metadata, model hints, else its backbone's guess) with these options."""
        backbone = backbone_named(info.backbone)
        return resolve_recipe(
            info.hints,
            lora_path,
            self.recipe,
            self.scheduler,
            self.timestep_spacing,
            named=backbone.recipes,
            guess=lambda path: backbone.guess_recipe(path, self),
            flow_shift=self.flow_shift,
        )


@dataclass
class GenerationRequest:
    """Everything that decides a shot, checked before any weights load.

    None = the model's value: native size for frames/height/width, the model's RGBA recipe
    (`vfxgen.pipelines.recipe`) for steps, guidance, dynamic_cfg, alpha_reduce, rgb and noise.
    """

    prompt: str
    negative_prompt: str = _default("negative_prompt")
    frames: int | None = _default("frames")
    height: int | None = _default("height")
    width: int | None = _default("width")
    steps: int | None = _default("steps")
    guidance: float | None = _default("guidance")
    seed: int = _default("seed")
    fps: float | None = _default("fps")  # None: the model's native rate
    dynamic_cfg: bool | None = _default("dynamic_cfg")
    alpha_reduce: str | None = _default("alpha_reduce")
    rgb: str | None = _default("rgb")  # straight | premultiplied: how the model's RGB half is meant
    noise: str | None = _default("noise")  # shared | independent: the alpha half's starting noise
    clear_black: bool | None = _default("clear_black")  # None: off (matte: on with its alpha floor)
    key_black: float | None = _default("key_black")  # None: 0 (clear_black's key clears only qc's black)
    key_white: float | None = _default("key_white")  # None: CLEAR_FULL_LUMINANCE
    extra: dict = field(default_factory=dict)  # not settings: preset name, QC limits, animate/matte inputs

    def record(self) -> dict[str, Any]:
        """The request's settings as shot.json's generation record holds them (`generation_record`)."""
        return generation_record({decl.name: getattr(self, decl.name) for decl in settings_of(layer="request")})

    def resolved(
        self, info: ModelInfo, recipe: RGBARecipe = VFXGEN_DEFAULT, text_required: bool = True
    ) -> GenerationRequest:
        """Fill native sizes and recipe defaults and validate every field; raises UsageError in one line.

        `text_required=False` for image-to-video, where the image alone may drive the shot.
        """
        req = GenerationRequest(**{**self.__dict__})
        # What was asked for, not what the recipe filled in (a request is resolved again by the pipeline).
        asked = {d.name: getattr(req, d.name) for d in settings_of(layer="request")}
        check_settings_apply({k: v for k, v in asked.items() if v != getattr(recipe, k, None)}, info)
        for name in ("steps", "guidance", "dynamic_cfg", "alpha_reduce", "rgb", "noise"):
            if getattr(req, name) is None:
                setattr(req, name, getattr(recipe, name))
        replace(recipe, alpha_reduce=req.alpha_reduce, rgb=req.rgb, noise=req.noise).checked()
        if text_required and not req.prompt.strip():
            raise UsageError(
                "the prompt is empty", 'pass a prompt ("burning fireball"), --preset NAME or --prompts FILE'
            )
        for name in ("frames", "height", "width"):  # 0 is not "native": leaving the option out is
            value = getattr(req, name)
            if value is not None and value < 1:
                raise UsageError(
                    f"--{name} must be positive, got {value}", f"leave --{name} out for the model's native value"
                )
        req.frames = info.sample_frames if req.frames is None else req.frames
        req.height = info.sample_height if req.height is None else req.height
        req.width = info.sample_width if req.width is None else req.width
        check_size(req.frames, req.height, req.width, info.spatial_multiple)
        if info.use_learned_positions and (req.height, req.width) != (info.sample_height, info.sample_width):
            raise UsageError(
                f"this model has learned positions for {info.sample_width}x{info.sample_height} only",
                f"use --width {info.sample_width} --height {info.sample_height}",
            )
        if not 1 <= req.steps <= info.train_timesteps:
            raise UsageError(
                f"--steps must be between 1 and {info.train_timesteps} (the scheduler's training steps), "
                f"got {req.steps}",
                "use e.g. --steps 50",
            )
        check_finite("--guidance", req.guidance, "use e.g. --guidance 6")
        if req.guidance < 0:
            raise UsageError(f"--guidance must be >= 0, got {req.guidance}", "use e.g. --guidance 6")
        if not 0 <= req.seed < 2**63:
            raise UsageError(f"--seed must be in [0, 2^63), got {req.seed}", "pass a non-negative integer seed")
        req.fps = info.native_fps if req.fps is None else req.fps
        check_fps(req.fps)
        req.clear_black = bool(req.clear_black)
        req.key_black = 0.0 if req.key_black is None else float(req.key_black)
        req.key_white = CLEAR_FULL_LUMINANCE if req.key_white is None else float(req.key_white)
        check_finite("--key-black", req.key_black, "use e.g. --key-black 0.005")
        check_finite("--key-white", req.key_white, "use e.g. --key-white 0.1")
        if not 0.0 <= req.key_black < req.key_white:
            raise UsageError(
                f"--key-black must be >= 0 and below --key-white, got {req.key_black:g} and {req.key_white:g}",
                "use e.g. --key-black 0.005 --key-white 0.1",
            )
        return req
