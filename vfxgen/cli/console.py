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
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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


class Bar:
    """What `progress_bar` yields. Call it to advance by `n` (a library `progress` callback); `start` and `step`
    for work in steps (shots, training). Draws nothing where there is no TTY; `lines` then prints there."""

    def __init__(self, progress: Progress | None, task: TaskID | None, lines: StepLines | None):
        self._progress, self._task, self._lines = progress, task, lines

    def __call__(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def start(self, description: str, label: str) -> None:
        """A new item (a shot): the bar restarts at 0 as `description`; step lines name `label`."""
        if self._progress is not None:
            self._progress.update(self._task, description=description, completed=0)
        if self._lines is not None:
            self._lines.start(label)

    def step(self, step: int, total: int, description: str | None = None, label: str | None = None) -> None:
        """`step` of `total` done; `description` renames the bar, `label` what the step lines name from now on."""
        if self._progress is not None:
            self._progress.update(self._task, completed=step, total=total, description=description)
        if self._lines is not None:
            if label is not None:
                self._lines.label = label
            self._lines(step, total)


@contextmanager
def progress_bar(
    description: str,
    total: int | None,
    *,
    transient: bool = False,
    eta: bool = False,
    lines: StepLines | None = None,
) -> Iterator[Bar]:
    """The progress display of every command: yields a `Bar`.

    On a TTY (and not --quiet): a rich bar on stderr (description, bar, N/M, elapsed time, or the time left
    with `eta`; `transient` removes it when done). Elsewhere nothing, or with `lines` (a `StepLines`) one
    `step N/M ...` line every few steps for farm logs.
    """
    if not interactive():
        yield Bar(None, None, lines)
        return
    timing = TimeRemainingColumn() if eta else TimeElapsedColumn()
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), timing)
    with Progress(*columns, console=err_console, transient=transient) as progress:
        yield Bar(progress, progress.add_task(description, total=total), lines)


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
    Call `start(label)` as a shot starts, then the instance with `(step, total)` after every step; `at_end`: a
    line at the last step too. `progress_bar(..., lines=StepLines())` does both for a command.
    """

    def __init__(
        self,
        every: int | None = None,
        seconds: float | None = None,
        clock: Callable[[], float] | None = None,
        at_end: bool = False,
    ):
        self.every = int(_env_number("VFXGEN_PROGRESS_STEPS", 10) if every is None else every)
        self.seconds = _env_number("VFXGEN_PROGRESS_SECONDS", 30.0) if seconds is None else seconds
        self.clock = clock or time.monotonic
        self.at_end = at_end
        self.enabled = not STATE["quiet"] and not interactive()
        self.start("")

    def start(self, label: str) -> None:
        self.label = label
        self.started = self.last = self.clock()
        self.first: int | None = None  # the step this run started at (a resumed training run: not 1)

    def __call__(self, step: int, total: int) -> None:
        if not self.enabled or step <= 0:
            return
        if self.first is None:
            self.first = step
        now = self.clock()
        due = (self.every > 0 and step % self.every == 0) or (self.at_end and step == total)
        if not (due or now - self.last >= self.seconds):
            return
        self.last = now
        elapsed = now - self.started
        eta = elapsed / (step - self.first + 1) * max(total - step, 0)
        log(f"step {step}/{total} {self.label} elapsed {elapsed:.1f} s eta {eta:.1f} s")
