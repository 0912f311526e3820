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

__all__ = [
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
