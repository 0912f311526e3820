"""Option types shared by several commands, declared once (Typer `Annotated` aliases), and the builders that
turn a command's parsed options into the library's option objects.

A new load option: a field of `vfxgen.pipelines.rgba.LoadOptions`, its flag here, and a parameter of that
name in the commands that offer it (generate, animate, matte); `load_options` picks it up by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vfxgen.request import LoadOptions
    from vfxgen.shot import ShotOptions

# LoadOptions fields whose command parameter has another name (`compile` would shadow the builtin).
LOAD_PARAMETER_NAMES = {"compile": "compile_model"}


def load_options(params: Mapping[str, Any]) -> LoadOptions:
    """`LoadOptions` from a command's parameters (`ctx.params`): every field the command has an option for;
    the others keep LoadOptions' defaults (matte has no --cache or --compile)."""
    from dataclasses import fields

    from vfxgen.request import LoadOptions

    names = {f.name: LOAD_PARAMETER_NAMES.get(f.name, f.name) for f in fields(LoadOptions)}
    return LoadOptions(**{field: params[name] for field, name in names.items() if name in params})


# Generation settings a command may take as options (GenerationRequest names; `--negative` is negative_prompt).
REQUEST_SETTINGS = (
    "frames",
    "height",
    "width",
    "steps",
    "guidance",
    "seed",
    "negative_prompt",
    "fps",
    "alpha_reduce",
    "rgb",
    "noise",
    "dynamic_cfg",
)
REQUEST_PARAMETER_NAMES = {"negative_prompt": "negative"}


