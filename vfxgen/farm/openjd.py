"""An Open Job Description job template (specification `jobtemplate-2023-09`): one task per shard.

    vfxgen farm openjd --prompts shots.toml -o /show/fx/elements --shards 8 > vfxgen.template.yaml
    openjd check vfxgen.template.yaml
    openjd run vfxgen.template.yaml --step Generate                      # every shard, here, one after another
    openjd run vfxgen.template.yaml --step Generate -tp Shard=3          # one shard
    deadline bundle submit ...                                          # AWS Deadline Cloud (a job bundle)

The step `Generate` has one INT task parameter, `Shard`, ranging over `1-{{Param.Shards}}`; each task runs
`vfxgen generate --shard {{Task.Param.Shard}}/{{Param.Shards}} --resume`. Shot list, output root, shard count
and interpreter are job parameters (defaults: what the template was written with), so one template serves
many submissions. Cancelling a task sends SIGTERM first (`NOTIFY_THEN_TERMINATE`), which vfxgen answers
by removing the shot in progress and exiting 130; finished shots stay.

OpenJD steps are stages that depend on each other; the parallel unit is the task, so the shards are tasks
of one step, not one step each.
"""

from __future__ import annotations

from typing import Any

from vfxgen import __version__
from vfxgen.errors import UsageError
from vfxgen.farm.job import FarmJob

SPECIFICATION = "jobtemplate-2023-09"
STEP = "Generate"


def job_template(job: FarmJob, gpus: int = 0, notify_seconds: int = 30) -> dict[str, Any]:
    """The job template as a dict, ready for `yaml.safe_dump` / `json.dumps`.

    `gpus` > 0 adds a host requirement (`amount.worker.gpu`) so a farm only hands tasks to workers with GPUs.
    """
    for arg in [*job.generate_args, job.python, str(job.prompts), str(job.output)]:
        if "{{" in arg or "}}" in arg:
            raise UsageError(f"argument {arg!r} contains '{{{{' or '}}}}'", "OpenJD reads those as format strings")
    argv = job.command("{{Task.Param.Shard}}/{{Param.Shards}}")
    at = argv.index("--prompts")
    argv[at + 1] = "{{Param.Prompts}}"
    argv[argv.index("-o") + 1] = "{{Param.OutputRoot}}"
    step: dict[str, Any] = {
        "name": STEP,
        "description": "One vfxgen process per shard: loads the model once, makes its share of the shots.",
        "parameterSpace": {
            "taskParameterDefinitions": [{"name": "Shard", "type": "INT", "range": "1-{{Param.Shards}}"}]
        },
        "script": {
            "actions": {
                "onRun": {
                    "command": "{{Param.Python}}",
                    "args": argv[1:],
                    "cancelation": {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": notify_seconds},
                }
            }
        },
    }
    if gpus > 0:
        step["hostRequirements"] = {"amounts": [{"name": "amount.worker.gpu", "min": gpus}]}
    return {
        "specificationVersion": SPECIFICATION,
        "name": job.name,
        "description": f"vfxgen {__version__}: generate the shots of a shot list, split into shards.",
        "parameterDefinitions": [
            {
                "name": "Prompts",
                "type": "PATH",
                "objectType": "FILE",
                "dataFlow": "IN",
                "description": "Shot list: .txt (one prompt per line), .toml ([[shot]]) or .json.",
            },
            {
                "name": "OutputRoot",
                "type": "PATH",
                "objectType": "DIRECTORY",
                "dataFlow": "OUT",
                "description": "Root directory: one shot directory per entry of the shot list.",
            },
            {
                "name": "Shards",
                "type": "INT",
                "minValue": 1,
                "default": job.shards,
                "description": "Number of tasks the shot list is split into (round robin).",
            },
            {
                "name": "Python",
                "type": "STRING",
                "minLength": 1,
                "default": job.python,
                "description": "The Python interpreter with vfxgen installed, on the workers.",
            },
        ],
        "steps": [step],
    }
