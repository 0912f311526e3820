"""Farm behaviour with real processes: SIGKILL mid-batch then --resume, two jobs on one shot, stale locks,
a full disk. Uses the tiny offline model from tests/tiny_models.py."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from tests.tiny_models import save_tiny_model_dir

ENV = {**os.environ, "CI": "true", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")


def vfxgen(*args, **kwargs) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vfxgen", *[str(a) for a in args]]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    proc = vfxgen(*args, **kwargs)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def exr_frames(shot: Path) -> list[np.ndarray]:
    frames = []
    for path in sorted((shot / "rgba").glob("*.exr")):
        image = oiio.ImageInput.open(str(path))
        frames.append(image.read_image(format=oiio.FLOAT))
        image.close()
    return frames


def wait_for(predicate, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_batch_then_resume_matches_uninterrupted(tmp_path):
    """The bundled model, tiny settings (few steps): SIGKILL after the first shot, then --resume."""
    prompts = tmp_path / "shots.txt"
    prompts.write_text("burning fireball\nthick smoke\nbright sparks\nwater splash\n")
    common = ["generate", "--prompts", prompts, "--steps", 8, "--format", "exr,preview"]
    reference = run(*common, "-o", tmp_path / "ref")
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "killed"
    job = vfxgen(*common, "-o", out)
    assert wait_for(lambda: (out / "0001_burning_fireball" / "shot.json").is_file())
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=60)
    finished = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert 1 <= len(finished) < 4
    for name in finished:  # whatever exists under a final name is a complete shot
        assert (out / name / "shot.json").is_file()
        assert len(exr_frames(out / name)) == 9

    resumed = run(*common, "-o", out, "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    statuses = [s["status"] for s in json.loads(resumed.stdout.strip().splitlines()[-1])["shots"]]
    assert statuses.count("skipped") == len(finished) and statuses.count("written") == 4 - len(finished)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (tmp_path / "ref").iterdir())
    for shot in (tmp_path / "ref").iterdir():
        for a, b in zip(exr_frames(shot), exr_frames(out / shot.name), strict=True):
            assert np.array_equal(a, b)


def test_second_job_on_the_same_shot_refuses_while_the_first_runs(tmp_path, model_dir):
    shot = tmp_path / "shot"
    lock = tmp_path / ".shot.lock"
    first = vfxgen("generate", "fire", "-o", shot, "--model", model_dir, "--steps", 400, "--format", "exr")
    assert wait_for(lock.exists)
    first.send_signal(signal.SIGSTOP)  # hold the first job inside its shot, alive, whatever the machine's speed
    try:
        assert lock.exists()
        second = run("generate", "fire", "-o", shot, "--model", model_dir, "--steps", 1, "--format", "exr")
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 8, second.stderr
    assert second.stderr.strip().startswith("error: shot") and "being written by" in second.stderr
    assert first.wait(timeout=300) == 0
    assert (shot / "shot.json").is_file() and not lock.exists()


def test_lock_of_a_dead_job_does_not_block(tmp_path, model_dir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".shot.lock").write_text(f"{os.uname().nodename} {dead.pid}")
    (tmp_path / ".shot.tmp-1-deadbeef").mkdir()  # a killed job's half-written temporary
    result = run("generate", "fire", "-o", tmp_path / "shot", "--model", model_dir, "--steps", 1, "--format", "exr")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot"]


def test_sigterm_abandons_the_shot_cleanly(tmp_path, model_dir):
    """A farm cancel (SIGTERM) mid-shot: exit 130, one error line, no lock, no temporary, no shot."""
    job = vfxgen("generate", "fire", "-o", tmp_path / "shot", "--model", model_dir, "--steps", 400, "--format", "exr")
    assert wait_for((tmp_path / ".shot.lock").exists)
    job.send_signal(signal.SIGSTOP)  # stopped inside the shot: the SIGTERM is delivered there on SIGCONT
    job.send_signal(signal.SIGTERM)
    job.send_signal(signal.SIGCONT)
    _, err = job.communicate(timeout=120)
    assert job.returncode == 130, err
    assert [line for line in err.splitlines() if line.startswith("error: ")][0].startswith("error: interrupted")
    assert list(tmp_path.iterdir()) == []


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_disk_full_leaves_nothing_under_the_final_name(tmp_path, model_dir):
    result = run(
        "generate",
        "fire",
        "-o",
        tmp_path / "shot",
        "--model",
        model_dir,
        "--steps",
        1,
        "--format",
        "exr,preview,contact",
        "--height",
        64,
        "--width",
        96,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 5, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "disk space" in errors[0] and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
