"""`vfxgen.atomic`: the one write-to-temporary-then-rename helper every writer uses."""

from __future__ import annotations

import os

import pytest

from vfxgen.atomic import atomic_path, move_into_place, remove_stale_temporaries, temporary_name
from vfxgen.errors import OutputError, OutputExistsError
from vfxgen.io.safety import is_vfxgen_temporary


def _hidden(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith("."))


def test_temporary_name_is_hidden_keeps_the_suffix_and_is_recognised(tmp_path):
    tmp = temporary_name(tmp_path / "shot.mov")
    assert tmp.parent == tmp_path
    assert tmp.name.startswith(".shot.mov.tmp-") and tmp.suffix == ".mov"
    assert is_vfxgen_temporary(tmp.name)
    assert temporary_name(tmp_path / "x") != temporary_name(tmp_path / "x")  # unique per call
    assert temporary_name(tmp_path / "ck", token="shared") == tmp_path / ".ck.tmp-shared"


def test_file_appears_whole_and_nothing_is_left_behind(tmp_path):
    final = tmp_path / "sub" / "a.txt"
    with atomic_path(final) as tmp:
        assert not final.exists()
        tmp.write_text("new")
    assert final.read_text() == "new"
    assert _hidden(final.parent) == []


def test_an_error_in_the_block_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    final = tmp_path / "a.txt"
    final.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("encoder crashed")
    assert final.read_text() == "old"
    assert _hidden(tmp_path) == []


def test_ctrl_c_in_the_block_removes_a_temporary_directory(tmp_path):
    final = tmp_path / "seq"
    with pytest.raises(KeyboardInterrupt), atomic_path(final) as tmp:
        (tmp / "deep").mkdir(parents=True)
        (tmp / "deep" / "f.exr").write_bytes(b"x")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_a_directory_is_replaced_whole(tmp_path):
    final = tmp_path / "seq"
    final.mkdir()
    (final / "old.0001.exr").write_bytes(b"old")
    with atomic_path(final) as tmp:
        tmp.mkdir()
        (tmp / "new.0001.exr").write_bytes(b"new")
    assert os.listdir(final) == ["new.0001.exr"]
    assert _hidden(tmp_path) == []  # the moved-aside old version is gone too


def test_without_overwrite_a_path_that_appeared_meanwhile_is_not_replaced(tmp_path):
    final = tmp_path / "a.txt"
    with pytest.raises(OutputExistsError), atomic_path(final, overwrite=False) as tmp:
        tmp.write_text("mine")
        final.write_text("someone else's")
    assert final.read_text() == "someone else's"
    assert _hidden(tmp_path) == []


def test_the_last_check_runs_before_the_rename_and_can_stop_it(tmp_path):
    final = tmp_path / "a.txt"
    final.write_text("old")

    def refuse() -> None:
        raise OutputExistsError("changed while writing", "retry")

    with pytest.raises(OutputExistsError), atomic_path(final, before_rename=refuse) as tmp:
        tmp.write_text("new")
    assert final.read_text() == "old"
    assert _hidden(tmp_path) == []


def test_os_errors_become_one_output_error_line(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with pytest.raises(OutputError) as info, atomic_path(blocker / "a.txt", what="the movie") as tmp:
        tmp.write_text("x")
    assert "cannot write the movie" in str(info.value) and "\n" not in str(info.value)


def test_a_failed_rename_puts_the_old_directory_back(tmp_path, monkeypatch):
    final = tmp_path / "seq"
    final.mkdir()
    (final / "keep").write_text("old")
    tmp = tmp_path / ".seq.tmp-x"
    tmp.mkdir()
    real_replace = os.replace

    def replace(src, dst):  # the disk fills up exactly when the new version is renamed in
        if src == tmp:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("vfxgen.atomic.os.replace", replace)
    with pytest.raises(OSError):
        move_into_place(tmp, final)
    assert (final / "keep").read_text() == "old"


def test_stale_temporaries_of_one_name_are_swept_and_nothing_else(tmp_path):
    name = "shot[1]"  # glob characters in the name must not widen the sweep
    (tmp_path / name).mkdir()
    stale = [temporary_name(tmp_path / name), tmp_path / f".{name}.old-abcdef12"]
    stale[0].mkdir()
    stale[1].mkdir()
    others = [
        tmp_path / ".shot1.tmp-1-2",
        tmp_path / ".other.tmp-1-2",
        tmp_path / f".{name}.old-notes",  # a user's own file that merely looks like ours
        tmp_path / f".{name}.old-v1.tmp-12-abcdef12",  # another shot's (`shot[1].old-v1`) live temporary
    ]
    for path in others:
        path.write_text("")
    assert sorted(remove_stale_temporaries(tmp_path / name)) == sorted(stale)
    assert all(p.exists() for p in others) and not any(p.exists() for p in stale)


def test_a_file_never_replaces_a_folder(tmp_path):
    folder = tmp_path / "comp.nk"  # a user's folder that happens to have the script's name
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="is a folder"), atomic_path(folder) as tmp:
        tmp.write_text("script")
    assert (folder / "notes.txt").read_text() == "mine"
    assert _hidden(tmp_path) == []


def _shot(path, complete=True):
    (path / "rgba").mkdir(parents=True)
    if complete:
        (path / "shot.json").write_text("{}")
    return path


def _complete(path):
    return (path / "shot.json").is_file()


def test_an_old_version_left_between_the_two_renames_is_restored_not_deleted(tmp_path):
    aside = _shot(tmp_path / ".shot.old-1234abcd")  # a job died after moving it aside, before the new rename
    half_deleted = _shot(tmp_path / ".shot.old-99999999", complete=False)  # its rmtree was interrupted
    remove_stale_temporaries(tmp_path / "shot", complete=_complete)
    assert _complete(tmp_path / "shot") and not aside.exists() and not half_deleted.exists()


def test_two_complete_old_versions_are_left_alone(tmp_path):
    old = [_shot(tmp_path / ".shot.old-00000000"), _shot(tmp_path / ".shot.old-ffffffff")]
    assert remove_stale_temporaries(tmp_path / "shot", complete=_complete) == []
    assert all(p.exists() for p in old) and not (tmp_path / "shot").exists()
