"""Validation of every value a farm engine writes into a script or a template.

A generated job script is code: a value with a newline in it becomes a line of its own (`touch PWNED`
runs, `#SBATCH --wrap=...` adds a scheduler option). So each value is checked for the field it fills
before anything is written, with the scheduler's own character rules where it has them, and whatever
reaches a shell command line is quoted by `shlex` besides. A refusal is a `UsageError`: one line, exit 2.
"""

from __future__ import annotations

import re

from vfxgen.errors import UsageError

#: Slurm job and partition names: letters, digits and `_ . + -` (a partition field may list several, by comma).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
_PARTITIONS = re.compile(r"[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*")
#: --gres: `gpu:1`, `gpu:a100:2`, `gpu:1,shard:2`.
_GRES = re.compile(r"[A-Za-z0-9_.:/,=-]+")
#: --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED.
_TIME = re.compile(r"(\d+-)?\d+(:\d+){0,2}|UNLIMITED|INFINITE")
#: One `#SBATCH` option: sbatch splits a directive line at blanks and reads quotes, so neither is allowed.
_SBATCH_OPTION = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*(=[^\s'\"`$;\\]*)?")


def refuse_control_characters(value: str, field: str) -> str:
    """Refuse newlines, tabs and other control characters: no field of a job ever needs one."""
    bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise UsageError(
            f"{field} {value!r} contains the control character {bad!r}",
            "use a value without newlines, tabs or other control characters",
        )
    return value


def _check_field(value: str, flag: str, pattern: re.Pattern[str], what: str, hint: str) -> str:
    """The one check every scheduler field gets: no control characters, then the field's own characters."""
    refuse_control_characters(value, flag)
    if not pattern.fullmatch(value):
        raise UsageError(f"{flag} {value!r} is not {what}", hint)
    return value


def check_job_name(value: str, flag: str = "--job-name") -> str:
    """A job name every engine accepts as it is (Slurm `--job-name`, OpenJD `name`)."""
    return _check_field(
        value, flag, _NAME, "a job name", "use letters, digits and _ . + - (at most 128), e.g. fx_sparks"
    )


def check_partition(value: str) -> str:
    return _check_field(value, "--partition", _PARTITIONS, "a partition name", "use e.g. --partition gpu or gpu,debug")


def check_gres(value: str) -> str:
    return _check_field(value, "--gres", _GRES, "a generic-resource list", "use e.g. --gres gpu:1")


def check_time_limit(value: str) -> str:
    return _check_field(value, "--time", _TIME, "a Slurm time limit", "use e.g. --time 4:00:00 or 1-12:00:00")


def check_sbatch_option(value: str) -> str:
    return _check_field(
        value,
        "--sbatch",
        _SBATCH_OPTION,
        "one sbatch option",
        "pass one option per --sbatch, without blanks, quotes or shell characters: e.g. --sbatch=--mem=64G",
    )


def check_directive_path(value: str, flag: str) -> str:
    """A path written into an `#SBATCH` line, where sbatch splits at blanks and reads quotes."""
    refuse_control_characters(value, flag)
    bad = next((c for c in value if c.isspace() or c in "'\"`$\\"), None)
    if bad is not None:
        raise UsageError(
            f"{flag} {value!r} contains {bad!r}, which an #SBATCH line cannot carry",
            "choose a folder whose path has no blanks, quotes, $ or backslashes",
        )
    return value
