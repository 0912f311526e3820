"""Settings resolved once: (prompt, preset, the model's prompt style, options, defaults) -> a request.

The CLI (`generate`, `animate`, shot lists), the Python API (`vfxgen.generate(..., preset="fire")`) and
`vfxgen presets show --model M` all call `resolve_request`, so what a preset does is the same wherever it
is used. Precedence per setting, first wins:

1. the shot-list entry (`--prompts FILE`),
2. the explicit option (CLI flag or API keyword; None = not given),
3. the model's own tuning of that preset (its vfxgen.json `preset_defaults`, e.g. the demo model's smoke
   guidance), then the preset's `[defaults]` (and its negative prompt, for models that take one),
4. the model's RGBA recipe for steps, guidance, dynamic CFG, alpha reduction, RGB convention, noise
   (left None here; `GenerationRequest.resolved` fills them once the recipe is known),
5. vfxgen's defaults (`vfxgen.request.SETTINGS`, the `GenerationRequest` field defaults).

The prompt: a preset renders its template with the given text as subject (in the model's prompt style:
full prose for CogVideoX, a short caption for the demo model); without a preset the text is the prompt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from vfxgen.backbones import backbone_named
from vfxgen.pipelines.model_dirs import ModelInfo
from vfxgen.presets import Preset, load_preset, model_preset_defaults
from vfxgen.request import GenerationRequest, setting


def resolve_request(
    prompt: str | None,
    info: ModelInfo,
    *,
    preset: str | os.PathLike | Preset | None = None,
    presets_dir: Iterable[str | os.PathLike] | None = None,
    options: Mapping[str, Any] | None = None,
    entry: Mapping[str, Any] | None = None,
) -> GenerationRequest:
    """The request a shot will run with, before the model's native size and recipe fill what is left None.

    `options`: explicit values (CLI flags / API keywords), None meaning "not given". `entry`: a shot-list
    entry's own settings. Keys may use the user-facing names (`negative`).
    """
    loaded = preset if isinstance(preset, Preset) or preset is None else load_preset(preset, presets_dir)
    values: dict[str, Any] = {}
    if loaded is not None:
        defaults = _fields(loaded.defaults)
        if not backbone_named(info.backbone).preset_sampling:  # Wan-Alpha keeps its distilled steps/guidance
            defaults = _without_sampling(loaded, defaults, info)
        values.update(defaults)
        values.update(_fields(model_preset_defaults(info.hints, str(info.path)).get(loaded.name, {})))
        if info.preset_negative_prompts and loaded.negative:
            values["negative_prompt"] = loaded.negative
    values.update(_fields({k: v for k, v in (options or {}).items() if v is not None}))
    values.update(_fields(entry or {}))
    text = loaded.prompt_for(prompt, info.prompt_style) if loaded is not None else (prompt or "")
    extra = {"preset": loaded.name} if loaded is not None else {}
    if loaded is not None and loaded.qc:
        extra["qc_limits"] = dict(loaded.qc)  # recorded in shot.json for `vfxgen qc` (not a generation setting)
    return GenerationRequest(prompt=text, extra=extra, **values)


def _without_sampling(preset: Preset, defaults: dict[str, Any], info: ModelInfo) -> dict[str, Any]:
    """A preset's defaults without steps, guidance and fps (set for CogVideoX's 8 fps, 50-step sampler) for a
    family that keeps its recipe's (Wan-Alpha: 4 distilled steps, no guidance, 16 fps); a user's own preset
    that sets them hears so in one warning line, built-in ones (which all do) silently."""
    dropped = sorted(k for k in ("steps", "guidance", "fps") if k in defaults)
    if dropped and not preset.builtin:
        import warnings

        from vfxgen.errors import VfxgenWarning

        label = backbone_named(info.backbone).label
        warnings.warn(
            f"preset {preset.name}: {', '.join(dropped)} not used on {label} models (the recipe's are kept); "
            f"pass {' '.join('--' + k for k in dropped)} to set them",
            VfxgenWarning,
            stacklevel=3,
        )
    return {k: v for k, v in defaults.items() if k not in dropped}


def _fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keys as users write them (`negative`) -> GenerationRequest fields (`negative_prompt`)."""
    return {setting(key).name: value for key, value in values.items()}
