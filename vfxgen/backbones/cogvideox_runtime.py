"""CogVideoX's runtime: loading the weights with TransPixar applied, and every step that touches them.

No denoising loop is copied. The stock `CogVideoXPipeline` / `CogVideoXImageToVideoPipeline` run with
`2F` latent frames (RGB then alpha, drawn from one seeded generator) and `output_type="latent"`; the
TransPixar transformer (see `vfxgen.models.transpixar`) does the rest. So diffusers' prompt encoding,
schedulers, RoPE, (dynamic) CFG, callbacks, offloading and cache hooks all apply unchanged. Each half is
then decoded by the VAE on its own.

`vfxgen.pipelines.rgba.RGBAPipeline` (generic: requests, clips, records) and
`vfxgen.pipelines.conditioning` (animate, matte) call only the public methods of `CogVideoXRuntime`; a new
backbone's runtime provides the same ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from diffusers.hooks import HookRegistry, ModelHook

from vfxgen.backbones.base import step_callback
from vfxgen.backbones.devices import parse_device
from vfxgen.errors import ModelError, VfxgenWarning
from vfxgen.models.transpixar import apply_transpixar, check_finite_tensors, load_rgba_lora
from vfxgen.models.vae import frames_for_latents, pad_to_odd_latents
from vfxgen.pipelines.recipe import RGBARecipe
from vfxgen.quiet import quiet_libraries
from vfxgen.request import GenerationRequest, LoadOptions, ModelChoice

quiet_libraries()

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
ALPHA_IMAGE_HOOK = "vfxgen_alpha_first_frame"

ProgressCallback = Callable[[int, int], None]


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


class CogVideoXRuntime:
    """A loaded CogVideoX with TransPixar applied and its LoRA loaded: latents in, latents out, pixels out."""

    def __init__(self, pipe, device: torch.device, model_name: str) -> None:
        self.pipe = pipe  # the stock diffusers pipeline (T2V or I2V)
        self.device = device
        self.model_name = model_name
        self._rope: dict[tuple, object] = {}

    @classmethod
    def load(cls, choice: ModelChoice, options: LoadOptions, image_to_video: bool | None = None) -> CogVideoXRuntime:
        """Load a resolved model folder, apply TransPixar, load the LoRA, set the recipe's sampler and the
        load options (cache, compile, tiling, offload)."""
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
        return cls(pipe, dev, info.name)

    # --- geometry and sampling ------------------------------------------------------------------------
    @property
    def scheduler(self):
        return self.pipe.scheduler

    def latent_frames(self, frames: int) -> int:
        """Latent frames of `frames` pixel frames (4k + 1 -> k + 1: the causal VAE's first frame is alone)."""
        return (frames - 1) // self.pipe.vae_scale_factor_temporal + 1

    #: Latents are `[B, 2F, C, h, w]`: frames on axis 1 (RGB half, then alpha half).
    latent_frame_dim = 1

    def alpha_frames_start(self, frames: int) -> int | None:
        """The latent frame where the alpha half starts (TransPixar carries alpha as frames of their own)."""
        return self.latent_frames(frames)

    def initial_latents(self, req: GenerationRequest) -> tuple[torch.Tensor, torch.Generator]:
        """RGB and alpha noise from one seeded CPU generator: one seed reproduces the whole RGBA shot.

        `noise="shared"` draws the RGB half and starts the alpha half from the same noise, exactly as the
        release does (`latents.repeat(1, 2, 1, 1, 1)`; the generator then continues into the sampler's
        own noise as in the release); `"independent"` draws both halves at once.
        """
        from diffusers.utils.torch_utils import randn_tensor

        pipe = self.pipe
        latent_frames = self.latent_frames(req.frames)
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
            f"the {what} is {len(ids)} {unit} long but {self.model_name} reads {limit}: the last "
            f"{len(ids) - len(kept)} were dropped; the model saw {seen!r} (shorten it, or see shot.json)",
            VfxgenWarning,
            stacklevel=3,
        )
        return seen

    def denoise(
        self, req: GenerationRequest, latents, generator, progress=None, image=None, step_hook=None
    ) -> torch.Tensor:
        """The stock pipeline call -> final latents `[1, 2F, C, h, w]`. `step_hook(pipe, step, t, kwargs) -> dict`:
        runs after each scheduler step (diffusers' `callback_on_step_end`; may return replaced `latents`),
        asking for `step_hook.tensor_inputs`."""
        pipe = self.pipe
        latent_frames = latents.shape[1] // 2
        dtype = pipe.transformer.dtype

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
            callback_on_step_end=step_callback(step_hook, progress, req.steps),
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

    def guided_prediction(self, x_t: torch.Tensor, t: int, prompt_embeds: torch.Tensor) -> torch.Tensor:
        """The guided model output at `x_t`, as the stock loop computes it (CFG with the step's scale): what a
        RePaint resampling jump needs between two scheduler steps."""
        pipe = self.pipe
        guided = prompt_embeds.shape[0] == 2 * x_t.shape[0]  # the loop concatenated [negative, positive]
        latent_in = torch.cat([x_t] * 2) if guided else x_t
        latent_in = pipe.scheduler.scale_model_input(latent_in, t).to(prompt_embeds.dtype)
        rope = None
        if pipe.transformer.config.use_rotary_positional_embeddings:
            key = (x_t.shape[-2], x_t.shape[-1], x_t.shape[1], str(x_t.device))
            if key not in self._rope:
                s = pipe.vae_scale_factor_spatial
                self._rope[key] = pipe._prepare_rotary_positional_embeddings(
                    x_t.shape[-2] * s, x_t.shape[-1] * s, x_t.shape[1], x_t.device
                )
            rope = self._rope[key]
        timestep = torch.full((latent_in.shape[0],), t, device=x_t.device, dtype=torch.long)
        out = pipe.transformer(
            hidden_states=latent_in,
            encoder_hidden_states=prompt_embeds,
            timestep=timestep,
            image_rotary_emb=rope,
            attention_kwargs=pipe.attention_kwargs,
            return_dict=False,
        )[0].float()
        if guided:
            uncond, text = out.chunk(2)
            out = uncond + pipe.guidance_scale * (text - uncond)
        return out

    # --- pixels <-> latents ---------------------------------------------------------------------------
    def decode_rgba(self, latents: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Final latents -> (RGB half, alpha half) as decoded, float32 `[F, H, W, 3]` each: TransPixar carries
        RGBA as two halves of one latent sequence, each decoded by the VAE on its own."""
        latent_frames = latents.shape[1] // 2
        with torch.inference_mode():
            return self.decode_half(latents[:, :latent_frames]), self.decode_half(latents[:, latent_frames:])

    def decode_half(self, latents: torch.Tensor) -> np.ndarray:
        """VAE-decode one half -> float32 `[F, H, W, 3]` in [0, 1] (`F = 4(L-1) + 1` for L latents, even L too)."""
        pipe = self.pipe
        frames = frames_for_latents(latents.shape[1], pipe.vae_scale_factor_temporal)
        video = pipe.decode_latents(pad_to_odd_latents(latents, dim=1).to(pipe.vae.dtype))[:, :, :frames]
        frames = pipe.video_processor.postprocess_video(video=video, output_type="np")
        return np.asarray(frames[0], dtype=np.float32)

    def encode_frames(self, frames: np.ndarray) -> torch.Tensor:
        """VAE-encode `[T, H, W, 3]` in [0, 1] (T = 1 or 4k + 1) -> clean latents `[1, F, C, h, w]`, scaled as
        the stock pipeline's `decode_latents` expects (posterior mean: deterministic)."""
        pipe = self.pipe
        video = torch.from_numpy(np.ascontiguousarray(np.asarray(frames, np.float32).transpose(3, 0, 1, 2)))[None]
        video = (video * 2.0 - 1.0).to(device=pipe._execution_device, dtype=pipe.vae.dtype)  # [1, 3, T, H, W]
        with torch.inference_mode():
            latents = pipe.vae.encode(video).latent_dist.mode()  # [1, C, F, h, w]
        return (latents * pipe.vae_scaling_factor_image).permute(0, 2, 1, 3, 4).float()  # [1, F, C, h, w]

    def encode_image(self, image: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """Encode a still with the VAE exactly as the stock I2V pipeline encodes its image -> `[1, 1, C, h, w]`."""
        pipe = self.pipe
        tensor = self.to_pipe_image(image)
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
    def to_pipe_image(image: np.ndarray) -> torch.Tensor:
        """`[H, W, 3]` in [0, 1] -> `[1, 3, H, W]` in [0, 1], what diffusers' video processor accepts."""
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()

    @contextmanager
    def alpha_first_frame(self, alpha_latent: torch.Tensor, start: int) -> Iterator[None]:
        """Image-to-video models: condition the alpha half's first frame (latent frame `start`) on an alpha
        image's latent for the duration of one denoise (`AlphaFirstFrameHook`)."""
        registry = HookRegistry.check_if_exists_or_initialize(self.pipe.transformer)
        hook = AlphaFirstFrameHook(alpha_latent.to(self.pipe.vae.dtype), start, self.pipe.vae.config.latent_channels)
        registry.register_hook(hook, ALPHA_IMAGE_HOOK)
        try:
            yield
        finally:
            registry.remove_hook(ALPHA_IMAGE_HOOK, recurse=False)

    def record(self) -> dict:
        """What shot.json records about the loaded sampler and device."""
        return {
            "scheduler": type(self.pipe.scheduler).__name__,
            "timestep_spacing": self.pipe.scheduler.config.get("timestep_spacing"),
            "device": str(self.device),
            "device_type": self.device.type,
        }
