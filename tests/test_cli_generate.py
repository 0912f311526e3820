"""`vfxgen generate` / `vfxgen animate` driven as a user would, on tiny offline model directories."""

from __future__ import annotations

import json

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir
from vfxgen.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def t2v_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")


@pytest.fixture(scope="module")
def i2v_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "i2v", kind="i2v")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def read_exr(path):
    image = oiio.ImageInput.open(str(path))
    pixels = image.read_image(format=oiio.FLOAT)
    image.close()
    return pixels


def assert_one_line_error(result, code):
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output


def test_generate_writes_a_reproducible_shot(tmp_path, t2v_dir):
    for name in ("a", "b"):
        result = invoke(
            "generate", "burning fireball", "-o", tmp_path / name, "--model", t2v_dir, "--steps", 2, "--seed", 7
        )
        assert result.exit_code == 0, result.output
    shot = tmp_path / "a"
    frames = sorted((shot / "rgba").glob("a.*.exr"))
    assert [f.name for f in frames][:2] == ["a.1001.exr", "a.1002.exr"] and len(frames) == 9
    assert (shot / "preview.mp4").is_file() and (shot / "contact.png").is_file()
    manifest = json.loads((shot / "shot.json").read_text())
    assert manifest["generation"]["prompt"] == "burning fireball" and manifest["generation"]["seed"] == 7
    assert manifest["files"]["exr"][0] == "rgba/a.1001.exr"
    for fa, fb in zip(frames, sorted((tmp_path / "b" / "rgba").glob("*.exr")), strict=True):
        assert np.array_equal(read_exr(fa), read_exr(fb))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_existing_shot_needs_overwrite_and_resume_skips(tmp_path, t2v_dir):
    shot = tmp_path / "shot"
    args = ["generate", "fire", "-o", shot, "--model", t2v_dir, "--steps", 1, "--format", "exr"]
    assert invoke(*args).exit_code == 0
    before = (shot / "shot.json").read_text()
    assert_one_line_error(invoke(*args), 4)
    assert (shot / "shot.json").read_text() == before
    result = invoke(*args, "--resume", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout.strip().splitlines()[-1])["shots"][0]["status"] == "skipped"
    assert invoke(*args, "--overwrite", "--seed", 3).exit_code == 0
    assert json.loads((shot / "shot.json").read_text())["generation"]["seed"] == 3


def test_prompts_file_makes_one_shot_per_line(tmp_path, t2v_dir):
    prompts = tmp_path / "shots.txt"
    prompts.write_text("burning fireball\n# a comment\n\nthick grey smoke\n")
    result = invoke(
        "generate",
        "--prompts",
        prompts,
        "-o",
        tmp_path / "out",
        "--model",
        t2v_dir,
        "--steps",
        1,
        "--format",
        "exr",
        "--json",
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["0001_burning_fireball", "0002_thick_grey_smoke", "shots.otio"]  # + the batch's timeline


def test_preset_fills_prompt_and_is_recorded(tmp_path, t2v_dir):
    result = invoke(
        "generate",
        "--preset",
        "smoke",
        "-o",
        tmp_path / "s",
        "--model",
        t2v_dir,
        "--steps",
        1,
        "--frames",
        9,
        "--format",
        "exr",
    )
    assert result.exit_code == 0, result.output
    generation = json.loads((tmp_path / "s" / "shot.json").read_text())["generation"]
    assert generation["preset"] == "smoke" and "smoke" in generation["prompt"]
    assert generation["clear_black"] is False  # smoke may be dark and opaque


def test_light_presets_clear_black_and_keep_black_overrides(tmp_path, t2v_dir):
    common = ["-o", "--model", t2v_dir, "--steps", 1, "--format", "exr"]
    for extra, expected in (([], True), (["--keep-black"], False)):
        out = tmp_path / f"sparks{len(extra)}"
        args = ["generate", "--preset", "sparks", *extra, common[0], out, *common[1:]]
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        generation = json.loads((out / "shot.json").read_text())["generation"]
        assert generation["clear_black"] is expected
        assert (generation["key_black"], generation["key_white"]) == (0.0, 0.01)  # light: only qc's black


def test_the_water_splash_key_is_recorded_applied_and_overridden(tmp_path, t2v_dir):
    """The water preset's luminance key (0.005 .. 0.1) reaches the shot: recorded, and no delivered pixel has
    more alpha than the key allows; --key-white overrides it; a black point above the white point is one line."""
    from vfxgen.io.exr import read_exr_sequence
    from vfxgen.qc import REC709_LUMA

    common = ["--model", t2v_dir, "--steps", 1, "--format", "exr"]
    for extra, white in (([], 0.1), (["--key-white", "0.05"], 0.05), (["--keep-black"], None)):
        out = tmp_path / f"water{len(extra)}{white}"
        result = invoke("generate", "--preset", "water_splash", "-o", out, *extra, *common)
        assert result.exit_code == 0, result.output
        generation = json.loads((out / "shot.json").read_text())["generation"]
        assert (generation["key_black"], generation["key_white"]) == (0.005, white or 0.1)
        pixels = read_exr_sequence(out / "rgba").pixels
        luma = pixels[..., :3] @ REC709_LUMA
        within = pixels[..., 3] <= np.clip((luma - 0.005) / ((white or 0.1) - 0.005), 0, 1) + 2e-3  # half floats
        assert within.all() if white else not within.all()  # the tiny model's raw alpha breaks the key
    bad = invoke("generate", "--preset", "water_splash", "-o", tmp_path / "bad", "--key-black", "0.2", *common)
    assert bad.exit_code == 2 and "--key-black must be >= 0 and below --key-white" in bad.output
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    "extra,code,needle",
    [
        (["--frames", "10"], 2, "4k+1"),
        (["--height", "30"], 2, "multiple of 8"),
        (["--attention", "sideways"], 2, "attention"),
        (["--device", "quantum"], 2, "device"),
        (["--format", "gif"], 2, "format"),
        (["--preset", "nope"], 2, "preset"),
        (["--lora", "weights.bin"], 6, "pickle"),
    ],
)
def test_bad_generate_arguments(tmp_path, t2v_dir, extra, code, needle):
    result = invoke("generate", "fire", "-o", tmp_path / "x", "--model", t2v_dir, "--steps", 1, *extra)
    assert_one_line_error(result, code)
    assert needle in result.output
    assert not (tmp_path / "x").exists()


