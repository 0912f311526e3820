"""Training-free conditioning for any TransPixar CogVideoX: animate a still, pull an alpha for footage.

CogVideoX's causal VAE encodes pixel frame 0 on its own into latent frame 0, and the TransPixar latents
are `[B, 2F, C, h, w]` = RGB half then alpha half. So part of the sequence can be pinned to an input
without any training (replacement / RePaint-style conditioning):

    animate   latent frame 0 of the RGB half (and of the alpha half when the still has alpha) is the still;
    matte     every latent frame of the RGB half is the footage; the alpha half is generated attending to it.

`ReplacementConditioning` plugs into the stock pipeline call as its `callback_on_step_end` (no copied
denoising loop): after each scheduler step it overwrites the pinned latents with the clean input latent
noised to the level that step reached (`scheduler.add_noise`), and after the last pinned step with the
clean latent itself, so a strength-1 run ends with the pinned region exactly equal to the input's latent.
The DPM-Solver++ scheduler keeps the previous data prediction (`old_pred_original_sample`) in the loop;
it only enters the pinned region's own update, which is overwritten right after, so it cannot leak.

Knobs (`Conditioning`):

    strength  fraction of the steps during which the pinned region follows the input (1 = pinned to the
              end: the output reproduces it up to the VAE; < 1 releases it for the last steps, SDEdit-like,
              so the prompt can restyle it while keeping layout and motion)
    resample  RePaint resampling: extra jumps per step (renoise one step back, predict, step again,
              re-pin) in the first half of the steps, to harmonise the free region with the pinned one;
              each costs one more transformer call per step (text-to-video models only)
    fit       how an input of another size meets the model's native size: `pad` (scale to fit, pad with
              black: nothing is lost) or `stretch` (scale each axis)
    overlap   matte: frames shared by consecutive windows of the model's frame count, cross-faded

Image-to-video models keep their native conditioning (`mode="native"`); `mode="replace"` adds the
replacement on top of it. Text-to-video models (the bundled demo, CogVideoX-2B/5B with the released LoRA)
only have `replace`, which is what `auto` picks for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from vfxgen.alpha_bounds import clear_black, colour_floor, keyed_matte
from vfxgen.clip import Clip
from vfxgen.color import linear_to_srgb, srgb_to_linear
from vfxgen.errors import InputError, UsageError
from vfxgen.highlights import NO_HIGHLIGHTS, Highlights
from vfxgen.request import SETTING

if TYPE_CHECKING:  # torch is imported where it runs: planning a matte (windows, sizes) needs none
    import torch

CONDITIONING_MODES = SETTING["mode"].choices
FIT_MODES = SETTING["fit"].choices
#: resampling jumps run in this first fraction of the steps (where layout forms; later they only cost)
RESAMPLE_FRACTION = 0.5
_NOISE_SEED_OFFSET = 0x5EED  # the replacement noise has its own generator: the shot's noise is unchanged

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Conditioning:
    """How an input conditions a shot; see the module docstring. `overlap=None`: the model's default."""

    mode: str = SETTING["mode"].default
    strength: float = SETTING["strength"].default
    resample: int = SETTING["resample"].default
    fit: str = SETTING["fit"].default
    overlap: int | None = SETTING["overlap"].default
    replace_alpha: bool = SETTING["replace_alpha"].default  # matte: the clip's own alpha is flattened and replaced
    matte_alpha: str | None = SETTING["matte_alpha"].default  # matte: keyed or model (None: by the model's RGB)
    lead_in: float | None = SETTING["lead_in"].default  # animate: None = DEFAULT_LEAD_IN with replacement

    def checked(self) -> Conditioning:
        """Every field valid (cheap), else one UsageError naming the option."""
        if self.mode not in CONDITIONING_MODES:
            raise UsageError(f"unknown --conditioning {self.mode!r}", f"use one of {', '.join(CONDITIONING_MODES)}")
        if not isinstance(self.strength, int | float) or not math.isfinite(self.strength):
            raise UsageError(f"--strength must be a number in (0, 1], got {self.strength}", "use e.g. --strength 1")
        if not 0 < self.strength <= 1:
            raise UsageError(f"--strength must be in (0, 1], got {self.strength:g}", "use e.g. --strength 1 or 0.6")
        if not isinstance(self.resample, int) or not 0 <= self.resample <= 10:
            raise UsageError(f"--resample must be 0..10, got {self.resample}", "use e.g. --resample 0 or 1")
        if self.fit not in FIT_MODES:
            raise UsageError(f"unknown --fit {self.fit!r}", f"use one of {', '.join(FIT_MODES)}")
        SETTING["matte_alpha"].check_choice(self.matte_alpha)
        if self.overlap is not None and self.overlap < 0:
            raise UsageError(f"--overlap must be 0 or more, got {self.overlap}", "use e.g. --overlap 2")
        lead = self.lead_in
        if lead is not None and (not isinstance(lead, int | float) or not math.isfinite(lead) or not 0 <= lead < 1):
            raise UsageError(f"--lead-in must be in [0, 1), got {lead}", f"use e.g. --lead-in {DEFAULT_LEAD_IN:g} or 0")
        return self

    def resolved(self, image_to_video: bool) -> Conditioning:
        """`auto` -> `native` on image-to-video models, `replace` on text-to-video ones."""
        cond = self.checked()
        if cond.mode == "auto":
            cond = replace(cond, mode="native" if image_to_video else "replace")
        if cond.mode == "native" and not image_to_video:
            raise UsageError(
                "--conditioning native needs an image-to-video model; this one is text-to-video",
                "leave --conditioning out (text-to-video models use frame-0 replacement)",
            )
        if cond.mode == "native" and (cond.strength != 1 or cond.resample or cond.lead_in):
            raise UsageError(
                "--strength, --resample and --lead-in apply to --conditioning replace", "add --conditioning replace"
            )
        lead = 0.0 if cond.mode == "native" else DEFAULT_LEAD_IN if cond.lead_in is None else float(cond.lead_in)
        return replace(cond, lead_in=lead)

    def record(self, **more) -> dict:
        """What shot.json keeps under `conditioning`."""
        return {**asdict(self), **more}


