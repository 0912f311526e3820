"""The clip shapes a CogVideoX model can take, checked without torch.

CogVideoX's VAE packs 4 frames per latent after the first, so a clip has 4k + 1 frames; its sides must
divide by the VAE's spatial factor times the transformer's patch size (8 x 2 = 16 for the released
models). Generation, `vfxgen dataset synth` and `vfxgen dataset prepare` all check the same rule with the
same messages; it lives here, beside `errors.py`, so the dataset commands can refuse a bad `--frames` or
`--size` in milliseconds instead of importing torch and diffusers (`pipelines.rgba`) first.
"""

from __future__ import annotations

from vfxgen.errors import UsageError

__all__ = ["check_clip_shape", "check_conditioning_image", "check_stride"]

#: A still or a clip that conditions a shot is fitted to the model's frame: below this side, or beyond this
#: aspect ratio, the fitted picture is a smear or a line of pixels, not something to animate or matte.
MIN_CONDITIONING_SIDE = 16
MAX_CONDITIONING_ASPECT = 4.0


def check_clip_shape(frames: int, height: int, width: int, spatial_multiple: int = 16) -> None:
    """Raise `UsageError` unless frames = 4k + 1 and both sides are positive multiples of `spatial_multiple`.

    The hint names the nearest values that work (`use 45 or 49`, `use --width 720`).
    """
    if frames < 1 or (frames - 1) % 4:
        lower = max(1, (frames - 1) // 4 * 4 + 1)
        raise UsageError(
            f"--frames must be 4k+1 (CogVideoX's VAE packs 4 frames per latent), got {frames}",
            f"use {lower} or {lower + 4}",
        )
    for name, value in (("height", height), ("width", width)):
        if value < spatial_multiple or value % spatial_multiple:
            nearest = max(spatial_multiple, round(value / spatial_multiple) * spatial_multiple)
            raise UsageError(
                f"--{name} must be a multiple of {spatial_multiple}, got {value}", f"use --{name} {nearest}"
            )


def check_stride(stride: int | None, frames: int) -> None:
    """Raise `UsageError` for a window stride below 1; `None` means "one window every `frames`"."""
    if stride is not None and stride < 1:
        raise UsageError(f"--stride must be positive, got {stride}", f"use e.g. --stride {frames}")


def check_conditioning_image(height: int, width: int, what: str) -> None:
    """Refuse (one `InputError`) a still or clip too small or too elongated to condition a shot."""
    from vfxgen.errors import InputError

    short, long = min(height, width), max(height, width)
    if short < MIN_CONDITIONING_SIDE:
        raise InputError(
            f"{what} is {width}x{height}: at least {MIN_CONDITIONING_SIDE} px on each side is needed",
            "give a larger picture (the model's native size is best)",
        )
    if long / short > MAX_CONDITIONING_ASPECT:
        raise InputError(
            f"{what} is {width}x{height}, an aspect ratio of {long / short:.3g}:1"
            f" (at most {MAX_CONDITIONING_ASPECT:g}:1)",
            "crop it closer to the model's frame first",
        )
