"""`vfxgen.io.read_clip` / `read_plate`: every source kind through real files written in tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

import vfxgen.io.registry
from vfxgen.clip import Clip
from vfxgen.errors import InputError, UsageError
from vfxgen.io import (
    Reader,
    read_clip,
    read_plate,
    reader_for,
    register_reader,
    write_exr_sequence,
    write_png,
    write_png_sequence,
    write_preview,
    write_prores,
)
from vfxgen.shot import ShotOptions, write_shot

T, H, W = 3, 24, 32


def make_clip(frames: int = T) -> Clip:
    """Smooth colour, alpha from 0 to 1 across the width (both ends exactly), changing per frame."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    out = np.zeros((frames, H, W, 4), np.float32)
    for t in range(frames):
        out[t, ..., 0] = x / (W - 1)
        out[t, ..., 1] = y / (H - 1)
        out[t, ..., 2] = 0.2 + 0.1 * t
        out[t, ..., 3] = np.clip(x / (W - 1) * 1.2 - 0.1, 0.0, 1.0)
    return Clip(out, fps=24.0, metadata={"prompt": "burning fireball", "seed": 7})


def assert_close(got: Clip, want: Clip, tol: float = 4e-3) -> None:
    """Compare premultiplied colour (straight colour is undefined where alpha is ~0) and alpha."""
    assert got.frames.shape == want.frames.shape
    assert np.abs(got.to_premultiplied() - want.to_premultiplied()).max() <= tol


@pytest.fixture
def clip() -> Clip:
    return make_clip()


# --- shot directories ----------------------------------------------------------------------------
def test_shot_directory(tmp_path: Path, clip: Clip) -> None:
    shot = tmp_path / "fireball"
    write_shot(clip, shot, ShotOptions(formats=("exr",)))
    got = read_clip(shot)
    assert_close(got, clip)
    assert got.fps == 24.0
    assert got.metadata["prompt"] == "burning fireball" and got.metadata["seed"] == 7
    # A range as an argument or after the path, in frame numbers of the shot.
    assert_close(read_clip(shot, frame_range=(1002, 1003)), Clip(clip.frames[1:], 24.0))
    assert read_clip(f"{shot}:1003").num_frames == 1
    with pytest.raises(InputError, match="missing frames 1004"):
        read_clip(shot, frame_range=(1002, 1004))


def test_shot_directory_without_manifest_falls_back_to_its_sequence(tmp_path: Path, clip: Clip) -> None:
    shot = tmp_path / "fireball"
    write_shot(clip, shot, ShotOptions(formats=("exr",)))
    (shot / "shot.json").unlink()
    assert_close(read_clip(shot), clip)  # the one sequence in rgba/
    plain = tmp_path / "plain"
    write_png_sequence(clip, plain, "elem")
    assert_close(read_clip(plain), clip, tol=1e-4)


def test_directory_without_sequence(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="no .* frame sequence or shot in directory"):
        read_clip(tmp_path / "empty")


# --- sequences -----------------------------------------------------------------------------------
def test_exr_patterns_and_ranges(tmp_path: Path, clip: Clip) -> None:
    write_exr_sequence(clip, tmp_path, "elem")
    for pattern in ("elem.####.exr", "elem.%04d.exr", "elem.@@@@.exr", "elem.#.exr"):
        got = read_clip(tmp_path / pattern)
        assert_close(got, clip)
        assert got.fps == 24.0 and got.metadata["seed"] == 7
    two = read_clip(f"{tmp_path}/elem.####.exr:1002-1003")
    assert_close(two, Clip(clip.frames[1:], 24.0))
    assert read_clip(tmp_path / "elem.####.exr", frame_range=(1001, 1001), fps=30).fps == 30.0
    with pytest.raises(InputError, match="no frames match"):
        read_clip(tmp_path / "other.####.exr")
    with pytest.raises(InputError, match="2 frame tokens"):
        read_clip(tmp_path / "elem.####.##.exr")


def test_png_sequence(tmp_path: Path, clip: Clip) -> None:
    write_png_sequence(clip, tmp_path, "elem")
    got = read_clip(tmp_path / "elem.####.png", fps=12)
    assert_close(got, clip, tol=1e-4)
    assert got.fps == 12.0


def test_single_still_is_one_frame(tmp_path: Path, clip: Clip) -> None:
    write_png(tmp_path / "rgba.png", clip.frames[0], bits=16)
    write_png(tmp_path / "rgb.png", clip.frames[0, ..., :3], bits=16)
    assert read_clip(tmp_path / "rgba.png").frames.shape == (1, H, W, 4)
    with pytest.raises(InputError, match="no alpha"):
        read_clip(tmp_path / "rgb.png")
    assert np.all(read_clip(tmp_path / "rgb.png", require_alpha=False).alpha == 1.0)


# --- movies ----------------------------------------------------------------------------------------
def test_prores_movie_and_index_range(tmp_path: Path, clip: Clip) -> None:
    movie = write_prores(clip, tmp_path / "elem.mov")
    got = read_clip(movie)
    assert_close(got, clip, tol=6e-3)
    assert got.fps == pytest.approx(24.0)
    cut = read_clip(f"{movie}:1-2")  # movie frames count from 0
    assert_close(cut, Clip(clip.frames[1:], 24.0), tol=6e-3)
    with pytest.raises(InputError, match="has 3 frames"):
        read_clip(movie, frame_range=(2, 5))
    with pytest.raises(UsageError, match="names frames 0-1 but the frame range asks for 1-2") as info:
        read_clip(f"{movie}:0-1", frame_range=(1, 2))
    assert "one place" in info.value.hint


