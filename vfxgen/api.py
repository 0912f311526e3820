"""The scriptable API: what `vfxgen generate`, `animate` and `matte` do, as functions returning a `Clip`.

    import vfxgen
    clip = vfxgen.generate("burning fireball", seed=7)            # bundled default model
    vfxgen.write_shot(clip, "shots/fireball")                      # EXR + preview + contact sheet

For many shots, load once and reuse: `pipe = vfxgen.load_pipeline(model=..., lora=...)` then
`pipe.generate(vfxgen.GenerationRequest(...))`.
"""

from __future__ import annotations

import os

import numpy as np

from vfxgen.clip import Clip
from vfxgen.pipelines.rgba import RGBAPipeline
from vfxgen.request import LoadOptions
from vfxgen.settings import resolve_request


def load_pipeline(
    model: str | os.PathLike | None = None, lora: str | os.PathLike | None = None, **options
) -> RGBAPipeline:
    """Load a CogVideoX model (default: bundled) with its TransPixar LoRA. Options: the fields of
    `vfxgen.pipelines.rgba.LoadOptions` (attention, device, dtype, offload, recipe, ...) and image_to_video."""
    return RGBAPipeline.from_pretrained(model, lora, **options)


def _pipeline_for(
    pipeline: RGBAPipeline | None, model, lora, load_options: LoadOptions | dict | None
) -> RGBAPipeline:
    """The given pipeline, else one loaded with `load_options` (a `LoadOptions`, or its fields as a dict)."""
    if pipeline is not None:
        return pipeline
    if isinstance(load_options, LoadOptions):
        return RGBAPipeline.from_pretrained(model, lora, load_options)
    return load_pipeline(model, lora, **(load_options or {}))


def generate(
    prompt: str | None = None,
    *,
    preset: str | os.PathLike | None = None,
    presets_dir: list[str | os.PathLike] | None = None,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: LoadOptions | dict | None = None,
    **options,
) -> Clip:
    """Text (and/or a preset) to RGBA clip. `options` take GenerationRequest fields (frames, height, width,
    steps, guidance, seed, fps, negative_prompt, dynamic_cfg, alpha_reduce, rgb, noise); settings resolve
    exactly as on the command line (`vfxgen.settings.resolve_request`)."""
    pipe = _pipeline_for(pipeline, model, lora, load_options)
    return pipe.generate(resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=options))


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
    **options,
) -> Clip:
    """Image (straight sRGB `[H, W, 3|4]`, alpha optional) to RGBA clip with any model: image-to-video models
    use their native conditioning, text-to-video ones frame-0 replacement (`vfxgen.pipelines.conditioning`)."""
    pipe = _pipeline_for(pipeline, model, lora, load_options)
    request = resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=options)
    return pipe.animate(image, request)


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
    replace_alpha: bool = False,
    strength: float = 1.0,
    resample: int = 0,
    fit: str = "pad",
    overlap: int | None = None,
    progress=None,
    **options,
) -> Clip:
    """Footage (a `Clip`, or any source `read_clip` reads; colour over black) to the same colour plus a generated
    matching alpha (`vfxgen.pipelines.conditioning.pull_matte`): what `vfxgen matte` runs. A clip that already
    has alpha is refused unless `replace_alpha`. `options` take GenerationRequest fields (steps, seed, ...)."""
    from vfxgen.io import read_footage
    from vfxgen.pipelines.conditioning import Conditioning, pull_matte

    clip = footage if isinstance(footage, Clip) else read_footage(footage, options.get("fps"))
    cond = Conditioning(mode="replace", strength=strength, resample=resample, fit=fit, overlap=overlap).checked()
    pipe = _pipeline_for(pipeline, model, lora, load_options)
    settings = {"fps": clip.fps, **options}
    request = resolve_request(prompt, pipe.info, preset=preset, presets_dir=presets_dir, options=settings)
    return pull_matte(pipe, clip, request, progress, cond, replace_alpha)

