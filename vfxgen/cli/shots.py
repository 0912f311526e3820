"""Shared by `generate` and `animate`: turn CLI arguments into shot jobs, run them, report results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from vfxgen.cli.console import interactive, log
from vfxgen.errors import InputError, UsageError

DEFAULTS = {"steps": 50, "guidance": 6.0, "seed": 0, "fps": 8.0, "negative_prompt": ""}


def read_prompts_file(path: Path) -> list[str]:
    """One prompt per non-empty line; lines starting with # are comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"prompt file {path} does not exist", "check the --prompts path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read prompt file {path}: {exc}", "pass a UTF-8 text file, one prompt per line"
        ) from exc
    prompts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not prompts:
        raise InputError(f"prompt file {path} has no prompts", "write one prompt per line")
    return prompts


def shot_name(index: int, prompt: str) -> str:
    """`0001_burning_fireball`: sortable, filesystem-safe, recognisable."""
    slug = "".join(c if c.isalnum() else "_" for c in prompt.lower()).strip("_")
    slug = "_".join(part for part in slug.split("_") if part)[:48] or "shot"
    return f"{index + 1:04d}_{slug}"


def build_jobs(
    prompt: str | None,
    prompts_file: Path | None,
    output: Path,
    preset: str | None,
    presets_dir: list[Path] | None,
    settings: dict,
    image: np.ndarray | None = None,
):
    """Resolve preset + CLI values (explicit CLI values win) into one job per prompt."""
    from vfxgen.batch import ShotJob
    from vfxgen.pipelines.rgba import GenerationRequest

    values = {k: v for k, v in settings.items() if v is not None}
    loaded = None
    if preset is not None:
        from vfxgen.presets import load_preset

        loaded = load_preset(preset, search_dirs=presets_dir)
        for key, value in loaded.defaults.items():
            values.setdefault("negative_prompt" if key == "negative" else key, value)
        if loaded.negative and "negative_prompt" not in values:
            values["negative_prompt"] = loaded.negative
    for key, value in DEFAULTS.items():
        values.setdefault(key, value)
    extra = {"preset": loaded.name} if loaded else {}

    def render(text: str | None) -> str:
        return loaded.render_prompt(text) if loaded else (text or "")

    if prompts_file is not None:
        if prompt:
            raise UsageError("give either a PROMPT or --prompts FILE, not both", "drop one of them")
        texts = read_prompts_file(prompts_file)
        return [
            ShotJob(output / shot_name(i, text), GenerationRequest(prompt=render(text), extra=extra, **values), image)
            for i, text in enumerate(texts)
        ]
    return [ShotJob(output, GenerationRequest(prompt=render(prompt), extra=extra, **values), image)]


def run_and_report(jobs, load: dict, shot: dict, overwrite: bool, resume: bool, json_out: bool, image_to_video: bool):
    """Run jobs with a progress bar on a TTY; one log line per shot on stderr; JSON on stdout if asked."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vfxgen.batch import LoadOptions, run_jobs
    from vfxgen.cli.console import err_console
    from vfxgen.shot import ShotOptions, parse_formats

    shot_options = ShotOptions(
        formats=parse_formats(shot["formats"]),
        start_frame=shot["start_frame"],
        exr_compression=shot["exr_compression"],
        prores_alpha=shot["prores_alpha"],
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, disable=not interactive(), transient=True) as bar:
        task = bar.add_task("loading model", total=None)

        def on_shot(index, job):
            bar.update(task, description=f"shot {index + 1}/{len(jobs)} {job.output.name}", completed=0)
            log(f"generating {job.output} ({job.request.prompt!r}, seed {job.request.seed})")

        def on_step(step, total):
            bar.update(task, completed=step, total=total)

        results = run_jobs(
            jobs,
            LoadOptions(**load),
            shot_options,
            overwrite=overwrite,
            resume=resume,
            on_step=on_step,
            on_shot=on_shot,
            image_to_video=image_to_video,
        )
    for result in results:
        if result.status == "skipped":
            log(f"skipped {result.output} (complete; --resume)")
        else:
            log(f"wrote {result.output} in {result.seconds:.1f} s")
    if json_out:
        payload = [{"output": str(r.output), "status": r.status, "seconds": round(r.seconds, 3)} for r in results]
        typer.echo(json.dumps({"shots": payload}))
