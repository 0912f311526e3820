"""Shot lists, seed wedges and shards: parsing, safety, and exact coverage."""

from __future__ import annotations

import pytest

from vfxgen.errors import InputError, UsageError
from vfxgen.shotlist import parse_seeds, parse_shard, read_shot_list, shard_from_environment, take_shard


def test_text_toml_and_json_lists(tmp_path):
    (tmp_path / "a.txt").write_text("burning fireball\n# note\n\n thick smoke \n")
    assert [s.prompt for s in read_shot_list(tmp_path / "a.txt")] == ["burning fireball", "thick smoke"]
    assert [s.name for s in read_shot_list(tmp_path / "a.txt")] == ["0001_burning_fireball", "0002_thick_smoke"]
    (tmp_path / "b.toml").write_text(
        '[[shot]]\nname = "fx010"\nprompt = "sparks"\nseed = 4\nframes = 9\n\n[[shot]]\npreset = "smoke"\n'
    )
    specs = read_shot_list(tmp_path / "b.toml")
    assert specs[0].name == "fx010" and specs[0].settings == {"seed": 4, "frames": 9}
    assert specs[1].preset == "smoke" and specs[1].name == "0002_shot"
    (tmp_path / "c.json").write_text('{"shots": [{"name": "a", "prompt": "x", "guidance": 5.5}]}')
    assert read_shot_list(tmp_path / "c.json")[0].settings == {"guidance": 5.5}


@pytest.mark.parametrize("name", ["../escape", "/abs/path", "a/b", "..", ".hidden", ""])
def test_shot_names_cannot_escape_the_output_root(tmp_path, name):
    (tmp_path / "s.json").write_text(f'[{{"name": "{name}", "prompt": "x"}}]')
    with pytest.raises(InputError, match="not a plain directory name"):
        read_shot_list(tmp_path / "s.json")


@pytest.mark.parametrize(
    "text,match",
    [
        ('[[shot]]\nprompt = "x"\ncommand = "rm -rf /"\n', "unknown key"),
        ('[[shot]]\nprompt = "x"\nseed = "7"\n', "wrong type"),
        ("[[shot]]\nseed = 1\n", "neither a prompt nor a preset"),
        ('[[shot]\nprompt = "x"\n', "not valid TOML"),
        ('[[shot]]\nname = "a"\nprompt = "x"\n[[shot]]\nname = "a"\nprompt = "y"\n', "appears twice"),
        ("", "no shots"),
    ],
)
def test_bad_shot_lists(tmp_path, text, match):
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(InputError, match=match):
        read_shot_list(tmp_path / "s.toml")


def test_seed_ranges():
    assert parse_seeds("1-4") == [1, 2, 3, 4]
    assert parse_seeds("3,1-2,3") == [3, 1, 2]
    for bad in ("8-1", "a-b", "-3", "0-20000", ""):
        with pytest.raises(UsageError):
            parse_seeds(bad)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_cover_the_list_exactly_once(count):
    items = list(range(23))
    taken = [x for i in range(1, count + 1) for x in take_shard(items, *parse_shard(f"{i}/{count}"))]
    assert sorted(taken) == items


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "3"])
def test_bad_shards(text):
    with pytest.raises(UsageError):
        parse_shard(text)


def test_shard_from_launcher_environment(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    assert shard_from_environment() == (3, 4)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert shard_from_environment() is None
