"""The format table knows the shot layout: one `register_writer` call puts a new format into shots, `shot.json`,
the shot readers (`read_clip`, and `load_element`, what `vfxgen qc` reads) and the `--format` help, with no
other change. The formats here are built on vfxgen's own codecs and written to real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import vfxgen.io.registry as registry
from tests.test_format_plugins import _install_plugin, _vfxgen
from vfxgen.clip import Clip
from vfxgen.io import Writer, WriteSettings, read_clip, register_writer
from vfxgen.io.delivered import load_element
from vfxgen.io.images import write_png_sequence
from vfxgen.io.manifest import read_manifest
from vfxgen.io.registry import formats_help, shot_conventions
from vfxgen.io.video import stream_frame_rate, write_webm
from vfxgen.qc import qc_source
from vfxgen.shot import ShotOptions, write_shot


def _write_mkv(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    """VP9 with alpha in a Matroska file (WebM is a Matroska profile): a movie format on an existing codec."""
    return [write_webm(clip, path)]


def _mkv_conventions(settings: WriteSettings) -> dict[str, Any]:
    return {"codec": "vp9", "alpha": "straight", "transfer": "srgb-encoded"}


def _write_frames(clip: Clip, directory: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    """16-bit PNG frames kept in `frames/`: an image-sequence format in a sub-folder of its own."""
    return write_png_sequence(clip, directory, name or directory.name, settings.start_frame)


MKV = Writer(
    "mkv",
    "file",
    ".mkv",
    "Matroska",
    _write_mkv,
    shot_file="{name}_vp9.mkv",
    read_as="movie",
    stated_fps=stream_frame_rate,
    conventions=_mkv_conventions,
    help="VP9 with alpha in Matroska",
)
FRAMES = Writer(
    "frames",
    "sequence",
    ".png",
    "PNG frames",
    _write_frames,
    shot_file="frames/{name}.####.png",
    read_as="sequence",
    help="16-bit PNG frames in frames/",
)

PLUGIN = '''
"""A facility's movie format: VP9 with alpha in Matroska, declaring its place in a shot."""
from vfxgen.io.registry import Writer, register_writer
from vfxgen.io.video import stream_frame_rate, write_webm


def write_mkv(clip, path, name, settings):
    return [write_webm(clip, path)]


