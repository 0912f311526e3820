"""EXR sequences: what lands on disk (checked with raw OIIO reads) and what comes back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxgen.clip import Clip
from vfxgen.color import srgb_to_linear
from vfxgen.errors import InputError, UsageError
from vfxgen.io.exr import fps_rational, read_exr_header, read_exr_sequence, write_exr_sequence
from vfxgen.io.sequence import find_sequence

META = {"prompt": "burning fireball", "seed": 42, "model": "tiny", "preset": "fire"}


def make_clip(frames: int = 4, height: int = 24, width: int = 32, fps: float = 24.0) -> Clip:
    """Seeded RGBA with every alpha state: 0, 1, and soft values in between."""
    rng = np.random.default_rng(7)
    rgba = rng.random((frames, height, width, 4), dtype=np.float32)
    rgba[:, :4, :, 3] = 0.0
    rgba[:, 4:8, :, 3] = 1.0
    return Clip(rgba, fps, dict(META))


def raw_read(path: Path) -> tuple[np.ndarray, oiio.ImageSpec]:
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    spec = inp.spec()
    pixels = inp.read_image(0, 0, 0, spec.nchannels, "half")
    inp.close()
    return pixels, spec


def write_raw(path: Path, pixels: np.ndarray, names: tuple[str, ...]) -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], "half")
    spec.channelnames = names
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels.astype(np.float16)), out.geterror()
    out.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Clip, list[Path]]:
    clip = make_clip()
    return clip, write_exr_sequence(clip, tmp_path_factory.mktemp("exr"), metadata={"version": "9.9"})


def test_frame_names(written) -> None:
    _, paths = written
    assert [p.name for p in paths] == ["shot.1001.exr", "shot.1002.exr", "shot.1003.exr", "shot.1004.exr"]
    assert sorted(p.name for p in paths[0].parent.iterdir()) == [p.name for p in paths]  # no temp files left


def test_pixels_bit_exact_half_linear_premultiplied(written) -> None:
    clip, paths = written
    expected = clip.to_linear_premultiplied().astype(np.float16)
    for index, path in enumerate(paths):
        pixels, spec = raw_read(path)
        assert spec.channelnames == ("R", "G", "B", "A")
        assert str(spec.format) == "half"
        assert pixels.dtype == np.float16
        np.testing.assert_array_equal(pixels, expected[index])
    # The convention spelled out: linear colour times alpha; alpha 0 means colour 0.
    rgba = clip.frames[0]
    np.testing.assert_array_equal(
        pixels_of(paths[0])[..., :3], (srgb_to_linear(rgba[..., :3]) * rgba[..., 3:]).astype(np.float16)
    )
    assert not pixels_of(paths[0])[:4, :, :3].any()


def pixels_of(path: Path) -> np.ndarray:
    return raw_read(path)[0]


def test_header(written) -> None:
    _, paths = written
    header = read_exr_header(paths[0])
    assert header["compression"] == "zip"
    assert header["colorspace"] == "lin_rec709_scene"
    assert header.get("colorInteropID", header.get("oiio:ColorSpace")) == "lin_rec709_scene"
    assert header["vfxgen/prompt"] == "burning fireball"
    assert header["vfxgen/seed"] == "42"
    assert header["vfxgen/model"] == "tiny"
    assert header["vfxgen/preset"] == "fire"
    assert header["vfxgen/version"] == "9.9"  # the metadata argument wins over the default
    assert header["FramesPerSecond"] == (24, 1)
    assert (header["width"], header["height"], header["pixel_type"]) == (32, 24, "half")


def test_read_back(written) -> None:
    clip, paths = written
    back = read_exr_sequence(paths[0].parent / "shot.####.exr")
    assert back.num_frames == 4 and back.fps == 24.0
    assert back.metadata["prompt"] == "burning fireball" and back.metadata["seed"] == 42
    visible = clip.alpha > 0.05
    np.testing.assert_allclose(back.alpha, clip.alpha, atol=1e-3)
    np.testing.assert_allclose(back.rgb[visible], clip.rgb[visible], atol=0.02)
    assert not back.rgb[clip.alpha == 0].any()  # straight colour under alpha 0 is 0


@pytest.mark.parametrize("pattern", ["shot.####.exr", "shot.%04d.exr", "shot.@@@@.exr", "shot.#.exr"])
def test_read_spellings(written, pattern: str) -> None:
    _, paths = written
    assert read_exr_sequence(paths[0].parent / pattern).num_frames == 4


def test_read_ranges(written) -> None:
    clip, paths = written
    directory = paths[0].parent
    part = read_exr_sequence(f"{directory}/shot.####.exr:1002-1003")
    assert part.num_frames == 2
    np.testing.assert_array_equal(part.frames, read_exr_sequence(directory, frame_range=(1002, 1003)).frames)
    whole = read_exr_sequence(directory)
    np.testing.assert_array_equal(part.frames, whole.frames[1:3])
    with pytest.raises(InputError, match="missing frames 1005-1006"):
        read_exr_sequence(directory / "shot.####.exr", frame_range=(1003, 1006))


def test_fps_precedence(written) -> None:
    _, paths = written
    assert read_exr_sequence(paths[0].parent, fps=12.0).fps == 12.0  # an explicit choice wins
    assert fps_rational(24000 / 1001) == (24000, 1001)
    assert fps_rational(8.0) == (8, 1)


def test_padding_six_piz_and_start_frame(tmp_path: Path) -> None:
    clip = make_clip(frames=2)
    paths = write_exr_sequence(clip, tmp_path, name="fx", start_frame=0, compression="piz", threads=1)
    assert [p.name for p in paths] == ["fx.0000.exr", "fx.0001.exr"]
    assert read_exr_header(paths[0])["compression"] == "piz"
    for path in paths:  # rename to 6-digit padding, as another package might write them
        path.rename(path.with_name(f"fx.{int(path.name.split('.')[1]):06d}.exr"))
    back = read_exr_sequence(tmp_path / "fx.######.exr")
    assert back.num_frames == 2
    assert find_sequence(tmp_path / "fx.#.exr").padding == 6


def test_missing_frame_is_named(tmp_path: Path) -> None:
    paths = write_exr_sequence(make_clip(frames=4), tmp_path)
    paths[2].unlink()
    with pytest.raises(InputError) as info:
        read_exr_sequence(tmp_path / "shot.####.exr", frame_range=(1001, 1004))
    assert "missing frames 1003" in info.value.message


def test_lossy_policy(tmp_path: Path) -> None:
    clip = make_clip(frames=1)
    with pytest.raises(UsageError, match="lossy"):
        write_exr_sequence(clip, tmp_path, compression="dwaa")
    with pytest.raises(UsageError, match="unknown"):
        write_exr_sequence(clip, tmp_path, compression="jpeg")
    path = write_exr_sequence(clip, tmp_path, compression="dwaa", allow_lossy=True)[0]
    header = read_exr_header(path)
    assert header["compression"] == "dwaa" and "alpha lossless" in header["vfxgen/lossy"]
    alpha = pixels_of(path)[..., 3]
    np.testing.assert_array_equal(alpha, clip.frames[0, ..., 3].astype(np.float16))  # DWA leaves A exact


def test_channel_errors(tmp_path: Path) -> None:
    write_raw(tmp_path / "rgb.0001.exr", np.ones((4, 4, 3)), ("R", "G", "B"))
    with pytest.raises(InputError, match=r"frame 1 .*rgb\.0001\.exr.*lacks alpha"):
        read_exr_sequence(tmp_path / "rgb.####.exr")
    write_raw(tmp_path / "y.0001.exr", np.ones((4, 4, 1)), ("Y",))
    with pytest.raises(InputError, match="1 channels"):
        read_exr_sequence(tmp_path / "y.####.exr")
    # Extra channels (AOVs) are fine: R,G,B,A are picked by name, in any order.
    pixels = np.zeros((4, 4, 5), np.float16)
    pixels[..., 0], pixels[..., 1], pixels[..., 4] = 0.5, 0.25, 7.0  # A, B, Z
    write_raw(tmp_path / "aov.0001.exr", pixels, ("A", "B", "G", "R", "Z"))
    back = read_exr_sequence(tmp_path / "aov.####.exr")
    np.testing.assert_allclose(back.alpha, 0.5)


def test_corrupt_frame_is_named(tmp_path: Path) -> None:
    write_exr_sequence(make_clip(frames=2), tmp_path)
    (tmp_path / "shot.1002.exr").write_bytes(b"not an exr")
    with pytest.raises(InputError, match=r"frame 1002 \(.*shot\.1002\.exr\)"):
        read_exr_sequence(tmp_path / "shot.####.exr")


def test_output_is_a_file(tmp_path: Path) -> None:
    from vfxgen.errors import OutputError

    (tmp_path / "taken").write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        write_exr_sequence(make_clip(frames=1), tmp_path / "taken")


def test_cropped_data_window_lands_in_display_window(tmp_path: Path) -> None:
    """Nuke writes only the bbox; pixels outside it are transparent black."""
    path = tmp_path / "crop.0001.exr"
    spec = oiio.ImageSpec(2, 2, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.x, spec.y = 3, 1
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, 6, 4
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(np.ones((2, 2, 4), np.float16)), out.geterror()
    out.close()
    clip = read_exr_sequence(tmp_path / "crop.####.exr")
    assert clip.frames.shape == (1, 4, 6, 4)
    expected = np.zeros((4, 6))
    expected[1:3, 3:5] = 1.0
    np.testing.assert_array_equal(clip.alpha[0], expected)


def test_metadata_encoding(tmp_path: Path) -> None:
    clip = make_clip(frames=1).with_metadata(
        versions={"vfxgen": "0.1.0", "torch": "2.5"}, steps=50, frames_list=list(range(100)), note=None
    )
    header = read_exr_header(write_exr_sequence(clip, tmp_path, metadata={"studio/shot": "sq010"})[0])
    assert header["vfxgen/versions"] == '{"vfxgen": "0.1.0", "torch": "2.5"}'
    assert header["vfxgen/steps"] == "50"
    assert header["studio/shot"] == "sq010"
    assert "vfxgen/frames_list" not in header and "vfxgen/note" not in header
    assert header["vfxgen/version"] == "0.1.0"  # always present
