"""What every base-model family (a "backbone") provides, and the registry that finds one for a model folder.

A backbone is two classes. The *spec* (a `Backbone` subclass, torch-free, cheap) recognises a model folder
from its `model_index.json` (or, for a family's own layout without one, from the folder) and describes it
as a `ModelInfo` (native size, latent geometry, image-to-video or not), so every refusal that needs no
weights happens in milliseconds. Its *runtime* (`Backbone.runtime()`,
imported only when weights load) loads the weights and runs them: latents, the stock diffusers pipeline
call, decoding RGB and alpha, encoding frames for conditioning (`vfxgen.backbones.cogvideox_runtime` shows
every method `vfxgen.pipelines.rgba.RGBAPipeline` and `vfxgen.pipelines.conditioning` call).

Built in: CogVideoX (`cogvideox.py`). A facility adds one without editing vfxgen: a package that calls
`register_backbone(MyBackbone)` in a module named by a `vfxgen.backbones` entry point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from vfxgen.errors import ModelError, UsageError
from vfxgen.highlights import NO_HIGHLIGHTS, Highlights

PLUGIN_GROUP = "vfxgen.backbones"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


@dataclass(frozen=True)
class ModelInfo:
    """What a model directory holds, read from its JSON files only."""

    path: Path
    pipeline_class: str
    image_to_video: bool
    bundled_lora: Path | None
    sample_frames: int
    sample_height: int
    sample_width: int
    use_learned_positions: bool
    spatial_multiple: int
    train_timesteps: int = 1000  # the scheduler's num_train_timesteps: the most denoising steps it can take
    prompt_style: str = "full"  # "caption": trained on short element captions (the demo model)
    preset_negative_prompts: bool = True
    hints: dict = field(default_factory=dict, compare=False)  # the folder's vfxgen.json (recipe, prompt style)
    backbone: str = "cogvideox"  # the registered family that runs it (`vfxgen.backbones`)
    bundled: bool = field(default=False, compare=False)  # vfxgen's own demo model (named vfxgen-default)
    family_fps: float = 0.0  # its family's rate (`Backbone.fps`), when vfxgen.json names none
    highlights: Highlights = NO_HIGHLIGHTS  # how its RGB carries values above 1.0 (vfxgen.json `highlights`)

    @property
    def native_fps(self) -> float:
        """The rate the model was trained at (vfxgen.json `fps`, else its family's: CogVideoX 8, Wan 16)."""
        from vfxgen.framerate import DEFAULT_FPS

        default = self.family_fps or DEFAULT_FPS
        value = self.hints.get("fps", default)
        return float(value) if isinstance(value, int | float) and value > 0 else default

    @property
    def name(self) -> str:
        return "vfxgen-default" if self.bundled else self.path.name


class Backbone:
    """A base-model family's spec: recognise its folders, describe them, name its runtime."""

    name: ClassVar[str]  # registry key, recorded in ModelInfo.backbone
    label: ClassVar[str]  # for messages: "CogVideoX"
    recipes: ClassVar[tuple[str, ...]] = ()  # named RGBA recipes it runs (`--recipe`, vfxgen.pipelines.recipe.NAMED)
    required_files: ClassVar[dict[str, str]] = {}  # load settings it cannot run without -> how to fix

    @classmethod
    def required_files_for(cls, lora_path: Path) -> dict[str, str]:
        """The load settings these RGBA weights cannot run without (name -> how to fix)."""
        return cls.required_files

    @classmethod
    def unused_files_for(cls, lora_path: Path) -> tuple[str, ...]:
        """Load settings these RGBA weights do not use (given anyway: refused)."""
        return ()

    lora_hint: ClassVar[str] = "pass --lora FILE"  # what `--lora` is for this family, for the missing-LoRA error
    prompt_style: ClassVar[str] = "full"  # how presets phrase prompts for it (a folder's vfxgen.json may override)
    fps: ClassVar[float] = 8.0  # the rate its models make (CogVideoX: 8); a folder's vfxgen.json `fps` wins
    schedulers: ClassVar[tuple[str, ...]] = ("dpm", "ddim", "model")  # the `--scheduler` choices it runs
    preset_sampling: ClassVar[bool] = True  # whether presets' steps/guidance apply (tuned for CogVideoX's sampler)

    @classmethod
    def guess_recipe(cls, lora_path: Path | None, options: Any) -> Any:
        """The RGBA recipe for weights that record none (`options`: the `LoadOptions`)."""
        raise NotImplementedError

    @classmethod
    def recognises(cls, index: dict) -> bool:
        """Whether a folder's `model_index.json` is this family's."""
        raise NotImplementedError

    @classmethod
    def recognises_folder(cls, path: Path) -> bool:
        """Whether a folder WITHOUT `model_index.json` is this family's (a family's own, non-diffusers layout,
        e.g. Wan-AI's original release folders); cheap, JSON only. Most families have none."""
        return False

    @classmethod
    def describe(cls, path: Path, index: dict | None) -> dict[str, Any]:
        """The family-specific `ModelInfo` fields of a folder it recognises (cheap: JSON only); raises
        `ModelError` in one line when the folder is incomplete. `index` is None for a folder recognised by
        `recognises_folder` (no `model_index.json`)."""
        raise NotImplementedError

    @classmethod
    def runtime(cls) -> type:
        """The class that loads and runs the weights (imports torch; called only when weights load)."""
        raise NotImplementedError

    @classmethod
    def training(cls) -> type:
        """The hooks `vfxgen train` needs (load, latents, text, RoPE, loss, the RGBA method and its file);
        see `vfxgen.backbones.cogvideox_training`. A family without them cannot be trained yet."""
        raise UsageError(
            f"vfxgen train does not run on {cls.label} models yet",
            "train on a CogVideoX model (e.g. CogVideoX-2B, Apache-2.0)",
        )


def step_callback(step_hook, progress, steps: int):
    """diffusers' `callback_on_step_end` for a runtime's stock pipeline call: the conditioning's
    `step_hook(pipe, step, t, kwargs) -> dict` (may replace latents), then `progress(step + 1, steps)`."""

    def on_step(pipe, step, t, kwargs):
        out = step_hook(pipe, step, t, kwargs) if step_hook is not None else {}
        if progress is not None:
            progress(step + 1, steps)
        return out

    return on_step


_BACKBONES: dict[str, type[Backbone]] = {}
_plugins_loaded = False


def register_backbone(backbone: type[Backbone]) -> type[Backbone]:
    """Add a family (usable as a class decorator); a later registration of the same name replaces it."""
    _BACKBONES[backbone.name] = backbone
    return backbone


def backbones() -> list[type[Backbone]]:
    """Every registered family: built-ins, then installed plugins."""
    _load_plugins()
    return list(_BACKBONES.values())


def backbone_named(name: str) -> type[Backbone]:
    for backbone in backbones():
        if backbone.name == name:
            return backbone
    raise ModelError(f"no backbone {name!r} is installed", f"installed: {', '.join(b.name for b in backbones())}")


def backbone_for(path: Path, index: dict | None) -> type[Backbone]:
    """The family that recognises a folder's `model_index.json`, else one ModelError naming those installed.
    Without an index (None) a family may still claim the folder by its own layout; if none does, the
    folder is refused as missing its `model_index.json`, as before."""
    if index is None:
        for backbone in backbones():
            if backbone.recognises_folder(path):
                return backbone
        raise ModelError(
            f"{path} has no model_index.json", "pass a diffusers model directory (saved with save_pretrained)"
        )
    for backbone in backbones():
        if backbone.recognises(index):
            return backbone
    kind = str(index.get("_class_name", "")) or "non-diffusers"
    families = ", ".join(b.label for b in backbones())
    raise ModelError(
        f"{path} is a {kind} model, which no installed backbone runs",
        f"pass a diffusers model directory of a supported family ({families})",
    )


def read_json(path: Path, what: str) -> dict:
    """A model folder's JSON file, or one ModelError saying which file is missing or damaged."""
    if not path.is_file():
        raise ModelError(
            f"{path.parent} has no {what}", "pass a diffusers model directory (saved with save_pretrained)"
        )
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}", "the model directory is damaged; re-download it") from exc


