"""What was accepted silently and is now refused with one `error:` line, or said in one `warning:` line.

Each case is driven through the CLI as a user would type it (tiny offline model where one is needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir
from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io.exr import write_exr_sequence
from vfxgen.io.images import write_png, write_png_sequence

runner = CliRunner()


def cli(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _raw_exr(path: Path, pixels: np.ndarray, pixel_type: str = "half") -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], 4, pixel_type)
    spec.channelnames = ("R", "G", "B", "A")
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels.astype(np.float32)), out.geterror()
    out.close()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return save_tiny_model_dir(tmp_path_factory.mktemp("model") / "t2v")


def assert_refused(code: int, output: str, words: str) -> None:
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert code != 0 and len(errors) == 1 and words in errors[0], output
    assert "Traceback" not in output


def test_export_refuses_a_sequence_of_mixed_paddings(tmp_path):
    write_exr_sequence(Clip(np.full((3, 16, 16, 4), 0.5, np.float32)), tmp_path / "mixed", "shot")
    frames = sorted((tmp_path / "mixed").iterdir())
    for frame, name in zip(frames, ["shot.1.exr", "shot.03.exr", "shot.0002.exr"], strict=True):
        frame.rename(frame.parent / name)
    code, output = cli("export", tmp_path / "mixed" / "shot.####.exr", "-o", tmp_path / "out", "--format", "png")
    assert_refused(code, output, "mix paddings")
    assert not (tmp_path / "out").exists()


def test_alpha_outside_0_1_and_a_misnamed_file_are_said(tmp_path):
    (tmp_path / "hot").mkdir()
    pixels = np.full((16, 16, 4), 0.5, np.float32)
    pixels[..., 3] = 1.5
    for frame in (1001, 1002):
        _raw_exr(tmp_path / "hot" / f"e.{frame}.exr", pixels)
    code, output = cli("export", tmp_path / "hot" / "e.####.exr", "-o", tmp_path / "o1", "--format", "png")
    assert code == 0 and output.count("warning: ") == 1 and "alpha values outside [0, 1]" in output, output
    image = np.zeros((16, 16, 4), np.float32)
    image[..., 3] = 1
    write_png(tmp_path / "real.png", image)
    shutil.copy(tmp_path / "real.png", tmp_path / "fake.exr")
    code, output = cli("export", tmp_path / "fake.exr", "-o", tmp_path / "o2", "--format", "png")
    assert code == 0 and "is a PNG file named .exr" in output, output


def test_generate_refuses_an_empty_format_entry(model, tmp_path):
    code, output = cli("generate", "fire", "-o", tmp_path / "s", "--model", model, "--format", "exr,,png")
    assert_refused(code, output, "empty entry")
    assert not (tmp_path / "s").exists()


def test_animate_refuses_stills_that_cannot_condition_a_shot_before_any_shot_starts(model, tmp_path):
    write_png(tmp_path / "dot.png", np.ones((1, 1, 4), np.float32))
    write_png(tmp_path / "line.png", np.full((10, 1000, 4), 0.5, np.float32))
    write_png(tmp_path / "sliver.png", np.full((20, 200, 4), 0.5, np.float32))
    nan = np.full((32, 32, 4), 0.5, np.float32)
    nan[3, 3, 0] = np.nan
    _raw_exr(tmp_path / "nan.exr", nan, "float")
    (tmp_path / "folder").mkdir()
    cases = {"dot.png": "at least 16 px", "line.png": "at least 16 px", "sliver.png": "aspect ratio",
             "nan.exr": "NaN or inf", "folder": "is a folder, not an image"}  # fmt: skip
    for still, words in cases.items():
        code, output = cli("animate", tmp_path / still, "fire", "-o", tmp_path / "s", "--model", model, "--steps", 1)
        assert_refused(code, output, words)
        assert "generating" not in output and not (tmp_path / "s").exists()


def test_matte_refuses_a_useless_overlap_and_an_elongated_clip(model, tmp_path):
    frames = np.zeros((5, 32, 48, 4), np.float32)
    frames[..., 3] = 1
    write_png_sequence(Clip(frames), tmp_path / "plates", "fire", 1001)
    clip = tmp_path / "plates" / "fire.####.png"
    code, output = cli("matte", clip, "fire", "-o", tmp_path / "s", "--model", model, "--overlap", 100000)
    assert_refused(code, output, "--overlap 100000")
    wide = np.zeros((5, 16, 160, 4), np.float32)
    wide[..., 3] = 1
    write_png_sequence(Clip(wide), tmp_path / "wide", "w", 1001)
    code, output = cli("matte", tmp_path / "wide" / "w.####.png", "fire", "-o", tmp_path / "s", "--model", model)
    assert_refused(code, output, "aspect ratio")
    assert not (tmp_path / "s").exists()


def test_listing_commands_with_stdout_closed_are_not_internal_errors():
    for command in (["formats"], ["presets", "list"]):
        done = subprocess.run(
            [sys.executable, "-c", "import os, sys, runpy; os.close(1); sys.argv = ['vfxgen', *sys.argv[1:]];"
             "runpy.run_module('vfxgen', run_name='__main__')", *command],
            capture_output=True, text=True, timeout=60, env={**os.environ, "CI": "true"},
        )  # fmt: skip
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_matte_refuses_to_write_into_its_own_footage_folder(model, tmp_path):
    frames = np.zeros((5, 32, 48, 4), np.float32)
    frames[..., 3] = 1
    write_png_sequence(Clip(frames), tmp_path / "plates", "fire", 1001)
    before = sorted(p.name for p in (tmp_path / "plates").iterdir())
    code, output = cli("matte", tmp_path / "plates" / "fire.####.png", "fire", "-o", tmp_path / "plates" / "m",
                       "--model", model, "--steps", 1)  # fmt: skip
    assert_refused(code, output, "inside the input")
    assert sorted(p.name for p in (tmp_path / "plates").iterdir()) == before


def test_a_truncated_png_is_one_error_line_without_libpngs_own(tmp_path):
    """libpng prints `libpng error: ...` on file descriptor 2 itself; only vfxgen's line may reach the user."""
    write_png(tmp_path / "full.png", np.random.default_rng(1).random((32, 48, 4), dtype=np.float32), bits=16)
    (tmp_path / "trunc.png").write_bytes((tmp_path / "full.png").read_bytes()[:200])
    done = subprocess.run(
        [sys.executable, "-m", "vfxgen", "export", str(tmp_path / "trunc.png"), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, env={**os.environ, "CI": "true"},
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 3 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
