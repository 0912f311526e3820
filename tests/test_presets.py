"""Presets: built-ins, search order and overrides, strict validation with file/line errors, CLI merge."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from vfxgen.errors import InputError, UsageError
from vfxgen.presets import (
    DEFAULT_KEYS,
    ENV_VAR,
    Preset,
    builtin_dir,
    list_presets,
    load_preset,
    preset_names,
    search_path,
)

BUILTINS = {
    "fire", "smoke", "explosion", "sparks", "dust", "magic", "lightning", "water_splash", "muzzle_flash",
}

GOOD = """\
name = "{name}"
description = "{description}"
prompt = "a {{subject}} made of test pixels"
default_subject = "blob"
negative = "blurry"

[defaults]
guidance = 4
"""


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own $VFXGEN_PRESETS must not change what these tests see.
    monkeypatch.delenv(ENV_VAR, raising=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def good(name: str, description: str = "a test preset") -> str:
    return GOOD.format(name=name, description=description)


def test_all_builtins_load_and_render() -> None:
    presets = list_presets()
    assert {p.name for p in presets} == BUILTINS
    assert [p.name for p in presets] == sorted(p.name for p in presets)
    for p in presets:
        assert p.builtin and p.description and p.negative
        default = p.render_prompt(None)
        assert p.default_subject in default and "{subject}" not in default
        assert p.render_prompt("  dragon breath ") == p.prompt.replace("{subject}", "dragon breath")
        assert p.render_prompt("") == default
        # Built-ins leave frames (and size) to the model's native values: a preset is a look, not a format.
        keying = {"clear_black", "key_black", "key_white"}  # set by the presets that clear (water: its own key)
        assert set(p.defaults) - keying == set(DEFAULT_KEYS) - {"frames", *keying}
        assert isinstance(p.defaults["fps"], float) and isinstance(p.defaults["guidance"], float)
        assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in p.look["colors"])
        assert 0 <= p.look["softness"] <= 1
    assert load_preset("fire").render_prompt("fireball").startswith("a fireball of roaring orange fire")
    # Light and splashes over black clear their black; what can be dark and occlude (smoke, dust, explosion) not.
    cleared = {p.name for p in presets if p.defaults.get("clear_black")}
    assert cleared == {"fire", "sparks", "lightning", "magic", "muzzle_flash", "water_splash"}
    assert not any(p.defaults.get("clear_black", False) for p in presets if p.name not in cleared)
    keyed = {p.name: (p.defaults["key_black"], p.defaults["key_white"]) for p in presets if "key_white" in p.defaults}
    # A lit splash is never dark, a muzzle flash is light: both key out the dim matte the demo leaves around them.
    assert keyed == {"water_splash": (0.005, 0.1), "muzzle_flash": (0.01, 0.1)}


def test_builtin_dir_is_the_packaged_presets_folder() -> None:
    folder = builtin_dir()
    names = {e.name for e in folder.iterdir() if e.name.endswith(".toml")}
    assert names == {f"{n}.toml" for n in BUILTINS}
    assert preset_names() == sorted(BUILTINS)


def test_user_dir_overrides_builtin_and_adds(tmp_path: Path) -> None:
    write(tmp_path, "fire", good("fire", "my show's fire"))
    write(tmp_path, "goo", good("goo"))
    fire = load_preset("fire", [tmp_path])
    assert fire.description == "my show's fire" and not fire.builtin
    assert fire.source == str(tmp_path / "fire.toml")
    assert fire.defaults == {"guidance": 4.0}  # a user preset may set only some defaults
    listed = {p.name: p for p in list_presets([tmp_path])}
    assert set(listed) == BUILTINS | {"goo"}
    assert listed["fire"].description == "my show's fire"
    assert listed["smoke"].builtin
    assert load_preset("fire").builtin  # without the folder, the built-in again


def test_search_order_cli_dirs_then_env_then_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_dir, env_a, env_b = (tmp_path / n for n in ("cli", "env_a", "env_b"))
    for d in (cli_dir, env_a, env_b):
        d.mkdir()
    write(env_a, "smoke", good("smoke", "from env a"))
    write(env_b, "smoke", good("smoke", "from env b"))
    write(env_b, "dust", good("dust", "from env b"))
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(env_a), "", str(env_b)]))
    assert load_preset("smoke").description == "from env a"
    assert load_preset("dust").description == "from env b"
    write(cli_dir, "smoke", good("smoke", "from cli"))
    assert load_preset("smoke", [cli_dir]).description == "from cli"
    assert [str(d) for d in search_path([cli_dir])][:3] == [str(cli_dir), str(env_a), str(env_b)]


def test_missing_folders_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_preset("fire", [tmp_path / "nope"])
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(InputError, match=ENV_VAR):
        list_presets()


def test_load_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, "anything", good("custom"))
    assert load_preset(path).name == "custom"  # an explicit file may carry any valid name
    assert load_preset(str(path)).name == "custom"
    with pytest.raises(InputError, match="does not exist"):
        load_preset(tmp_path / "missing.toml")


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken", 'name = "broken"\ndescription = "x"\nprompt = "a {subject}\n')
    with pytest.raises(InputError) as info:
        load_preset("broken", [tmp_path])
    text = info.value.one_line()
    assert str(path) in text and "line 3" in text and "\n" not in text
    with pytest.raises(InputError, match="line 3"):
        list_presets([tmp_path])  # a listing does not hide a broken file


@pytest.mark.parametrize(
    ("table", "line", "key", "expected"),
    [
        ("[defaults]", 'steps = "fifty"', "defaults.steps", "must be an integer"),
        ("[defaults]", "steps = 2.5", "defaults.steps", "must be an integer"),
        ("[defaults]", "seed = true", "defaults.seed", "must be an integer"),
        ("[defaults]", 'fps = "8"', "defaults.fps", "must be a number"),
        ("[defaults]", "clear_black = 1", "defaults.clear_black", "must be true or false"),
        ("[defaults]", 'clear_black = "yes"', "defaults.clear_black", "must be true or false"),
        ("[defaults]", "frames = 48", "defaults.frames", "4k + 1"),
        ("[defaults]", 'key_white = "0.1"', "defaults.key_white", "must be a number"),
        ("[defaults]", "key_black = -0.1", "defaults.key_black", "must be a luminance >= 0"),
        ("[defaults]", "key_white = 0.01\nkey_black = 0.02", "defaults.key_black", "must be below key_white (0.01)"),
        ("[defaults]", "stepz = 20", "defaults.stepz", "is not a default setting"),
        ("[look]", 'colors = ["orange"]', "look.colors", "#rrggbb"),
        ("[look]", "softness = 3", "look.softness", "[0, 1]"),
        ("[look]", 'blend = "multiply"', "look.blend", "over, plus, screen"),
        ("[look]", "nested = { a = 1 }", "look.nested", "string, number, boolean"),
    ],
)
def test_wrong_types_and_keys_name_file_and_key(
    tmp_path: Path, table: str, line: str, key: str, expected: str
) -> None:
    # GOOD ends inside [defaults]; a [look] case opens its table after it. The bad line is the last one.
    text = good("bad") + (f"{line}\n" if table == "[defaults]" else f"\n{table}\n{line}\n")
    path = write(tmp_path, "bad", text)
    with pytest.raises(InputError) as info:
        load_preset("bad", [tmp_path])
    message = info.value.one_line()
    assert str(path) in message and f"'{key}'" in message and expected in message
    assert f"(line {len(text.splitlines())})" in message


def test_top_level_problems(tmp_path: Path) -> None:
    cases = {
        "extra": (good("extra").replace("negative =", 'colour = "red"\nnegative ='), "'colour'"),
        "nosubj": (good("nosubj").replace("{subject} ", ""), "{subject}"),
        "missing": ("\n".join(good("missing").splitlines()[1:]), "'name' is missing"),
        "mismatch": (good("other"), "is 'other' but the file is mismatch.toml"),
        "typed": (good("typed").replace('"blurry"', "3"), "'negative'"),
    }
    for name, (text, expected) in cases.items():
        write(tmp_path, name, text)
        with pytest.raises(InputError, match=re.escape(expected)):
            load_preset(name, [tmp_path])


def test_unknown_name_lists_available(tmp_path: Path) -> None:
    write(tmp_path, "goo", good("goo"))
    with pytest.raises(UsageError) as info:
        load_preset("nope", [tmp_path])
    message = info.value.one_line()
    assert "nope" in message and "fire, " in message and "goo" in message and "water_splash" in message
    with pytest.raises(UsageError, match="invalid preset name"):
        load_preset("Fire!")


def test_render_keeps_other_braces_literal() -> None:
    preset = Preset("x", "d", "a {subject} in {braces}", "thing")
    assert preset.render_prompt("{odd} name") == "a {odd} name in {braces}"
    assert preset.render_prompt(None) == "a thing in {braces}"


def test_resolve_request_precedence() -> None:
    """Shot-list entry > explicit option > preset > (recipe) > vfxgen default; None = not given."""
    from vfxgen.pipelines.model_dirs import resolve_model
    from vfxgen.settings import resolve_request

    info = resolve_model(None)  # the bundled model: caption prompts, no preset negatives
    fire = load_preset("fire")
    req = resolve_request("dragon breath", info, preset=fire, options={"steps": 20, "seed": None, "width": 64})
    assert req.steps == 20  # explicit option wins
    assert req.seed == fire.defaults["seed"]  # None = not given: the preset's default stays
    assert req.guidance == fire.defaults.get("guidance")  # None unless the preset sets it: the recipe's
    assert req.frames is None  # nobody set it: the model's native count
    assert req.width == 64 and req.extra == {"preset": "fire"}
    assert req.prompt == fire.prompt_for("dragon breath", "caption") == "dragon breath"  # your words, no template
    assert resolve_request(None, info, preset=fire).prompt == fire.caption  # no subject: the preset's caption
    assert req.negative_prompt == ""  # the demo model takes no preset negatives
    entry = resolve_request("x", info, preset=fire, options={"steps": 20}, entry={"steps": 7, "negative": "blur"})
    assert entry.steps == 7 and entry.negative_prompt == "blur"
    plain = resolve_request("burning fireball", info, options={"fps": 12.0})
    assert plain.prompt == "burning fireball" and plain.fps == 12.0 and plain.steps is None and plain.extra == {}


def test_presets_show_resolve_prints_what_generate_runs(tmp_path) -> None:
    """`presets show NAME --resolve` and the manifest of `generate --preset NAME` agree field by field."""
    import json

    from typer.testing import CliRunner

    from vfxgen.cli.app import app

    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["presets", "show", "smoke", "--resolve", "--json"]).output)
    result = runner.invoke(app, ["generate", "--preset", "smoke", "-o", str(tmp_path / "s"), "--format", "exr"])
    assert result.exit_code == 0, result.output
    made = json.loads((tmp_path / "s" / "shot.json").read_text())["generation"]
    for key in ("prompt", "negative_prompt", "seed", "steps", "guidance", "dynamic_cfg", "frames", "width"):
        assert made[key] == shown[key], key
    assert made["recipe"]["source"] == shown["recipe"] and made["preset"] == "smoke"


def test_a_models_own_preset_tuning_sits_between_option_and_preset(tmp_path) -> None:
    """vfxgen.json `preset_defaults`: the model's tuning of one preset beats the preset's [defaults], an
    explicit option beats both, other presets are untouched; a bad table is one line naming the file."""
    import dataclasses

    from typer.testing import CliRunner

    from vfxgen.cli.app import app
    from vfxgen.errors import InputError
    from vfxgen.pipelines.model_dirs import DEFAULT_MODEL_DIR, resolve_model
    from vfxgen.settings import resolve_request

    base = resolve_model(None)
    tuned = {**base.hints, "preset_defaults": {"smoke": {"guidance": 2, "steps": 30}}}
    info = dataclasses.replace(base, hints=tuned)
    smoke, fire = load_preset("smoke"), load_preset("fire")
    req = resolve_request(None, info, preset=smoke)
    assert (req.guidance, req.steps, req.seed) == (2.0, 30, smoke.defaults["seed"])
    assert resolve_request(None, info, preset=smoke, options={"guidance": 7.0}).guidance == 7.0
    assert resolve_request(None, info, preset=fire).guidance == fire.defaults["guidance"]
    assert resolve_request("smoke", info).guidance is None  # no preset: the recipe's

    for table, where in (({"smoke": {"guidance": "low"}}, "preset_defaults.smoke.guidance"),
                         ({"smoke": {"colour": 1}}, "preset_defaults.smoke.colour"),
                         ({"smoke": 2.5}, "preset_defaults.smoke")):  # fmt: skip
        with pytest.raises(InputError) as info_error:
            resolve_request(None, dataclasses.replace(base, hints={"preset_defaults": table}), preset=smoke)
        assert "vfxgen.json" in str(info_error.value) and where in str(info_error.value)

    model = tmp_path / "model"  # the bundled model's files, with a bad vfxgen.json: one line, nothing written
    model.mkdir()
    for entry in DEFAULT_MODEL_DIR.iterdir():
        if entry.name != "vfxgen.json":
            (model / entry.name).symlink_to(entry)
    (model / "vfxgen.json").write_text('{"prompt_style": "caption", "preset_defaults": {"smoke": {"steps": 0}}}')
    args = ["generate", "--preset", "smoke", "--model", str(model), "-o", str(tmp_path / "s")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "Traceback" not in result.output and not (tmp_path / "s").exists()
    assert "preset_defaults.smoke.steps" in result.output and "at least 1" in result.output
