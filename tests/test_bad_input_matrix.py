"""The bad-input matrix: every case through the CLI as a user would type it.

Each case must give exactly one `error:` line that names the problem and the fix, the documented exit code
(docs/farm.md), no traceback, and must leave existing files untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir, tiny_transformer
from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io.exr import write_exr_sequence
from vfxgen.io.images import write_png
from vfxgen.io.video import write_preview, write_prores
from vfxgen.models.transpixar import apply_transpixar, save_rgba_lora
from vfxgen.shot import ShotOptions, write_shot
from vfxgen.training.data import write_dataset


def _clip(frames: int = 5, h: int = 32, w: int = 48) -> Clip:
    rng = np.random.default_rng(0)
    return Clip(rng.random((frames, h, w, 4), dtype=np.float32), fps=8)


def _write_raw_exr(path: Path, pixels: np.ndarray) -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], oiio.HALF)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels.astype(np.float32))
    out.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """Every kind of broken and good input the matrix needs, made once."""
    root = tmp_path_factory.mktemp("inputs")
    d: dict[str, Path] = {"root": root}
    d["model"] = save_tiny_model_dir(root / "model")
    d["seq"] = root / "seq"
    write_exr_sequence(_clip(), d["seq"], "el")
    d["gap"] = root / "gap"
    write_exr_sequence(_clip(), d["gap"], "el")
    (d["gap"] / "el.1003.exr").unlink()
    d["corrupt_exr"] = root / "corrupt.exr"
    d["corrupt_exr"].write_bytes(b"v/1\x01" + os.urandom(200))
    d["png8_rgb"] = root / "rgb.png"
    write_png(d["png8_rgb"], np.full((32, 48, 3), 0.5, np.float32))
    d["truncated_png"] = root / "trunc.png"
    write_png(d["truncated_png"], np.random.default_rng(1).random((32, 48, 4), dtype=np.float32), bits=16)
    d["truncated_png"].write_bytes(d["truncated_png"].read_bytes()[:200])
    d["mov"] = write_prores(_clip(), root / "good.mov")
    d["truncated_mov"] = root / "trunc.mov"
    d["truncated_mov"].write_bytes(d["mov"].read_bytes()[:3000])
    d["no_alpha_mp4"] = write_preview(_clip(), root / "noalpha.mp4")
    d["rgb_exr"] = root / "rgb3"
    d["rgb_exr"].mkdir()
    _write_raw_exr(d["rgb_exr"] / "el.1001.exr", np.full((16, 16, 3), 0.5))
    d["y_exr"] = root / "y1"
    d["y_exr"].mkdir()
    _write_raw_exr(d["y_exr"] / "el.1001.exr", np.full((16, 16, 1), 0.5))
    d["nan_exr"] = root / "nan"
    d["nan_exr"].mkdir()
    bad = np.full((16, 16, 4), 0.5)
    bad[3, 3, 0] = np.nan
    _write_raw_exr(d["nan_exr"] / "el.1001.exr", bad)
    d["empty"] = root / "empty"
    d["empty"].mkdir()
    d["single"] = root / "single"
    write_exr_sequence(_clip(frames=1), d["single"], "el")
    d["plate_big"] = root / "plate.png"
    write_png(d["plate_big"], np.full((64, 64, 3), 0.2, np.float32))
    d["presets"] = root / "presets"
    d["presets"].mkdir()
    (d["presets"] / "broken.toml").write_text('name = "broken"\nprompt = "a {subject}\n')
    d["not_cogvideox"] = root / "flux"
    d["not_cogvideox"].mkdir()
    (d["not_cogvideox"] / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    small = tiny_transformer("5b")
    small.transformer_blocks = small.transformer_blocks[:1]
    d["other_lora"] = save_rgba_lora(apply_transpixar(small, rank=2), root / "other_size.safetensors")
    d["pickle"] = root / "lora.bin"
    d["pickle"].write_bytes(b"\x80\x04K\x01.")
    d["bad_list"] = root / "shots.json"
    d["bad_list"].write_text('[{"name": "../../etc", "prompt": "fire"}]')
    d["good_list"] = root / "shots.txt"
    d["good_list"].write_text("fire\nsmoke\n")
    d["existing_out"] = root / "existing.mov"
    d["existing_out"].write_bytes(b"yesterday's render")
    d["a_file"] = root / "a_file"
    d["a_file"].write_text("x")
    # An ordinary project folder: --overwrite / --resume must never turn it into a shot.
    d["project"] = root / "proj"
    (d["project"] / "sub").mkdir(parents=True)
    (d["project"] / "comp.nk").write_text("Root {}\n")
    _write_raw_exr(d["project"] / "sub" / "plate.exr", np.full((16, 16, 4), 0.5))
    # A real vfxgen shot to which the user added a file of their own.
    d["shot_plus"] = root / "shot_plus"
    write_shot(_clip(), d["shot_plus"], ShotOptions(formats=("exr",)))
    (d["shot_plus"] / "comp.nk").write_text("Root {}\n")
    d["cwd"] = root / "cwd"
    d["cwd"].mkdir()
    d["no_alpha_seq"] = root / "empty_alpha"
    empty = _clip().frames.copy()
    empty[..., 3] = 0.0
    write_exr_sequence(Clip(empty, fps=8), d["no_alpha_seq"], "el")
    d["loop_presets"] = root / "loop_presets"
    d["loop_presets"].mkdir()
    (d["loop_presets"] / "loop.toml").symlink_to("loop.toml")
    d["dataset"] = root / "dataset"
    write_dataset([(np.full((9, 32, 48, 4), 0.5, np.float32), "fire", "fire")], d["dataset"], source="test")
    d["nan_model"] = _poisoned_copy(d["model"], root / "nan_model")
    state = load_file(d["model"] / "transpixar_lora.safetensors")
    first = sorted(state)[0]
    state[first] = torch.full_like(state[first], float("nan"))
    d["nan_lora"] = root / "nan_lora.safetensors"
    save_file(state, d["nan_lora"])
    return d


def _poisoned_copy(model: Path, dest: Path) -> Path:
    """The model with one inf in the transformer weights (a damaged download)."""
    shutil.copytree(model, dest)
    weights = dest / "transformer" / "diffusion_pytorch_model.safetensors"
    state = load_file(weights)
    name = sorted(state)[-1]
    state[name] = state[name].clone()
    state[name].view(-1)[0] = float("inf")
    save_file(state, weights, metadata={"format": "pt"})
    return dest


# (case id, argv with {placeholders} from `inputs` and {out}, expected exit code, words the message must contain)
MATRIX = [
    ("missing file", "export {root}/nope.exr -o {out}/a --format exr", 3, "does not exist"),
    ("directory where a file is expected", "export {mov} --alpha-video {root} -o {out}/a.mov", 3, "directory"),
    ("corrupt EXR", "export {corrupt_exr} -o {out}/a.mov --format prores", 3, "corrupt"),
    ("truncated PNG", "export {truncated_png} -o {out}/a.mov --format prores", 3, "trunc.png"),
    ("truncated MOV", "export {truncated_mov} -o {out}/a --format exr", 3, "trunc.mov"),
    ("movie without alpha", "export {no_alpha_mp4} -o {out}/a --format exr", 3, "alpha"),
    ("EXR with 3 channels", "export {rgb_exr}/el.####.exr -o {out}/a --format exr", 3, "alpha"),
    ("EXR with 1 channel", "export {y_exr}/el.####.exr -o {out}/a --format exr", 3, "R,G,B,A"),
    ("8-bit RGB PNG, alpha needed", "export {png8_rgb} -o {out}/a --format exr", 3, "alpha"),
    ("sequence with a gap", "export {gap}/el.####.exr -o {out}/a --format exr", 3, "1003"),
    ("empty directory", "export {empty} -o {out}/a --format exr", 3, "empty"),
    ("reversed frame range", "export {seq}/el.####.exr:1004-1002 -o {out}/a --format exr", 3, "1004"),
    ("negative frame range", "export {seq}/el.####.exr:-5-2 -o {out}/a --format exr", 3, "range"),
    ("huge frame range", "export {seq}/el.####.exr:1001-99999 -o {out}/a --format exr", 3, "missing frames"),
    ("NaN pixels", "export {nan_exr}/el.####.exr -o {out}/a --format exr", 3, "NaN"),
    ("output exists", "export {mov} -o {existing_out} --format prores", 4, "--overwrite"),
    ("output inside the input", "export {seq} -o {seq}/sub --format exr", 5, "inside the input"),
    ("output dir not writable", "export {mov} -o {a_file}/sub/x.mov --format prores", 5, "a_file"),
    ("unknown export format", "export {mov} -o {out}/a.gif --format gif", 2, "format"),
    ("lossy EXR not asked for", "export {mov} -o {out}/a --format exr --compression dwaa", 2, "lossy"),
    ("composite size mismatch", "composite {mov} --over {plate_big} -o {out}/c.mp4", 2, "--fit"),
    ("composite missing plate", "composite {mov} --over {root}/nope.png -o {out}/c.mp4", 3, "does not exist"),
    ("eval-flow on one frame", "eval-flow {single}/el.####.exr", 3, "2 frames"),
    ("unknown preset", "presets show nope", 2, "fire"),
    ("broken preset TOML", "presets list --presets-dir {presets}", 3, "line"),
    ("frames not 4k+1", "generate fire -o {out}/g --model {model} --frames 10", 2, "4k+1"),
    ("size not a multiple", "generate fire -o {out}/g --model {model} --width 50", 2, "multiple of 8"),
    ("model dir not CogVideoX", "generate fire -o {out}/g --model {not_cogvideox}", 6, "CogVideoX"),
    ("LoRA for another model size", "generate fire -o {out}/g --model {model} --lora {other_lora}", 6, "size"),
    ("pickle weights refused", "generate fire -o {out}/g --model {model} --lora {pickle}", 6, "safetensors"),
    ("unknown device", "generate fire -o {out}/g --model {model} --device tpu:0", 2, "device"),
    ("unknown attention mode", "generate fire -o {out}/g --model {model} --attention diagonal", 2, "transpixar"),
    ("shot name escaping the root", "generate --prompts {bad_list} -o {out}/b --model {model}", 3, "plain directory"),
    ("missing prompt file", "generate --prompts {root}/none.txt -o {out}/b --model {model}", 3, "does not exist"),
    ("shard out of range", "generate --prompts {good_list} -o {out}/b --model {model} --shard 5/4", 2, "1 <= I <= N"),
    ("seed range reversed", "generate fire -o {out}/g --model {model} --seeds 8-1", 2, "backwards"),
    ("no prompt at all", "generate -o {out}/g --model {model}", 2, "prompt"),
    ("animate missing image", "animate {root}/none.png -o {out}/g --model {model}", 3, "does not exist"),
    ("animate native, t2v model", "animate {png8_rgb} -o {out}/g --model {model} --conditioning native", 2, "image-"),
    ("matte of a missing clip", "matte {root}/none.mov -o {out}/m --model {model}", 3, "does not exist"),
    ("matte of a clip with alpha", "matte {seq} -o {out}/m --model {model}", 3, "already has an alpha"),
    ("train on a missing dataset", "train --model {model} --data {root}/nodata -o {out}/r", 3, "dataset"),
    ("dataset frames not 4k+1", "dataset synth -o {out}/d --frames 10", 2, "4k+1"),
    # --- data safety: only directories vfxgen wrote are ever replaced -----------------------------------
    ("overwrite a project folder", "generate fire -o {project} --model {model} --overwrite", 4, "not a vfxgen"),
    ("resume into a project folder", "generate fire -o {project} --model {model} --resume", 4, "not a vfxgen"),
    ("overwrite a shot holding user files", "generate fire -o {shot_plus} --model {model} --overwrite", 4, "comp.nk"),
    ("export over a project folder", "export {seq} -o {project} --format exr --overwrite", 4, "not a vfxgen"),
    (
        "composite over a project folder",
        "composite {seq} --over {plate_big} --fit fill -o {project} --overwrite",
        4,
        "not a vfxgen",
    ),
    ("dataset over a project folder", "dataset synth -o {project} --count 1 --overwrite", 4, "not a vfxgen"),
    (
        "training run in a project folder",
        "train --model {model} --data {dataset} -o {project} --resume",
        4,
        "not a vfxgen",
    ),
    ("output is the current dir", "generate fire -o . --model {model}", 2, "current directory"),
    ("output is empty", "generate fire -o {empty_arg} --model {model}", 2, "empty"),
    ("output is the root", "generate fire -o / --model {model} --overwrite", 2, "root"),
    ("output is ~", "generate fire -o ~ --model {model} --overwrite", 2, "home"),
    ("output is a parent of the cwd", "generate fire -o .. --model {model} --overwrite", 2, "current directory"),
    (
        "export output above its input",
        "export {project}/sub/plate.exr -o {project} --format exr --overwrite",
        5,
        "input",
    ),
    ("output under /proc", "generate fire -o /proc/vfxgen-shot --model {model}", 5, "system"),
    ("output under /sys", "export {seq} -o /sys/vfxgen/out --format exr", 5, "system"),
    # --- checked before any weights load -----------------------------------------------------------------
    ("unknown EXR compression", "generate fire -o {out}/g --model {model} --compression bogus", 2, "compression"),
    ("lossy EXR on generate", "generate fire -o {out}/g --model {model} --compression dwaa", 2, "--allow-lossy"),
    ("guidance NaN", "generate fire -o {out}/g --model {model} --guidance nan", 2, "finite"),
    ("guidance inf", "generate fire -o {out}/g --model {model} --guidance inf", 2, "finite"),
    ("fps NaN", "generate fire -o {out}/g --model {model} --fps nan", 2, "finite"),
    ("fps inf", "export {seq} -o {out}/a --format exr --fps inf", 2, "finite"),
    ("steps beyond the scheduler", "generate fire -o {out}/g --model {model} --steps 5000", 2, "1000"),
    ("inf in the model weights", "generate fire -o {out}/g --model {nan_model}", 6, "transformer"),
    ("NaN in the LoRA", "generate fire -o {out}/g --model {model} --lora {nan_lora}", 6, "nan_lora.safetensors"),
    # --- silent wrong results ---------------------------------------------------------------------------
    ("zero frames", "generate fire -o {out}/g --model {model} --frames 0", 2, "leave --frames out"),
    ("zero width", "generate fire -o {out}/g --model {model} --width 0", 2, "leave --width out"),
    ("zero height", "generate fire -o {out}/g --model {model} --height 0", 2, "leave --height out"),
    ("prompt of spaces", "generate {spaces} -o {out}/g --model {model}", 2, "empty"),
    ("export fps zero", "export {seq} -o {out}/a --format exr --fps 0", 2, "--fps"),
    ("eval-flow on an empty matte", "eval-flow {no_alpha_seq}", 3, "not measurable"),
    # --- messages -----------------------------------------------------------------------------------------
    ("emoji codes printed as typed", "export {root}/nope:smile:.exr -o {out}/a --format exr", 3, "nope:smile:.exr"),
    ("seed not a number", "generate fire -o {out}/g --seed abc", 2, "--seed"),
    ("unknown option", "generate fire -o {out}/g --bogus", 2, "--bogus"),
    ("unknown command", "generat fire", 2, "generat"),
    ("prompt starting with -", "generate -fire -o {out}/g", 2, "--"),
    ("model is a file", "generate fire -o {out}/g --model {a_file}", 6, "is a file"),
    ("preset symlink loop", "presets list --presets-dir {loop_presets}", 3, "loop.toml"),
]

runner = CliRunner()


@pytest.mark.parametrize("case,argv,code,needle", MATRIX, ids=[m[0] for m in MATRIX])
def test_bad_input(case, argv, code, needle, inputs, tmp_path, monkeypatch):
    monkeypatch.chdir(inputs["cwd"])  # `-o .` and `-o ..` aim at a scratch folder, never at the repository
    before = {p: p.stat().st_mtime_ns for p in inputs["root"].rglob("*") if p.is_file()}
    names = {k: str(v) for k, v in inputs.items()} | {"empty_arg": "", "spaces": "   "}
    args = [part.format(**names, out=tmp_path) for part in argv.split()]
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.exit_code == code, f"{case}: {result.output}"
    assert len(errors) == 1, f"{case}: {result.output}"
    assert needle.lower() in errors[0].lower(), f"{case}: {errors[0]}"
    assert "Traceback" not in result.output
    after = {p: p.stat().st_mtime_ns for p in inputs["root"].rglob("*") if p.is_file()}
    assert after == before, f"{case}: inputs changed"
    assert not list(inputs["cwd"].iterdir()), f"{case}: wrote into the current directory"
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], f"{case}: left files behind"
