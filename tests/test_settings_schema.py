"""One settings table (`vfxgen.request.SETTINGS`): the commands' options, presets' and shot lists' keys, the
API's keywords, shot.json's generation record and `--resume`'s comparison all come from it."""

from __future__ import annotations

from dataclasses import MISSING, fields, replace
from pathlib import Path

import pytest
import typer

import vfxgen
from vfxgen.batch import expected_settings
from vfxgen.cli import options as opt
from vfxgen.cli.app import app
from vfxgen.errors import UsageError
from vfxgen.pipelines.conditioning import Conditioning
from vfxgen.pipelines.model_dirs import resolve_lora, resolve_model
from vfxgen.presets import DEFAULT_KEYS
from vfxgen.request import SETTINGS, SHOT_COMMANDS, GenerationRequest, LoadOptions, setting, settings_of
from vfxgen.shot import ShotOptions
from vfxgen.shotlist import SHOT_KEYS

LAYER_OBJECTS = {"request": GenerationRequest, "load": LoadOptions, "shot": ShotOptions, "conditioning": Conditioning}


def parsed(command: str, argv: list[str]) -> dict:
    """What Typer hands the command function for `vfxgen COMMAND ARGV`."""
    root = typer.main.get_command(app)
    return root.get_command(typer.Context(root), command).make_context(command, argv).params


def given(command: str, argv: list[str]) -> opt.CommandSettings:
    params = parsed(command, argv)
    names = {decl.parameter for decl in settings_of(command)}
    return opt.command_settings(command, {k: v for k, v in params.items() if k in names})


@pytest.mark.parametrize("layer", sorted(LAYER_OBJECTS))
def test_every_setting_is_a_field_of_its_layer_with_the_same_default(layer):
    """Declaring a setting = one `Setting(...)` plus its field; this fails when the two disagree."""
    declared = {decl.name: decl.default for decl in settings_of(layer=layer)}
    carried = {
        f.name: f.default
        for f in fields(LAYER_OBJECTS[layer])
        if f.default is not MISSING and f.name not in ("extra", "name") and not f.name.startswith("_")
    }
    if layer == "shot":  # the CLI's comma list is the object's tuple
        carried["formats"] = ",".join(carried["formats"])
    assert carried == declared


@pytest.mark.parametrize("command", SHOT_COMMANDS)
def test_each_command_offers_exactly_its_settings_with_the_tables_defaults(command):
    params = parsed(command, ["x"])
    for decl in SETTINGS:
        if command not in decl.commands:
            assert decl.parameter not in params, decl.name
            continue
        # Request settings are "not given" (None) on the command line, so presets and recipes can fill them.
        got = None if params[decl.parameter] == () else params[decl.parameter]  # click: a list option unset is ()
        assert got == (None if decl.layer == "request" else decl.default), decl.name


def test_command_settings_split_the_options_into_the_library_objects():
    g = given("generate", ["fire", "--attention", "full", "--device", "cpu", "--dtype", "fp32", "--steps", "7"])
    assert g.load == LoadOptions(attention="full", device="cpu", dtype="fp32")
    assert g.request == {"steps": 7}  # only what was given
    g = given("generate", ["fire", "--compile", "--cache", "fbc", "--negative", "blurry", "--format", "exr,png"])
    assert g.load == LoadOptions(compile=True, cache="fbc") and g.request == {"negative_prompt": "blurry"}
    assert g.shot.formats == ("exr", "png") and g.run["overwrite"] is False
    g = given("matte", ["clip.mov", "--scheduler", "ddim", "--recipe", "release", "--overlap", "2", "--replace-alpha"])
    assert g.load == LoadOptions(scheduler="ddim", recipe="release")
    want = {"strength": 1.0, "resample": 0, "fit": "pad", "overlap": 2, "replace_alpha": True, "matte_alpha": None}
    assert g.conditioning == want
    assert given("matte", ["clip.mov", "--matte-alpha", "model"]).conditioning["matte_alpha"] == "model"
    g = given("animate", ["still.png", "--conditioning", "replace", "--strength", "0.5", "--alpha", "premultiplied"])
    assert g.make_conditioning() == Conditioning(mode="replace", strength=0.5) and g.shot.alpha == "premultiplied"
    with pytest.raises(UsageError, match="unknown --cache 'nope'"):
        given("generate", ["fire", "--cache", "nope"])


