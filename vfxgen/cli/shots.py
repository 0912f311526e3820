"""Shared by `generate` and `animate`: turn CLI arguments into shot jobs, run them, report results."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from vfxgen.cli.console import StepLines, log, progress_bar
from vfxgen.errors import UsageError

if TYPE_CHECKING:
    from vfxgen.cli.options import CommandSettings


def build_jobs(
    prompt: str | None,
    prompts_file: Path | None,
    output: Path,
    preset: str | None,
    presets_dir: list[Path] | None,
    settings: dict,
    image: np.ndarray | None = None,
    seeds: str | None = None,
    shard: str | None = None,
    model: Path | None = None,
    run=None,
    extra: dict | None = None,
):
    """One job per shot (and per seed with --seeds), then this task's shard of them.

    `run(pipeline, request, progress) -> Clip`: a custom generation (animate's conditioning, matte); `extra`:
    inputs recorded in each request (and compared by --resume).

    Each shot's settings come from `vfxgen.settings.resolve_request` (shot-list entry, CLI option, preset,
    model recipe, vfxgen default), the same function the Python API and `presets show --model` use.
    """
    from vfxgen.batch import ShotJob
    from vfxgen.pipelines.model_dirs import resolve_model
    from vfxgen.presets import load_preset
    from vfxgen.settings import resolve_request
    from vfxgen.shotlist import ShotSpec, parse_seeds, parse_shard, read_shot_list, shard_from_environment, take_shard

    if prompts_file is not None and prompt:
        raise UsageError("give either a PROMPT or --prompts FILE, not both", "drop one of them")
    seed_list = parse_seeds(seeds) if seeds else None
    if seed_list and settings.get("seed") is not None:
        raise UsageError("--seed and --seeds contradict each other", "pass only one of them")
    info = resolve_model(model)  # cheap (JSON only): how this model wants its prompts
    batch = prompts_file is not None
    specs = read_shot_list(prompts_file) if batch else [ShotSpec(name=output.name, prompt=prompt)]
    presets: dict[str, object] = {}
    jobs = []
    for spec in specs:
        name = spec.preset or preset
        if name is not None and name not in presets:
            presets[name] = load_preset(name, search_dirs=presets_dir)  # each file read once per batch
        request = resolve_request(spec.prompt, info, preset=presets.get(name), options=settings, entry=spec.settings)
        base = output / spec.name if batch else output
        for seed in seed_list or [request.seed]:
            target = base.with_name(f"{base.name}_seed{seed:04d}") if seed_list else base
            shot_request = replace(request, seed=seed, extra={**request.extra, **(extra or {})})
            jobs.append(ShotJob(target, shot_request, image, run=run))
    # Launchers (torchrun / accelerate launch) shard batches automatically; a single shot is never sharded.
    chosen = parse_shard(shard) if shard else (shard_from_environment() if batch or seed_list else None)
    if chosen is not None:
        jobs = take_shard(jobs, *chosen)
    return jobs


def run_and_report(
    jobs,
    given: CommandSettings,
    image_to_video: bool | None,
    timeline: Path | None = None,
):
    """Run jobs with the command's settings (`cli.options.command_settings`) and a progress bar on a TTY (step
    lines in farm logs); one log line per shot on stderr; JSON on stdout if asked."""
    from vfxgen.batch import run_jobs

    # Farm logs: a progress line every N steps or 30 s where no bar is drawn.
    with progress_bar("loading model", None, transient=True, lines=StepLines()) as bar:

        def on_shot(index, job):
            bar.start(f"shot {index + 1}/{len(jobs)} {job.output.name}", str(job.output))
            log(f"generating {job.output} ({job.request.prompt!r}, seed {job.request.seed})")

        def on_done(result):  # one line per shot as it finishes, so a later failure loses nothing
            if result.status == "skipped":
                log(f"skipped {result.output} (complete; --resume)")
            elif result.status == "locked":
                log(f"skipped {result.output}: another job is writing it")
            else:
                log(f"wrote {result.output} in {result.seconds:.1f} s")

        run = given.run
        results = run_jobs(
            jobs,
            given.shot,
            run["model"],
            run["lora"],
            given.load,
            overwrite=run["overwrite"],
            resume=run["resume"],
            on_step=bar.step,
            on_shot=on_shot,
            image_to_video=image_to_video,
            on_done=on_done,
        )
    if not jobs:
        log("nothing to do: this shard of the shot list is empty")
    if timeline is not None and timeline.is_dir():
        write_batch_timeline(timeline, [r.output for r in results])
    if given.run["json"]:
        payload = [{"output": str(r.output), "status": r.status, "seconds": round(r.seconds, 3)} for r in results]
        typer.echo(json.dumps({"shots": payload}))
    locked = [r for r in results if r.status == "locked"]
    if locked:
        from vfxgen.errors import LockedError

        raise LockedError(
            f"{len(locked)} shot(s) were being written by other jobs (first: {locked[0].output})",
            "rerun with --resume once those jobs have finished",
        )


def write_batch_timeline(root: Path, outputs: list[Path]) -> Path:
    """`root/shots.otio`: this run's shots in shot-list order, then complete shots other farm shards made
    under `root` (by name), so whichever shard finishes last leaves the whole batch in the timeline."""
    from vfxgen.io.otio import write_timeline
    from vfxgen.shot import MANIFEST

    mine = [Path(p) for p in outputs]
    known = {p.resolve() for p in mine}
    others = sorted(p for p in root.iterdir() if (p / MANIFEST).is_file() and p.resolve() not in known)
    path = write_timeline(root, mine + others)
    log(f"wrote {path}")
    return path