def test_model_that_is_not_cogvideox(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    assert_one_line_error(invoke("generate", "fire", "-o", tmp_path / "x", "--model", tmp_path / "m"), 6)
    assert_one_line_error(invoke("generate", "fire", "-o", tmp_path / "x", "--model", tmp_path / "nowhere"), 6)


def test_animate_rgba_png_end_to_end(tmp_path, i2v_dir, t2v_dir):
    from vfxgen.io.images import write_png

    rng = np.random.default_rng(0)
    still = rng.random((32, 48, 4)).astype(np.float32)
    write_png(tmp_path / "element.png", still, bits=16)
    for name in ("a", "b"):
        result = invoke(
            "animate",
            tmp_path / "element.png",
            "flames flicker",
            "-o",
            tmp_path / name,
            "--model",
            i2v_dir,
            "--steps",
            2,
            "--seed",
            1,
            "--format",
            "exr",
        )
        assert result.exit_code == 0, result.output
    a = sorted((tmp_path / "a" / "rgba").glob("*.exr"))
    assert len(a) == 9
    for fa, fb in zip(a, sorted((tmp_path / "b" / "rgba").glob("*.exr")), strict=True):
        assert np.array_equal(read_exr(fa), read_exr(fb))
    # Text-to-video models animate by frame-0 replacement; "native" needs an image-to-video model.
    result = invoke("animate", tmp_path / "element.png", "-o", tmp_path / "c", "--model", t2v_dir, "--conditioning=native")  # noqa: E501
    assert_one_line_error(result, 2)
    assert_one_line_error(invoke("animate", tmp_path / "missing.png", "-o", tmp_path / "d", "--model", i2v_dir), 3)


def test_seed_wedge_and_shards_cover_the_batch_once(tmp_path, t2v_dir):
    prompts = tmp_path / "shots.txt"
    prompts.write_text("fire\nsmoke\nsparks\n")
    common = [
        "generate",
        "--prompts",
        prompts,
        "-o",
        tmp_path / "out",
        "--model",
        t2v_dir,
        "--steps",
        1,
        "--format",
        "exr",
        "--seeds",
        "1-2",
        "--json",
    ]
    written = []
    for shard in ("1/2", "2/2"):
        result = invoke(*common, "--shard", shard)
        assert result.exit_code == 0, result.output
        written += [s["output"] for s in json.loads(result.stdout.strip().splitlines()[-1])["shots"]]
    names = sorted(p.rsplit("/", 1)[-1] for p in written)
    assert names == sorted(
        f"{i:04d}_{p}_seed{s:04d}" for i, p in ((1, "fire"), (2, "smoke"), (3, "sparks")) for s in (1, 2)
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [*names, "shots.otio"]  # each shard: the timeline
    timeline = json.loads((tmp_path / "out" / "shots.otio").read_text())  # the last shard lists the whole batch
    clips = timeline["tracks"]["children"][0]["children"]
    assert sorted(c["name"] for c in clips) == names
    seed = json.loads((tmp_path / "out" / "0002_smoke_seed0002" / "shot.json").read_text())["generation"]["seed"]
    assert seed == 2


def test_caption_style_model_gets_the_preset_caption_and_no_preset_negative(tmp_path, t2v_dir):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(t2v_dir, model)
    (model / "vfxgen.json").write_text('{"prompt_style": "caption", "preset_negative_prompts": false}')
    for args, prompt in (
        (["--preset", "fire"], "burning fireball"),
        (["torch flame", "--preset", "fire"], "torch flame"),
    ):
        out = tmp_path / prompt.replace(" ", "_")
        result = invoke("generate", *args, "-o", out, "--model", model, "--steps", 1, "--format", "exr")
        assert result.exit_code == 0, result.output
        generation = json.loads((out / "shot.json").read_text())["generation"]
        assert generation["prompt"] == prompt and generation["negative_prompt"] == ""
