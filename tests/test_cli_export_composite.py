"""`vfxgen export` and `vfxgen composite` through the real Typer app, on real files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io import read_clip, read_image, write_exr_sequence, write_png
from vfxgen.shot import ShotOptions, write_shot

T, H, W = 3, 24, 32


def run(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def one_log_line(result) -> str:
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def make_clip(colour: float | None = None, alpha: float | None = None) -> Clip:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    rgba = np.zeros((T, H, W, 4), np.float32)
    for t in range(T):
        rgba[t, ..., 0] = x / W if colour is None else colour
        rgba[t, ..., 1] = y / H if colour is None else colour
        rgba[t, ..., 2] = 0.3 + 0.1 * t if colour is None else colour
        rgba[t, ..., 3] = np.clip(x / (W - 1) * 1.2 - 0.1, 0, 1) if alpha is None else alpha
    return Clip(rgba, fps=24.0, metadata={"prompt": "burning fireball", "seed": 7})


def premult_error(got: Clip, want: Clip) -> float:
    assert got.frames.shape == want.frames.shape
    return float(np.abs(got.to_premultiplied() - want.to_premultiplied()).max())


@pytest.fixture
def clip() -> Clip:
    return make_clip()


@pytest.fixture
def sources(tmp_path: Path, clip: Clip) -> dict[str, Path]:
    """An EXR sequence `in/elem.####.exr` and a shot directory `shot/` holding the same clip."""
    write_exr_sequence(clip, tmp_path / "in", "elem")
    write_shot(clip, tmp_path / "shot", ShotOptions(formats=("exr",)))
    return {"sequence": tmp_path / "in" / "elem.####.exr", "shot": tmp_path / "shot"}


OUTPUTS = {
    "exr": "out_exr",
    "png": "out_png",
    "prores": "out.mov",
    "webm": "out.webm",
    "preview": "out.mp4",
    "contact": "out.png",
}


@pytest.mark.parametrize("source", ["sequence", "shot"])
@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_export_each_format(tmp_path: Path, sources: dict[str, Path], clip: Clip, fmt: str, source: str) -> None:
    out = tmp_path / OUTPUTS[fmt]
    line = one_log_line(run("export", sources[source], "-o", out, "--format", fmt))
    assert line.startswith(f"export: wrote {fmt} ") and f"{T} frames {W}x{H} at 24 fps" in line
    if fmt in ("exr", "png"):
        names = sorted(p.name for p in out.iterdir())
        assert names == [f"{out.name}.{1001 + i}.{fmt}" for i in range(T)]
        assert premult_error(read_clip(out), clip) < 4e-3
    elif fmt in ("prores", "webm"):
        back = read_clip(out)
        assert back.num_frames == T and back.fps == pytest.approx(24.0)
        assert premult_error(back, clip) < (6e-3 if fmt == "prores" else 0.08)
    elif fmt == "preview":
        with av.open(str(out)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
    else:
        assert out.read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporaries must be gone"


def test_export_infers_format_and_names_patterns(tmp_path: Path, sources: dict[str, Path], clip: Clip) -> None:
    pattern = tmp_path / "deliver" / "fb.####.exr"
    result = run("export", sources["shot"], "-o", pattern, "--start-frame", "1", "--frames", "1002-1003", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "exr" and data["frames"] == 2
    assert sorted(p.name for p in (tmp_path / "deliver").iterdir()) == ["fb.0001.exr", "fb.0002.exr"]
    assert premult_error(read_clip(pattern), Clip(clip.frames[1:], 24.0)) < 4e-3
    # Another sequence added beside it leaves the first one alone.
    assert run("export", sources["sequence"], "-o", tmp_path / "deliver" / "other.####.png").exit_code == 0
    assert len(list((tmp_path / "deliver").iterdir())) == 2 + T
    # .mov -> ProRes without --format.
    assert "wrote prores" in one_log_line(run("export", sources["sequence"], "-o", tmp_path / "x.mov"))


def test_overwrite(tmp_path: Path, sources: dict[str, Path]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    line = one_error_line(run("export", sources["sequence"], "-o", out), 4)
    assert "--overwrite" in line
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # --overwrite replaces only a directory vfxgen wrote: a user's file in it stops the export.
    line = one_error_line(run("export", sources["sequence"], "-o", out, "--overwrite"), 4)
    assert "keep.txt" in line
    assert (out / "keep.txt").read_text() == "precious"
    (out / "keep.txt").unlink()
    one_log_line(run("export", sources["sequence"], "-o", out))
    one_log_line(run("export", sources["sequence"], "-o", out, "--overwrite"))
    assert sorted(p.name for p in out.iterdir()) == [f"out.{1001 + i}.exr" for i in range(T)]

    # A pattern in a directory holding other files: only that sequence is replaced, stale frames go.
    pattern = out / "elem.####.exr"
    one_log_line(run("export", sources["sequence"], "-o", pattern))
    one_error_line(run("export", sources["sequence"], "-o", pattern), 4)
    one_log_line(run("export", sources["sequence"], "-o", pattern, "--frames", "1001-1001", "--overwrite"))
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("elem.")) == ["elem.1001.exr"]
    assert len(list(out.iterdir())) == T + 1

    movie = tmp_path / "a.mov"
    movie.write_bytes(b"old")
    one_error_line(run("export", sources["sequence"], "-o", movie), 4)
    assert movie.read_bytes() == b"old"
    one_log_line(run("export", sources["sequence"], "-o", movie, "--overwrite"))
    assert movie.stat().st_size > 100


def test_output_inside_input_is_refused(tmp_path: Path, sources: dict[str, Path]) -> None:
    before = sorted(p.name for p in (tmp_path / "in").iterdir())
    line = one_error_line(run("export", sources["sequence"], "-o", tmp_path / "in" / "copy"), 5)
    assert "inside the input" in line
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "in" / "x.####.exr"), 5)
    one_error_line(run("export", sources["shot"], "-o", tmp_path / "shot" / "x.mov"), 5)
    line = one_error_line(run("export", sources["shot"], "-o", tmp_path, "--format", "exr", "--overwrite"), 5)
    assert "contains the input" in line
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == before


def test_export_input_and_usage_errors(tmp_path: Path, sources: dict[str, Path]) -> None:
    one_error_line(run("export", tmp_path / "missing.mov", "-o", tmp_path / "o.mov"), 3)
    one_error_line(run("export", tmp_path / "in" / "nope.####.exr", "-o", tmp_path / "o.mov"), 3)
    one_error_line(run("export", tmp_path / "in" / "elem.####.##.exr", "-o", tmp_path / "o.mov"), 3)
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o" / "elem_####.exr"), 2)
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o.mp4", "--format", "prores"), 2)
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o", "--format", "gif"), 2)
    one_error_line(run("export", sources["sequence"]), 2)  # no -o
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o", "--alpha", "premultiplied"), 2)
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o", "--compression", "dwaa"), 2)
    one_error_line(run("export", sources["sequence"], "-o", tmp_path / "o", "--frames", "9-1"), 2)
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.mov").exists()


def test_export_never_replaces_the_working_directory(
    tmp_path: Path, sources: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "shot")
    line = one_error_line(run("export", sources["sequence"], "-o", ".", "--overwrite"), 2)
    assert "current directory" in line
    assert (tmp_path / "shot" / "shot.json").is_file()


def write_h264(path: Path, rgb: np.ndarray) -> None:
    """8-bit H.264 through swscale's default conversion, as the TransPixar release writes rgb/alpha.mp4."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
        for frame_rgb in rgb:
            frame = av.VideoFrame.from_ndarray(np.rint(frame_rgb * 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_export_transpixar_pair_to_exr(tmp_path: Path) -> None:
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    rgba = np.zeros((T, 48, 64, 4), np.float32)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 0.9, 0.3 + 0.4 * x / 64, 0.1
    rgba[..., 3] = np.clip(1.5 - np.hypot(x - 32, y - 24) / 16.0, 0.0, 1.0)
    clip = Clip(rgba, fps=8.0)
    rgb, alpha = tmp_path / "rgb.mp4", tmp_path / "alpha.mp4"
    write_h264(rgb, clip.to_premultiplied()[..., :3])
    write_h264(alpha, np.repeat(rgba[..., 3:4], 3, axis=-1))
    out = tmp_path / "imported"
    one_log_line(run("export", rgb, "--alpha-video", alpha, "-o", out, "--fps", "24"))
    back = read_clip(out)
    assert back.frames.shape == clip.frames.shape and back.fps == 24.0
    assert np.abs(back.alpha - clip.alpha).mean() < 0.01
    one_error_line(run("export", rgb, "-o", tmp_path / "x.mov"), 3)  # colour half alone: no alpha


# --- composite ---------------------------------------------------------------------------------
def to_lin(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def to_srgb(v: float) -> float:
    return v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


@pytest.fixture
def comp_inputs(tmp_path: Path) -> dict[str, Path]:
    """FG: flat 0.8 at alpha 0.5 as EXRs; plates: flat 0.2 PNG at the FG size and at half size."""
    write_exr_sequence(make_clip(0.8, 0.5), tmp_path / "fg", "fg")
    write_png(tmp_path / "plate.png", np.full((H, W, 3), 0.2, np.float32), bits=16)
    write_png(tmp_path / "small.png", np.full((H // 2, W // 2, 3), 0.2, np.float32), bits=16)
    return {"fg": tmp_path / "fg" / "fg.####.exr", "plate": tmp_path / "plate.png", "small": tmp_path / "small.png"}


def test_composite_pixels(tmp_path: Path, comp_inputs: dict[str, Path]) -> None:
    out = tmp_path / "comp"
    line = one_log_line(run("composite", comp_inputs["fg"], "--over", comp_inputs["plate"], "-o", out))
    assert line.startswith("composite: wrote png ")
    files = sorted(out.iterdir())
    assert [p.name for p in files] == [f"comp.{1001 + i}.png" for i in range(T)]
    want = to_srgb(to_lin(0.8) * 0.5 + to_lin(0.2) * 0.5)
    image = read_image(files[-1])
    assert image.shape == (H, W, 4)
    assert np.abs(image[..., :3] - want).max() < 2e-3  # half-float EXR input + 16-bit PNG output
    assert np.all(image[..., 3] == 1.0)


def test_composite_size_mismatch_and_fit(tmp_path: Path, comp_inputs: dict[str, Path]) -> None:
    line = one_error_line(run("composite", comp_inputs["fg"], "--over", comp_inputs["small"], "-o", tmp_path / "c"), 2)
    assert f"{W // 2}x{H // 2}" in line and f"{W}x{H}" in line and "--fit" in line
    assert not (tmp_path / "c").exists()
    args = ("composite", comp_inputs["fg"], "--over", comp_inputs["small"], "--fit", "stretch")
    one_log_line(run(*args, "-o", tmp_path / "c"))
    image = read_image(tmp_path / "c" / "c.1001.png")
    assert image.shape == (H // 2, W // 2, 4)  # a comp is made at the plate's resolution: the element is scaled
    script = (tmp_path / "c.nk").read_text()  # its Reads: the element's own files at their own size
    read_element = script[script.index("Read {", script.index("Read {") + 1) :]
    assert f'format "{W} {H} ' in read_element.split("}")[0] and f'format "{W // 2} {H // 2} ' in script
    assert np.abs(image[..., :3] - to_srgb(to_lin(0.8) * 0.5 + to_lin(0.2) * 0.5)).max() < 2e-3
    # Format from the suffix: .mp4 -> H.264 (--no-nk: c.nk, the script of the c/ comp, is not replaced).
    one_log_line(run(*args, "-o", tmp_path / "c.mp4", "--no-nk"))
    with av.open(str(tmp_path / "c.mp4")) as container:
        assert container.streams.video[0].frames in (0, T)


def test_composite_moving_plate_length(tmp_path: Path, comp_inputs: dict[str, Path]) -> None:
    write_exr_sequence(make_clip(0.2, 1.0), tmp_path / "bg", "bg")
    short = f"{tmp_path / 'bg' / 'bg.####.exr'}:1001-1002"
    line = one_error_line(run("composite", comp_inputs["fg"], "--over", short, "-o", tmp_path / "c"), 2)
    assert "--length hold" in line
    one_log_line(run("composite", comp_inputs["fg"], "--over", short, "--length", "hold", "-o", tmp_path / "c"))
    assert len(list((tmp_path / "c").iterdir())) == T
    one_error_line(run("composite", comp_inputs["fg"], "-o", tmp_path / "d"), 2)  # no --over
    one_error_line(run("composite", comp_inputs["fg"], "--over", tmp_path / "nope.png", "-o", tmp_path / "d"), 3)