register_writer(
    Writer("mkv", "file", ".mkv", "Matroska", write_mkv, shot_file="{name}_vp9.mkv", read_as="movie",
           stated_fps=stream_frame_rate, help="VP9 with alpha in Matroska")
)
'''


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two formats registered on a copy of the table (the real one is left alone)."""
    monkeypatch.setattr(registry, "_WRITERS", dict(registry._WRITERS))
    register_writer(MKV)
    register_writer(FRAMES)


def _disc(frames: int = 3, size: int = 32) -> Clip:
    """A soft orange disc moving right: smooth enough for VP9 to keep it close."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    rgba = np.zeros((frames, size, size, 4), np.float32)
    for t in range(frames):
        rgba[t, ..., :3] = (1.0, 0.55, 0.2)
        rgba[t, ..., 3] = np.clip(1.0 - (np.hypot(x - 12 - 2 * t, y - 16) - 7) / 4, 0.0, 1.0)
    return Clip(rgba, 24.0, {"prompt": "disc"})


def test_a_registered_movie_format_is_written_listed_read_back_and_checked(tmp_path: Path, table: None) -> None:
    clip = _disc()
    shot = tmp_path / "elem"
    write_shot(clip, shot, ShotOptions(formats=("mkv",)))

    manifest = read_manifest(shot)
    assert manifest["files"] == {"mkv": "elem_vp9.mkv"} and (shot / "elem_vp9.mkv").is_file()
    assert manifest["conventions"]["mkv"] == _mkv_conventions(WriteSettings())
    back = read_clip(shot)
    np.testing.assert_array_equal(back.pixels, read_clip(shot / "elem_vp9.mkv").pixels)
    assert back.pixels.shape == clip.pixels.shape and back.fps == 24.0 and back.metadata["shot"] == str(shot)
    assert np.abs(back.pixels - clip.pixels).mean() < 0.02
    element = load_element(shot)
    assert element.rates == {"mkv": 24.0} and element.problems == [] and element.frames == 3
    check = next(c for c in qc_source(shot, flow=False).checks if c.name == "manifest")
    assert check.status == "pass" and "(mkv)" in check.detail


def test_qc_reports_a_registered_formats_rate_and_its_missing_file(tmp_path: Path, table: None) -> None:
    shot = tmp_path / "elem"
    write_shot(_disc(), shot, ShotOptions(formats=("exr", "mkv")))
    manifest = read_manifest(shot)
    (shot / "shot.json").write_text(json.dumps({**manifest, "fps": 25.0}))
    check = next(c for c in qc_source(shot, flow=False).checks if c.name == "manifest")
    assert "fps 25 in shot.json, 24 in mkv" in check.detail and "24 in exr header" in check.detail

    (shot / "elem_vp9.mkv").unlink()
    element = load_element(shot)
    assert "mkv" not in element.rates and "listed mkv file elem_vp9.mkv missing" in element.problems


def test_a_registered_sequence_format_is_read_back_with_or_without_its_manifest(tmp_path: Path, table: None) -> None:
    clip = _disc()
    shot = tmp_path / "elem"
    write_shot(clip, shot, ShotOptions(formats=("frames", "preview")))

    files = read_manifest(shot)["files"]
    assert files["frames"] == [f"frames/elem.{n}.png" for n in (1001, 1002, 1003)]
    back = read_clip(shot)
    np.testing.assert_allclose(back.pixels, clip.pixels, atol=1e-4)
    element = load_element(shot)
    assert element.frames == 3 and element.first_frame == 1001 and element.problems == []
    (shot / "shot.json").unlink()  # a shot that lost its manifest: its frames are found in frames/
    np.testing.assert_array_equal(read_clip(shot).pixels, back.pixels)


def test_a_format_not_in_the_shot_adds_no_conventions_and_the_built_in_ones_stay(tmp_path: Path, table: None) -> None:
    manifest = write_shot(_disc(), tmp_path / "elem", ShotOptions(formats=("exr",)))
    assert list(manifest["conventions"]) == ["exr", "prores", "png"]  # schema vfxgen.shot/1 always has these
    settings = WriteSettings(compression="piz", colorspace="ACEScg", alpha="premultiplied")
    want = {
        "exr": {
            "colorspace": "lin_ap1_scene",
            "ocio_name": "ACEScg",
            "alpha": "premultiplied",
            "pixel_type": "half",
            "channels": "R,G,B,A",
            "compression": "piz",
        },
        "prores": {"profile": "4444", "alpha": "premultiplied", "matrix": "bt709", "transfer": "srgb-encoded"},
        "png": {"bit_depth": 16, "alpha": "straight", "colorspace": "srgb_rec709_scene"},
    }
    assert json.dumps(shot_conventions(["exr"], settings)) == json.dumps(want)  # key order too: shot.json bytes


def test_the_format_help_lists_the_table(table: None) -> None:
    assert formats_help(shot=True) == (
        "exr, nk (Nuke script), prores, png, webm, preview, contact, mkv (VP9 with alpha in Matroska), "
        "frames (16-bit PNG frames in frames/)"
    )
    assert formats_help(shot=False).endswith(
        ", contact, mkv (VP9 with alpha in Matroska) or frames (16-bit PNG frames in frames/)"
    )


def test_an_installed_plugin_format_is_in_the_cli_help(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install_plugin(site, "vfxgen_mkv_plugin", PLUGIN)
    for command in ("export", "composite"):
        result = _vfxgen(site, command, "--help")
        assert result.returncode == 0, result.stderr
        assert "mkv (VP9 with alpha in Matroska)" in " ".join(result.stdout.split()), command


def test_a_read_back_that_cannot_match_the_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be read back as a 'movie'"):
        register_writer(Writer("bad", "sequence", ".png", "bad", _write_frames, read_as="movie"))
    with pytest.raises(ValueError, match="read_as must be"):
        register_writer(Writer("bad", "file", ".mkv", "bad", _write_mkv, read_as="clip"))
    with pytest.raises(ValueError, match="read_stored reads frames"):
        register_writer(Writer("bad", "file", ".mkv", "bad", _write_mkv, read_stored=lambda sequence: None))
    assert "bad" not in registry._WRITERS
