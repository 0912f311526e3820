"""The `vfxgen` Typer app: global options, the one table of commands, and the single place where errors
become exit codes.

Command modules (`cli/generate.py`, `cli/presets.py`, ...) only define their functions, and groups as plain
`typer.Typer()` objects; they import nothing from here. `COMMANDS` below wires them in, in the order
`vfxgen --help` lists them. Every command runs inside `OneLineErrors.invoke`, so a `VfxgenError` anywhere
below becomes one line on stderr plus the error's exit code (table in `vfxgen.errors.EXIT_CODES`); the
traceback only shows with `--debug`.

A new command: a module in `cli/` defining the function, one row in `COMMANDS`, then
`python scripts/gen_cli_docs.py`.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors its own click; older releases use click itself
    from typer._click import exceptions as click
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click

from vfxgen import __version__
from vfxgen.cli import (
    animate,
    composite,
    dataset,
    eval_flow,
    export,
    farm,
    formats,
    generate,
    matte,
    presets,
    qc,
    train,
)
from vfxgen.cli.console import STATE, err_console
from vfxgen.errors import OutOfMemoryError, VfxgenError, VfxgenWarning

# Every command and group, in the order `vfxgen --help` lists them (Typer lists single commands before groups).
COMMANDS: list[tuple[str, Callable[..., Any] | typer.Typer]] = [
    ("animate", animate.animate),
    ("export", export.export),
    ("composite", composite.composite),
    ("generate", generate.generate),
    ("matte", matte.matte),
    ("eval-flow", eval_flow.eval_flow),
    ("qc", qc.qc),
    ("formats", formats.formats),
    ("dataset", dataset.dataset_app),
    ("farm", farm.farm_app),
    ("train", train.train_app),
    ("presets", presets.presets_app),
]


class OneLineErrors(TyperGroup):
    """Click's usage errors (unknown option, `--seed abc`, unknown command) as the same one `error:` line and
    exit code 2 as every other vfxgen error, instead of Click's three-line usage block."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: D102
        args = list(sys.argv[1:] if args is None else args)
        try:
            _refuse_empty_output(args)
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            result = _report(usage_line(exc), 2)
        except click.ClickException as exc:  # e.g. an unreadable file argument
            result = _report(exc.format_message(), exc.exit_code)
        except click.Abort:
            result = _report("interrupted", 130)
        code = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):  # noqa: D102
        # Every command runs in here, the grouped ones (`presets show`, `train init`) too: errors are mapped once.
        with mapped_errors():
            return super().invoke(ctx)


def _refuse_empty_output(args: list[str]) -> None:
    """`-o ""` reaches a Path option as `.` (the current directory): catch it while it is still empty."""
    for index, arg in enumerate(args):
        if arg == "--":
            return
        value = args[index + 1] if arg in ("-o", "--output") and index + 1 < len(args) else None
        if arg.startswith("--output="):
            value = arg.partition("=")[2]
        if value is not None and not value.strip():
            raise click.UsageError("-o is empty; give an output path such as -o shots/fireball")


def usage_line(exc: click.UsageError) -> str:
    """`No such option: -fire` -> one line naming the command's --help, and `--` for prompts that start with -."""
    message = exc.format_message().replace("\n", " ").strip().rstrip(".")
    command = exc.ctx.command_path if exc.ctx is not None else "vfxgen"
    hint = f"run '{command} --help' for the options"
    if "No such option" in message and command.split()[-1] in ("generate", "animate"):
        hint += "; a prompt that starts with '-' goes after '--' (vfxgen generate -- \"-fire\")"
    return f"{message}. {hint[0].upper()}{hint[1:]}"


_python_showwarning = warnings.showwarning

app = typer.Typer(
    name="vfxgen",
    cls=OneLineErrors,
    help="Generate RGBA video (colour + matching alpha) for compositing: EXR for Nuke, ProRes 4444 for AE.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _report(line: str, code: int) -> int:
    err_console.print(f"error: {line}", markup=False, highlight=False)
    return code


def _fail(line: str, code: int) -> None:
    raise typer.Exit(_report(line, code))


# What click and Typer raise to end a command on purpose (usage errors, --help, typer.Exit): passed on.
_CLI_EXITS = (typer.Exit, typer.Abort, click.ClickException)


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Map library errors to one stderr line and an exit code; keep tracebacks behind --debug."""
    try:
        yield
    except _CLI_EXITS:
        raise
    except VfxgenError as exc:
        if STATE["debug"]:
            traceback.print_exc(file=sys.stderr)
        _fail(exc.one_line(), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; finished shots are kept, rerun with --resume to continue", 130)
    except BrokenPipeError:  # `vfxgen presets list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise typer.Exit(0) from None
    except OSError as exc:
        if exc.errno != errno.EBADF:
            if STATE["debug"]:
                traceback.print_exc(file=sys.stderr)
            _fail(f"internal error: {type(exc).__name__}: {exc}. Rerun with --debug and report it.", 1)
        # `vfxgen formats >&-`: standard output is closed; the output has nowhere to go.
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # no second error when Python flushes stdout at exit
        _fail("cannot write to standard output: it is closed. Run without >&-, or redirect it to a file", 5)
    except MemoryError:
        exc = OutOfMemoryError("out of host memory", "use a smaller size, fewer frames or --offload")
        _fail(exc.one_line(), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for farm logs
        if type(exc).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError, without importing torch
            oom = OutOfMemoryError("the device ran out of memory", "try --offload model or a smaller size")
            _fail(oom.one_line(), oom.exit_code)
        if STATE["debug"]:
            traceback.print_exc(file=sys.stderr)
        _fail(f"internal error: {type(exc).__name__}: {exc}. Rerun with --debug and report it.", 1)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vfxgen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no progress.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """vfxgen: TransPixar RGBA video generation and compositing hand-off."""
    STATE["debug"] = STATE["debug"] or debug
    STATE["quiet"] = quiet
    warnings.showwarning = _show_warning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings meant for users become one `warning:` line; others keep Python's format."""
    if issubclass(category, VfxgenWarning):
        if not STATE["quiet"]:
            err_console.print(f"warning: {message}", markup=False, highlight=False)
        return
    _python_showwarning(message, category, filename, lineno, file, line)


def _add_commands() -> None:
    for name, target in COMMANDS:
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)


_add_commands()


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """Console-script entry point. SIGTERM (a farm cancelling or pre-empting the task) is handled like
    Ctrl-C: temporaries are removed, locks released, finished shots kept, exit code 130."""
    import signal

    signal.signal(signal.SIGTERM, _raise_interrupt)
    app()


if __name__ == "__main__":  # `python -m vfxgen.cli.app ...`, e.g. under `accelerate launch -m`
    # This file then runs as `__main__`, a second copy of the module: run the real `vfxgen.cli.app`, so there
    # is one app and one error mapping.
    from vfxgen.cli.app import main as _main

    _main()
