"""`FarmJob`: one batch of shots split into N shards, as every farm engine renders it.

Each farm task runs the same command with its own `--shard I/N`:

    PYTHON -m vfxgen generate --prompts LIST -o ROOT --shard I/N --resume [generate options]

`--shard` takes jobs I, I+N, I+2N, ... of the shot list (after `--seeds` expansion), so N tasks cover every
shot exactly once; `--resume` makes a requeued or resubmitted task skip the shots it already finished; the
per-shot lock stops two live tasks from making the same shot. Paths are made absolute here because farm
tasks start in directories of the scheduler's choosing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from vfxgen.errors import InputError, UsageError
from vfxgen.farm.fields import check_job_name, refuse_control_characters
from vfxgen.shotlist import parse_seeds, read_shot_list

#: `generate` options the farm job sets itself; giving them again would contradict the split.
RESERVED = ("--shard", "--prompts", "-o", "--output")


@dataclass
class FarmJob:
    """A shot list rendered by `shards` farm tasks into `output`.

    `generate_args` are further `vfxgen generate` options, as on the command line (e.g.
    `["--steps", "30", "--device", "cuda"]`). `python` is the interpreter the tasks run (default: this one,
    so tasks use the same environment that wrote the job).
    """

    prompts: Path
    output: Path
    shards: int
    generate_args: list[str] = field(default_factory=list)
    python: str = field(default_factory=lambda: sys.executable)
    name: str = "vfxgen"
    resume: bool = True
    quiet: bool = False

    def __post_init__(self) -> None:
        self.prompts = Path(self.prompts).absolute()
        self.output = Path(self.output).absolute()
        self.generate_args = [str(a) for a in self.generate_args]
        # Every value below ends up in a script or template: refuse what could break out of its field.
        check_job_name(self.name)
        refuse_control_characters(self.python, "--python")
        refuse_control_characters(str(self.prompts), "--prompts")
        refuse_control_characters(str(self.output), "-o")
        for arg in self.generate_args:
            refuse_control_characters(arg, "the generate option")
        if self.output.exists() and not self.output.is_dir():
            raise InputError(
                f"-o {self.output} is a file, and every task would fail to make its shots there",
                "give a folder (new or existing) as the output root",
            )
        if not isinstance(self.shards, int) or self.shards < 1:
            raise UsageError(f"the job needs at least one shard (got {self.shards!r})", "pass e.g. --array 4")
        for arg in self.generate_args:
            option = arg.split("=", 1)[0]
            if arg.startswith("-o") and not arg.startswith("--"):
                option = "-o"  # `-oPATH`: click reads it as -o PATH, and the last -o wins
            if option in RESERVED:
                raise UsageError(
                    f"{option} is set by the farm job itself", "give the shot list and root with --prompts and -o"
                )
            if option == "--overwrite" and self.resume:
                raise UsageError("--overwrite contradicts the --resume every task gets", "add --no-resume to overwrite")

    def command(self, shard: str) -> list[str]:
        """The argv of one task; `shard` is `I/N` or an engine's placeholder for it."""
        head = [self.python, "-m", "vfxgen", *(["-q"] if self.quiet else []), "generate"]
        head += ["--prompts", str(self.prompts), "-o", str(self.output), "--shard", shard]
        return head + (["--resume"] if self.resume else []) + self.generate_args

    def seeds(self) -> list[int] | None:
        """The `--seeds` wedge of `generate_args`, if any."""
        for i, arg in enumerate(self.generate_args):
            if arg.startswith("--seeds="):
                return parse_seeds(arg.split("=", 1)[1])
            if arg == "--seeds" and i + 1 < len(self.generate_args):
                return parse_seeds(self.generate_args[i + 1])
        return None

    def job_count(self) -> int:
        """How many shots the whole job makes: shot-list entries times seeds (reads the list, no model)."""
        return len(read_shot_list(self.prompts)) * len(self.seeds() or [None])
