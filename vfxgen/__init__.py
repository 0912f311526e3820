"""vfxgen: RGBA video generation (TransPixar on CogVideoX) for VFX compositing.

The Python API a pipeline TD scripts against; the CLI is a thin layer over it.
"""

from vfxgen.clip import Clip
from vfxgen.errors import (
    InputError,
    LockedError,
    ModelError,
    OutOfMemoryError,
    OutputError,
    OutputExistsError,
    UsageError,
    VfxgenError,
)

__version__ = "0.1.0"

# Heavy parts (torch, diffusers, codecs) load on first use, so `import vfxgen` and `vfxgen --help` stay fast.
_LAZY = {
    "generate": "vfxgen.api",
    "animate": "vfxgen.api",
    "matte": "vfxgen.api",
    "load_pipeline": "vfxgen.api",
    "GenerationRequest": "vfxgen.request",
    "RGBAPipeline": "vfxgen.pipelines.rgba",
    "LoadOptions": "vfxgen.request",
    "RGBARecipe": "vfxgen.pipelines.recipe",
    "resolve_request": "vfxgen.settings",
    "write_shot": "vfxgen.shot",
    "ShotOptions": "vfxgen.shot",
    "read_clip": "vfxgen.io",
    "apply_transpixar": "vfxgen.models.transpixar",
    "load_rgba_lora": "vfxgen.models.transpixar",
    "save_rgba_lora": "vfxgen.models.transpixar",
    "flow_difference": "vfxgen.flow",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vfxgen' has no attribute {name!r}")


__all__ = [
    *_LAZY,
    "Clip",
    "InputError",
    "LockedError",
    "ModelError",
    "OutOfMemoryError",
    "OutputError",
    "OutputExistsError",
    "UsageError",
    "VfxgenError",
    "__version__",
]
