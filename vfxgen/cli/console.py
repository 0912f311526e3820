"""Console output for the CLI: logs on stderr, a rich progress bar only on a TTY.

Library code never prints; it takes an optional `progress` callback. This module gives the CLI one
place that decides whether bars and colour make sense (not in farm logs, not with `--quiet`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STATE = {"debug": os.environ.get("VFXGEN_DEBUG", "") not in ("", "0"), "quiet": False}

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def interactive() -> bool:
    """True when stderr is a terminal and the user did not ask for quiet output."""
    return sys.stderr.isatty() and not STATE["quiet"] and os.environ.get("CI", "") == ""


def log(message: str) -> None:
    """One informational line on stderr (suppressed by --quiet)."""
    if not STATE["quiet"]:
        err_console.print(message, markup=False)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator:
    """Yield `advance(n=1)`; draws a rich bar on a TTY, nothing otherwise."""
    if not interactive():
        yield lambda n=1: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
