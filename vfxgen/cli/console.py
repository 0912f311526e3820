"""Console output for the CLI: logs on stderr, a rich progress bar only on a TTY.

Library code never prints; it takes an optional `progress` callback. This module gives the CLI one
place that decides whether bars and colour make sense (not in farm logs, not with `--quiet`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STATE = {"debug": os.environ.get("VFXGEN_DEBUG", "") not in ("", "0"), "quiet": False}

# User text (prompts, paths such as `fire.####.exr:smile:`) is printed as given: no emoji codes, no markup.
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)


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
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        from vfxgen.errors import UsageError

        raise UsageError(f"{name}={text!r} is not a non-negative number", f"unset {name} or set e.g. {default:g}")
    return value


class StepLines:
    """Progress for farm logs: where no bar is drawn (no TTY, or $CI), one line on stderr every `every` steps
    (`$VFXGEN_PROGRESS_STEPS`, default 10; 0: never by count) and whenever `seconds` have passed since the last
    line (`$VFXGEN_PROGRESS_SECONDS`, default 30), so a long shot is never minutes of silence. `--quiet`: none.

        step 10/50 shots/fb elapsed 41.2 s eta 164.8 s

    The ETA is for the denoising steps (elapsed per step so far times the steps left), not the decode after.
    Call `start(label)` as a shot starts, then the instance with `(step, total)` after every step.
    """

    def __init__(
        self, every: int | None = None, seconds: float | None = None, clock: Callable[[], float] | None = None
    ):
        self.every = int(_env_number("VFXGEN_PROGRESS_STEPS", 10) if every is None else every)
        self.seconds = _env_number("VFXGEN_PROGRESS_SECONDS", 30.0) if seconds is None else seconds
        self.clock = clock or time.monotonic
        self.enabled = not STATE["quiet"] and not interactive()
        self.start("")

    def start(self, label: str) -> None:
        self.label = label
        self.started = self.last = self.clock()

    def __call__(self, step: int, total: int) -> None:
        if not self.enabled or step <= 0:
            return
        now = self.clock()
        if not ((self.every > 0 and step % self.every == 0) or now - self.last >= self.seconds):
            return
        self.last = now
        elapsed = now - self.started
        eta = elapsed / step * max(total - step, 0)
        log(f"step {step}/{total} {self.label} elapsed {elapsed:.1f} s eta {eta:.1f} s")
