"""The scriptable API: what `vfxgen generate` and `vfxgen animate` do, as functions returning a `Clip`.

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
from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline


def load_pipeline(
    model: str | os.PathLike | None = None, lora: str | os.PathLike | None = None, **options
) -> RGBAPipeline:
    """Load a CogVideoX model (default: bundled) with its TransPixar LoRA. Options: attention, device,
    dtype, offload, vae_tiling, vae_slicing, image_to_video, official_mask."""
    return RGBAPipeline.from_pretrained(model, lora, **options)


def generate(
    prompt: str,
    *,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: dict | None = None,
    **request,
) -> Clip:
    """Text to RGBA clip. `request` takes GenerationRequest fields (frames, height, width, steps, guidance,
    seed, fps, negative_prompt, dynamic_cfg, alpha_reduce)."""
    pipe = pipeline or load_pipeline(model, lora, **(load_options or {}))
    return pipe.generate(GenerationRequest(prompt=prompt, **request))


def animate(
    image: np.ndarray,
    prompt: str = "",
    *,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    pipeline: RGBAPipeline | None = None,
    load_options: dict | None = None,
    **request,
) -> Clip:
    """Image (straight sRGB `[H, W, 3|4]`, alpha optional) to RGBA clip with any model: image-to-video models
    use their native conditioning, text-to-video ones frame-0 replacement (`vfxgen.pipelines.conditioning`)."""
    pipe = pipeline or load_pipeline(model, lora, **(load_options or {}))
    return pipe.animate(image, GenerationRequest(prompt=prompt, **request))
