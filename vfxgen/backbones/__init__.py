"""Base-model families: one module per family, found for a model folder by `backbone_for` (see `base.py`).

Built in: CogVideoX (TransPixar's joint alpha tokens) and Wan 2.1 (Wan-Alpha's two decoders). A plugin
package adds one through the `vfxgen.backbones` entry-point group.
"""

from vfxgen.backbones import cogvideox, wan  # noqa: F401 (register the built-in families)
from vfxgen.backbones.base import (
    PICKLE_SUFFIXES,
    PLUGIN_GROUP,
    Backbone,
    ModelInfo,
    backbone_for,
    backbone_named,
    backbones,
    check_safetensors_dir,
    read_json,
    register_backbone,
)

__all__ = [
    "PICKLE_SUFFIXES",
    "PLUGIN_GROUP",
    "Backbone",
    "ModelInfo",
    "backbone_for",
    "backbone_named",
    "backbones",
    "check_safetensors_dir",
    "read_json",
    "register_backbone",
]