def check_safetensors_dir(directory: Path) -> None:
    """Refuse components whose weights exist only as pickles (`.bin`/`.pt`): loading those can run code."""
    if not directory.is_dir():
        raise ModelError(f"the model has no {directory.name}/ folder", "use a complete diffusers model directory")
    files = [p.name for p in directory.iterdir()]
    if any(name.endswith(".safetensors") for name in files):
        return
    pickles = [name for name in files if name.endswith(PICKLE_SUFFIXES)]
    if pickles:
        raise ModelError(
            f"{directory} holds only pickle weights ({pickles[0]})",
            "vfxgen loads safetensors only; convert with diffusers' save_pretrained(safe_serialization=True)",
        )
    raise ModelError(f"{directory} has no .safetensors weights", "use a complete diffusers model directory")


def _load_plugins() -> None:
    """Import each `vfxgen.backbones` entry point once; a broken plugin is one warning, never a crash."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for point in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = point.load()
            if isinstance(loaded, type) and issubclass(loaded, Backbone):
                register_backbone(loaded)
        except Exception as exc:  # noqa: BLE001 - someone else's package must not stop vfxgen
            import warnings

            from vfxgen.errors import VfxgenWarning

            warnings.warn(f"backbone plugin {point.name} failed to load: {exc}", VfxgenWarning, stacklevel=2)
