"""Text-to-RGBA and image-to-RGBA on any registered backbone (`vfxgen.backbones`): the generic part.

`RGBAPipeline` owns what does not depend on the base model: checking a request against the model and its
RGBA recipe, the order of the steps (1. check the request, 2. draw latents, 3. denoise, 4. decode RGB and
alpha, 5. return a `Clip`), reading alpha from its decoded channels, the colour convention, and the shot's
record. The backbone's runtime (`CogVideoXRuntime` for CogVideoX) owns loading the weights and every step
that touches them; animate and matte (`vfxgen.pipelines.conditioning`) use the same public methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from vfxgen import __version__
from vfxgen.alpha_bounds import clear_black
from vfxgen.backbones import backbone_named
from vfxgen.backbones.devices import parse_device  # noqa: F401 (re-exported)
from vfxgen.clip import Clip
from vfxgen.color import unpremultiply
from vfxgen.errors import UsageError
from vfxgen.licences import weights_licence
from vfxgen.pipelines.model_dirs import ModelInfo, file_sha256, model_weight_hashes
from vfxgen.pipelines.recipe import RGBARecipe
from vfxgen.request import (  # noqa: F401 (re-exported)
    CACHE_MODES,
    OFFLOAD_MODES,
    GenerationRequest,
    LoadOptions,
    ModelChoice,
    generation_record,
)

ProgressCallback = Callable[[int, int], None]


class RGBAPipeline:
    """A loaded RGBA model: call `generate` (text) or `animate` (image) for as many shots as needed."""

    def __init__(self, runtime, info: ModelInfo, lora_path: Path, options: LoadOptions, recipe: RGBARecipe) -> None:
        self.runtime = runtime  # the backbone's: loads and runs the weights (`vfxgen.backbones`)
        self.info = info
        self.lora_path = lora_path
        self.options = options
        self.recipe = recipe
        self.device = runtime.device
        self._lora_hash = file_sha256(lora_path)
        self._model_hashes = model_weight_hashes(info)

    @property
    def pipe(self):
        """The backbone's stock diffusers pipeline (components, scheduler), for scripts that need it."""
        return self.runtime.pipe

    @property
    def attention(self) -> str:
        return "official" if self.options.official_mask else self.options.attention

    @classmethod
    def from_pretrained(
        cls,
        model: str | os.PathLike | None = None,
        lora: str | os.PathLike | None = None,
        options: LoadOptions | None = None,
        *,
        image_to_video: bool | None = None,
        **option_fields,
    ) -> RGBAPipeline:
        """Load a model dir (default: the bundled model) and its RGBA LoRA.

        `options` (a `LoadOptions`), or its fields as keywords for a quick script
        (`from_pretrained(device="cpu")`). The RGBA recipe is resolved before any weights load.
        """
        options = replace(options or LoadOptions(), **option_fields).checked()
        return cls.load(options.choose(model, lora), options, image_to_video=image_to_video)

    @classmethod
    def load(cls, choice: ModelChoice, options: LoadOptions, *, image_to_video: bool | None = None) -> RGBAPipeline:
        """Load an already resolved model, LoRA and recipe (`LoadOptions.choose`; what `run_jobs` does once
        per batch) with checked options, through the model's backbone."""
        runtime = backbone_named(choice.info.backbone).runtime().load(choice, options, image_to_video)
        return cls(runtime, choice.info, choice.lora, options, choice.recipe)

    # --- public -------------------------------------------------------------------------------------
    def check(self, request: GenerationRequest, text_required: bool = True) -> GenerationRequest:
        """Validate and fill a request for this model and its recipe (cheap)."""
        return request.resolved(self.info, self.recipe, text_required)

    def generate(self, request: GenerationRequest, progress: ProgressCallback | None = None) -> Clip:
        """Text to RGBA."""
        return self.decode(*self.denoise(request, progress))

    def animate(
        self,
        image: np.ndarray,
        request: GenerationRequest,
        progress: ProgressCallback | None = None,
        conditioning=None,
    ) -> Clip:
        """Image (straight sRGB `[H, W, 3|4]`) to RGBA; an RGBA image's alpha conditions the first alpha frame.

        `conditioning` (`vfxgen.pipelines.conditioning.Conditioning`, default `auto`): image-to-video models
        use their native image conditioning; text-to-video models (and `mode="replace"`) pin latent frame 0
        to the still by replacement at every step (see that module).
        """
        from vfxgen.pipelines.conditioning import Conditioning, animate_by_replacement

        cond = (conditioning or Conditioning()).resolved(self.info.image_to_video)
        if cond.mode == "replace":
            return animate_by_replacement(self, image, request, progress, cond)
        req = self.check(request, text_required=False)
        req.extra = {**req.extra, "conditioning": cond.record(target="first frame", native_image=True)}
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 3 or image.shape[-1] not in (3, 4):
            raise UsageError(f"the input image must be RGB or RGBA, got shape {list(image.shape)}", "pass an image")
        if image.shape[:2] != (req.height, req.width):
            raise UsageError(
                f"the input image is {image.shape[1]}x{image.shape[0]} but the shot is {req.width}x{req.height}",
                f"resize it, or pass --width {image.shape[1]} --height {image.shape[0]} if the model allows",
            )
        latents, generator = self.initial_latents(req)
        has_alpha = image.shape[-1] == 4
        alpha = image[..., 3:4] if has_alpha else np.ones_like(image[..., :1])
        # Bring the still to the model's RGB convention: colour over black, or straight colour.
        colour = image[..., :3] * alpha if req.rgb == "premultiplied" else image[..., :3]
        rgb = self.info.highlights.encode(colour)  # clipped to [0, 1] unless the model carries HDR
        pipe_image = self.runtime.to_pipe_image(rgb)
        if not has_alpha:
            return self.decode(req, self.denoise_latents(req, latents, generator, progress, image=pipe_image))
        alpha_latent = self.runtime.encode_image(np.repeat(alpha, 3, axis=-1), generator)
        with self.runtime.alpha_first_frame(alpha_latent, latents.shape[1] // 2):
            return self.decode(req, self.denoise_latents(req, latents, generator, progress, image=pipe_image))

    # --- steps (also what conditioning calls) --------------------------------------------------------
    def initial_latents(self, req: GenerationRequest):
        """The shot's starting noise and the seeded generator that continues into the sampler."""
        return self.runtime.initial_latents(req)

    def text_seen(self, text: str, what: str = "prompt") -> str:
        """The part of `text` the text encoder reads; warns when the model cuts it (see the runtime)."""
        return self.runtime.text_seen(text, what)

    def denoise(self, request: GenerationRequest, progress: ProgressCallback | None = None):
        """Text to final latents (for TransPixar `[1, 2F, C, h, w]`: RGB half, then alpha half), before decoding."""
        req = self.check(request)
        latents, generator = self.initial_latents(req)
        return req, self.denoise_latents(req, latents, generator, progress)

    def denoise_latents(self, req: GenerationRequest, latents, generator, progress=None, image=None, step_hook=None):
        """Denoise starting latents with the backbone's stock pipeline; records the prompt the model read.
        `step_hook(pipe, step, t, kwargs) -> dict` runs after each scheduler step (may replace `latents`)."""
        req.extra = {**req.extra, "prompt_seen": self.text_seen(req.prompt)}
        if req.negative_prompt:
            req.extra["negative_prompt_seen"] = self.text_seen(req.negative_prompt, "negative prompt")
        return self.runtime.denoise(req, latents, generator, progress, image=image, step_hook=step_hook)

    def decode(self, req: GenerationRequest, latents) -> Clip:
        """Final latents to a clip, by the recipe: alpha = max or mean of the decoded alpha channels; the RGB
        is straight colour (premultiplied by alpha, as the release does) or colour over black."""
        rgb, alpha_rgb = self.runtime.decode_rgba(latents)
        rgb = np.clip(rgb, 0.0, 1.0)
        reduce = np.max if req.alpha_reduce == "max" else np.mean
        alpha = np.clip(reduce(alpha_rgb, axis=-1, keepdims=True), 0.0, 1.0)
        # The decoded RGB as the model produced it is kept (`source_rgb`): eval-flow and QC's flow check
        # measure it, as the paper's protocol does, not the premultiplied deliverable.
        stored = {"source_rgb": rgb[..., :3], "source_alpha": req.rgb}
        highlights = self.info.highlights  # the top of the model's range may hold values above 1.0
        if req.rgb == "straight":
            straight = np.concatenate([highlights.decode(rgb), alpha], axis=-1)
        else:  # colour over black: within its alpha; hot where the premultiplied value reaches the shoulder
            premult = highlights.decode(np.minimum(rgb, alpha))
            straight = unpremultiply(np.concatenate([premult, alpha], axis=-1))
        clip = Clip(straight, fps=req.fps, **stored)
        if req.clear_black:  # no opaque black: the luminance key of vfxgen.alpha_bounds (0 .. 0.01 unless set)
            clip.pixels = clear_black(clip.pixels, req.key_white, req.key_black)
        return clip.with_metadata(**self.metadata(req))

    def effective_recipe(self, req: GenerationRequest) -> RGBARecipe:
        """The recipe a resolved request ran with (the model's, with the shot's own choices applied)."""
        fields_ = ("rgb", "alpha_reduce", "noise", "steps", "guidance", "dynamic_cfg")
        return replace(self.recipe, **{name: getattr(req, name) for name in fields_})

    def metadata(self, req: GenerationRequest) -> dict:
        """shot.json's generation record of a resolved request run by this pipeline."""
        return {
            "prompt": req.prompt,
            **req.record(),  # every request setting; the rate as the files carry it (23.98 -> 24000/1001)
            "attention": self.attention,
            "recipe": self.effective_recipe(req).to_dict(),
            "model": self.info.name,
            "model_path": str(self.info.path),
            "model_native_size": [self.info.sample_width, self.info.sample_height, self.info.sample_frames],
            "lora": self.lora_path.name,
            "lora_sha256": self._lora_hash,
            "model_files_sha256": self._model_hashes,  # every weight file of the model folder, by content
            "weights_licence": weights_licence(self.recipe.source),
            **self.runtime.record(),  # the loaded sampler, the device
            **generation_record(self.options.file_hashes()),  # Wan-Alpha's decoder, distillation LoRA, mask
            "dtype": self.options.resolved_dtype(),
            "cache": self.options.cache,
            "vae_tiling": self.options.vae_tiling or self.recipe.vae_tiling,
            "vae_slicing": self.options.vae_slicing or self.recipe.vae_slicing,
            "version": __version__,
            **req.extra,
        }
