"""`vfxgen matte` and `vfxgen animate` on a text-to-video model, driven as a user would (tiny offline models)."""

from __future__ import annotations

import json

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir
from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.color import srgb_to_linear
from vfxgen.io.images import write_png, write_png_sequence

runner = CliRunner()


@pytest.fixture(scope="module")
def t2v_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """An RGB PNG sequence (an element on black, no alpha): 11 frames of 40x60, not the model's 48x32x9."""
    root = tmp_path_factory.mktemp("footage")
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:40, 0:60]
    frames = []
    for t in range(11):
        blob = np.exp(-(((ys - 20) / 8.0) ** 2 + ((xs - 20 - 2 * t) / 8.0) ** 2))
        rgb = blob[..., None] * np.array([1.0, 0.6, 0.2]) + rng.normal(0, 0.002, (40, 60, 3))
        frames.append(np.clip(rgb, 0, 1).astype(np.float32))
        write_png(root / f"fire.{1001 + t:04d}.png", frames[-1])
    return root, np.stack(frames)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def read_exr(path):
    image = oiio.ImageInput.open(str(path))
    pixels = image.read_image(format=oiio.FLOAT)
    image.close()
    return pixels


def assert_one_line_error(result, code, match=None):
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    if match:
        assert match in lines[0], lines[0]


def test_matte_writes_the_same_colour_with_a_generated_alpha(tmp_path, t2v_dir, footage):
    root, frames = footage
    out = tmp_path / "shot"
    result = invoke(
        "matte", root / "fire.####.png", "burning fire", "-o", out, "--model", t2v_dir,
        "--steps", 2, "--format", "exr,contact",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    exrs = sorted((out / "rgba").glob("*.exr"))
    assert len(exrs) == 11
    first = read_exr(exrs[0])
    assert first.shape == (40, 60, 4)
    # Premultiplied linear colour = the footage over black in linear light (EXR half precision).
    assert np.allclose(first[..., :3], srgb_to_linear(np.round(frames[0] * 255) / 255), atol=2e-3)
    assert 0 <= first[..., 3].min() and first[..., 3].max() <= 1 and first[..., 3].std() > 0
    manifest = json.loads((out / "shot.json").read_text())
    cond = manifest["generation"]["conditioning"]
    assert cond["mode"] == "replace" and cond["strength"] == 1.0
    assert cond["windows"] == [[0, 9], [2, 11]] and cond["source_size"] == [60, 40, 11]
    assert (out / "contact.png").is_file()


def test_matte_reads_an_rgb_exr_sequence(tmp_path, t2v_dir):
    import OpenImageIO as oiio

    (tmp_path / "exr").mkdir()
    for t in range(3):
        path = str(tmp_path / "exr" / f"smoke.{1001 + t:04d}.exr")
        out = oiio.ImageOutput.create(path)
        spec = oiio.ImageSpec(24, 16, 3, oiio.HALF)
        spec.attribute("FramesPerSecond", oiio.TypeDesc("rational"), (24, 1))  # a 24 fps plate
        out.open(path, spec)
        out.write_image(np.full((16, 24, 3), 0.1 * (t + 1), np.float32))
        out.close()
    result = invoke("matte", tmp_path / "exr" / "smoke.####.exr", "-o", tmp_path / "s", "--model", t2v_dir,
                    "--steps", 1, "--format", "exr")  # fmt: skip
    assert result.exit_code == 0, result.output
    frames = sorted((tmp_path / "s" / "rgba").glob("*.exr"))
    assert len(frames) == 3
    assert np.allclose(read_exr(frames[2])[..., :3], 0.3, atol=1e-3)  # the colour, linear, as it came in
    assert json.loads((tmp_path / "s" / "shot.json").read_text())["fps"] == 24.0  # the plate's own rate
    assert "differs from the model's native" not in result.output  # footage is not relabelled


def test_matte_bad_inputs_are_one_line_errors(tmp_path, t2v_dir, footage):
    root, frames = footage
    (tmp_path / "empty").mkdir()
    assert_one_line_error(invoke("matte", tmp_path / "none.mov", "-o", tmp_path / "a", "--model", t2v_dir), 3)
    assert_one_line_error(invoke("matte", tmp_path / "empty", "-o", tmp_path / "b", "--model", t2v_dir), 3)
    rgba = np.concatenate([frames[0], np.full((40, 60, 1), 0.5, np.float32)], axis=-1)
    for t in range(3):
        write_png(tmp_path / "withalpha" / f"el.{1001 + t:04d}.png", rgba)
    result = invoke("matte", tmp_path / "withalpha", "-o", tmp_path / "c", "--model", t2v_dir)
    assert_one_line_error(result, 3, "already has an alpha")
    result = invoke(
        "matte", tmp_path / "withalpha", "-o", tmp_path / "d", "--model", t2v_dir, "--replace-alpha", "--steps", 1,
        "--format", "exr",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bad = root / "fire.####.png"
    assert_one_line_error(invoke("matte", bad, "-o", tmp_path / "e", "--model", t2v_dir, "--strength", 2), 2)
    assert_one_line_error(invoke("matte", bad, "-o", tmp_path / "f", "--model", t2v_dir, "--fit", "crop"), 2)
    assert_one_line_error(invoke("matte", bad, "-o", tmp_path / "g", "--model", t2v_dir, "--overlap", 9), 2)
    assert_one_line_error(invoke("matte", root, "-o", root, "--model", t2v_dir), 5)


def test_animate_works_with_a_text_to_video_model(tmp_path, t2v_dir):
    still = np.zeros((20, 30, 4), np.float32)
    still[5:15, 10:20] = [1.0, 0.5, 0.1, 1.0]
    write_png(tmp_path / "el.png", still, bits=16)
    out = tmp_path / "anim"
    result = invoke("animate", tmp_path / "el.png", "flicker", "-o", out, "--model", t2v_dir, "--steps", 2,
                    "--format", "exr", "--strength", 0.8, "--resample", 1)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list((out / "rgba").glob("*.exr"))) == 9
    cond = json.loads((out / "shot.json").read_text())["generation"]["conditioning"]
    assert cond == {**cond, "mode": "replace", "strength": 0.8, "resample": 1, "source_size": [30, 20]}
    result = invoke("animate", tmp_path / "el.png", "-o", tmp_path / "n", "--model", t2v_dir, "--conditioning=native")
    assert_one_line_error(result, 2, "image-to-video")


def test_api_matte_is_what_the_cli_runs(tmp_path, t2v_dir):
    """`vfxgen.matte` (a Clip or a path) gives the shot's pixels: the same call the CLI makes."""
    import vfxgen
    from vfxgen.io import read_clip

    frames = np.zeros((9, 32, 48, 4), np.float32)
    frames[..., 3] = 1.0
    frames[:, 8:24, 12:36, :3] = (0.9, 0.5, 0.1)
    write_png_sequence(Clip(frames, fps=8.0), tmp_path / "plates", "fire", 1001)
    source = str(tmp_path / "plates" / "fire.####.png")
    result = invoke("matte", source, "fire", "-o", tmp_path / "shot", "--model", t2v_dir, "--steps", "1")
    assert result.exit_code == 0, result.output
    shot = read_clip(tmp_path / "shot")
    by_path = vfxgen.matte(source, "fire", model=t2v_dir, steps=1, load_options={"device": "cpu"})
    np.testing.assert_allclose(by_path.pixels, shot.pixels, atol=2e-3)  # the shot went through half-float EXR
