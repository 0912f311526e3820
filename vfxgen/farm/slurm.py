"""A Slurm array job script: array task K runs shard K+1 of N.

    vfxgen farm slurm --prompts shots.toml -o /show/fx/elements --array 8 --gres gpu:1 > job.sh
    sbatch job.sh                 # tasks 0-7: shards 1/8 ... 8/8
    sbatch --array=2,5 job.sh     # only shards 3/8 and 6/8 again (N stays 8: it is written in the script)
    sbatch job.sh --steps 60      # arguments after the script are added to the vfxgen command

The shard count is written into the script rather than read from `SLURM_ARRAY_TASK_COUNT`, because
resubmitting a subset of the array (`--array=2`) changes the count Slurm reports but must not change the
split. The task's exit code is vfxgen's (see docs/farm.md): `exec` hands the task to vfxgen, so a
`scancel` or a time limit's SIGTERM reaches it directly and ends it with 130 after cleaning up.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from vfxgen import __version__
from vfxgen.errors import UsageError
from vfxgen.farm.fields import (
    check_directive_path,
    check_gres,
    check_partition,
    check_sbatch_option,
    check_time_limit,
)
from vfxgen.farm.job import FarmJob

#: What the script puts in `--shard`: the array task id (0-based) plus one, over the fixed count.
SHARD_EXPR = '"$((SLURM_ARRAY_TASK_ID + 1))/$shards"'


def slurm_script(
    job: FarmJob,
    gres: str | None = None,
    partition: str | None = None,
    time_limit: str | None = None,
    log_dir: str | Path | None = None,
    max_running: int | None = None,
    sbatch_options: Sequence[str] = (),
) -> str:
    """The job script (bash with `#SBATCH` lines) for `sbatch`."""
    n = job.shards
    if max_running is not None and max_running < 1:
        raise UsageError(f"--max-running {max_running} is below 1", "pass at least 1, or leave it out")
    array = f"0-{n - 1}" + (f"%{max_running}" if max_running else "")
    directives = [f"--job-name={job.name}", f"--array={array}"]
    # Each value is checked for its field before it is written: a directive line is parsed by sbatch, the
    # comment and command lines by bash (the command's arguments are also shlex-quoted).
    if gres:
        directives.append(f"--gres={check_gres(gres)}")
    if partition:
        directives.append(f"--partition={check_partition(partition)}")
    if time_limit:
        directives.append(f"--time={check_time_limit(time_limit)}")
    if log_dir is not None:
        directives.append(f"--output={check_directive_path(str(Path(log_dir).absolute()), '--log-dir')}/%x-%A_%a.log")
    for option in sbatch_options:
        directives.append(check_sbatch_option(option.strip()))
    argv = job.command("SHARD")
    at = argv.index("--shard") + 1  # the one argument the shell computes per task
    parts = ["exec", shlex.join(argv[:at]), SHARD_EXPR, shlex.join(argv[at + 1 :]), '"$@"']
    command = " ".join(part for part in parts if part)
    lines = [
        "#!/bin/bash",
        f"# vfxgen {__version__}: {n} shard(s) of {shlex.quote(str(job.prompts))} into "
        f"{shlex.quote(str(job.output))}, one per array task.",
        "#   sbatch THIS_SCRIPT                # every shard",
        f"#   sbatch --array=K THIS_SCRIPT      # shard K+1/{n} again (K in 0-{n - 1}); finished shots are skipped",
        "#   sbatch THIS_SCRIPT --steps 60     # further arguments go to `vfxgen generate`",
        "# Exit codes are vfxgen's: 0 done, 4/8 rerun with --resume later, 7 out of memory, 130 cancelled.",
        *(f"#SBATCH {d}" for d in directives),
        "set -euo pipefail",
        f"shards={n}",
        'if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then',
        '    echo "error: not a Slurm array task. Submit this script with sbatch" >&2',
        "    exit 2",
        "fi",
        "if (( SLURM_ARRAY_TASK_ID < 0 || SLURM_ARRAY_TASK_ID >= shards )); then",
        '    echo "error: array task $SLURM_ARRAY_TASK_ID is outside 0-$((shards - 1)) (the job has $shards shards).'
        ' Submit with --array=0-$((shards - 1)) or a subset of it" >&2',
        "    exit 2",
        "fi",
        command,
        "",
    ]
    return "\n".join(lines)
