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


def check_job_name(value: str, flag: str = "--job-name") -> str:
    """A job name every engine accepts as it is (Slurm `--job-name`, OpenJD `name`)."""
    refuse_control_characters(value, flag)
    if not _NAME.fullmatch(value):
        raise UsageError(
            f"{flag} {value!r} is not a job name", "use letters, digits and _ . + - (at most 128), e.g. fx_sparks"
        )
    return value


def check_partition(value: str) -> str:
    refuse_control_characters(value, "--partition")
    if not _PARTITIONS.fullmatch(value):
        raise UsageError(f"--partition {value!r} is not a partition name", "use e.g. --partition gpu or gpu,debug")
    return value


def check_gres(value: str) -> str:
    refuse_control_characters(value, "--gres")
    if not _GRES.fullmatch(value):
        raise UsageError(f"--gres {value!r} is not a generic-resource list", "use e.g. --gres gpu:1")
    return value


def check_time_limit(value: str) -> str:
    refuse_control_characters(value, "--time")
    if not _TIME.fullmatch(value):
        raise UsageError(f"--time {value!r} is not a Slurm time limit", "use e.g. --time 4:00:00 or 1-12:00:00")
    return value


def check_sbatch_option(value: str) -> str:
    refuse_control_characters(value, "--sbatch")
    if not _SBATCH_OPTION.fullmatch(value):
        raise UsageError(
            f"--sbatch {value!r} is not one sbatch option",
            "pass one option per --sbatch, without blanks, quotes or shell characters: e.g. --sbatch=--mem=64G",
        )
    return value


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
