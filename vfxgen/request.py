"""What a shot asks for, before any weights load: `GenerationRequest` (the pixels) and `LoadOptions` (how
the model loads), both checked here without torch or diffusers.

Every refusal that needs no model (a bad --frames, --seed, --attention, --cache, an unknown preset or
recipe) happens in milliseconds from these, before `vfxgen.pipelines.rgba` imports torch and diffusers
(5-7 CPU seconds); the pipeline re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from vfxgen.clip import check_finite, check_fps
from vfxgen.errors import UsageError
from vfxgen.framerate import DEFAULT_FPS
from vfxgen.pipelines.model_dirs import ModelInfo
from vfxgen.pipelines.recipe import VFXGEN_DEFAULT, RGBARecipe, resolve_recipe
from vfxgen.shapes import check_clip_shape as check_size

#: TransPixar attention modes (`vfxgen.models.transpixar` implements them).
ATTENTION_MODES = ("transpixar", "full", "rgb-isolated")
OFFLOAD_MODES = ("none", "model", "sequential")
CACHE_MODES = ("none", "fbc", "pab", "faster")
DTYPE_NAMES = ("fp32", "bf16", "fp16")


@dataclass
class LoadOptions:
    """How to load a model, passed whole (`RGBAPipeline.from_pretrained(model, lora, options)`): one
    place to add a load option, shared by every shot of a batch."""

    attention: str = "transpixar"
    official_mask: bool = False
    device: str | None = None
    dtype: str | None = None
    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    cache: str = "none"
    compile: bool = False
    recipe: str | None = None  # "release" | "vfxgen": a named recipe instead of the model's own
    scheduler: str | None = None  # dpm | ddim | model (None: the recipe's)
    timestep_spacing: str | None = None

    def checked(self) -> LoadOptions:
        """Every choice valid (cheap), else one UsageError; `--attention official` = transpixar + official mask."""
        if self.attention == "official":
            return replace(self, attention="transpixar", official_mask=True).checked()
        if self.attention not in ATTENTION_MODES:
            raise UsageError(
                f"unknown --attention {self.attention!r}", f"use one of {', '.join(ATTENTION_MODES)} or official"
            )
        if self.cache not in CACHE_MODES:
            raise UsageError(f"unknown --cache {self.cache!r}", f"use one of {', '.join(CACHE_MODES)}")
        if self.offload not in OFFLOAD_MODES:
            raise UsageError(f"unknown --offload {self.offload!r}", f"use one of {', '.join(OFFLOAD_MODES)}")
        if self.dtype is not None and self.dtype not in DTYPE_NAMES:
            raise UsageError(f"unknown --dtype {self.dtype!r}", "use fp32, bf16 or fp16")
        return self

    def device_type(self) -> str:
        """cpu, cuda or mps: what this load runs on (kernels differ between them, so results do). Imports
        torch (to see the devices): call it once the model is going to load anyway."""
        from vfxgen.pipelines.rgba import parse_device

        return parse_device(self.device).type

    def resolved_dtype(self) -> str:
        """The weights' dtype this load uses: the option, else bf16 on CUDA and fp32 elsewhere."""
        return self.dtype or ("bf16" if self.device_type() == "cuda" else "fp32")

    def recipe_for(self, info: ModelInfo, lora_path: Path) -> RGBARecipe:
        """The model's RGBA recipe (LoRA metadata, release layout, model hints) with these options applied."""
        return resolve_recipe(info.hints, lora_path, self.recipe, self.scheduler, self.timestep_spacing)


@dataclass
class GenerationRequest:
    """Everything that decides a shot, checked before any weights load.

    None = the model's value: native size for frames/height/width, the model's RGBA recipe
    (`vfxgen.pipelines.recipe`) for steps, guidance, dynamic_cfg, alpha_reduce, rgb and noise.
    """

    prompt: str
    negative_prompt: str = ""
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    steps: int | None = None
    guidance: float | None = None
    seed: int = 0
    fps: float = DEFAULT_FPS
    dynamic_cfg: bool | None = None
    alpha_reduce: str | None = None
    rgb: str | None = None  # straight | premultiplied: how the model's RGB half is meant
    noise: str | None = None  # shared | independent: the alpha half's starting noise
    extra: dict = field(default_factory=dict)

    def resolved(
        self, info: ModelInfo, recipe: RGBARecipe = VFXGEN_DEFAULT, text_required: bool = True
    ) -> GenerationRequest:
        """Fill native sizes and recipe defaults and validate every field; raises UsageError in one line.

        `text_required=False` for image-to-video, where the image alone may drive the shot.
        """
        req = GenerationRequest(**{**self.__dict__})
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
        check_fps(req.fps)
        return req
