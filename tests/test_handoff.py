"""Facility hand-off: OCIO colour spaces in EXR, the Nuke script per shot and per comp, shots.otio.

Independent checks: EXR pixels against OpenImageIO's own `colorconvert` and the published ACES matrix;
`.nk` files parsed with `nkparser` (PyPI); `shots.otio` read with `opentimelineio`.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import av
import nkparser
import numpy as np
import OpenImageIO as oiio
import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.errors import UsageError
from vfxgen.io.exr import read_exr_header, read_exr_sequence, write_exr_sequence
from vfxgen.io.otio import write_timeline
from vfxgen.qc import qc_source
from vfxgen.shot import ShotOptions, write_shot

runner = CliRunner()
AP1 = (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767)
# ACES TB-2014-004 / aces-dev: lin Rec.709 (D65) -> ACEScg (AP1, D60), Bradford; the column of pure red.
REC709_RED_IN_AP1 = (0.6131, 0.0701, 0.0206)


def make_clip(frames: int = 5, fps: float = 24.0) -> Clip:
    rng = np.random.default_rng(3)
    rgba = rng.random((frames, 16, 24, 4), dtype=np.float32)
    rgba[:, :3, :, 3] = 0.0
    rgba[:, :3, :, :3] = 0.0
    rgba[:, 3:6, :, 3] = 1.0
    rgba[0, 4, 0] = (1.0, 0.0, 0.0, 1.0)  # pure red, opaque
    return Clip(rgba, fps, {"prompt": "test"})


def nk_unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


@pytest.fixture(scope="module")
def acescg_shot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Clip, Path]:
    clip = make_clip(fps=23.976)
    path = tmp_path_factory.mktemp("handoff") / "elem"
    write_shot(clip, path, ShotOptions(formats=("exr", "nk", "prores"), colorspace="ACEScg"))
    return clip, path


def test_acescg_exr_against_oiio_and_the_aces_matrix(acescg_shot) -> None:
    clip, shot = acescg_shot
    frame = shot / "rgba" / "elem.1001.exr"
    header = read_exr_header(frame)
    assert header["colorInteropID"] == "lin_ap1_scene"
    np.testing.assert_allclose(header["chromaticities"], AP1, atol=1e-6)
    buf = oiio.ImageBuf(str(frame))
    assert buf.spec().get_string_attribute("oiio:ColorSpace") == "lin_ap1_scene"
    rgb = oiio.ImageBufAlgo.channels(buf, (0, 1, 2))
    back = oiio.ImageBufAlgo.colorconvert(rgb, "lin_ap1_scene", "lin_rec709_scene", False)  # OIIO's own path
    assert not back.has_error, back.geterror()
    expected = clip.to_linear_premultiplied()[0]
    np.testing.assert_allclose(back.get_pixels("float")[..., :3], expected[..., :3], atol=2e-3, rtol=2e-3)
    pixels = buf.get_pixels("float")
    np.testing.assert_allclose(pixels[4, 0, :3], REC709_RED_IN_AP1, atol=1e-3)  # known answer
    np.testing.assert_array_equal(pixels[..., 3], expected[..., 3].astype(np.float16))  # alpha untouched
    assert not pixels[:3, :, :3].any()  # alpha 0 still means colour 0


def test_acescg_reads_back_and_exports_to_rec709(acescg_shot, tmp_path: Path) -> None:
    clip, shot = acescg_shot
    back = read_exr_sequence(shot / "rgba" / "elem.####.exr")
    visible = clip.alpha > 0.05
    np.testing.assert_allclose(back.rgb[visible], clip.rgb[visible], atol=0.02)
    out = tmp_path / "rec709"
    result = runner.invoke(app, ["export", str(shot), "-o", str(out), "--format", "exr"])
    assert result.exit_code == 0, result.output
    header = read_exr_header(out / "rec709.1001.exr")
    assert header["colorspace"] == "lin_rec709_scene"
    np.testing.assert_allclose(read_exr_sequence(out).rgb[visible], clip.rgb[visible], atol=0.02)


def test_colorspace_errors(tmp_path: Path) -> None:
    clip = make_clip(frames=1)
    with pytest.raises(UsageError, match="not scene-linear"):
        write_exr_sequence(clip, tmp_path, colorspace="ARRI LogC4")
    with pytest.raises(UsageError, match="unknown colour space"):
        write_exr_sequence(clip, tmp_path, colorspace="ACEScgg")
    with pytest.raises(UsageError, match="reads the EXR"):
        ShotOptions(formats=("nk", "preview")).checked()
    result = runner.invoke(app, ["export", "x.mov", "-o", str(tmp_path / "o.mov"), "--colorspace", "ACEScg"])
    assert result.exit_code in (2, 3)


def test_shot_nuke_script_parses_and_matches_the_files(acescg_shot) -> None:
    clip, shot = acescg_shot
    manifest = json.loads((shot / "shot.json").read_text())
    assert manifest["files"]["nk"] == "elem.nk"
    assert manifest["conventions"]["exr"]["colorspace"] == "lin_ap1_scene"
    assert manifest["conventions"]["exr"]["ocio_name"] == "ACEScg"
    script = nkparser.Script.from_file(shot / "elem.nk")
    assert script.diagnostics == [] and not script.errors()
    assert script.nuke_version == "14.0 v1"
    root = script.root()
    read = script.find("Read_elem")
    assert read.class_name == "Read"
    pattern = read.get_string("file")
    assert pattern == "rgba/elem.####.exr"
    first, last = int(read.get("first")), int(read.get("last"))
    assert (first, last) == (1001, 1005)
    for number in range(first, last + 1):  # the pattern, expanded as Nuke does, names every frame on disk
        assert (shot / pattern.replace("####", f"{number:04d}")).is_file()
    assert read.get_string("colorspace") == "ACEScg"
    assert read.get("premultiplied") == "true"
    assert nk_unescape(root.get_string("project_directory")) == "[python {nuke.script_directory()}]"
    assert (int(root.get("first_frame")), int(root.get("last_frame"))) == (1001, 1005)
    # One delivery rate everywhere: manifest, EXR header, ProRes stream, Nuke Root.
    assert manifest["fps"] == pytest.approx(24000 / 1001, abs=1e-9)  # 23.976 typed: the exact NTSC rate
    assert read_exr_header(shot / "rgba/elem.1001.exr")["FramesPerSecond"] == (24000, 1001)
    with av.open(str(shot / "elem_prores4444.mov")) as movie:
        assert movie.streams.video[0].average_rate == Fraction(24000, 1001)
    assert float(root.get("fps")) == pytest.approx(24000 / 1001, abs=1e-7)
    qc = {c.name: c for c in qc_source(shot, flow=False).checks}
    assert qc["manifest"].status == "pass" and set(qc["manifest"].data["rates"]) == {
        "exr header",
        "prores",
        "nuke script",
    }


def test_composite_writes_a_merge_over_the_plate(acescg_shot, tmp_path: Path) -> None:
    clip, shot = acescg_shot
    plate = tmp_path / "plates" / "my plate [v1].exr"  # a name that needs Tcl quoting
    plate.parent.mkdir()
    spec = oiio.ImageSpec(24, 16, 3, "half")
    spec.attribute("oiio:ColorSpace", "ACEScg")
    out = oiio.ImageOutput.create(str(plate))
    grey_ap1 = np.full((16, 24, 3), 0.18, np.float16)
    assert out.open(str(plate), spec) and out.write_image(grey_ap1), out.geterror()
    out.close()
    comp = tmp_path / "comp" / "comp.####.exr"
    args = ["composite", str(shot), "--over", str(plate), "-o", str(comp), "--plate-colorspace", "ACEScg"]
    result = runner.invoke(app, [*args, "--colorspace", "ACEScg", "--json"])
    assert result.exit_code == 0, result.output
    nk = Path(json.loads(result.stdout)["nk"])
    assert nk == tmp_path / "comp" / "comp.nk"
    script = nkparser.Script.from_file(nk)
    assert script.diagnostics == [] and not script.errors()
    merge = script.find("Merge_over")
    assert merge.get("operation") == "over"
    b, a = merge.inputs  # nkparser's stack model: first pushed is input 0 (B)
    assert (b.name, a.name) == ("Read_plate", "Read_element")
    assert nk_unescape(b.get_string("file")) == plate.as_posix()
    assert b.get_string("colorspace") == "ACEScg"
    assert nk_unescape(a.get_string("file")) == (shot / "rgba" / "elem.####.exr").as_posix()
    # Where the element is transparent the comp is the plate: ACEScg grey in, ACEScg grey out.
    frame = oiio.ImageBuf(str(tmp_path / "comp" / "comp.1001.exr")).get_pixels("float")
    np.testing.assert_allclose(frame[:3, :, :3], 0.18, atol=2e-3)
    again = runner.invoke(app, [*args, "--colorspace", "ACEScg"])
    assert again.exit_code == 4  # output and script exist: nothing replaced without --overwrite
    (tmp_path / "comp2.nk").mkdir()  # a user's folder where the movie's script would go
    (tmp_path / "comp2.nk" / "notes.txt").write_text("mine")
    movie = ["composite", str(shot), "--over", str(plate), "-o", str(tmp_path / "comp2.mp4"), "--overwrite"]
    refused = runner.invoke(app, movie)
    assert refused.exit_code == 5 and "is a folder" in refused.output, refused.output
    assert (tmp_path / "comp2.nk" / "notes.txt").read_text() == "mine" and not (tmp_path / "comp2.mp4").exists()


def test_shots_otio_reads_back(tmp_path: Path) -> None:
    shots = []
    for index, fps in enumerate((24.0, 23.976)):
        path = tmp_path / f"shot{index}"
        write_shot(make_clip(frames=3 + index, fps=fps), path, ShotOptions(formats=("exr",), start_frame=1001))
        shots.append(path)
    timeline = otio.adapters.read_from_file(str(write_timeline(tmp_path, shots)))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["shot0", "shot1"]
    for clip, path, frames, rate in zip(clips, shots, (3, 4), (24.0, 24000 / 1001), strict=True):
        ref = clip.media_reference
        assert isinstance(ref, otio.schema.ImageSequenceReference)
        assert (ref.start_frame, ref.frame_zero_padding, ref.name_prefix, ref.name_suffix) == (
            1001,
            4,
            f"{path.name}.",
            ".exr",
        )
        assert ref.rate == pytest.approx(rate)
        assert clip.source_range.duration.value == frames
        assert clip.source_range.start_time.value == 1001
        for number in range(ref.number_of_images_in_sequence()):
            url = ref.target_url_for_image_number(number)
            assert Path(url.removeprefix("file://")).is_file()
        assert clip.metadata["vfxgen"]["prompt"] == "test"