def test_presets_and_shot_lists_take_the_settings_the_table_allows():
    assert DEFAULT_KEYS == {d.key: DEFAULT_KEYS[d.key] for d in SETTINGS if d.presets}
    assert set(SHOT_KEYS) == {"name", "prompt"} | {d.key for d in SETTINGS if d.shot_list}
    assert SHOT_KEYS["negative"] is str and SHOT_KEYS["fps"] == (int, float) and DEFAULT_KEYS["steps"] is int


def _other_value(decl, current):
    """A valid value of `decl` other than `current` (what a user changes between two runs)."""
    if decl.choices:
        return next(c for c in decl.choices if c not in (current, "official", "model"))
    if decl.name == "key_black":
        return 0.005  # must stay below the white point (0.01 by default)
    base = next(t for t in getattr(decl.kind, "__args__", (decl.kind,)) if t is not type(None))
    return {int: 9, float: 7.5, bool: not current, str: "blurry", Path: None}[base]


def test_resume_compares_every_request_and_load_setting_that_changes_pixels_or_files(tmp_path):
    """Changing any such setting changes what a finished shot must match (so --resume refuses it)."""
    info = resolve_model(None)  # the bundled model: JSON and a LoRA header only, no weights load
    lora = resolve_lora(None, info)
    request = GenerationRequest("fire")
    load = LoadOptions(device="cpu")
    recipe = load.recipe_for(info, lora)
    base = expected_settings(request.resolved(info, recipe), load, recipe, info.name, "")
    compared = [d for d in SETTINGS if d.affects and d.layer in ("request", "load") and d.record]
    assert {d.name for d in compared} >= {"seed", "steps", "fps", "attention", "cache", "dtype", "scheduler"}
    for decl in compared:
        if decl.name == "device":
            continue  # only cpu here; the record is the device type
        resolved = request.resolved(info, recipe)
        current = getattr(resolved, decl.name) if decl.layer == "request" else load.record(recipe).get(decl.name)
        value = _other_value(decl, current)
        if value is None:  # a weight file (Wan-Alpha's decoder, distillation LoRA, mask): its content counts
            value = tmp_path / f"{decl.name}.bin"
            value.write_bytes(decl.name.encode())
        if decl.layer == "request":
            changed = replace(request, **{decl.name: value})
            if decl.name in ("frames", "height", "width"):
                changed = replace(request, **{decl.name: {"frames": 13, "height": 48, "width": 80}[decl.name]})
            now = expected_settings(changed.resolved(info, recipe), load, recipe, info.name, "")
        else:
            changed_load = replace(load, **{decl.name: value}).checked()
            changed_recipe = changed_load.recipe_for(info, lora)
            now = expected_settings(request.resolved(info, changed_recipe), changed_load, changed_recipe, info.name, "")
        assert now != base, f"--resume would not see a changed {decl.flag}"


def test_the_api_takes_the_commands_settings_and_refuses_others_before_loading():
    with pytest.raises(UsageError, match=r"vfxgen.generate\(\) has no setting 'stepz'"):
        vfxgen.generate("fire", stepz=3)
    with pytest.raises(UsageError, match="how a shot is written"):
        vfxgen.generate("fire", formats="exr")
    with pytest.raises(UsageError, match="has no setting 'overlap'"):
        vfxgen.generate("fire", overlap=2)  # a matte setting
    assert setting("negative") is setting("negative_prompt") is setting("negative_prompt")
    assert setting("compile_model").name == "compile" and setting("format").flag == "--format"


@pytest.mark.parametrize("command", SHOT_COMMANDS)
def test_command_modules_spell_no_setting_of_their_own(command):
    """generate/animate/matte take their settings from the table: no flag, help or default typed again."""
    source = (Path(vfxgen.__file__).parent / "cli" / f"{command}.py").read_text()
    typed = [decl.flag for decl in settings_of(command) if f'"{decl.flag.split("/")[0]}"' in source]
    assert typed == []