def request_settings(params: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """The generation settings a command's options give (`ctx.params`; None = not given, resolved later by
    `vfxgen.settings.resolve_request`), with `overrides` on top (animate's size from the still, matte's fps
    from the footage). A command without an option for a setting leaves it out."""
    names = {key: REQUEST_PARAMETER_NAMES.get(key, key) for key in REQUEST_SETTINGS}
    settings = {key: params[name] for key, name in names.items() if name in params}
    settings.update(overrides)
    return settings


def shot_options(params: Mapping[str, Any]) -> ShotOptions:
    """`ShotOptions` (what a shot directory holds) from the parameters of generate, animate and matte."""
    from vfxgen.shot import ShotOptions, parse_formats

    return ShotOptions(
        formats=parse_formats(params["formats"]),
        start_frame=params["start_frame"],
        exr_compression=params["compression"],
        allow_lossy=params["allow_lossy"],
        prores_alpha=params["alpha"],
        colorspace=params["colorspace"],
    )


Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")]
Resume = Annotated[bool, typer.Option("--resume", help="Skip shots that are already complete.")]
Model = Annotated[
    Path | None,
    typer.Option("--model", help="Diffusers CogVideoX model directory (default: the bundled demo model)."),
]
Lora = Annotated[
    Path | None, typer.Option("--lora", help="TransPixar LoRA .safetensors (default: the model's bundled one).")
]
Preset = Annotated[str | None, typer.Option("--preset", help="Preset name or TOML file (see `vfxgen presets list`).")]
PresetsDir = Annotated[list[Path] | None, typer.Option("--presets-dir", help="Extra directory of preset TOML files.")]
Frames = Annotated[int | None, typer.Option("--frames", help="Frame count, 4k+1 (default: model's native).")]
Height = Annotated[int | None, typer.Option("--height", help="Height in pixels, multiple of 16 for CogVideoX.")]
Width = Annotated[int | None, typer.Option("--width", help="Width in pixels, multiple of 16 for CogVideoX.")]
Steps = Annotated[
    int | None, typer.Option("--steps", help="Denoising steps (default: the preset's, else the recipe's: 50).")
]
Guidance = Annotated[
    float | None, typer.Option("--guidance", help="CFG scale (default: the preset's, else the recipe's: 6).")
]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed; the same seed reproduces the shot.")]
Negative = Annotated[str | None, typer.Option("--negative", help="Negative prompt.")]
Fps = Annotated[float | None, typer.Option("--fps", help="Frame rate written to the outputs (default 8).")]
Attention = Annotated[
    str,
    typer.Option(
        "--attention",
        help="RGBA attention: transpixar (paper Eq. 7, text never attends to alpha), full, rgb-isolated, or "
        "official (the release's additive mask, for bit-for-bit parity with it).",
    ),
]
OfficialMask = Annotated[
    bool, typer.Option("--official-mask", help="Reproduce the release's additive 0/1 mask (slower, for parity).")
]
Device = Annotated[str | None, typer.Option("--device", help="cpu, cuda, cuda:N or mps (default: cuda if present).")]
Dtype = Annotated[str | None, typer.Option("--dtype", help="fp32, bf16 or fp16 (default: bf16 on CUDA, else fp32).")]
Offload = Annotated[str, typer.Option("--offload", help="none, model or sequential CPU offload.")]
VaeTiling = Annotated[bool, typer.Option("--vae-tiling", help="Decode in tiles (less memory).")]
VaeSlicing = Annotated[bool, typer.Option("--vae-slicing", help="Decode one clip at a time (less memory).")]
Formats = Annotated[
    str,
    typer.Option(
        "--format",
        help="Comma list of outputs: exr, nk (Nuke script), prores, png, webm, preview, contact.",
    ),
]
StartFrame = Annotated[int, typer.Option("--start-frame", help="First frame number of image sequences.")]
Compression = Annotated[str, typer.Option("--compression", help="EXR compression: zip (lossless), piz, dwaa, none.")]
AllowLossy = Annotated[
    bool, typer.Option("--allow-lossy", help="Accept lossy EXR compression (dwaa/dwab: colour lossy, alpha lossless).")
]
AlphaMode = Annotated[
    str, typer.Option("--alpha", help="ProRes alpha: straight (AE 'Interpret as straight') or premultiplied.")
]
AlphaReduce = Annotated[
    str | None, typer.Option("--alpha-reduce", help="Alpha from 3 decoded channels: mean or max (default: recipe's).")
]
RgbConvention = Annotated[
    str | None,
    typer.Option(
        "--rgb",
        help="How the model's RGB half is meant: straight (colour over a background; the release) or "
        "premultiplied (over black). Default: the model's recipe.",
    ),
]
Noise = Annotated[
    str | None,
    typer.Option("--noise", help="Alpha half's start noise: shared (the release) or independent. Default: recipe's."),
]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="Sampler: dpm, ddim or model (the folder's own). Default: recipe's.")
]
TimestepSpacing = Annotated[
    str | None, typer.Option("--timestep-spacing", help="trailing, leading or linspace. Default: recipe's.")
]
Recipe = Annotated[
    str | None,
    typer.Option(
        "--recipe",
        help="Start from a named RGBA recipe instead of the model's: release (the TransPixar release's) or vfxgen.",
    ),
]
DynamicCfg = Annotated[
    bool | None,
    typer.Option("--dynamic-cfg/--no-dynamic-cfg", help="Cosine-ramped CFG as in the release (default: recipe's)."),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")]
Cache = Annotated[
    str,
    typer.Option("--cache", help="Step caching with diffusers' hooks: none, fbc, pab or faster (faster, approximate)."),
]
Compile = Annotated[bool, typer.Option("--compile", help="torch.compile the transformer (pays off over many shots).")]
ColorSpace = Annotated[
    str,
    typer.Option(
        "--colorspace", help="EXR colour space (OCIO name/alias, scene-linear): lin_rec709_scene, ACEScg, ACES2065-1..."
    ),
]
ConditioningMode = Annotated[
    str,
    typer.Option(
        "--conditioning",
        help="auto (native on image-to-video models, replace on text-to-video ones), native, or replace "
        "(pin the input's latents at every step; on I2V models on top of the native conditioning).",
    ),
]
Strength = Annotated[
    float,
    typer.Option(
        "--strength",
        help="How long the input stays pinned, as a fraction of the steps: 1 = to the end; less lets "
        "the prompt change it (SDEdit-like).",
    ),
]
Resample = Annotated[
    int, typer.Option("--resample", help="RePaint resampling jumps per step in the first half of the steps (0-10).")
]
Fit = Annotated[
    str,
    typer.Option("--fit", help="Input of another size than the model's: pad (scale to fit, black borders) or stretch."),
]
