"""A user's files are never lost, and nothing is silently different from what was asked.

Driven through the CLI on the tiny offline model (tests/tiny_models.py): these complement the bad-input
matrix with the cases where the command must *succeed* correctly or refuse with specific details.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir
from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io import read_clip
from vfxgen.io.exr import write_exr_sequence

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return save_tiny_model_dir(tmp_path_factory.mktemp("model") / "t2v")


def cli(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_unrelated_directory_survives_overwrite_and_resume(model, tmp_path):
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "comp.nk").write_text("Root {}\n")
    (project / "sub" / "plate.exr").write_bytes(b"plate pixels")
    before = snapshot(project)
    seq = tmp_path / "seq"
    write_exr_sequence(Clip(np.full((2, 16, 16, 4), 0.5, np.float32), fps=8), seq, "el")
    attempts = [
        ("generate", "fire", "-o", project, "--model", model, "--steps", "1", "--overwrite"),
        ("generate", "fire", "-o", project, "--model", model, "--steps", "1", "--resume"),
        ("export", seq, "-o", project, "--format", "exr", "--overwrite"),
        ("export", seq, "-o", project, "--format", "png", "--overwrite"),
    ]
    for argv in attempts:
        code, output = cli(*argv)
        assert code == 4, output
        assert output.startswith("error: ") and "nothing was touched" in output
        assert snapshot(project) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj", "seq"]  # no temporaries left beside it


def test_overwrite_replaces_a_vfxgen_shot(model, tmp_path):
    shot = tmp_path / "shot"
    assert cli("generate", "fire", "-o", shot, "--model", model, "--steps", "1", "--format", "exr")[0] == 0
    first = json.loads((shot / "shot.json").read_text())
    code, output = cli("generate", "fire", "-o", shot, "--model", model, "--steps", "2", "--overwrite")
    assert code == 0, output
    manifest = json.loads((shot / "shot.json").read_text())
    assert manifest["generation"]["steps"] == 2 and first["generation"]["steps"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot"]


def test_resume_refuses_a_shot_made_with_other_settings(model, tmp_path):
    shot = tmp_path / "shot"
    base = ("generate", "fire", "-o", shot, "--model", model, "--format", "exr")
    assert cli(*base, "--steps", "2", "--seed", "3")[0] == 0
    made = snapshot(shot)
    code, output = cli(*base, "--steps", "3", "--seed", "3", "--resume")
    assert code == 4, output
    assert "other settings" in output and "steps 2 -> 3" in output
    code, output = cli(*base, "--steps", "2", "--seed", "4", "--resume")
    assert code == 4 and "seed 3 -> 4" in output
    code, output = cli(*base, "--steps", "2", "--seed", "3", "--resume")
    assert code == 0 and "skipped" in output
    assert snapshot(shot) == made


def test_resume_skips_an_identical_matte_and_refuses_another_strength(model, tmp_path, monkeypatch):
    from vfxgen.io.images import write_png_sequence

    monkeypatch.chdir(tmp_path)  # a relative clip path, as typed in a shell
    frames = np.zeros((9, 32, 48, 4), np.float32)
    frames[:, 8:24, 12:36] = (0.9, 0.5, 0.1, 1.0)
    write_png_sequence(Clip(frames, fps=8.0), tmp_path / "plates", "fire", 1001)
    base = ("matte", "plates/fire.%04d.png", "fire", "-o", "shot", "--model", model, "--steps", "1", "--replace-alpha")
    assert cli(*base)[0] == 0
    made = snapshot(tmp_path / "shot")
    code, output = cli(*base, "--resume")
    assert code == 0 and "skipped" in output, output
    code, output = cli(*base, "--resume", "--strength", "0.8")
    assert code == 4 and "conditioning.strength 1.0 -> 0.8" in output, output
    assert snapshot(tmp_path / "shot") == made


def test_a_shot_name_with_frame_tokens_is_refused_before_any_work(model, tmp_path):
    code, output = cli("generate", "fire", "-o", tmp_path / "shot#3", "--model", model, "--steps", "1")
    assert code == 2 and "frame numbers" in output and "shot_3" in output, output
    assert not (tmp_path / "shot#3").exists()


def test_a_dataset_may_be_written_into_an_existing_empty_folder(tmp_path):
    (tmp_path / "ds").mkdir()
    code, output = cli("dataset", "synth", "-o", tmp_path / "ds", "--count", "1", "--frames", "5", "--size", "16")
    assert code == 0, output
    assert (tmp_path / "ds" / "dataset.json").is_file()


def test_long_prompt_warns_once_and_the_manifest_says_what_the_model_saw(model, tmp_path):
    prompt = "a burning fireball rising"  # the tiny model's ByT5 text encoder reads 8 bytes (with EOS)
    code, output = cli("generate", prompt, "-o", tmp_path / "shot", "--model", model, "--steps", "1")
    assert code == 0, output
    warnings = [line for line in output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "dropped" in warnings[0] and str(len(prompt) + 1 - 8) in warnings[0]
    generation = json.loads((tmp_path / "shot" / "shot.json").read_text())["generation"]
    assert generation["prompt"] == prompt
    assert generation["prompt_seen"] == prompt[:7]  # 7 bytes + the end-of-sequence token
    code, output = cli("generate", "fire", "-o", tmp_path / "short", "--model", model, "--steps", "1")
    assert code == 0 and "warning" not in output


def test_frame_padding_covers_the_whole_range(tmp_path):
    seq = tmp_path / "seq"
    write_exr_sequence(Clip(np.full((3, 8, 8, 4), 0.5, np.float32), fps=8), seq, "el")
    code, output = cli("export", seq, "-o", tmp_path / "out", "--format", "exr", "--start-frame", "99999999")
    assert code == 0, output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["out.099999999.exr", "out.100000000.exr", "out.100000001.exr"]
    assert read_clip(tmp_path / "out").num_frames == 3


def test_generate_accepts_lossy_exr_only_when_asked(model, tmp_path):
    code, output = cli(
        "generate", "fire", "-o", tmp_path / "s", "--model", model, "--steps", "1", "--format", "exr",
        "--compression", "dwaa", "--allow-lossy",
    )  # fmt: skip
    assert code == 0, output
    first = sorted((tmp_path / "s" / "rgba").glob("*.exr"))[0]
    image = oiio.ImageInput.open(str(first))
    assert image.spec().get_string_attribute("compression").startswith("dwaa")
    image.close()


def test_user_text_is_printed_as_typed(tmp_path):
    (tmp_path / "in").mkdir()
    code, output = cli("export", tmp_path / "in" / "fire.####.exr:smile:", "-o", tmp_path / "o", "--format", "exr")
    assert code != 0
    assert ":smile:" in output and "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}" not in output


def test_resume_compares_the_input_and_conditioning_of_animate(model, tmp_path):
    from vfxgen.io.images import write_png

    still = tmp_path / "still.png"
    write_png(still, np.full((32, 48, 3), 0.6, np.float32))
    shot = tmp_path / "anim"
    base = ("animate", still, "fire", "-o", shot, "--model", model, "--steps", "2", "--format", "exr")
    assert cli(*base)[0] == 0
    made = snapshot(shot)
    code, output = cli(*base, "--strength", "0.5", "--resume")
    assert code == 4 and "conditioning.strength 1.0 -> 0.5" in output, output
    other = tmp_path / "other.png"
    write_png(other, np.full((32, 48, 3), 0.2, np.float32))
    code, output = cli("animate", other, *base[2:], "--resume")
    assert code == 4 and "input_sha256" in output, output
    code, output = cli(*base, "--resume")
    assert code == 0 and "skipped" in output, output
    assert snapshot(shot) == made
    write_png(still, np.full((32, 48, 3), 0.9, np.float32))  # same path, new picture
    code, output = cli(*base, "--resume")
    assert code == 4 and "input_sha256" in output, output


def test_resume_refuses_a_shot_whose_files_or_pixels_other_settings_would_change(model, tmp_path):
    """Every setting that changes a delivered file or its pixels is compared, not only the generation ones."""
    shot = tmp_path / "shot"
    base = ("generate", "fire", "-o", shot, "--model", model, "--steps", "1", "--format", "exr,prores")
    assert cli(*base)[0] == 0
    made = snapshot(shot)
    changed = {
        ("--colorspace", "ACEScg"): "colorspace",
        ("--fps", "24"): "fps 8.0 -> 24.0",
        ("--format", "exr,prores,png"): "formats + png",
        ("--start-frame", "1"): "start_frame 1001 -> 1",
        ("--compression", "piz"): "compression 'zip' -> 'piz'",
        ("--alpha", "premultiplied"): "alpha 'straight' -> 'premultiplied'",
        ("--scheduler", "ddim"): "recipe.scheduler",
        ("--vae-tiling",): "vae_tiling False -> True",
        ("--cache", "faster"): "cache 'none' -> 'faster'",
    }
    for extra, named in changed.items():
        code, output = cli(*base, *extra, "--resume")
        assert code == 4 and "other settings" in output and named in output, (extra, output)
        assert snapshot(shot) == made
    code, output = cli(*base, "--resume")
    assert code == 0 and "skipped" in output, output
    code, output = cli(*base[:-1], "exr", "--resume")  # fewer deliverables than the shot has: complete
    assert code == 0 and "skipped" in output, output
    assert snapshot(shot) == made
