"""The canonical clip is premultiplied scene-linear: what an EXR holds survives every command.

Real files through the CLI: an EXR whose premultiplied RGB is > 0 where alpha is 0 (additive glow,
legitimate in EXR) keeps that light through `export` and `composite`, and EXR -> EXR is bit-exact in half.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.io import read_clip
from vfxgen.io.images import write_png

runner = CliRunner()


def write_half_exr(path: Path, pixels: np.ndarray) -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], 4, oiio.HALF)
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("oiio:ColorSpace", "lin_rec709_scene")
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels.astype(np.float16))
    out.close()


def read_half(path: Path) -> np.ndarray:
    image = oiio.ImageInput.open(str(path))
    pixels = image.read_image(format=oiio.HALF)
    image.close()
    return pixels


@pytest.fixture
def glow_sequence(tmp_path) -> tuple[Path, np.ndarray]:
    """3 frames of HDR premultiplied RGBA in half, with emission (RGB 0.5, A 0) in the left column."""
    rng = np.random.default_rng(5)
    frames = []
    for _ in range(3):
        alpha = rng.random((8, 12, 1), dtype=np.float32)
        rgb = rng.random((8, 12, 3), dtype=np.float32) * 4.0 * alpha  # HDR, premultiplied
        pixels = np.concatenate([rgb, alpha], axis=-1)
        pixels[:, 0] = (0.5, 0.25, 0.125, 0.0)  # light with no coverage
        frames.append(pixels.astype(np.float16))
    folder = tmp_path / "in"
    folder.mkdir()
    for i, pixels in enumerate(frames):
        write_half_exr(folder / f"glow.{1001 + i}.exr", pixels)
    return folder / "glow.####.exr", np.stack(frames)


def test_exr_to_exr_is_bit_exact_in_half_and_keeps_emission(glow_sequence, tmp_path):
    pattern, written = glow_sequence
    result = runner.invoke(app, ["export", str(pattern), "-o", str(tmp_path / "out"), "--format", "exr"])
    assert result.exit_code == 0, result.output
    back = np.stack([read_half(p) for p in sorted((tmp_path / "out").glob("*.exr"))])
    assert back.dtype == np.float16 and np.array_equal(back.view(np.uint16), written.view(np.uint16))
    assert (back[:, :, 0, :3] > 0).all() and (back[:, :, 0, 3] == 0).all()


def test_emission_at_alpha_zero_adds_onto_the_plate_in_composite(glow_sequence, tmp_path):
    pattern, written = glow_sequence
    plate = tmp_path / "plate.png"
    write_png(plate, np.zeros((8, 12, 3), np.float32))
    out = tmp_path / "comp"
    result = runner.invoke(
        app, ["composite", str(pattern), "--over", str(plate), "-o", str(out), "--format", "exr", "--no-nk"]
    )
    assert result.exit_code == 0, result.output
    comp = np.stack([read_half(p) for p in sorted(out.glob("*.exr"))]).astype(np.float32)
    # Over a black plate, "over" is the premultiplied element itself: glow included, alpha now 1.
    np.testing.assert_allclose(comp[..., :3], written[..., :3].astype(np.float32), rtol=1e-3, atol=1e-3)
    assert comp[:, :, 0, 0].min() > 0.49 and (comp[..., 3] == 1).all()


def test_clip_holds_premultiplied_linear_and_gives_straight_views():
    straight = np.array([[[[0.5, 0.2, 1.0, 0.5]]]], np.float32)
    clip = Clip(straight)
    from vfxgen.color import srgb_to_linear

    np.testing.assert_allclose(clip.pixels[..., :3], srgb_to_linear(straight[..., :3]) * 0.5, rtol=1e-6)
    np.testing.assert_allclose(clip.frames, straight, atol=1e-7)
    assert clip.colorspace == "lin_rec709_scene"
    with pytest.raises(ValueError):
        clip.frames[..., 0] = 0  # a view: edit pixels, or build a new clip
    glow = Clip(pixels=np.array([[[[0.5, 0.5, 0.5, 0.0]]]], np.float32))
    assert glow.pixels[0, 0, 0, 0] == 0.5 and glow.frames[0, 0, 0, 0] == 0.0  # straight view: no coverage


def test_read_clip_keeps_the_exr_pixels(glow_sequence):
    pattern, written = glow_sequence
    clip = read_clip(pattern)
    assert np.array_equal(clip.pixels, written.astype(np.float32))
