"""Typed errors with exit codes.

Library code raises these; the CLI maps them, in one place (`vfxgen.cli.app`), to one line on stderr
and the class's exit code, so a farm scheduler can tell "bad input" from "out of memory" without
parsing text. Every error carries a hint that says how to fix it.
"""

from __future__ import annotations


class VfxgenError(Exception):
    """Base class: `message` says what is wrong, `hint` how to fix it."""

    exit_code = 1
    kind = "internal"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The single line the CLI prints: message, then the fix."""
        text = self.message.rstrip(".")
        return f"{text}. {self.hint}" if self.hint else f"{text}."


class UsageError(VfxgenError):
    """Arguments that cannot work together or are out of range (frames not 4k+1, bad size, ...)."""

    exit_code = 2
    kind = "usage"


class InputError(VfxgenError):
    """An input file is missing, unreadable, corrupt, or not what the command needs."""

    exit_code = 3
    kind = "input"


class MissingAlphaError(InputError):
    """A source has colour only where an RGBA clip was asked for (callers that can use a plate catch it)."""


class OutputExistsError(VfxgenError):
    """The output already exists and `--overwrite` was not given; nothing was touched."""

    exit_code = 4
    kind = "output-exists"


class OutputError(VfxgenError):
    """The output cannot be written (permissions, disk full, path inside the input)."""

    exit_code = 5
    kind = "output"


class ModelError(VfxgenError):
    """A model directory or weight file is not usable (wrong architecture, wrong size, not safetensors)."""

    exit_code = 6
    kind = "model"


class OutOfMemoryError(VfxgenError):
    """The device ran out of memory."""

    exit_code = 7
    kind = "out-of-memory"


class LockedError(VfxgenError):
    """Another live job holds the lock on this output."""

    exit_code = 8
    kind = "locked"


class VfxgenWarning(UserWarning):
    """Something the user should know that does not stop the work (a prompt cut to the model's length).

    Library code warns with `warnings.warn(..., VfxgenWarning)`; the CLI prints it as one `warning:` line.
    """


class QCFailedError(VfxgenError):
    """`vfxgen qc`: the element failed one or more checks (the report says which); a farm can gate on it."""

    exit_code = 9
    kind = "qc-failed"


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "internal error (a bug: rerun with --debug and report the traceback)",
    UsageError.exit_code: "usage: invalid arguments or option values",
    InputError.exit_code: "input: missing, unreadable or unsuitable input",
    OutputExistsError.exit_code: "output exists: pass --overwrite or --resume",
    OutputError.exit_code: "output: cannot write the output",
    ModelError.exit_code: "model: model directory or weights unusable",
    OutOfMemoryError.exit_code: "out of memory on the device",
    LockedError.exit_code: "locked: another job is writing this output",
    QCFailedError.exit_code: "qc failed: the element failed a `vfxgen qc` check",
    130: "interrupted (SIGINT/SIGTERM); rerun with --resume",
}
