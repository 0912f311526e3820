"""Text-to-RGBA and image-to-RGBA over diffusers' own CogVideoX pipelines.

No denoising loop is copied. The stock `CogVideoXPipeline` / `CogVideoXImageToVideoPipeline` run with
`2F` latent frames (RGB then alpha, drawn from one seeded generator) and `output_type="latent"`; the
TransPixar transformer (see `vfxgen.models.transpixar`) does the rest. So diffusers' prompt encoding,
schedulers, RoPE, (dynamic) CFG, callbacks, offloading and cache hooks all apply unchanged. Each half is
then decoded by the VAE on its own.

Steps: 1. check the request (before anything heavy), 2. load components, apply TransPixar, load LoRA,
3. draw latents, 4. denoise with the stock pipeline, 5. decode RGB and alpha, 6. return a `Clip`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from diffusers.hooks import HookRegistry, ModelHook

from vfxgen import __version__
from vfxgen.clip import Clip
from vfxgen.errors import ModelError, UsageError, VfxgenWarning
from vfxgen.licences import weights_licence
from vfxgen.models.transpixar import apply_transpixar, check_finite_tensors, load_rgba_lora
from vfxgen.models.vae import frames_for_latents, pad_to_odd_latents
from vfxgen.pipelines.model_dirs import ModelInfo, file_sha256
from vfxgen.pipelines.recipe import RGBARecipe
from vfxgen.quiet import quiet_libraries
from vfxgen.request import (  # noqa: F401 (re-exported)
    CACHE_MODES,
    OFFLOAD_MODES,
    GenerationRequest,
    LoadOptions,
    ModelChoice,
)

quiet_libraries()

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
ALPHA_IMAGE_HOOK = "vfxgen_alpha_first_frame"

ProgressCallback = Callable[[int, int], None]


def parse_device(device: str | None) -> torch.device:
    """`cpu`, `cuda`, `cuda:N`, `mps`; a clear error for anything else or an absent accelerator.

    Default: `cuda:$LOCAL_RANK` under a multi-process launcher, else `cuda` if present, else `cpu`.
    """
    if device is None and torch.cuda.is_available():
        # Under torchrun / accelerate launch each process takes its own GPU.
        device = f"cuda:{os.environ['LOCAL_RANK']}" if "LOCAL_RANK" in os.environ else "cuda"
    name = device or "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"unknown --device {name!r}", "use cpu, cuda, cuda:N or mps") from exc
    if dev.type not in ("cpu", "cuda", "mps"):
        raise UsageError(f"unsupported --device {name!r}", "use cpu, cuda, cuda:N or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for but no CUDA GPU is visible", "use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise UsageError(f"--device {name} does not exist ({torch.cuda.device_count()} GPUs)", "pick another index")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps asked for but MPS is not available", "use --device cpu")
    return dev


def step_cache_config(mode: str, pipe):
    """diffusers' own step-cache hooks, configured for CogVideoX (they wrap blocks / attention modules,
    so the RGBA processor inside runs unchanged whenever a step is actually computed)."""
    from diffusers import FasterCacheConfig, FirstBlockCacheConfig, PyramidAttentionBroadcastConfig

    if mode == "fbc":
        return FirstBlockCacheConfig(threshold=0.05)
    if mode == "pab":
        return PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=2,
            spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=lambda: pipe.current_timestep,
        )
    return FasterCacheConfig(
        spatial_attention_block_skip_range=2,
        spatial_attention_timestep_skip_range=(-1, 681),
        low_frequency_weight_update_timestep_range=(99, 901),
        high_frequency_weight_update_timestep_range=(-1, 301),
        attention_weight_callback=lambda _: 0.3,
        current_timestep_callback=lambda: pipe.current_timestep,
        tensor_format="BFCHW",
        is_guidance_distilled=False,
    )


def use_recipe_scheduler(pipe, recipe: RGBARecipe) -> None:
    """Swap in the recipe's sampler (the release forces CogVideoXDPMScheduler, trailing spacing), built from
    the model's own scheduler config so betas and prediction type stay the model's."""
    import diffusers

    name = recipe.scheduler_class or type(pipe.scheduler).__name__
    config = pipe.scheduler.config
    if type(pipe.scheduler).__name__ == name and config.get("timestep_spacing") == recipe.timestep_spacing:
        return
    pipe.scheduler = getattr(diffusers, name).from_config(config, timestep_spacing=recipe.timestep_spacing)


class AlphaFirstFrameHook(ModelHook):
    """Puts the alpha image's latent into the image-conditioning channels of the alpha half's first frame.

    The stock image-to-video pipeline conditions frame 0 of the (2F-frame) sequence with the RGB image and
    zero-pads the rest; this pre-forward hook adds the alpha condition at frame F, where the alpha half
    starts, so the stock pipeline does everything else.
    """

    def __init__(self, alpha_latent: torch.Tensor, latent_frames: int, latent_channels: int) -> None:
        super().__init__()
        self.alpha_latent = alpha_latent  # [1, 1, C, h, w]
        self.latent_frames = latent_frames
        self.latent_channels = latent_channels

    def pre_forward(self, module, *args, **kwargs):
        x = kwargs["hidden_states"]  # [B, 2F, 2C, h, w]
        x = x.clone()
        c, f = self.latent_channels, self.latent_frames
        x[:, f : f + 1, c:] = self.alpha_latent.to(x.dtype)
        kwargs["hidden_states"] = x
        return args, kwargs


class RGBAPipeline:
    """A loaded TransPixar model: call `generate` (text) or `animate` (image) for as many shots as needed."""

    def __init__(
        self, pipe, info: ModelInfo, lora_path: Path, options: LoadOptions, recipe: RGBARecipe, device: torch.device
    ) -> None:
        self.pipe = pipe
        self.info = info
        self.lora_path = lora_path
        self.options = options
        self.recipe = recipe
        self.device = device
        self._lora_hash = file_sha256(lora_path)

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
        """Load a CogVideoX model dir (default: the bundled model) and its TransPixar LoRA.

        `options` (a `LoadOptions`), or its fields as keywords for a quick script
        (`from_pretrained(device="cpu")`). The RGBA recipe is resolved before any weights load.
        """
        options = replace(options or LoadOptions(), **option_fields).checked()
        return cls.load(options.choose(model, lora), options, image_to_video=image_to_video)

    @classmethod
    def load(cls, choice: ModelChoice, options: LoadOptions, *, image_to_video: bool | None = None) -> RGBAPipeline:
        """Load an already resolved model, LoRA and recipe (`LoadOptions.choose`; what `run_jobs` does once
        per batch) with checked options."""
        from diffusers import CogVideoXImageToVideoPipeline, CogVideoXPipeline

        info, lora_path, recipe = choice.info, choice.lora, choice.recipe
        dev = parse_device(options.device)
        dtype = options.resolved_dtype()
        want_i2v = info.image_to_video if image_to_video is None else image_to_video
        if want_i2v and not info.image_to_video:
            raise ModelError(
                f"{info.path} is a text-to-video model",
                "animate needs an image-to-video CogVideoX (e.g. CogVideoX-5b-I2V)",
            )
        if not want_i2v and info.image_to_video:
            raise ModelError(f"{info.path} is an image-to-video model", "use `vfxgen animate` with it")
        pipeline_cls = CogVideoXImageToVideoPipeline if want_i2v else CogVideoXPipeline
        try:
            with warnings.catch_warnings():  # diffusers 0.42 renames torch_dtype; older releases need it
                warnings.simplefilter("ignore", FutureWarning)
                pipe = pipeline_cls.from_pretrained(str(info.path), torch_dtype=DTYPES[dtype], use_safetensors=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot load {info.path}: {exc}", "check the model directory is complete") from exc
        for component in ("transformer", "vae", "text_encoder"):
            check_finite_tensors(getattr(pipe, component).state_dict().items(), info.path / component)
        use_recipe_scheduler(pipe, recipe)
        apply_transpixar(pipe.transformer, attention=options.attention, official_mask=options.official_mask)
        load_rgba_lora(pipe.transformer, lora_path)
        pipe.transformer.eval()
        pipe.set_progress_bar_config(disable=True)
        if options.cache != "none":
            pipe.transformer.enable_cache(step_cache_config(options.cache, pipe))
        if options.compile:
            pipe.transformer.compile(dynamic=False)
        if options.vae_tiling or recipe.vae_tiling:  # the release recipe decodes in tiles, as cli.py does
            pipe.vae.enable_tiling()
        if options.vae_slicing or recipe.vae_slicing:
            pipe.vae.enable_slicing()
        if options.offload == "model":
            pipe.enable_model_cpu_offload(device=dev)
        elif options.offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=dev)
        else:
            pipe.to(dev)
        return cls(pipe, info, lora_path, options, recipe, dev)

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
        latents, generator = self._initial_latents(req)
        has_alpha = image.shape[-1] == 4
        alpha = image[..., 3:4] if has_alpha else np.ones_like(image[..., :1])
        # Bring the still to the model's RGB convention: colour over black, or straight colour.
        rgb = np.clip(image[..., :3] * alpha if req.rgb == "premultiplied" else image[..., :3], 0, 1)
        registry = HookRegistry.check_if_exists_or_initialize(self.pipe.transformer)
        if has_alpha:
            alpha_latent = self._encode_image(np.repeat(alpha, 3, axis=-1), generator)
            hook = AlphaFirstFrameHook(alpha_latent, latents.shape[1] // 2, self.pipe.vae.config.latent_channels)
            registry.register_hook(hook, ALPHA_IMAGE_HOOK)
        try:
            return self._run(req, latents, generator, progress, image=self._to_pipe_image(rgb))
        finally:
            if has_alpha:
                registry.remove_hook(ALPHA_IMAGE_HOOK, recurse=False)

    # --- steps ----------------------------------------------------------------------------------------
    def _initial_latents(self, req: GenerationRequest) -> tuple[torch.Tensor, torch.Generator]:
        """RGB and alpha noise from one seeded CPU generator: one seed reproduces the whole RGBA shot.

        `noise="shared"` draws the RGB half and starts the alpha half from the same noise, exactly as the
        release does (`latents.repeat(1, 2, 1, 1, 1)`; the generator then continues into the sampler's
        own noise as in the release); `"independent"` draws both halves at once.
        """
        from diffusers.utils.torch_utils import randn_tensor

        pipe = self.pipe
        latent_frames = (req.frames - 1) // pipe.vae_scale_factor_temporal + 1
        halves = 1 if req.noise == "shared" else 2
        shape = (
            1,
            halves * latent_frames,
            pipe.vae.config.latent_channels,
            req.height // pipe.vae_scale_factor_spatial,
            req.width // pipe.vae_scale_factor_spatial,
        )
        generator = torch.Generator(device="cpu").manual_seed(req.seed)
        latents = randn_tensor(shape, generator=generator, dtype=torch.float32)
        return (latents.repeat(1, 2, 1, 1, 1) if halves == 1 else latents), generator

    def text_seen(self, text: str, what: str = "prompt") -> str:
        """The part of `text` the text encoder reads (diffusers cuts it at the model's text length, silently).

        Warns (`VfxgenWarning`) with how much was dropped, so a long prompt is never cut without a word.
        """
        tokenizer = self.pipe.tokenizer
        limit = self.pipe.transformer.config.max_text_seq_length
        ids = tokenizer(text, add_special_tokens=True, truncation=False).input_ids
        if len(ids) <= limit:
            return text
        # Exactly the call diffusers' CogVideoX pipelines make (the end-of-text token is kept).
        kept = tokenizer(text, max_length=limit, truncation=True, add_special_tokens=True).input_ids
        seen = tokenizer.decode(kept, skip_special_tokens=True)
        unit = "bytes" if type(tokenizer).__name__.startswith("ByT5") else "tokens"
        warnings.warn(
            f"the {what} is {len(ids)} {unit} long but {self.info.name} reads {limit}: the last "
            f"{len(ids) - len(kept)} were dropped; the model saw {seen!r} (shorten it, or see shot.json)",
            VfxgenWarning,
            stacklevel=2,
        )
        return seen

    def denoise(
        self, request: GenerationRequest, progress: ProgressCallback | None = None
    ) -> tuple[GenerationRequest, torch.Tensor]:
        """Text to final latents `[1, 2F, C, h, w]` (RGB half, then alpha half), before decoding."""
        req = self.check(request)
        latents, generator = self._initial_latents(req)
        return req, self._denoise(req, latents, generator, progress)

    def decode(self, req: GenerationRequest, latents: torch.Tensor) -> Clip:
        """Final latents to a clip, by the recipe: alpha = max or mean of the decoded alpha half; the RGB
        half is straight colour (premultiplied by alpha, as the release does) or colour over black."""
        latent_frames = latents.shape[1] // 2
        with torch.inference_mode():
            rgb = np.clip(self._decode(latents[:, :latent_frames]), 0.0, 1.0)
            alpha_rgb = self._decode(latents[:, latent_frames:])
        reduce = np.max if req.alpha_reduce == "max" else np.mean
        alpha = np.clip(reduce(alpha_rgb, axis=-1, keepdims=True), 0.0, 1.0)
        # The decoded RGB half as the model produced it is kept (`source_rgb`): eval-flow and QC's flow check
        # measure it, as the paper's protocol does, not the premultiplied deliverable.
        stored = {"source_rgb": rgb[..., :3], "source_alpha": req.rgb}
        if req.rgb == "straight":
            clip = Clip(np.concatenate([rgb, alpha], axis=-1), fps=req.fps, **stored)
        else:  # colour over black: it cannot exceed its alpha
            premult = np.concatenate([np.minimum(rgb, alpha), alpha], axis=-1)
            clip = Clip.from_premultiplied(premult, req.fps, **stored)
        return clip.with_metadata(**self._metadata(req))

    def _run(self, req, latents, generator, progress, image=None) -> Clip:
        return self.decode(req, self._denoise(req, latents, generator, progress, image))

    def _denoise(self, req, latents, generator, progress, image=None, step_hook=None) -> torch.Tensor:
        """The stock pipeline call. `step_hook(pipe, step, t, kwargs) -> dict`: runs after each scheduler step
        (diffusers' `callback_on_step_end`; may return replaced `latents`), asking for `step_hook.tensor_inputs`."""
        pipe = self.pipe
        latent_frames = latents.shape[1] // 2
        dtype = pipe.transformer.dtype
        req.extra = {**req.extra, "prompt_seen": self.text_seen(req.prompt)}
        if req.negative_prompt:
            req.extra["negative_prompt_seen"] = self.text_seen(req.negative_prompt, "negative prompt")

        def on_step(_pipe, step, _t, _kwargs):
            out = step_hook(_pipe, step, _t, _kwargs) if step_hook is not None else {}
            if progress is not None:
                progress(step + 1, req.steps)
            return out

        kwargs = dict(
            prompt=req.prompt,
            negative_prompt=req.negative_prompt or None,
            height=req.height,
            width=req.width,
            num_inference_steps=req.steps,
            guidance_scale=req.guidance,
            use_dynamic_cfg=req.dynamic_cfg,
            generator=generator,
            latents=latents.to(dtype),
            output_type="latent",
            callback_on_step_end=on_step,
            callback_on_step_end_tensor_inputs=list(getattr(step_hook, "tensor_inputs", ["latents"])),
            max_sequence_length=pipe.transformer.config.max_text_seq_length,
        )
        if image is not None:
            # The stock I2V pipeline sizes its image conditioning from num_frames: make it cover 2F latents.
            kwargs.update(image=image, num_frames=(2 * latent_frames - 1) * pipe.vae_scale_factor_temporal + 1)
        else:
            kwargs.update(num_frames=req.frames)
        with torch.inference_mode():
            return pipe(**kwargs).frames  # [1, 2F, C, h, w]

    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        """VAE-decode one half -> float32 `[F, H, W, 3]` in [0, 1] (`F = 4(L-1) + 1` for L latents, even L too)."""
        pipe = self.pipe
        frames = frames_for_latents(latents.shape[1], pipe.vae_scale_factor_temporal)
        video = pipe.decode_latents(pad_to_odd_latents(latents, dim=1).to(pipe.vae.dtype))[:, :, :frames]
        frames = pipe.video_processor.postprocess_video(video=video, output_type="np")
        return np.asarray(frames[0], dtype=np.float32)

    def _encode_image(self, image: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """Encode a still with the VAE exactly as the stock I2V pipeline encodes its image -> `[1, 1, C, h, w]`."""
        pipe = self.pipe
        tensor = self._to_pipe_image(image)
        processed = pipe.video_processor.preprocess(tensor, height=image.shape[0], width=image.shape[1])
        processed = processed.to(device=pipe._execution_device, dtype=pipe.vae.dtype)
        with torch.inference_mode():
            _, image_latents = pipe.prepare_latents(
                processed,
                1,
                pipe.vae.config.latent_channels,
                1,
                image.shape[0],
                image.shape[1],
                pipe.vae.dtype,
                pipe._execution_device,
                generator,
                torch.zeros(1),
            )
        return image_latents[:, :1]

    @staticmethod
    def _to_pipe_image(image: np.ndarray) -> torch.Tensor:
        """`[H, W, 3]` in [0, 1] -> `[1, 3, H, W]` in [0, 1], what diffusers' video processor accepts."""
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()

    def effective_recipe(self, req: GenerationRequest) -> RGBARecipe:
        """The recipe a resolved request ran with (the model's, with the shot's own choices applied)."""
        fields_ = ("rgb", "alpha_reduce", "noise", "steps", "guidance", "dynamic_cfg")
        return replace(self.recipe, **{name: getattr(req, name) for name in fields_})

    def _metadata(self, req: GenerationRequest) -> dict:
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
            "weights_licence": weights_licence(self.recipe.source),
            "scheduler": type(self.pipe.scheduler).__name__,
            "timestep_spacing": self.pipe.scheduler.config.get("timestep_spacing"),
            "device": str(self.device),
            "device_type": self.device.type,
            "dtype": self.options.resolved_dtype(),
            "cache": self.options.cache,
            "vae_tiling": self.options.vae_tiling or self.recipe.vae_tiling,
            "vae_slicing": self.options.vae_slicing or self.recipe.vae_slicing,
            "version": __version__,
            **req.extra,
        }