def test_a_cli_shot_resolves_its_model_and_checks_its_options_once(tmp_path, monkeypatch):
    """The LoRA's header (the recipe) is read once per run, not again when the pipeline loads; checked
    shot options are marked and not checked again by the batch or the shot writer."""
    from typer.testing import CliRunner

    import vfxgen.pipelines.recipe as recipe_module

    headers: list[Path] = []
    read = recipe_module.read_safetensors_header
    monkeypatch.setattr(recipe_module, "read_safetensors_header", lambda p: headers.append(Path(p)) or read(p))
    result = CliRunner().invoke(
        app, ["generate", "fire", "-o", str(tmp_path / "shot"), "--steps", "1", "--format", "exr", "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    lora = resolve_lora(None, resolve_model(None))
    assert headers.count(lora) == 1
    options = ShotOptions(formats=("exr",)).checked()
    assert options.checked() is options and options == ShotOptions(formats=("exr",))


def test_a_changed_copy_of_checked_shot_options_is_checked_again():
    import dataclasses

    checked = ShotOptions(formats=("exr",)).checked()
    with pytest.raises(UsageError, match="unknown output format 'bogus'"):
        dataclasses.replace(checked, formats=("bogus",)).checked()


def test_the_api_animates_a_still_of_its_own_size_on_an_i2v_model(tmp_path):
    """As the CLI does: native image conditioning takes the still's size (here 32x32 on a 48x32 model)."""
    import json

    import numpy as np

    from tests.tiny_models import save_tiny_model_dir

    model = save_tiny_model_dir(tmp_path / "i2v", kind="i2v")
    config = json.loads((model / "transformer" / "config.json").read_text())
    config["use_learned_positional_embeddings"] = False  # as CogVideoX1.5-I2V: any size
    (model / "transformer" / "config.json").write_text(json.dumps(config))
    still = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    clip = vfxgen.animate(still, "fire", model=model, steps=2, device="cpu")
    assert clip.pixels.shape[1:3] == (32, 32)


def test_resume_refuses_a_shot_made_with_other_weights_under_the_same_model_name(tmp_path):
    from safetensors.torch import load_file, save_file
    from typer.testing import CliRunner

    from tests.tiny_models import save_tiny_model_dir

    model = save_tiny_model_dir(tmp_path / "t2v")
    args = ["generate", "fire", "-o", str(tmp_path / "shot"), "--model", str(model), "--steps", "1", "--format", "exr"]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, [*args, "--resume"]).exit_code == 0  # the same weights: skipped
    weights = next((model / "transformer").glob("*.safetensors"))
    state = load_file(str(weights))
    name = next(iter(state))
    state[name] = state[name] + 1.0
    save_file(state, str(weights))
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 4 and f"model_files_sha256.transformer/{weights.name}" in again.output, again.output


def test_resume_compares_a_shot_made_before_the_key_was_recorded_by_the_values_it_was_made_with(tmp_path):
    """Shots from before `key_black`/`key_white` were recorded were made with 0 and 0.01: resumed with those they
    are complete; asked for another key (the water preset's) they are refused, not silently kept."""
    import json

    from typer.testing import CliRunner

    from tests.tiny_models import save_tiny_model_dir

    model = save_tiny_model_dir(tmp_path / "t2v")
    shot = tmp_path / "shot"
    args = ["generate", "fire", "-o", str(shot), "--model", str(model), "--steps", "1", "--format", "exr"]
    assert CliRunner().invoke(app, [*args, "--clear-black"]).exit_code == 0
    manifest = json.loads((shot / "shot.json").read_text())
    del manifest["generation"]["key_black"], manifest["generation"]["key_white"]  # as an older vfxgen wrote it
    (shot / "shot.json").write_text(json.dumps(manifest))
    assert CliRunner().invoke(app, [*args, "--clear-black", "--resume"]).exit_code == 0
    keyed = CliRunner().invoke(app, [*args, "--clear-black", "--key-white", "0.1", "--resume"])
    assert keyed.exit_code == 4 and "key_white None -> 0.1" in keyed.output, keyed.output
