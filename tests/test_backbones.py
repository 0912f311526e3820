"""The backbone seam: a base-model family is one registered module, found for a model folder, and a facility
adds one through the `vfxgen.backbones` entry point without editing vfxgen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from vfxgen.backbones import backbone_for, backbones
from vfxgen.io.exr import read_exr_sequence
from vfxgen.pipelines.model_dirs import resolve_model

# A facility's own family: "ToyVideoPipeline" folders, whose runtime draws noise and decodes it to a disc
# whose radius follows the seed. Only public vfxgen names are used, exactly as a separate package would.
PLUGIN = """
import json
from pathlib import Path

import numpy as np
import torch

from vfxgen.backbones import Backbone, read_json, register_backbone


class ToyRuntime:
    def __init__(self, device):
        self.device = device
        self.pipe = None

    @classmethod
    def load(cls, choice, options, image_to_video=None):
        return cls(torch.device("cpu"))

    def initial_latents(self, req):
        generator = torch.Generator().manual_seed(req.seed)
        return torch.randn((1, req.frames, 1, req.height, req.width), generator=generator), generator

    def text_seen(self, text, what="prompt"):
        return text

    def denoise(self, req, latents, generator, progress=None, image=None, step_hook=None):
        for step in range(req.steps):
            if progress is not None:
                progress(step + 1, req.steps)
        return latents

    def decode_rgba(self, latents):
        frames, height, width = latents.shape[1], latents.shape[3], latents.shape[4]
        y, x = np.mgrid[:height, :width]
        radius = 4 + float(latents[0, 0, 0, 0, 0].abs())
        disc = (np.hypot(y - height / 2, x - width / 2) < radius).astype(np.float32)
        alpha = np.repeat(np.repeat(disc[None, ..., None], frames, 0), 3, -1)
        rgb = alpha * np.array([1.0, 0.5, 0.1], np.float32)
        return rgb, alpha

    def record(self):
        return {"scheduler": "none", "device": "cpu", "device_type": "cpu"}


@register_backbone
class Toy(Backbone):
    name = "toy"
    label = "Toy"

    @classmethod
    def recognises(cls, index):
        return index.get("_class_name") == "ToyVideoPipeline"

    @classmethod
    def describe(cls, path, index):
        config = read_json(path / "toy.json", "toy.json")
        return {
            "pipeline_class": "ToyVideoPipeline",
            "image_to_video": False,
            "sample_frames": config["frames"],
            "sample_height": config["size"],
            "sample_width": config["size"],
            "use_learned_positions": False,
            "spatial_multiple": 8,
        }

    @classmethod
    def runtime(cls):
        return ToyRuntime
"""


def _install_plugin(site: Path) -> None:
    """What `pip install` of a package declaring `[project.entry-points."vfxgen.backbones"]` leaves behind."""
    info = site / "vfxgen_toy_backbone-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vfxgen_toy_backbone\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vfxgen.backbones]\ntoy = vfxgen_toy_backbone:Toy\n")
    (site / "vfxgen_toy_backbone.py").write_text(PLUGIN)


def _toy_model(path: Path) -> Path:
    path.mkdir()
    (path / "model_index.json").write_text(json.dumps({"_class_name": "ToyVideoPipeline"}))
    (path / "toy.json").write_text(json.dumps({"frames": 5, "size": 32}))
    recipe = {"rgb": "premultiplied", "alpha_reduce": "mean", "steps": 3, "guidance": 1.0, "dynamic_cfg": False}
    (path / "vfxgen.json").write_text(json.dumps({"recipe": recipe}))
    save_file({"toy.weight": np.zeros((2, 2), np.float32)}, str(path / "transpixar_lora.safetensors"))
    return path


def test_a_plugin_backbone_makes_a_whole_shot_through_the_generic_pipeline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install_plugin(site)
    model = _toy_model(tmp_path / "toy_model")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    shot = tmp_path / "shot"
    args = ["generate", "toy disc", "--model", str(model), "-o", str(shot), "--format", "exr", "--seed", "3"]
    result = subprocess.run([sys.executable, "-m", "vfxgen", *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((shot / "shot.json").read_text())
    assert manifest["generation"]["model"] == "toy_model" and manifest["generation"]["steps"] == 3
    clip = read_exr_sequence(shot / "rgba")
    assert clip.pixels.shape == (5, 32, 32, 4)
    assert 0.01 < clip.alpha.mean() < 0.5  # the disc, premultiplied orange over transparent
    inside, outside = clip.pixels[clip.alpha > 0.99], clip.pixels[clip.alpha < 0.01]
    assert (inside[:, 0] > inside[:, 1]).all() and (inside[:, 1] > inside[:, 2]).all() and not outside.any()


def test_the_built_in_family_recognises_the_bundled_model_and_refuses_others(tmp_path: Path) -> None:
    info = resolve_model(None)
    assert info.backbone == "cogvideox" and [b.name for b in backbones()][0] == "cogvideox"
    index = json.loads((info.path / "model_index.json").read_text())
    assert backbone_for(info.path, index).name == "cogvideox"


def test_finding_a_models_family_imports_no_torch() -> None:
    """Recognising and describing a folder is JSON only: every refusal before weights takes milliseconds."""
    code = (
        "import sys; from vfxgen.pipelines.model_dirs import resolve_model; resolve_model(None); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
