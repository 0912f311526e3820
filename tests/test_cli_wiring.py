"""How the CLI is put together: command modules define functions, `vfxgen.cli.app` wires them in one table
(`COMMANDS`) and maps errors once for every command; one progress helper; one load-options builder."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import vfxgen.cli
from vfxgen.cli.app import COMMANDS, app
from vfxgen.cli.console import STATE, StepLines, progress_bar
from vfxgen.errors import EXIT_CODES, ModelError, UsageError

runner = CliRunner()
CLI_DIR = Path(vfxgen.cli.__file__).parent


def imports_app(tree: ast.AST) -> bool:
    """`import vfxgen.cli.app`, `from vfxgen.cli.app import ...`, `from vfxgen.cli import app`, or relative."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "vfxgen.cli.app" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            module = ("vfxgen.cli." if node.level else "") + (node.module or "")
            names = {a.name for a in node.names}
            if module == "vfxgen.cli.app" or (module.rstrip(".") == "vfxgen.cli" and "app" in names):
                return True
    return False


def test_no_command_module_imports_the_app():
    """app.py imports the command modules, never the other way round (no import loop, no self-registration)."""
    modules = sorted(p for p in CLI_DIR.glob("*.py") if p.name != "app.py")
    assert len(modules) > 10
    offenders = [p.name for p in modules if imports_app(ast.parse(p.read_text(), str(p)))]
    assert offenders == []
    assert not (CLI_DIR / "commands.py").exists()


def command_names(help_text: str) -> list[str]:
    section = help_text.split("Commands:", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()]


def test_every_command_in_the_table_is_in_help_in_table_order():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert command_names(result.output) == [name for name, _ in COMMANDS]
    for name, target in COMMANDS:
        if isinstance(target, typer.Typer):  # groups: every subcommand listed under `vfxgen GROUP --help`
            sub = runner.invoke(app, [name, "--help"])
            assert sub.exit_code == 0, sub.output
            assert {c.name for c in target.registered_commands} <= set(command_names(sub.output))


def assert_one_line_error(result, code: int) -> None:
    assert result.exit_code == code and code in EXIT_CODES, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output


@pytest.fixture
def debug_off():
    saved = STATE["debug"]
    STATE["debug"] = False
    yield
    STATE["debug"] = saved


def test_an_error_deep_in_a_command_is_one_line_and_debug_adds_the_traceback(tmp_path, debug_off):
    args = ["generate", "fire", "-o", str(tmp_path / "shot"), "--model", str(tmp_path / "no_such_model")]
    result = runner.invoke(app, args)  # raised in resolve_model, under build_jobs
    assert_one_line_error(result, ModelError.exit_code)
    assert "no_such_model does not exist" in result.output
    assert EXIT_CODES[ModelError.exit_code].startswith("model")

    result = runner.invoke(app, ["--debug", *args])
    assert result.exit_code == ModelError.exit_code
    assert "Traceback (most recent call last)" in result.output and "ModelError" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("error: model directory")


def test_grouped_commands_are_mapped_by_the_same_place(tmp_path, monkeypatch, debug_off):
    assert_one_line_error(runner.invoke(app, ["presets", "show", "no_such_preset"]), UsageError.exit_code)
    assert_one_line_error(runner.invoke(app, ["train", "--model", str(tmp_path)]), UsageError.exit_code)

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("vfxgen.presets.list_presets", boom)
    result = runner.invoke(app, ["presets", "list"])
    assert_one_line_error(result, 1)
    assert "internal error: RuntimeError: boom" in result.output

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("vfxgen.presets.list_presets", interrupted)
    result = runner.invoke(app, ["presets", "list"])
    assert_one_line_error(result, 130)
    assert "interrupted" in result.output


def test_usage_errors_pass_through_the_mapping_unchanged():
    result = runner.invoke(app, ["presets", "show", "--no-such-option"])
    assert_one_line_error(result, 2)
    assert "No such option: --no-such-option" in result.output


# -- One load-options builder ------------------------------------------------------------------------------


def parsed(command: str, argv: list[str]) -> dict:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    return root.get_command(ctx, command).make_context(command, argv).params


# -- One progress helper -----------------------------------------------------------------------------------


def test_progress_helper_writes_step_lines_without_a_tty_and_nothing_with_quiet(capsys, monkeypatch):
    monkeypatch.setitem(STATE, "quiet", False)
    with progress_bar("train alpha", 5, eta=True, lines=StepLines(every=2, seconds=math.inf, at_end=True)) as bar:
        for step in range(1, 6):
            bar.step(step, 5, description=f"train alpha loss {step / 10:.4f}", label=f"loss {step / 10:.4f}")
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" elapsed ")[0] for line in err] == [
        "step 2/5 loss 0.2000",
        "step 4/5 loss 0.4000",
        "step 5/5 loss 0.5000",
    ]

    with progress_bar("loading model", None, transient=True, lines=StepLines(every=1, seconds=math.inf)) as bar:
        bar.start("shot 1/1 fb", "shots/fb")
        bar.step(1, 2)
        bar(1)  # plain advance, as a library `progress` callback
    assert capsys.readouterr().err.startswith("step 1/2 shots/fb elapsed ")

    monkeypatch.setitem(STATE, "quiet", True)
    with progress_bar("x", 2, lines=StepLines(every=1)) as bar:
        bar.step(1, 2)
        bar.step(2, 2)
    assert capsys.readouterr().err == ""


def test_every_command_help_shows_examples_that_parse():
    """The README promises an example in every --help page; each example's options must exist."""
    import shlex

    import typer.main

    from vfxgen.cli.app import app

    root = typer.main.get_command(app)
    pages = []
    for name, command in root.commands.items():
        subs = list(command.commands.items()) if hasattr(command, "commands") else []
        pages += [((name, sub), cmd) for sub, cmd in subs]
        if not subs or name == "train":  # `vfxgen train --help` is the training page itself
            pages.append(((name, None), command))
    missing = []
    for (name, sub), command in pages:
        text = command.help or ""
        if "Examples:" not in text:
            missing.append(" ".join(filter(None, [name, sub])))
            continue
        for line in text.split("Examples:", 1)[1].splitlines():
            words = shlex.split(line.split(" > ")[0].strip())
            if not words or words[0] != "vfxgen":
                continue
            words = words[1:]
            group = root.commands[words[0]]
            grouped = hasattr(group, "commands") and len(words) > 1 and words[1] in group.commands
            target, args = (group.commands[words[1]], words[2:]) if grouped else (group, words[1:])
            target.make_context(" ".join(words[:2]), list(args), resilient_parsing=False)  # raises on a bad option
    assert missing == [], f"--help without examples: {missing}"
