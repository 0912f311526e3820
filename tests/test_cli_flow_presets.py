"""`vfxgen presets ...` and `vfxgen eval-flow` through the real Typer app (exit codes, stdout/stderr)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.presets import ENV_VAR

BUILTINS = ["dust", "explosion", "fire", "lightning", "magic", "muzzle_flash", "smoke", "sparks", "water_splash"]


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def needs_read_clip() -> None:
    """eval-flow reads SRC through `vfxgen.io.read_clip` (the I/O layer); skip until it exists."""
    io = importlib.import_module("vfxgen.io")
    if not hasattr(io, "read_clip"):
        pytest.skip("vfxgen.io.read_clip is not wired yet")


# --- presets -----------------------------------------------------------------------------------


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "eval-flow" in result.stdout and "presets" in result.stdout


def test_presets_list_plain_lines() -> None:
    result = run("presets", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == BUILTINS  # not a TTY: plain, one preset per line
    assert "Roaring flames" in result.stdout


def test_presets_list_json_and_user_dir(tmp_path: Path) -> None:
    (tmp_path / "goo.toml").write_text(
        'name = "goo"\ndescription = "green goo"\nprompt = "a {subject} of goo"\ndefault_subject = "blob"\n'
    )
    result = run("presets", "list", "--presets-dir", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(data) == set(BUILTINS) | {"goo"}
    assert data["goo"]["builtin"] is False and data["fire"]["builtin"] is True


def test_presets_show_fire() -> None:
    result = run("presets", "show", "fire")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"^name\s+fire$", out, re.M)
    assert re.search(r"^defaults\.steps\s+50$", out, re.M)
    assert "a fireball of roaring orange fire" in out
    data = json.loads(run("presets", "show", "fire", "--subject", "torch", "--json").stdout)
    assert data["rendered_prompt"].startswith("a torch of roaring orange fire")
    assert "frames" not in data["defaults"] and data["defaults"]["steps"] == 50


def test_presets_show_unknown_is_usage_error() -> None:
    result = run("presets", "show", "nope")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "nope" in line and "fire" in line and "smoke" in line


def test_broken_preset_is_input_error_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\ndescription = "x"\nprompt = "a {subject}\n')
    for args in (("list",), ("show", "broken")):
        result = run("presets", *args, "--presets-dir", str(tmp_path))
        assert result.exit_code == 3, result.output
        line = one_error_line(result)
        assert str(broken) in line and "line 3" in line


# --- eval-flow -----------------------------------------------------------------------------------


def test_eval_flow_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run("eval-flow", str(tmp_path / "missing.####.exr"))
    assert result.exit_code != 0
    one_error_line(result)
    assert result.stdout == ""
    if hasattr(importlib.import_module("vfxgen.io"), "read_clip"):
        assert result.exit_code == 3


def _write_exr_sequence(folder: Path, frames: int = 5, height: int = 48, width: int = 64) -> None:
    """Linear premultiplied half RGBA EXRs, shot.1001.exr..., as Nuke would render them."""
    import cv2
    import OpenImageIO as oiio

    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.random((height, width + 4 * frames)).astype(np.float32), (0, 0), 1.5)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    for i in range(frames):
        window = texture[:, 2 * i : 2 * i + width]  # moves 2 px per frame
        srgb = window[..., None] * np.array([1.0, 0.7, 0.4], np.float32)
        linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
        alpha = np.clip(window * 1.2, 0, 1)[..., None]
        rgba = np.concatenate([linear * alpha, alpha], axis=-1).astype(np.float16)
        path = folder / f"shot.{1001 + i}.exr"
        spec = oiio.ImageSpec(width, height, 4, "half")
        spec.channelnames = ("R", "G", "B", "A")
        spec.alpha_channel = 3
        spec.attribute("compression", "zip")
        out = oiio.ImageOutput.create(str(path))
        assert out is not None, oiio.geterror()
        assert out.open(str(path), spec), out.geterror()
        assert out.write_image(rgba), out.geterror()
        assert out.close()


def test_eval_flow_text_json_and_plot_on_exr_sequence(tmp_path: Path) -> None:
    needs_read_clip()
    _write_exr_sequence(tmp_path)
    pattern = str(tmp_path / "shot.####.exr")

    text = run("eval-flow", pattern)
    assert text.exit_code == 0, text.output
    assert re.fullmatch(r"flow difference: \d+\.\d{4} \(4 pairs, 64x48\)\n", text.stdout), text.stdout

    plot = tmp_path / "flow.png"
    result = run("eval-flow", pattern, "--json", "--plot", str(plot), "--workers", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pairs"] == len(data["per_pair"]) == 4
    assert (data["width"], data["height"]) == (64, 48)
    assert data["mean"] == pytest.approx(np.mean(data["per_pair"]))
    assert f"{data['mean']:.4f}" in text.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_eval_flow_plot_folder_missing_is_output_error(tmp_path: Path) -> None:
    needs_read_clip()
    _write_exr_sequence(tmp_path, frames=3)
    result = run("eval-flow", str(tmp_path / "shot.####.exr"), "--plot", str(tmp_path / "no" / "f.png"))
    assert result.exit_code == 5
    one_error_line(result)
