"""The scriptable API: what `vfxgen generate`, `animate` and `matte` do, as functions returning a `Clip`.

    import vfxgen
    clip = vfxgen.generate("burning fireball", seed=7)            # bundled default model
    vfxgen.write_shot(clip, "shots/fireball")                      # EXR + preview + contact sheet

For many shots, load once and reuse: `pipe = vfxgen.load_pipeline(model=..., lora=...)` then
`pipe.generate(vfxgen.GenerationRequest(...))`.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from vfxgen.clip import Clip
from vfxgen.errors import UsageError
from vfxgen.pipelines.rgba import RGBAPipeline
from vfxgen.request import LoadOptions, check_settings_apply, split_settings
from vfxgen.settings import resolve_request


def load_pipeline(
    model: str | os.PathLike | None = None, lora: str | os.PathLike | None = None, **options
) -> RGBAPipeline:
    """Load a CogVideoX model (default: bundled) with its TransPixar LoRA. Options: the fields of
    `vfxgen.pipelines.rgba.LoadOptions` (attention, device, dtype, offload, recipe, ...) and image_to_video."""
    return RGBAPipeline.from_pretrained(model, lora, **options)


def _pipeline_for(
    pipeline: RGBAPipeline | None, model, lora, load_options: LoadOptions | dict | None, load: dict
) -> RGBAPipeline:
    """The given pipeline, else one loaded with `load_options` (a `LoadOptions`, or its fields as a dict)
    and the load settings given as keywords (`device="cpu"`)."""
    if pipeline is not None:
        if load or load_options is not None:
            given = ", ".join(load) if load else "load_options"
            raise UsageError(
                f"{given} set how a model loads, but a loaded pipeline was given",
                "pass them to vfxgen.load_pipeline() instead",
            )
        return pipeline
    base = load_options if isinstance(load_options, LoadOptions) else LoadOptions(**(load_options or {}))
    return RGBAPipeline.from_pretrained(model, lora, replace(base, **load))


def _api_settings(command: str, settings: dict) -> tuple[dict, dict, dict]:
    """(request, load, conditioning) settings from an API call's keywords, checked against
    `vfxgen.request.SETTINGS`: the same names as the command's options (`negative` or `negative_prompt`)."""
    layers = split_settings(settings, command, f"vfxgen.{command}()")
    stray = [*layers["shot"], *layers["run"]]
    if stray:
        raise UsageError(
            f"vfxgen.{command}() returns a clip: {stray[0]!r} is how a shot is written or run",
            "pass it to vfxgen.write_shot(clip, path, ShotOptions(...)) or use vfxgen.run_jobs",
        )
    return layers["request"], layers["load"], layers["conditioning"]


def generate(
    prompt: str | None = None,
    *,
    preset: str | os.PathLike | None = None,
    presets_dir: list[str | os.PathLike] | None = None,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: LoadOptions | dict | None = None,
    **settings,
) -> Clip:
    """Text (and/or a preset) to RGBA clip. `settings`: any setting `vfxgen generate` has an option for
    (`vfxgen.request.SETTINGS`: frames, steps, seed, fps, negative, ..., and load settings such as device);
    they resolve exactly as on the command line (`vfxgen.settings.resolve_request`)."""
    request, load, _ = _api_settings("generate", settings)
    pipe = _pipeline_for(pipeline, model, lora, load_options, load)
    return pipe.generate(resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=request))


def animate(
    image: np.ndarray,
    prompt: str = "",
    *,
    preset: str | os.PathLike | None = None,
    presets_dir: list[str | os.PathLike] | None = None,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: LoadOptions | dict | None = None,
    progress=None,
    **settings,
) -> Clip:
    """Image (straight sRGB `[H, W, 3|4]`, alpha optional) to RGBA clip with any model: image-to-video models
    use their native conditioning, text-to-video ones frame-0 replacement (`vfxgen.pipelines.conditioning`).
    `settings`: what `vfxgen animate` has options for (steps, seed, strength, fit, device, ...)."""
    from vfxgen.pipelines.conditioning import Conditioning

    request, load, cond = _api_settings("animate", settings)
    pipe = _pipeline_for(pipeline, model, lora, load_options, load)
    check_settings_apply(cond, pipe.info)
    conditioning = Conditioning(**cond).resolved(pipe.info.image_to_video)
    if conditioning.mode == "native":  # native image conditioning: the shot has the still's size, as on the CLI
        request = {"height": int(np.shape(image)[0]), "width": int(np.shape(image)[1]), **request}
    request = resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=request)
    return pipe.animate(image, request, progress, conditioning)


def matte(
    footage: Clip | str | os.PathLike,
    prompt: str = "",
    *,
    preset: str | os.PathLike | None = None,
    presets_dir: list[str | os.PathLike] | None = None,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: LoadOptions | dict | None = None,
    progress=None,
    **settings,
) -> Clip:
    """Footage (a `Clip`, or any source `read_clip` reads; colour over black) to the same colour plus a generated
    matching alpha (`vfxgen.pipelines.conditioning.pull_matte`): what `vfxgen matte` runs. A clip that already
    has alpha is refused unless `replace_alpha=True`. `settings`: what `vfxgen matte` has options for (steps,
    seed, strength, resample, fit, overlap, replace_alpha, device, ...)."""
    from vfxgen.io import read_footage
    from vfxgen.pipelines.conditioning import MATTE_CLEARS_BLACK, Conditioning, pull_matte

    request, load, cond = _api_settings("matte", settings)
    clip = footage if isinstance(footage, Clip) else read_footage(footage, request.get("fps"))
    conditioning = Conditioning(**{**cond, "mode": "replace"}).checked()
    pipe = _pipeline_for(pipeline, model, lora, load_options, load)
    check_settings_apply(cond, pipe.info)
    request = {"fps": clip.fps, "clear_black": MATTE_CLEARS_BLACK, **request}  # as the CLI
    request = resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=request)
    return pull_matte(pipe, clip, request, progress, conditioning)
