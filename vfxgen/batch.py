"""Many shots with one loaded model: the engine behind `vfxgen generate` / `animate` and the Python API.

A `ShotJob` is one output directory plus its generation request. `run_jobs` checks every job before the
model loads (sizes, outputs that exist), loads the model once, then generates and writes each shot
atomically, skipping complete shots when resuming.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vfxgen.errors import LockedError, UsageError
from vfxgen.pipelines.model_dirs import file_sha256, model_weight_hashes
from vfxgen.pipelines.recipe import RGBARecipe
from vfxgen.request import GenerationRequest, LoadOptions, generation_record
from vfxgen.shot import ShotOptions, check_output_free, shot_lock, write_shot


@dataclass
class ShotJob:
    """One shot to make: where it goes, what to generate, and (for animate) the input image."""

    output: Path
    request: GenerationRequest
    image: np.ndarray | None = None
    expected: dict | None = None  # settings a finished shot must match for --resume to skip it
    # A custom generation `run(pipeline, request, progress) -> Clip` (animate with conditioning, matte);
    # its prompt may be empty.
    run: Callable | None = None


@dataclass
class ShotResult:
    output: Path
    status: str  # "written" | "skipped" | "locked" (another live job holds it)
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)


def run_jobs(
    jobs: Sequence[ShotJob],
    shot: ShotOptions,
    model: str | os.PathLike | None = None,
    lora: str | os.PathLike | None = None,
    load: LoadOptions | None = None,
    overwrite: bool = False,
    resume: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    on_shot: Callable[[int, ShotJob], None] | None = None,
    image_to_video: bool = False,
    on_done: Callable[[ShotResult], None] | None = None,
) -> list[ShotResult]:
    """Generate and write every job; everything checkable is checked before the model loads."""
    if overwrite and resume:
        raise UsageError("--overwrite and --resume contradict each other", "pass only one of them")
    load = (load or LoadOptions()).checked()
    shot = shot.checked()
    choice = load.choose(model, lora)  # once per batch: the pipeline loads exactly this
    info, recipe = choice.info, choice.recipe
    lora_hash = file_sha256(choice.lora) if resume else ""  # resume compares it with finished shots
    weights = model_weight_hashes(info) if resume else {}  # and the model's own weight files (cached hashes)
    seen: set[Path] = set()
    plan = []
    for job in jobs:
        job.request = job.request.resolved(info, recipe, text_required=job.image is None and job.run is None)
        out = job.output.resolve()
        if out in seen:
            raise UsageError(f"two shots write to {job.output}", "give each shot its own name or seed")
        seen.add(out)
        job.expected = expected_settings(job.request, load, recipe, info.name, lora_hash, weights) if resume else None
        free = check_output_free(job.output, overwrite=overwrite, resume=resume, expected=job.expected, options=shot)
        plan.append((job, free))
    # Matte keeps its footage's own rate: only generated frames can be relabelled.
    _warn_relabelled_rate([job.request.fps for job, _ in plan if "input_clip" not in job.request.extra], info)
    _warn_noncommercial(recipe)
    results: list[ShotResult] = []
    todo = [job for job, action in plan if action == "write"]
    pipeline = None
    if todo:  # torch and diffusers are imported only now: every refusal above took milliseconds
        from vfxgen.pipelines.rgba import RGBAPipeline

        pipeline = RGBAPipeline.load(choice, load, image_to_video=image_to_video)
    for index, (job, action) in enumerate(plan):
        result = ShotResult(job.output, "skipped") if action == "skip" else None
        if result is None:
            try:
                result = _run_one(index, job, pipeline, shot, overwrite, resume, on_step, on_shot)
            except LockedError:
                if len(plan) == 1:
                    raise
                result = ShotResult(job.output, "locked")  # another live job makes it; go on with the rest
        results.append(result)
        if on_done:
            on_done(result)
    return results


def _warn_noncommercial(recipe: RGBARecipe) -> None:
    """One warning line per run when the weights are known to be noncommercial (`vfxgen.licences`)."""
    import warnings

    from vfxgen.errors import VfxgenWarning
    from vfxgen.licences import noncommercial_notice

    notice = noncommercial_notice(recipe.source)
    if notice:
        warnings.warn(notice, VfxgenWarning, stacklevel=3)


def _warn_relabelled_rate(rates: list[float], info) -> None:
    """One warning line when shots are labelled with another rate than the model makes: the frames are the
    same, so an 8 fps element labelled 24 fps plays 3x too fast on a plate (retime it in the comp instead)."""
    import warnings

    from vfxgen.errors import VfxgenWarning
    from vfxgen.framerate import same_rate

    other = sorted({r for r in rates if not same_rate(r, info.native_fps)})
    if other:
        native = info.native_fps
        warnings.warn(
            f"--fps {other[0]:g} differs from the model's native {native:g} fps: the frames are labelled, not "
            f"retimed, so the element plays {other[0] / native:.3g}x as fast; leave --fps out and retime in the comp",
            VfxgenWarning,
            stacklevel=3,
        )


def expected_settings(
    request: GenerationRequest,
    load: LoadOptions,
    recipe: RGBARecipe,
    model_name: str,
    lora_hash: str,
    model_hashes: dict[str, str] | None = None,
) -> dict:
    """What a finished shot's manifest must say for `--resume` to skip it: every setting that changes its
    pixels (compared with the manifest's `generation` block; how its files are written is compared by
    `shot.output_differences`). Animate and matte add their input and
    conditioning (`request.extra`: input_image / input_clip, conditioning), compared key by key."""
    keys = ("input_sha256", "input_clip", "conditioning")  # a still by content (paths differ between mounts)
    inputs = {key: request.extra[key] for key in keys if key in request.extra}
    if isinstance(inputs.get("conditioning"), dict):  # None = "the default": the manifest records the value used
        inputs["conditioning"] = {k: v for k, v in inputs["conditioning"].items() if v is not None}
    expected = {
        **inputs,
        "prompt": request.prompt,
        **request.record(),  # every request setting (vfxgen.request.SETTINGS), as shot.json records it
        **generation_record(load.record(recipe)),  # the load settings that change pixels, resolved
        "model": model_name,
        "lora_sha256": lora_hash,
    }
    if recipe.flow_shift:  # flow-matching recipes (Wan-Alpha): v1 and v2 differ only in the mask's noise shift
        expected.setdefault("recipe", {})["alpha_shift_mean"] = recipe.alpha_shift_mean
    if model_hashes:  # a folder of the same name with other weights is another model (shots that record them)
        expected["model_files_sha256"] = model_hashes
    return expected


def _run_one(index, job, pipeline, shot, overwrite, resume, on_step, on_shot) -> ShotResult:
    # Hold the shot's lock from before generation until it is in place: a second job on the same
    # shot refuses at once instead of computing it twice.
    with shot_lock(job.output):
        free = check_output_free(job.output, overwrite=overwrite, resume=resume, expected=job.expected, options=shot)
        if free == "skip":
            return ShotResult(job.output, "skipped")  # another job finished it meanwhile
        if on_shot:
            on_shot(index, job)
        start = time.perf_counter()
        if job.run is not None:
            clip = job.run(pipeline, job.request, on_step)
        elif job.image is not None:
            clip = pipeline.animate(job.image, job.request, progress=on_step)
        else:
            clip = pipeline.generate(job.request, progress=on_step)
        manifest = write_shot(clip, job.output, shot, overwrite=overwrite, lock=False)
    return ShotResult(job.output, "written", time.perf_counter() - start, manifest)