#: Matte's default `clear_black` (footage over black shows nothing where it is black); the CLI and the API pass it
#: explicitly because a batch resolves the request (None -> off) before `pull_matte` sees it.
MATTE_CLEARS_BLACK = True

#: Animate's default `lead_in`: 5 of 50 steps. Measured on the demo's 9 held-out stills
#: (benchmarks/conditioning.py): the change 1001 -> 1002 falls from 0.059 to about the later frames' (model card).
DEFAULT_LEAD_IN = 0.1


def default_overlap(frames: int) -> int:
    """Frames shared by consecutive matte windows: a quarter of the window, at least 1 (9 -> 2, 49 -> 12)."""
    return max(1, (frames - 1) // 4)


# --- pure maths --------------------------------------------------------------------------------------
def plan_windows(total: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """`[start, end)` windows of `window` frames covering `total` frames: the fewest windows whose
    consecutive ones share at least `overlap` frames, spread evenly from frame 0 to the last frame. A clip
    shorter than a window gets one window `(0, window)` (its missing frames are held, see `take_window`)."""
    if total < 1:
        raise InputError("the clip has no frames", "give a clip with at least one frame")
    if overlap >= window:  # refused for short clips too: a setting that cannot work is never silently unused
        raise UsageError(f"--overlap {overlap} must be less than the window of {window} frames", "use a smaller one")
    if total <= window:
        return [(0, window)]
    count = math.ceil((total - overlap) / (window - overlap))
    starts = [math.floor(k * (total - window) / (count - 1) + 0.5) for k in range(count)]
    return [(s, s + window) for s in starts]


def window_weights(windows: Sequence[tuple[int, int]], total: int) -> np.ndarray:
    """Per-window per-frame blend weights `[W, total]`: linear cross-fades where windows overlap, summing
    to 1 on every frame."""
    weights = np.zeros((len(windows), total), np.float64)
    for k, (start, end) in enumerate(windows):
        w = np.ones(end - start)
        if k > 0:
            shared = windows[k - 1][1] - start
            if shared > 0:
                w[:shared] = np.arange(1, shared + 1) / (shared + 1)
        if k + 1 < len(windows):
            shared = end - windows[k + 1][0]
            if shared > 0:
                w[-shared:] = np.minimum(w[-shared:], np.arange(shared, 0, -1) / (shared + 1))
        span = min(end, total) - start
        weights[k, start : start + span] = w[:span]
    return (weights / weights.sum(axis=0, keepdims=True)).astype(np.float32)


def take_window(frames: np.ndarray, start: int, end: int) -> np.ndarray:
    """`frames[start:end]`, holding the last frame when the clip is shorter than the window."""
    part = frames[start:end]
    if len(part) < end - start:
        part = np.concatenate([part, np.repeat(part[-1:], end - start - len(part), axis=0)])
    return part


@dataclass(frozen=True)
class Placement:
    """Where a fitted picture sits inside the model-size frame: `(top, left, height, width)` there, and
    the source size, so a result can be mapped back (`unfit`)."""

    top: int
    left: int
    height: int
    width: int
    source_height: int
    source_width: int


def fit_frames(frames: np.ndarray, height: int, width: int, mode: str = "pad") -> tuple[np.ndarray, Placement]:
    """`[T, h, w, C]` display-encoded frames (colour over black, or a matte) -> `[T, height, width, C]`.

    Resampled in linear light (`INTER_AREA` shrinking, `INTER_LINEAR` enlarging); `pad` keeps the aspect
    and pads with black (alpha 0), `stretch` scales each axis.
    """
    frames = np.asarray(frames, np.float32)
    t, h, w, c = frames.shape
    if mode == "stretch":
        new_h, new_w = height, width
    else:
        scale = min(height / h, width / w)
        new_h, new_w = min(height, max(1, round(h * scale))), min(width, max(1, round(w * scale)))
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out = np.zeros((t, height, width, c), np.float32)
    out[:, top : top + new_h, left : left + new_w] = _resize(frames, new_h, new_w)
    return out, Placement(top, left, new_h, new_w, h, w)


def unfit(frames: np.ndarray, placement: Placement) -> np.ndarray:
    """Inverse of `fit_frames`: `[T, height, width, C]` -> `[T, source_height, source_width, C]`."""
    p = placement
    inner = np.asarray(frames, np.float32)[:, p.top : p.top + p.height, p.left : p.left + p.width]
    return _resize(inner, p.source_height, p.source_width)


def _resize(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    if frames.shape[1:3] == (height, width):
        return frames.copy()
    shrinking = height <= frames.shape[1] and width <= frames.shape[2]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    linear = srgb_to_linear(np.clip(frames, 0.0, 1.0))
    out = np.stack([cv2.resize(f, (width, height), interpolation=interpolation) for f in linear])
    out = out.reshape(len(frames), height, width, frames.shape[-1])
    return np.clip(linear_to_srgb(out), 0.0, 1.0).astype(np.float32)


def to_model_rgb(image: np.ndarray, convention: str) -> np.ndarray:
    """A straight sRGB still `[..., 3|4]` as the model's RGB half means it: `premultiplied` = colour x alpha
    over black; `straight` = the colour itself where alpha > 0, black where alpha is 0 (as the trainer's
    straight data, whose colour under alpha 0 is 0)."""
    image = np.asarray(image, np.float32)
    rgb = np.clip(image[..., :3], 0.0, 1.0)
    if image.shape[-1] == 3:
        return rgb
    alpha = np.clip(image[..., 3:4], 0.0, 1.0)
    return rgb * alpha if convention == "premultiplied" else np.where(alpha > 0, rgb, 0.0).astype(np.float32)


# --- latents --------------------------------------------------------------------------------------
@dataclass
class Pin:
    """Latent frames `start .. start + n` pinned to `latent`, along the backbone's frame axis `dim` (1 for
    CogVideoX's `[B, 2F, C, h, w]`, 2 for Wan's `[B, C, F, h, w]`)."""

    start: int
    latent: torch.Tensor
    dim: int = 1
    until: float = 1.0  # the fraction of the run's steps it is held (animate's lead-in: the first few only)

    @property
    def stop(self) -> int:
        return self.start + self.latent.shape[self.dim]

    @property
    def where(self) -> tuple:
        """The index of the pinned frames in a latent of the same layout."""
        return (slice(None),) * self.dim + (slice(self.start, self.stop),)


def is_flow_matching(scheduler) -> bool:
    """Flow-matching samplers (Wan's UniPC) noise as `(1 - s) x0 + s n`; DDPM ones (CogVideoX) by alphas_cumprod."""
    config = scheduler.config
    return bool(config.get("use_flow_sigmas")) or config.get("prediction_type") == "flow_prediction"


def step_target(scheduler, t: int) -> int:
    """The timestep a scheduler's `step` at `t` lands on (negative: clean): the next one of its schedule for
    flow matching, CogVideoX's own formula for its DDPM samplers."""
    if is_flow_matching(scheduler):
        later = [int(x) for x in scheduler.timesteps if int(x) < int(t)]
        return later[0] if later else -1
    return int(t) - scheduler.config.num_train_timesteps // scheduler.num_inference_steps


class ReplacementConditioning:
    """`callback_on_step_end` for the stock CogVideoX pipelines: RePaint-style pinning (module docstring).

    `steps` is the run's step count, `strength` the fraction of them pinned, `resample` the RePaint jumps
    per step (first half of the steps). `prepare(latents)` puts the pins into the starting latents.
    """

    tensor_inputs = ("latents", "prompt_embeds")

    def __init__(
        self,
        pins: Sequence[Pin],
        steps: int,
        strength: float = 1.0,
        resample: int = 0,
        seed: int = 0,
        predict: Callable | None = None,
    ):
        import torch

        if resample and predict is None:
            raise ValueError("resampling needs the backbone's guided_prediction (predict=)")
        self.pins = list(pins)
        self.predict = predict  # predict(x_t, t, prompt_embeds) -> the guided model output (the runtime's)
        self.steps = steps
        self.pinned_steps = max(1, round(strength * steps))
        self.resample = resample
        self.generator = torch.Generator(device="cpu").manual_seed((seed + _NOISE_SEED_OFFSET) % 2**63)
        self.replaced_at: list[int] = []  # the steps that pinned (for tests and the manifest)

    # --- helpers ---
    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.randn(like.shape, generator=self.generator, dtype=torch.float32).to(like.device, like.dtype)

    def _held(self, pin: Pin, step: int) -> bool:
        return step < round(pin.until * self.steps)

    def _pinned(self, latents: torch.Tensor, scheduler, level: int | None, step: int = 0) -> torch.Tensor:
        """`latents` with every pin held at `step` set to its clean latent noised to timestep `level` (None or
        < 0: clean)."""
        import torch

        out = latents.clone()
        for pin in (p for p in self.pins if self._held(p, step)):
            clean = pin.latent.to(out.device, torch.float32).expand(out.shape[0], -1, -1, -1, -1)
            if level is not None and level >= 0:
                t = torch.tensor([level], device=out.device)
                clean = scheduler.add_noise(clean, self._noise(clean), t)
            out[pin.where] = clean.to(out.dtype)
        return out

    def prepare(self, latents: torch.Tensor, scheduler, steps: int, device=None) -> torch.Tensor:
        """Starting latents with the pins at the first timestep's noise level, keeping the drawn noise there
        (DDPM: `sqrt(a) * clean + sqrt(1 - a) * noise`, at zero terminal SNR the noise itself; flow matching:
        `(1 - s) * clean + s * noise`)."""
        scheduler.set_timesteps(steps, device=device)
        if is_flow_matching(scheduler):
            s0 = float(scheduler.sigmas[0])
            keep, mix = 1.0 - s0, s0
        else:
            a0 = float(scheduler.alphas_cumprod[int(scheduler.timesteps[0])])
            keep, mix = a0**0.5, (1 - a0) ** 0.5
        out = latents.clone()
        for pin in (p for p in self.pins if self._held(p, 0)):
            noise = out[pin.where].float()
            out[pin.where] = (keep * pin.latent + mix * noise).to(out.dtype)
        return out

    # --- the callback ---
    def __call__(self, pipe, step: int, t, kwargs: dict) -> dict:
        if step >= self.pinned_steps:
            return {}
        scheduler = pipe.scheduler
        target = step_target(scheduler, int(t))
        last = step == self.pinned_steps - 1 and self.pinned_steps == self.steps
        level = None if last or target < 0 else target
        latents = self._pinned(kwargs["latents"], scheduler, level, step)
        if self.resample and not last and target >= 0 and step < RESAMPLE_FRACTION * self.steps:
            for _ in range(self.resample):
                latents = self._jump(pipe, latents, int(t), target, kwargs["prompt_embeds"], step)
        self.replaced_at.append(step)
        return {"latents": latents}

    def _jump(
        self, pipe, x_next: torch.Tensor, t: int, target: int, prompt_embeds: torch.Tensor, step: int = 0
    ) -> torch.Tensor:
        """One RePaint resampling jump: x_next (level `target`) -> renoised to `t` -> model -> DDIM step back
        to `target` (deterministic) -> pins re-applied."""
        import torch

        scheduler = pipe.scheduler
        a_t = scheduler.alphas_cumprod[t].to(x_next.device, torch.float32)
        a_n = scheduler.alphas_cumprod[target].to(x_next.device, torch.float32)
        if float(a_t) < 1e-6:  # zero terminal SNR: nothing survives the jump back to pure noise
            return x_next
        x = x_next.float()
        x_t = (a_t / a_n) ** 0.5 * x + (1 - a_t / a_n) ** 0.5 * self._noise(x)
        model_output = self.predict(x_t, t, prompt_embeds)
        kind = scheduler.config.prediction_type
        if kind == "v_prediction":
            x0 = a_t**0.5 * x_t - (1 - a_t) ** 0.5 * model_output
            eps = a_t**0.5 * model_output + (1 - a_t) ** 0.5 * x_t
        else:  # epsilon
            eps = model_output
            x0 = (x_t - (1 - a_t) ** 0.5 * eps) / a_t**0.5
        x_back = a_n**0.5 * x0 + (1 - a_n) ** 0.5 * eps
        return self._pinned(x_back.to(x_next.dtype), scheduler, target, step)


def pin_and_denoise(pipeline, req, pins: Sequence[Pin], cond: Conditioning, progress=None, image=None):
    """Denoise a resolved request with `pins` held by replacement -> final latents `[1, 2F, C, h, w]`.

    `image`: the I2V pipeline's own image conditioning (`[1, 3, H, W]`), for image-to-video models.
    """
    if cond.resample and pipeline.info.image_to_video:
        raise UsageError("--resample runs with text-to-video models only", "drop --resample")
    if cond.resample and pipeline.options.cache != "none":
        raise UsageError("--resample cannot run with a step cache", "drop --cache or --resample")
    if cond.resample and is_flow_matching(pipeline.runtime.scheduler):
        raise UsageError("--resample runs with DDPM samplers (CogVideoX) only", "drop --resample")
    latents, generator = pipeline.initial_latents(req)
    runtime = pipeline.runtime
    hook = ReplacementConditioning(pins, req.steps, cond.strength, cond.resample, req.seed, runtime.guided_prediction)
    latents = hook.prepare(latents, runtime.scheduler, req.steps)
    return pipeline.denoise_latents(req, latents, generator, progress, image=image, step_hook=hook)


# --- animate ------------------------------------------------------------------------------------------
def fit_still(image: np.ndarray, height: int, width: int, fit: str) -> np.ndarray:
    """A straight RGB(A) still at the shot size (`fit`; premultiplied while resampling so edges stay clean)."""
    image = np.asarray(image, np.float32)
    if image.shape[:2] == (height, width):
        return image
    if image.shape[-1] == 3:
        return fit_frames(image[None], height, width, fit)[0][0]
    alpha = np.clip(image[..., 3:4], 0.0, 1.0)
    premult = np.concatenate([srgb_to_linear(np.clip(image[..., :3], 0, 1)) * alpha, alpha], axis=-1)
    fitted, _ = fit_frames(np.concatenate([linear_to_srgb(premult[..., :3]), alpha], -1)[None], height, width, fit)
    out = fitted[0]
    lin = srgb_to_linear(out[..., :3])
    a = out[..., 3:4]
    straight = np.where(a > 1e-6, lin / np.maximum(a, 1e-6), 0.0)
    return np.concatenate([np.clip(linear_to_srgb(straight), 0, 1), a], axis=-1).astype(np.float32)


def encoded_still(image: np.ndarray, highlights: Highlights, convention: str = "premultiplied") -> np.ndarray:
    """A straight sRGB still (HDR values above 1 allowed) with its colour in the model's encoding: clipped to
    [0, 1], or hot values folded into the top of the range for a model trained with `vfxgen.highlights` -
    on the premultiplied value for a premultiplied model, as its decode reads it."""
    out = np.array(image, np.float32)
    if not highlights.hdr or out.shape[-1] == 3 or convention != "premultiplied":
        out[..., :3] = highlights.encode(out[..., :3])
        return out
    alpha = np.clip(out[..., 3:4], 0.0, 1.0)
    premult = highlights.encode(out[..., :3] * alpha)
    out[..., :3] = np.where(alpha > 0, premult / np.maximum(alpha, 1e-6), 0.0).clip(0.0, 1.0)
    return out


def still_pins(pipeline, image: np.ndarray, req) -> list[Pin]:
    """Frame 0 of the RGB half (and of the alpha half when the still has alpha) pinned to the still."""
    runtime = pipeline.runtime
    dim = runtime.latent_frame_dim
    pins = [Pin(0, runtime.encode_frames(to_model_rgb(image, req.rgb)[None]), dim)]
    start = runtime.alpha_frames_start(req.frames)  # None: alpha is not carried as frames of its own (Wan-Alpha)
    if image.shape[-1] == 4 and start is not None:
        alpha = np.repeat(np.clip(image[..., 3:4], 0.0, 1.0), 3, axis=-1)
        pins.append(Pin(start, runtime.encode_frames(alpha[None]), dim))
    return pins


def lead_in_pins(pipeline, image: np.ndarray, req, lead_in: float) -> list[Pin]:
    """Latent frame 1 (the frames after the still) held to the still for the first `lead_in` of the steps.

    Why: with frame 0 pinned alone, the model draws frame 1002 on from its own idea of the element, so the
    shot pops from the still to the second frame. Starting the next latent frame from the still held still
    (the still repeated over the frames that latent frame covers, encoded as one clip) and releasing it after
    the first few steps fixes the layout there and leaves the motion to the model.
    """
    if lead_in <= 0:
        return []
    runtime = pipeline.runtime
    dim = runtime.latent_frame_dim
    held = next((n for n in range(2, req.frames + 1) if runtime.latent_frames(n) == 2), None)  # 1 + temporal ratio
    if held is None:
        return []  # a shot of one latent frame has no next frame to ease into

    def second(frames: np.ndarray) -> torch.Tensor:
        return runtime.encode_frames(np.repeat(frames[None], held, axis=0)).narrow(dim, 1, 1)

    pins = [Pin(1, second(to_model_rgb(image, req.rgb)), dim, until=lead_in)]
    start = runtime.alpha_frames_start(req.frames)
    if image.shape[-1] == 4 and start is not None:
        alpha = np.repeat(np.clip(image[..., 3:4], 0.0, 1.0), 3, axis=-1)
        pins.append(Pin(start + 1, second(alpha), dim, until=lead_in))
    return pins


def animate_by_replacement(pipeline, image: np.ndarray, request, progress=None, cond: Conditioning | None = None):
    """Image to RGBA on any model: frame-0 replacement (plus the native image conditioning on I2V models)."""
    cond = (cond or Conditioning(mode="replace")).resolved(pipeline.info.image_to_video)
    req = pipeline.check(request, text_required=False)
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] not in (3, 4) or min(image.shape[:2]) < 1:
        raise UsageError(f"the input image must be RGB or RGBA, got shape {list(image.shape)}", "pass an image")
    source_size = [int(image.shape[1]), int(image.shape[0])]
    image = encoded_still(image, pipeline.info.highlights, req.rgb)
    image = fit_still(image, req.height, req.width, cond.fit)
    pins = still_pins(pipeline, image, req)
    if image.shape[-1] == 4 and len(pins) == 1:
        _warn(f"{pipeline.info.name} carries colour and alpha in one latent: the still's alpha is not pinned")
    still_count = len(pins)
    pins += lead_in_pins(pipeline, image, req, cond.lead_in)
    req.extra = {
        **req.extra,
        "conditioning": cond.record(
            target="first frame" + (" (rgb + alpha)" if still_count == 2 else " (rgb)"),
            native_image=pipeline.info.image_to_video,
            source_size=source_size,
        ),
    }
    i2v = pipeline.info.image_to_video
    runtime = pipeline.runtime
    # Image-to-video models also get the still natively, and its alpha in the alpha half's first frame.
    with_alpha = i2v and still_count == 2
    native_alpha = runtime.alpha_first_frame(pins[1].latent, pins[1].start) if with_alpha else nullcontext()
    image_arg = runtime.to_pipe_image(to_model_rgb(image, req.rgb)) if i2v else None
    with native_alpha:
        latents = pin_and_denoise(pipeline, req, pins, cond, progress, image=image_arg)
    return pipeline.decode(req, latents)


# --- matte --------------------------------------------------------------------------------------------
def footage_over_black(clip: Clip, replace_alpha: bool = False, highlights: Highlights = NO_HIGHLIGHTS) -> np.ndarray:
    """The clip's colour as display sRGB over black `[T, H, W, 3]` (its premultiplied linear colour, encoded;
    values above 1.0 clipped, or folded into the top of the range by a model's `highlights` encoding).

    A clip whose alpha is not 1 everywhere already has a matte: refused (`InputError`) unless
    `replace_alpha`, which flattens it over black and generates a new one.
    """
    if clip.num_frames < 1:
        raise InputError("the clip has no frames", "give a clip with at least one frame")
    if not replace_alpha and not np.all(clip.alpha >= 1.0):
        raise InputError(
            f"the clip already has an alpha channel ({clip!r})",
            "pass --replace-alpha to flatten it over black and generate a new matte, or use its alpha as it is",
        )
    return highlights.encode(linear_to_srgb(np.maximum(clip.pixels[..., :3], 0.0)))


def pull_matte(
    pipeline,
    clip: Clip,
    request,
    progress: ProgressCallback | None = None,
    cond: Conditioning | None = None,
    keep_latents: list | None = None,
    alpha_floor: bool | None = None,
) -> Clip:
    """An RGB clip (colour over black) -> the same colour plus a generated matching alpha.

    The clip is fitted to the model's native size (`cond.fit`), cut into windows of the model's frame
    count sharing `cond.overlap` frames, each window's RGB half pinned to the footage's latents while the
    alpha half is generated; the windows' alphas are cross-faded and mapped back to the clip's size.
    At strength 1 the output colour is the input's, bit for bit (premultiplied linear, HDR kept); below
    1 the colour is the model's (decoded at native size, resampled back) and may differ.
    `keep_latents`: a list that receives `(window, final_latents, footage_latents)` per window (tests).
    `alpha_floor` (default: on for models whose RGB half is premultiplied): the alpha is raised to at least
    the footage's brightest channel, the least alpha colour over black can have (premultiplied colour never
    exceeds its alpha); it also gives the matte the footage's full resolution where the element is bright.
    `cond.matte_alpha` (None: keyed wherever the floor applies): `keyed` delivers the footage's brightest channel
    over the element's own level, which the model's matte sets (`vfxgen.alpha_bounds.keyed_matte`; at or above the
    floor everywhere); `model` delivers the model's alpha with the floor.
    `request.clear_black` (None: on; `vfxgen matte` and `vfxgen.matte` pass it on unless told otherwise): the
    alpha is cleared where the delivered colour is black (`vfxgen.alpha_bounds.clear_black`): footage over
    black shows nothing there.
    """
    cond = replace(cond or Conditioning(mode="replace"), mode="replace").checked()
    asked_clear = request.clear_black
    req = pipeline.check(replace(request, clear_black=False), text_required=False)  # cleared once, at the end
    replace_alpha = cond.replace_alpha
    joint = pipeline.runtime.alpha_frames_start(req.frames) is None  # one latent for colour and alpha (Wan-Alpha)
    if joint and cond.strength >= 1:
        _warn(
            f"on {pipeline.info.name} a matte at --strength 1 pins the whole latent: the alpha is the alpha "
            "decoder's reading of the footage, the prompt and seed change nothing (lower --strength to let them)"
        )
    alpha_floor = req.rgb == "premultiplied" if alpha_floor is None else alpha_floor
    floored = bool(alpha_floor and cond.strength >= 1)  # the footage's colour is kept and bounds the alpha
    if cond.matte_alpha == "keyed" and not floored:
        raise UsageError(
            "--matte-alpha keyed keys the footage's own colour: it needs --strength 1 and a model whose RGB half is "
            "premultiplied (colour over black)",
            "use --matte-alpha model",
        )
    keyed = floored and cond.matte_alpha != "model"
    highlights = pipeline.info.highlights
    footage = footage_over_black(clip, replace_alpha, highlights)
    fitted, placement = fit_frames(footage, req.height, req.width, cond.fit)
    overlap = default_overlap(req.frames) if cond.overlap is None else cond.overlap
    windows = plan_windows(clip.num_frames, req.frames, overlap)
    weights = window_weights(windows, clip.num_frames)
    alpha_sum = np.zeros((clip.num_frames, req.height, req.width, 1), np.float32)
    rgb_sum = np.zeros((clip.num_frames, req.height, req.width, 3), np.float32)
    total = len(windows) * req.steps
    base_extra = dict(req.extra)
    runtime = pipeline.runtime
    for k, (start, end) in enumerate(windows):
        part = take_window(fitted, start, end)  # [N, H, W, 3]: colour over black, the model's RGB half
        pins = [Pin(0, runtime.encode_frames(part), runtime.latent_frame_dim)]
        req.extra = dict(base_extra)
        image = runtime.to_pipe_image(part[0]) if pipeline.info.image_to_video else None

        def window_progress(step, _total, k=k):
            if progress is not None:
                progress(k * req.steps + step, total)

        latents = pin_and_denoise(pipeline, req, pins, cond, window_progress, image=image)
        if keep_latents is not None:
            keep_latents.append(((start, end), latents.detach().clone(), pins[0].latent.clone()))
        decoded = pipeline.decode(req, latents)
        span = min(end, clip.num_frames) - start
        w = weights[:, start : start + span][k][:, None, None, None]
        alpha_sum[start : start + span] += w * decoded.alpha[:span, ..., None]
        model_rgb = highlights.encode(linear_to_srgb(decoded.pixels[:span, ..., :3]))  # colour over black
        rgb_sum[start : start + span] += w * model_rgb
    alpha = np.clip(unfit(alpha_sum, placement)[..., 0], 0.0, 1.0)
    level = None
    if keyed:
        alpha, level = keyed_matte(alpha, footage)
    elif floored:
        alpha = colour_floor(alpha, footage)
    if cond.strength >= 1:
        colour = np.asarray(clip.pixels[..., :3], np.float32)  # the input's own premultiplied linear colour
        if replace_alpha:
            colour = np.maximum(colour, 0.0)
    else:
        colour = srgb_to_linear(highlights.decode(unfit(rgb_sum, placement)))
    pixels = np.concatenate([colour, alpha[..., None]], axis=-1).astype(np.float32)
    req.clear_black = MATTE_CLEARS_BLACK if asked_clear is None else bool(asked_clear)
    if req.clear_black:
        pixels = clear_black(pixels, req.key_white, req.key_black)
    metadata = pipeline.metadata(req)
    metadata.update(
        conditioning=cond.record(
            mode="replace",
            target="joint latent (all frames)" if joint else "rgb half (all frames)",
            overlap=overlap,
            windows=[[int(s), int(min(e, clip.num_frames))] for s, e in windows],
            source_size=[clip.width, clip.height, clip.num_frames],
            alpha_floor=floored,
            matte_alpha="keyed" if keyed else "model",
            key_level=level,
        ),
        output_size=[clip.width, clip.height, clip.num_frames],  # frames/height/width: the model's windows
        fps=clip.fps,
    )
    if clip.metadata.get("source"):  # the caller's own record (the CLI's resolved path) wins
        metadata.setdefault("input_clip", str(clip.metadata["source"]))
    return Clip(pixels=pixels, fps=clip.fps, metadata=metadata)


def _warn(message: str) -> None:
    """One `warning:` line (VfxgenWarning) about how a model family treats an input."""
    import warnings

    from vfxgen.errors import VfxgenWarning

    warnings.warn(message, VfxgenWarning, stacklevel=3)