def write_h264(path: Path, rgb: np.ndarray) -> None:
    """8-bit H.264 through swscale's default conversion, like the TransPixar release writes."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
        for frame_rgb in rgb:
            frame = av.VideoFrame.from_ndarray(np.rint(frame_rgb * 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def transpixar_pair(folder: Path) -> tuple[Path, Path, Clip]:
    """rgb.mp4 (colour premultiplied by alpha) + alpha.mp4 (alpha in all three channels)."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    rgba = np.zeros((T, 48, 64, 4), np.float32)
    for t in range(T):
        rgba[t, ..., 0], rgba[t, ..., 1], rgba[t, ..., 2] = 0.9, 0.3 + 0.4 * x / 64, 0.1
        rgba[t, ..., 3] = np.clip(1.5 - np.hypot(x - 32 - t, y - 24) / 16.0, 0.0, 1.0)
    clip = Clip(rgba, fps=8.0)
    write_h264(folder / "rgb.mp4", clip.to_premultiplied()[..., :3])
    write_h264(folder / "alpha.mp4", np.repeat(rgba[..., 3:4], 3, axis=-1))
    return folder / "rgb.mp4", folder / "alpha.mp4", clip


def test_transpixar_pair(tmp_path: Path) -> None:
    rgb, alpha, clip = transpixar_pair(tmp_path)
    got = read_clip(rgb, alpha_video=alpha)
    assert got.frames.shape == clip.frames.shape
    assert np.abs(got.alpha - clip.alpha).mean() < 0.01
    assert got.metadata["source"] == "transpixar"
    assert read_clip(rgb, alpha_video=alpha, frame_range=(0, 1)).num_frames == 2
    with pytest.raises(InputError, match="no alpha"):
        read_clip(rgb)  # the colour half alone has no matte: the error says to pass --alpha-video
    with pytest.raises(InputError, match="does not exist"):
        read_clip(rgb, alpha_video=tmp_path / "nope.mp4")


# --- errors ----------------------------------------------------------------------------------------
def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.mov does not exist") as info:
        read_clip(tmp_path / "missing.mov")
    assert "sequence pattern" in info.value.hint
    (tmp_path / "clip.xyz").write_bytes(b"not a clip")
    with pytest.raises(InputError, match=r"suffix '\.xyz' is not a clip format") as info:
        read_clip(tmp_path / "clip.xyz")
    assert ".exr" in info.value.hint and ".mov" in info.value.hint
    with pytest.raises(InputError, match="not a clip format"):
        read_clip(tmp_path / "clip.####.xyz")


def test_registry_dispatches_by_suffix(tmp_path: Path, clip: Clip, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vfxgen.io.registry, "_READERS", dict(vfxgen.io.registry._READERS))  # leave the real one alone
    assert reader_for("a/b.EXR").name == "exr"
    assert reader_for(".webm").kind == "movie"
    seen = []

    def read_npy(path: Path, fps: float | None, require_alpha: bool) -> Clip:
        seen.append(path)
        return Clip(np.load(path), fps or 8.0)

    register_reader(Reader("npy", "movie", (".npy",), read_npy))
    np.save(tmp_path / "clip.npy", clip.frames)
    assert read_clip(tmp_path / "clip.npy").num_frames == T and seen
    with pytest.raises(ValueError, match="already read by"):
        register_reader(Reader("other", "movie", (".npy",), read_npy))


# --- plates ----------------------------------------------------------------------------------------
def test_read_plate_still_sequence_and_movie(tmp_path: Path, clip: Clip) -> None:
    write_png(tmp_path / "plate.png", np.full((H, W, 3), 0.2, np.float32), bits=16)
    plate = read_plate(tmp_path / "plate.png")
    assert plate.shape == (1, H, W, 3) and np.allclose(plate, 0.2, atol=1e-4)

    # RGBA still: flattened over black in linear light.
    write_png(tmp_path / "rgba.png", np.concatenate([np.full((H, W, 3), 0.8), np.full((H, W, 1), 0.5)], -1), 16)
    lin = ((0.8 + 0.055) / 1.055) ** 2.4 * 0.5
    want = 1.055 * lin ** (1 / 2.4) - 0.055
    assert np.allclose(read_plate(tmp_path / "rgba.png"), want, atol=1e-4)

    # An EXR sequence (alpha 1) and a range of it.
    opaque = Clip(np.concatenate([clip.rgb, np.ones_like(clip.frames[..., :1])], -1), 24.0)
    write_exr_sequence(opaque, tmp_path / "bg", "bg")
    seq = read_plate(tmp_path / "bg" / "bg.####.exr")
    assert seq.shape == (T, H, W, 3) and np.abs(seq - clip.rgb).max() < 2e-3
    assert read_plate(tmp_path / "bg" / "bg.####.exr", frame_range=(1002, 1003)).shape[0] == 2
    assert read_plate(tmp_path / "bg").shape == (T, H, W, 3)

    # A movie without alpha (the H.264 preview).
    movie = write_preview(opaque, tmp_path / "bg.mp4")
    assert read_plate(movie).shape[0] == T
    assert read_plate(f"{movie}:1-2").shape[0] == 2

    with pytest.raises(InputError, match="does not exist"):
        read_plate(tmp_path / "nope.png")
    (tmp_path / "plate.xyz").write_bytes(b"x")
    with pytest.raises(InputError, match="not an image or movie suffix"):
        read_plate(tmp_path / "plate.xyz")


def test_io_never_imports_torch() -> None:
    code = (
        "import sys, vfxgen.io, vfxgen.io.exr, vfxgen.io.images, vfxgen.io.video, vfxgen.io.contact, "
        "vfxgen.compositing; vfxgen.io.read_movie; "
        "bad = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
