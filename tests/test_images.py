"""PNG sequences (straight alpha, 16 and 8 bit), stills, and the contact sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxgen.clip import Clip
from vfxgen.color import linear_to_srgb
from vfxgen.errors import InputError
from vfxgen.io.contact import write_contact_sheet
from vfxgen.io.exr import write_exr_sequence
from vfxgen.io.images import read_image, read_png_sequence, write_png, write_png_sequence


def write_raw_png(path: Path, pixels: np.ndarray) -> None:
    """An integer PNG written straight by OIIO, as another tool would."""
    height, width, channels = pixels.shape
    spec = oiio.ImageSpec(width, height, channels, "uint8" if pixels.dtype == np.uint8 else "uint16")
    spec.attribute("oiio:UnassociatedAlpha", 1)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels), out.geterror()
    out.close()


def raw_uint16(path: Path) -> np.ndarray:
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    assert inp is not None, oiio.geterror()
    assert str(inp.spec().format) == "uint16" and inp.spec().nchannels == 4
    pixels = inp.read_image(0, 0, 0, 4, "uint16")
    inp.close()
    return pixels


def seeded_clip(frames: int = 3, height: int = 16, width: int = 20) -> Clip:
    rng = np.random.default_rng(3)
    return Clip(rng.random((frames, height, width, 4), dtype=np.float32), 12.0)


def test_png16_round_trip_straight(tmp_path: Path) -> None:
    frames = seeded_clip().frames.copy()
    frames[0, 0, 0] = (0.8, 0.8, 0.8, 0.5)  # straight colour must stay 0.8, not become 0.4
    frames[0, 0, 1] = (0.3, 0.6, 0.9, 0.0)  # colour under alpha 0: the canonical clip is premultiplied, so 0
    clip = Clip(frames, 12.0)
    paths = write_png_sequence(clip, tmp_path)
    assert [p.name for p in paths] == ["shot.1001.png", "shot.1002.png", "shot.1003.png"]
    raw = raw_uint16(paths[0])
    assert tuple(raw[0, 0]) == (52428, 52428, 52428, 32768)  # round(0.8 * 65535), round(0.5 * 65535)
    back = read_png_sequence(tmp_path / "shot.####.png")
    assert back.fps == 8.0
    np.testing.assert_allclose(back.frames, clip.frames, atol=0.5 / 65535 + 1e-7)
    np.testing.assert_allclose(back.frames[0, 0, 0], (0.8, 0.8, 0.8, 0.5), atol=1 / 65535)
    np.testing.assert_allclose(back.frames[0, 0, 1], (0, 0, 0, 0), atol=1 / 65535)


def test_png_clamps_out_of_range(tmp_path: Path) -> None:
    frames = np.full((1, 2, 2, 4), 1.7, np.float32)
    frames[..., 0] = -0.2
    clip = Clip(frames)
    raw = raw_uint16(write_png_sequence(clip, tmp_path)[0])
    assert (raw[..., 0] == 0).all() and (raw[..., 1:] == 65535).all()


def test_png8_rgba_and_grey_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[...] = (204, 102, 51, 128)
    for frame in (1, 2):
        write_raw_png(tmp_path / f"eight.{frame:04d}.png", rgba)
    clip = read_png_sequence(tmp_path / "eight.####.png", fps=24)
    assert clip.frames.shape == (2, 2, 3, 4) and clip.fps == 24.0
    np.testing.assert_allclose(clip.frames[0, 0, 0], np.array([204, 102, 51, 128]) / 255, atol=1e-7)
    write_raw_png(tmp_path / "ya.0001.png", np.full((2, 2, 2), 51, np.uint8))
    np.testing.assert_allclose(
        read_png_sequence(tmp_path / "ya.####.png").frames[0, 0, 0], [0.2] * 4, atol=1e-7
    )


def test_png_without_alpha(tmp_path: Path) -> None:
    write_raw_png(tmp_path / "rgb.0001.png", np.full((2, 2, 3), 255, np.uint8))
    write_raw_png(tmp_path / "rgb.0002.png", np.full((2, 2, 3), 0, np.uint8))
    with pytest.raises(InputError, match=r"frame 1 \(.*rgb\.0001\.png\) has no alpha"):
        read_png_sequence(tmp_path / "rgb.####.png")
    clip = read_png_sequence(tmp_path / "rgb.####.png", require_alpha=False)
    assert (clip.alpha == 1).all() and (clip.rgb[0] == 1).all() and (clip.rgb[1] == 0).all()
    write_raw_png(tmp_path / "grey.0001.png", np.full((2, 2, 1), 255, np.uint8))
    assert read_png_sequence(tmp_path / "grey.#.png", require_alpha=False).frames.shape == (1, 2, 2, 4)


def test_png_frame_size_mismatch_is_named(tmp_path: Path) -> None:
    write_raw_png(tmp_path / "s.0001.png", np.zeros((2, 2, 4), np.uint8))
    write_raw_png(tmp_path / "s.0002.png", np.zeros((3, 2, 4), np.uint8))
    with pytest.raises(InputError, match=r"frame 2 \(.*s\.0002\.png\) is 2x3, frame 1 is 2x2"):
        read_png_sequence(tmp_path / "s.####.png")


def test_read_image_stills(tmp_path: Path) -> None:
    clip = seeded_clip(frames=1)
    exr = write_exr_sequence(clip, tmp_path / "exr")[0]
    still = read_image(exr)  # linear premultiplied on disk -> straight sRGB
    visible = clip.alpha[0] > 0.05
    assert still.shape == (16, 20, 4) and still.dtype == np.float32
    np.testing.assert_allclose(still[visible], clip.frames[0][visible], atol=0.02)
    png = write_png_sequence(clip, tmp_path / "png")[0]
    np.testing.assert_allclose(read_image(png), clip.frames[0], atol=1 / 65535)
    write_raw_png(tmp_path / "grey.png", np.full((2, 2, 1), 255, np.uint8))
    assert read_image(tmp_path / "grey.png").shape == (2, 2, 3)
    jpg = tmp_path / "plate.jpg"
    write_png(jpg, np.full((8, 8, 3), 0.5))
    np.testing.assert_allclose(read_image(jpg), 128 / 255, atol=2 / 255)
    with pytest.raises(InputError, match="does not exist"):
        read_image(tmp_path / "nope.png")


def test_read_image_linear_tiff(tmp_path: Path) -> None:
    path = tmp_path / "lin.tif"
    spec = oiio.ImageSpec(2, 2, 3, "float")
    out = oiio.ImageOutput.create(str(path))  # TIFF keeps no colour space: float means linear
    assert out.open(str(path), spec) and out.write_image(np.full((2, 2, 3), 0.18, np.float32))
    out.close()
    np.testing.assert_allclose(read_image(path), linear_to_srgb(np.float32(0.18)), atol=1e-6)


def test_write_png_8bit(tmp_path: Path) -> None:
    path = write_png(tmp_path / "sub" / "plot.png", np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4))
    inp = oiio.ImageInput.open(str(path))
    assert str(inp.spec().format) == "uint8" and inp.spec().nchannels == 1
    assert inp.read_image(0, 0, 0, 1, "uint8")[2, 3, 0] == 255
    inp.close()


def test_contact_sheet(tmp_path: Path) -> None:
    frames = np.zeros((10, 24, 32, 4), np.float32)
    frames[..., 0] = 1.0  # red
    frames[:, :, 16:, 3] = 1.0  # right half opaque, left half transparent
    clip = Clip(frames)
    path = write_contact_sheet(clip, tmp_path / "contact.png", max_frames=6, columns=3, gap=4)
    assert path.exists()
    inp = oiio.ImageInput.open(str(path))
    spec = inp.spec()
    sheet = inp.read_image(0, 0, 0, 3, "uint8")
    inp.close()
    th, tw = 24 * 4, 32 * 4  # a tiny clip is enlarged by a whole factor to a 128 px tile: legible, blocks kept
    assert (spec.width, spec.height, spec.nchannels) == (3 * (tw + 4) + 4, 2 * (2 * th + 2 * 4) + 4, 3)
    colour = sheet[4 : 4 + th, 4 : 4 + tw].astype(int)
    alpha = sheet[4 + th + 4 : 4 + 2 * th + 4, 4 : 4 + tw].astype(int)
    assert (alpha[:, : tw // 2] == 0).all() and (alpha[:, tw // 2 :] == 255).all()  # the matte, as grey
    assert (colour[40:, tw // 2 :, 0] == 255).all() and (colour[40:, tw // 2 :, 1] == 0).all()  # below the label
    left = colour[40:, : tw // 2]  # checkerboard where alpha is 0: grey, not red
    assert (left[..., 0] == left[..., 1]).all() and len(np.unique(left[..., 0])) == 2
