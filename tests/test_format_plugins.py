"""A facility's own format, installed as a separate package, reaches the CLI through one entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from vfxgen.clip import Clip
from vfxgen.io.exr import write_exr_sequence

PLUGIN = '''
"""A pipeline TD's format: premultiplied scene-linear pixels as one .npy per clip."""
import numpy as np

from vfxgen.atomic import atomic_path
from vfxgen.io.registry import Writer, register_writer


def write_npy(clip, path, name, settings):
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, clip.pixels)
    return [path]


register_writer(Writer("npy", "file", ".npy", "NumPy", write_npy, shot_file="{name}_pixels.npy"))
'''


def _install_plugin(site: Path, module: str, body: str) -> None:
    """What `pip install` of a package declaring `[project.entry-points."vfxgen.formats"]` leaves behind."""
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[vfxgen.formats]\n{module} = {module}\n")
    (site / f"{module}.py").write_text(body)


def _vfxgen(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "vfxgen", *args], capture_output=True, text=True, env=env)


def test_an_installed_plugin_format_is_offered_by_export(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install_plugin(site, "vfxgen_npy_plugin", PLUGIN)
    rng = np.random.default_rng(3)
    clip = Clip(pixels=rng.random((3, 8, 16, 4), dtype=np.float32) * 0.5, fps=24.0)
    write_exr_sequence(clip, tmp_path / "elem", "elem")
    result = _vfxgen(site, "export", str(tmp_path / "elem"), "-o", str(tmp_path / "elem.npy"), "--format", "npy")
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "elem.npy"), clip.pixels.astype(np.float16), atol=0)
    listed = json.loads(_vfxgen(site, "formats", "--json").stdout)
    npy = [row for row in listed if row["format"] == "npy"]
    assert npy and npy[0]["in_shot"] == "{name}_pixels.npy" and npy[0]["direction"] == "write"
    assert {"exr", "prores", "movie"} <= {row["format"] for row in listed}


def test_a_broken_plugin_is_one_warning_and_vfxgen_still_works(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install_plugin(site, "vfxgen_broken_plugin", "raise ImportError('needs a library this host lacks')\n")
    clip = Clip(pixels=np.zeros((1, 8, 8, 4), np.float32), fps=24.0)
    write_exr_sequence(clip, tmp_path / "elem", "elem")
    result = _vfxgen(site, "export", str(tmp_path / "elem"), "-o", str(tmp_path / "out.mov"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "vfxgen_broken_plugin" in warnings[0] and "Traceback" not in result.stderr
