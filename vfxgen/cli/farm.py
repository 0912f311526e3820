"""`vfxgen farm slurm|openjd`: write the job for a farm; every task runs one shard of a shot list.

vfxgen farm slurm --prompts shots.toml -o /show/fx/elements --array 8 --gres gpu:1 -- --device cuda > job.sh
vfxgen farm openjd --prompts shots.toml -o /show/fx/elements --shards 8 -- --steps 60 > vfxgen.template.yaml

Options after `--` are `vfxgen generate` options; they are checked here, so a typo fails at submission and
not on every farm task. Nothing is submitted and no model is loaded.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli.console import log
from vfxgen.errors import UsageError

farm_app = typer.Typer(
    name="farm",
    help="Write farm jobs (Slurm array script, OpenJD job template) that split a shot list into shards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}

Prompts = Annotated[
    Path, typer.Option("--prompts", help="Shot list (.txt, .toml or .json), as for `vfxgen generate --prompts`.")
]
Output = Annotated[Path, typer.Option("-o", "--output", help="Output root: one shot directory per entry.")]
Python = Annotated[
    str | None, typer.Option("--python", help="Interpreter with vfxgen on the farm nodes (default: this one).")
]
JobName = Annotated[str, typer.Option("--job-name", help="Job name shown by the scheduler.")]
Resume = Annotated[
    bool, typer.Option("--resume/--no-resume", help="Tasks skip finished shots (requeue-safe; on by default).")
]
Quiet = Annotated[bool, typer.Option("--quiet-tasks", help="Run tasks with `vfxgen -q`: no log or progress lines.")]


def _job(ctx: typer.Context, prompts: Path, output: Path, shards: int, python, name, resume, quiet):
    """A FarmJob whose `generate` options (ctx.args) parse as `vfxgen generate` parses them."""
    from vfxgen.farm import FarmJob

    args = list(ctx.args)
    extra = {"python": python} if python else {}
    job = FarmJob(prompts, output, shards, args, name=name, resume=resume, quiet=quiet, **extra)
    _check_generate_args(ctx, job)
    jobs = job.job_count()  # reads the shot list: a missing or broken one fails here, not on the farm
    if shards > jobs:
        log(f"warning: {shards} shards for {jobs} shot(s): {shards - jobs} task(s) will have nothing to do")
    return job


def _check_generate_args(ctx: typer.Context, job) -> None:
    """Parse the options after `--` with the running app's own `generate` command (not imported: the app wires it)."""
    root = ctx.find_root()
    generate = root.command.get_command(root, "generate")
    argv = job.command("1/1")[job.command("1/1").index("generate") + 1 :]
    try:
        parsed = generate.make_context("generate", argv)
    except Exception as exc:  # click's UsageError / BadParameter, whichever click typer ships
        if not hasattr(exc, "format_message"):
            raise
        raise UsageError(
            f"vfxgen generate would refuse {shlex.join(job.generate_args)!r}: {exc.format_message()}",
            "check the options after -- against `vfxgen generate --help`",
        ) from None
    if parsed.params.get("prompt"):
        raise UsageError(
            f"a prompt ({parsed.params['prompt']!r}) was given besides --prompts", "put it into the shot list"
        )


def _make_log_dir(path: Path) -> None:
    from vfxgen.errors import OutputError

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the log directory {path}: {exc.strerror}", "pass a writable --log-dir"
        ) from exc


def slurm(
    ctx: typer.Context,
    prompts: Prompts,
    output: Output,
    array: Annotated[int, typer.Option("--array", help="Number of array tasks = shards (tasks 0..N-1).")],
    gres: Annotated[str | None, typer.Option("--gres", help="Generic resources per task, e.g. gpu:1.")] = None,
    partition: Annotated[str | None, typer.Option("--partition", help="Slurm partition.")] = None,
    time_limit: Annotated[str | None, typer.Option("--time", help="Time limit per task, e.g. 4:00:00.")] = None,
    log_dir: Annotated[
        Path | None,
        typer.Option("--log-dir", help="Task logs go to DIR/NAME-JOBID_TASK.log (created now; default: Slurm's)."),
    ] = None,
    max_running: Annotated[
        int | None, typer.Option("--max-running", help="At most this many tasks at once (--array=0-N%K).")
    ] = None,
    sbatch: Annotated[
        list[str] | None, typer.Option("--sbatch", help="Another #SBATCH option, e.g. --sbatch=--mem=64G (repeat).")
    ] = None,
    python: Python = None,
    job_name: JobName = "vfxgen",
    resume: Resume = True,
    quiet_tasks: Quiet = False,
) -> None:
    """Print a Slurm array job script: task K runs `vfxgen generate --shard K+1/N --resume`.

    Submit it with `sbatch job.sh`; rerun single shards with `sbatch --array=K job.sh`.

    \b
    Examples:
      vfxgen farm slurm --prompts shots.toml -o elements/ --array 8 --gres gpu:1 -- --device cuda > job.sh
      sbatch job.sh
    """
    from vfxgen.farm import slurm_script

    job = _job(ctx, prompts, output, array, python, job_name, resume, quiet_tasks)
    if log_dir is not None:  # Slurm does not create it: a task whose log cannot be opened fails (ExitCode 0:53)
        from vfxgen.farm.fields import check_directive_path

        check_directive_path(str(log_dir.absolute()), "--log-dir")
        _make_log_dir(log_dir)
    script = slurm_script(
        job,
        gres=gres,
        partition=partition,
        time_limit=time_limit,
        log_dir=log_dir,
        max_running=max_running,
        sbatch_options=sbatch or (),
    )
    typer.echo(script, nl=False)


def openjd(
    ctx: typer.Context,
    prompts: Prompts,
    output: Output,
    shards: Annotated[int, typer.Option("--shards", help="Number of tasks = shards (task parameter Shard 1..N).")],
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs a worker must have (host requirement).")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Write the template as JSON instead of YAML.")] = False,
    python: Python = None,
    job_name: JobName = "vfxgen",
    resume: Resume = True,
    quiet_tasks: Quiet = False,
) -> None:
    """Print an Open Job Description job template (Deadline Cloud, `openjd run`): one task per shard.

    The shot list and output root are the job parameters Prompts and OutputRoot.

    \b
    Examples:
      vfxgen farm openjd --prompts shots.toml -o elements/ --shards 8 > t.yaml
      openjd run t.yaml --step Generate -p Prompts=$PWD/shots.toml -p OutputRoot=$PWD/elements
    """
    from vfxgen.farm import job_template

    if gpus < 0:
        raise UsageError(f"--gpus {gpus} is negative", "pass 0 (any worker) or the GPUs a task needs")
    job = _job(ctx, prompts, output, shards, python, job_name, resume, quiet_tasks)
    template = job_template(job, gpus=gpus)
    if json_out:
        typer.echo(json.dumps(template, indent=2))
    else:
        import yaml

        typer.echo(yaml.safe_dump(template, sort_keys=False, width=1000), nl=False)
    params = f"-p Prompts={shlex.quote(str(job.prompts))} -p OutputRoot={shlex.quote(str(job.output))}"
    log(f"run it here with: openjd run TEMPLATE --step Generate {params}")


farm_app.command("slurm", context_settings=EXTRA)(slurm)
farm_app.command("openjd", context_settings=EXTRA)(openjd)
