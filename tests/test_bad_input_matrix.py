"""The bad-input matrix: every case through the CLI as a user would type it.

Each case must give exactly one `error:` line that names the problem and the fix, the documented exit code
(docs/farm.md), no traceback, and must leave existing files untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir, tiny_transformer
from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io.exr import write_exr_sequence
from vfxgen.io.images import write_png
from vfxgen.io.video import write_preview, write_prores
from vfxgen.models.transpixar import apply_transpixar, save_rgba_lora


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
    return d


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
    ("animate with a text-to-video model", "animate {png8_rgb} -o {out}/g --model {model}", 6, "image-to-video"),
    ("train on a missing dataset", "train --model {model} --data {root}/nodata -o {out}/r", 3, "dataset"),
    ("dataset frames not 4k+1", "dataset synth -o {out}/d --frames 10", 2, "4k+1"),
]

runner = CliRunner()


@pytest.mark.parametrize("case,argv,code,needle", MATRIX, ids=[m[0] for m in MATRIX])
def test_bad_input(case, argv, code, needle, inputs, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in inputs["root"].rglob("*") if p.is_file()}
    args = [part.format(**{k: str(v) for k, v in inputs.items()}, out=tmp_path) for part in argv.split()]
    result = runner.invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.exit_code == code, f"{case}: {result.output}"
    assert len(errors) == 1, f"{case}: {result.output}"
    assert needle.lower() in errors[0].lower(), f"{case}: {errors[0]}"
    assert "Traceback" not in result.output
    after = {p: p.stat().st_mtime_ns for p in inputs["root"].rglob("*") if p.is_file()}
    assert after == before, f"{case}: inputs changed"
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], f"{case}: left files behind"
