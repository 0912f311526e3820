"""Frame patterns, padding detection, ranges and missing-frame reporting, on real (empty) files."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfxgen.errors import InputError, UsageError
from vfxgen.io.sequence import (
    FrameSequence,
    find_sequence,
    format_frames,
    parse_frame_range,
    parse_pattern,
    sequence_for_output,
)


def touch_frames(directory: Path, frames, name: str = "shot", ext: str = "exr", padding: int = 4) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        (directory / f"{name}.{frame:0{padding}d}.{ext}").write_bytes(b"")


@pytest.mark.parametrize(
    ("pattern", "padding"),
    [
        ("shot.####.exr", 4),
        ("shot.%04d.exr", 4),
        ("shot.@@@@.exr", 4),
        ("shot.######.exr", 6),
        ("shot.%06d.exr", 6),
        ("shot.#.exr", None),
        ("shot.@.exr", None),
        ("shot.%d.exr", None),
    ],
)
def test_parse_pattern_padding(pattern: str, padding: int | None) -> None:
    parsed = parse_pattern(f"/renders/{pattern}")
    assert parsed.directory == Path("/renders")
    assert (parsed.prefix, parsed.suffix, parsed.padding) == ("shot.", ".exr", padding)
    assert parsed.frame_range is None


def test_parse_pattern_range_suffix() -> None:
    parsed = parse_pattern("out/shot.####.exr:1002-1003")
    assert parsed.frame_range == (1002, 1003)
    assert parse_pattern("shot.####.exr:1005").frame_range == (1005, 1005)


@pytest.mark.parametrize("pattern", ["shot.exr", "shot.####.####.exr", "sh##ot.@@.exr"])
def test_parse_pattern_needs_one_token(pattern: str) -> None:
    with pytest.raises(InputError, match="frame token"):
        parse_pattern(pattern)


@pytest.mark.parametrize(
    ("text", "message"), [("1010-1001", "reversed"), ("-5-3", "negative"), ("a-b", "read")]
)
def test_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_frame_range(text)


def test_format_frames_is_compact() -> None:
    assert format_frames([1010, 1003, 1004, 1005]) == "1003-1005, 1010"
    assert format_frames([7]) == "7"
    assert format_frames(range(0, 40, 2), max_runs=3) == "0, 2, 4, ... (17 more)"


def test_frame_sequence_paths(tmp_path: Path) -> None:
    seq = FrameSequence(tmp_path, "shot.", ".exr", 4, [1001, 1002])
    assert seq.paths() == [tmp_path / "shot.1001.exr", tmp_path / "shot.1002.exr"]
    assert seq.path(12345).name == "shot.12345.exr"
    assert seq.pattern == str(tmp_path / "shot.####.exr")
    assert (len(seq), seq.first, seq.last) == (2, 1001, 1002)


@pytest.mark.parametrize("token", ["####", "%04d", "@@@@", "#", "@", "%d"])
def test_find_sequence_all_spellings(tmp_path: Path, token: str) -> None:
    touch_frames(tmp_path, range(1001, 1005))
    seq = find_sequence(tmp_path / f"shot.{token}.exr")
    assert seq.frames == [1001, 1002, 1003, 1004]
    assert seq.padding == 4
    assert seq.path(1001) == tmp_path / "shot.1001.exr"


def test_find_sequence_range_suffix_and_argument(tmp_path: Path) -> None:
    touch_frames(tmp_path, range(1001, 1005))
    assert find_sequence(f"{tmp_path}/shot.####.exr:1002-1003").frames == [1002, 1003]
    assert find_sequence(tmp_path / "shot.####.exr", (1002, 1003)).frames == [1002, 1003]
    with pytest.raises(UsageError, match="names frames 1002-1003"):
        find_sequence(f"{tmp_path}/shot.####.exr:1002-1003", (1001, 1002))


def test_find_sequence_other_padding(tmp_path: Path) -> None:
    touch_frames(tmp_path, range(0, 3), padding=6)
    assert find_sequence(tmp_path / "shot.######.exr").frames == [0, 1, 2]
    seq = find_sequence(tmp_path / "shot.#.exr")
    assert seq.padding == 6
    assert seq.path(2).name == "shot.000002.exr"
    with pytest.raises(InputError, match="no frames match"):
        find_sequence(tmp_path / "shot.####.exr")  # 4-digit files do not exist


def test_padding_overflow_is_one_sequence(tmp_path: Path) -> None:
    touch_frames(tmp_path, [9998, 9999, 10000, 10001])
    assert find_sequence(tmp_path / "shot.####.exr").frames == [9998, 9999, 10000, 10001]
    assert find_sequence(tmp_path / "shot.#.exr").padding == 4


def test_unpadded_frames(tmp_path: Path) -> None:
    touch_frames(tmp_path, range(8, 12), padding=1)
    seq = find_sequence(tmp_path / "shot.%d.exr")
    assert (seq.padding, seq.frames) == (1, [8, 9, 10, 11])


def test_mixed_padding_is_an_error(tmp_path: Path) -> None:
    touch_frames(tmp_path, [1, 2])
    touch_frames(tmp_path, [3], padding=2)
    with pytest.raises(InputError, match="mix paddings"):
        find_sequence(tmp_path / "shot.#.exr")


def test_missing_frames_are_listed(tmp_path: Path) -> None:
    touch_frames(tmp_path, [1001, 1002, 1006, 1007, 1008, 1009])
    with pytest.raises(InputError) as info:
        find_sequence(tmp_path / "shot.####.exr", (1001, 1010))
    assert "missing frames 1003-1005, 1010" in info.value.message
    with pytest.raises(InputError, match="missing frames 1003-1005"):
        find_sequence(tmp_path / "shot.####.exr")  # a hole without a range is an error too


def test_empty_and_absent(tmp_path: Path) -> None:
    touch_frames(tmp_path, [1, 2], name="other")
    with pytest.raises(InputError, match="no frames match") as info:
        find_sequence(tmp_path / "shot.####.exr")
    assert "other.#.exr" in info.value.hint  # says what is there instead
    with pytest.raises(InputError, match="does not exist"):
        find_sequence(tmp_path / "nowhere" / "shot.####.exr")
    with pytest.raises(InputError, match="reversed"):
        find_sequence(tmp_path / "other.####.exr", (2, 1))
    with pytest.raises(InputError, match="negative"):
        find_sequence(tmp_path / "other.####.exr", (-1, 2))


def test_directory_with_one_sequence(tmp_path: Path) -> None:
    touch_frames(tmp_path, range(1001, 1004))
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / ".shot.1004.tmp-1-abc.exr").write_bytes(b"")  # a writer's temporary file is ignored
    seq = find_sequence(tmp_path)
    assert (seq.prefix, seq.suffix, seq.frames) == ("shot.", ".exr", [1001, 1002, 1003])
    assert find_sequence(f"{tmp_path}:1002-1003").frames == [1002, 1003]
    touch_frames(tmp_path, range(1001, 1004), ext="png")
    with pytest.raises(InputError, match="2 sequences"):
        find_sequence(tmp_path)
    assert find_sequence(tmp_path, extensions=(".png",)).suffix == ".png"


def test_sequence_for_output(tmp_path: Path) -> None:
    seq = sequence_for_output(tmp_path, "shot", "exr", 1001, 3)
    assert [p.name for p in seq.paths()] == ["shot.1001.exr", "shot.1002.exr", "shot.1003.exr"]
    assert sequence_for_output(tmp_path, "fx", ".png", 0, 1, padding=6).paths()[0].name == "fx.000000.png"
    for bad in ({"start_frame": -1}, {"count": 0}, {"name": "a/b"}):
        args = {"name": "shot", "start_frame": 1, "count": 1, **bad}
        with pytest.raises(UsageError):
            sequence_for_output(tmp_path, suffix=".exr", **args)


def test_pattern_for_frame_keeps_the_padding_of_the_name():
    from vfxgen.io.sequence import pattern_for_frame

    assert pattern_for_frame("shot/rgba/elem.1001.exr") == Path("shot/rgba/elem.####.exr")
    assert pattern_for_frame("sf.09998.png") == Path("sf.#####.png")
    assert pattern_for_frame("still.exr") is None and pattern_for_frame("a.v1.exr") is None
