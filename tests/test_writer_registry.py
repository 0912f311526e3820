"""One writer path: a format registered once in `io/registry.py` is offered by `write_clip` and by shots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import vfxgen.io.registry as registry
from vfxgen.clip import Clip
from vfxgen.errors import UsageError
from vfxgen.io import Writer, WriteSettings, register_writer, write_clip, writer_for
from vfxgen.io.manifest import read_manifest
from vfxgen.shot import ShotOptions, write_shot


def _clip(frames: int = 3) -> Clip:
    rng = np.random.default_rng(7)
    rgba = rng.random((frames, 8, 16, 4), dtype=np.float32)
    return Clip(rgba, fps=24.0, metadata={"prompt": "test"})


def _write_npy(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    """A format added by a pipeline TD: the premultiplied pixels as one .npy (atomic like every writer)."""
    from vfxgen.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, clip.pixels)
    return [path]


@pytest.fixture
def npy_writer(monkeypatch: pytest.MonkeyPatch) -> Writer:
    monkeypatch.setattr(registry, "_WRITERS", dict(registry._WRITERS))  # leave the real table alone
    return register_writer(Writer("npy", "file", ".npy", "NumPy", _write_npy, shot_file="{name}_pixels.npy"))


def test_one_registration_reaches_export_and_shots(tmp_path: Path, npy_writer: Writer) -> None:
    clip = _clip()
    (written,) = write_clip(clip, tmp_path / "pixels.npy", "npy")
    np.testing.assert_array_equal(np.load(written), clip.pixels)

    manifest = write_shot(clip, tmp_path / "elem", ShotOptions(formats=("exr", "npy")))
    assert manifest["files"]["npy"] == "elem_pixels.npy"
    np.testing.assert_array_equal(np.load(tmp_path / "elem" / "elem_pixels.npy"), clip.pixels)
    assert read_manifest(tmp_path / "elem")["files"]["exr"][0] == "rgba/elem.1001.exr"


def test_a_setting_for_another_format_is_refused_in_one_line(tmp_path: Path, npy_writer: Writer) -> None:
    with pytest.raises(UsageError, match="--compression applies to EXR only, not npy"):
        write_clip(_clip(), tmp_path / "p.npy", "npy", compression="piz")
    with pytest.raises(UsageError, match="--alpha premultiplied applies to ProRes only"):
        write_clip(_clip(), tmp_path / "p.npy", "npy", alpha="premultiplied")
    assert not (tmp_path / "p.npy").exists()


def test_shot_settings_reach_only_the_formats_they_apply_to(tmp_path: Path) -> None:
    options = ShotOptions(formats=("exr", "nk", "prores", "contact"), compression="piz", colorspace="ACEScg")
    manifest = write_shot(_clip(), tmp_path / "elem", options)
    assert set(manifest["files"]) == {"exr", "nk", "prores", "contact"}
    assert manifest["conventions"]["exr"]["compression"] == "piz"
    assert (tmp_path / "elem" / manifest["files"]["nk"]).read_text().count("ACEScg") >= 1


def test_shot_only_formats_are_not_offered_standalone(tmp_path: Path) -> None:
    assert writer_for("nk", shot=True).requires == ("exr",)
    with pytest.raises(UsageError, match="unknown output format 'nk'"):
        write_clip(_clip(), tmp_path / "a.nk", "nk")


def test_registering_a_taken_name_needs_replace(npy_writer: Writer) -> None:
    with pytest.raises(ValueError, match="already"):
        register_writer(npy_writer)
    assert register_writer(npy_writer, replace=True) is npy_writer


def test_shot_manifest_lists_every_file_in_the_shot(tmp_path: Path) -> None:
    manifest = write_shot(_clip(), tmp_path / "elem", ShotOptions(formats=("exr", "nk", "png", "webm", "preview")))
    listed = {Path(p).parts[0] for v in manifest["files"].values() for p in (v if isinstance(v, list) else [v])}
    on_disk = {p.name for p in (tmp_path / "elem").iterdir()} - {"shot.json"}
    assert listed == on_disk
    assert json.loads((tmp_path / "elem" / "shot.json").read_text()) == manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


@pytest.mark.parametrize("name", ["shot#3", "fx@v2", "take%d"])
def test_a_shot_name_with_frame_tokens_is_refused(tmp_path: Path, name: str) -> None:
    """Such a name would become `rgba/shot#3.####.exr`, which no reader (vfxgen, Nuke) can take apart."""
    with pytest.raises(UsageError, match="frame numbers"):
        write_shot(_clip(2), tmp_path / name, ShotOptions(formats=("exr", "nk")))
    with pytest.raises(UsageError, match="frame numbers"):
        write_shot(_clip(2), tmp_path / "ok", ShotOptions(formats=("exr",), name=name))
    assert list(tmp_path.iterdir()) == []


def test_a_shot_only_writer_is_written_in_shots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_WRITERS", dict(registry._WRITERS))
    register_writer(Writer("npy", "file", ".npy", "NumPy", _write_npy, shot_file="{name}.npy", standalone=False))
    assert write_shot(_clip(), tmp_path / "s", ShotOptions(formats=("exr", "npy")))["files"]["npy"] == "s.npy"
    with pytest.raises(UsageError, match="unknown output format 'npy'"):
        write_clip(_clip(), tmp_path / "p.npy", "npy")


def test_a_pattern_adds_frames_to_an_existing_empty_folder_without_replacing_it(tmp_path: Path) -> None:
    folder = tmp_path / "renders"
    folder.mkdir()
    folder.chmod(0o2775)  # a facility's setgid project folder must keep its mode (and stay the same folder)
    inode = folder.stat().st_ino
    write_clip(_clip(2), folder / "elem.####.exr", "exr")
    assert folder.stat().st_ino == inode and folder.stat().st_mode & 0o7777 == 0o2775
    assert sorted(p.name for p in folder.iterdir()) == ["elem.1001.exr", "elem.1002.exr"]


def test_the_shot_script_reads_frames_padded_past_9999(tmp_path: Path) -> None:
    manifest = write_shot(_clip(3), tmp_path / "sf", ShotOptions(formats=("exr", "nk"), start_frame=9998))
    assert manifest["files"]["exr"][0] == "rgba/sf.09998.exr"
    assert "file rgba/sf.#####.exr" in (tmp_path / "sf" / "sf.nk").read_text()
