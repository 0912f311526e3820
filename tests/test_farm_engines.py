"""Farm engines for real: a single-node Slurm cluster runs `vfxgen farm slurm` arrays (all shots exactly once,
then `scancel` of a task mid-shot and a resubmission), `openjd run` runs `vfxgen farm openjd` templates,
torchrun / accelerate launch split a batch over two CPU processes, and farm logs get progress lines.

The Slurm test starts its own cluster with scripts/slurm/local-cluster.sh (installing slurmd, slurmctld and
munge with apt-get when they are missing and the test runs as root) and stops it afterwards. It is skipped,
with the reason printed in the test output, only where that script says the machine cannot run a Slurm node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import OpenImageIO as oiio
import pytest

from tests.tiny_models import save_tiny_model_dir

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "scripts" / "slurm" / "local-cluster.sh"
ENV = {**os.environ, "CI": "true", "HF_HUB_OFFLINE": "1"}
FRAMES = 9  # the bundled and the tiny model both make 9 frames


def vfxgen(*args, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "vfxgen", *[str(a) for a in args]]
    return subprocess.run(cmd, env=env or ENV, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def shots_in(root: Path) -> dict[str, Path]:
    """Every visible entry of an output root, each checked to be a complete shot (manifest + all frames)."""
    shots = {p.name: p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    for shot in shots.values():
        manifest = json.loads((shot / "shot.json").read_text())
        frames = sorted((shot / "rgba").glob("*.exr"))
        assert len(frames) == FRAMES, shot
        image = oiio.ImageInput.open(str(frames[-1]))
        assert image is not None and image.spec().nchannels == 4, shot
        image.close()
        assert manifest, shot
    return shots


def hidden(root: Path) -> list[str]:
    """Locks and temporaries a job left behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def write_toml(path: Path, shots: list[dict]) -> Path:
    lines = []
    for shot in shots:
        lines.append("[[shot]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in shot.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model_dir(tmp_path_factory.mktemp("models") / "t2v")


# -- Slurm ---------------------------------------------------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _say(request, line: str) -> None:
    """A line in the test output itself, past pytest's capture (skip reasons are hidden by `-q`)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stderr.write(f"\n{line}\n")


class Slurm:
    """The local cluster's client side: sbatch, scancel, and waiting for array jobs."""

    def __init__(self, state: Path):
        self.state = state
        self.env = {**ENV, "SLURM_CONF": str(state / "slurm.conf")}

    def run(self, *args: str) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
        return done.stdout

    def sbatch(self, script: Path, *args: str, cwd: Path) -> str:
        done = subprocess.run(
            ["sbatch", "--parsable", *args, str(script)], env=self.env, cwd=cwd, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().split(";")[0]

    def tasks(self, job: str) -> dict[int, tuple[str, str]]:
        """{array task id: (state, exit code)} from the controller (no accounting database needed)."""
        out = self.run("scontrol", "show", "job", "-o", job)
        tasks = {}
        for line in out.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S+)", line))
            if "ArrayTaskId" in fields and fields["ArrayTaskId"].isdigit():
                tasks[int(fields["ArrayTaskId"])] = (fields["JobState"], fields["ExitCode"])
        return tasks

    def wait(self, job: str, count: int, timeout: float = 900) -> dict[int, tuple[str, str]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            tasks = self.tasks(job)
            running = [state for state, _ in tasks.values() if state in ("PENDING", "RUNNING", "COMPLETING")]
            if len(tasks) == count and not running:
                return tasks
            time.sleep(0.5)
        raise AssertionError(f"slurm job {job} not finished after {timeout} s: {self.tasks(job)}")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory, request):
    if not sys.platform.startswith("linux") or shutil.which("bash") is None:
        pytest.skip("Slurm test needs Linux and bash")
    state = tmp_path_factory.mktemp("slurm")
    ctld, slurmd = _free_ports(2)
    env = {**os.environ, "VFXGEN_SLURMCTLD_PORT": str(ctld), "VFXGEN_SLURMD_PORT": str(slurmd)}
    started = subprocess.run(
        ["bash", str(CLUSTER), "start", str(state)], env=env, capture_output=True, text=True, timeout=1200
    )
    if started.returncode == 3:  # the script's "this machine cannot run a Slurm node"
        lines = started.stderr.strip().splitlines() or ["no reason given"]
        reason = next((line for line in reversed(lines) if line.startswith("cannot run")), lines[-1])
        _say(request, f"SKIPPED the Slurm farm test: {reason}")
        pytest.skip(reason)
    assert started.returncode == 0, started.stderr
    yield Slurm(state)
    subprocess.run(["bash", str(CLUSTER), "stop", str(state)], env=env, capture_output=True, timeout=120)


def farm_slurm(tmp_path: Path, shot_list: Path, root: Path, *generate_args) -> Path:
    result = vfxgen(
        "farm", "slurm", "--prompts", shot_list, "-o", root, "--array", 4, "--log-dir", tmp_path / "logs",
        "--", *generate_args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    script = tmp_path / f"{root.name}.sh"
    script.write_text(result.stdout)
    return script


def task_logs(tmp_path: Path, job: str) -> dict[int, str]:
    logs = {}
    for path in (tmp_path / "logs").glob(f"vfxgen-{job}_*.log"):
        logs[int(path.stem.rsplit("_", 1)[1])] = path.read_text()
    return logs


def written(log: str) -> list[str]:
    return [Path(m).name for m in re.findall(r"^wrote (\S+) in ", log, re.M)]


def test_slurm_array_makes_every_shot_once_and_resumes_after_scancel(slurm, tmp_path):
    """The bundled model on a real single-node Slurm: a 4-task array, then one task cancelled mid-shot
    and the array resubmitted: every shot exactly once, nothing redone, nothing left behind."""
    fast = ["--steps", 2, "--format", "exr"]

    # 1. Four tasks, four shots: each task makes the one shot of its shard.
    names = ["fire", "smoke", "sparks", "splash"]
    prompts = ["burning fireball", "thick grey smoke", "bright sparks", "water splash"]
    clean_list = write_toml(
        tmp_path / "clean.toml", [{"name": n, "prompt": p} for n, p in zip(names, prompts, strict=True)]
    )
    root = tmp_path / "clean"
    job = slurm.sbatch(farm_slurm(tmp_path, clean_list, root, *fast), cwd=tmp_path)
    assert slurm.wait(job, 4) == {k: ("COMPLETED", "0:0") for k in range(4)}, task_logs(tmp_path, job)
    assert sorted(shots_in(root)) == sorted(names) and hidden(root) == []
    logs = task_logs(tmp_path, job)
    assert {k: written(log) for k, log in logs.items()} == {k: [names[k]] for k in range(4)}  # shard k+1 = shot k

    # 2. Five shots: task 0 (shard 1/4) makes s1, then the slow s5; cancel it while s5 is being made.
    entries = [{"name": f"s{i}", "prompt": p} for i, p in enumerate([*prompts, "dust cloud"], 1)]
    entries[4]["steps"] = 16  # long enough to be caught mid-shot on any machine
    root = tmp_path / "cancelled"
    script = farm_slurm(tmp_path, write_toml(tmp_path / "cancelled.toml", entries), root, *fast)
    job = slurm.sbatch(script, cwd=tmp_path)
    lock = root / ".s5.lock"
    end = time.monotonic() + 900
    while not lock.exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert lock.exists(), f"task 0 never started s5: {slurm.tasks(job)} {task_logs(tmp_path, job)}"
    slurm.run("scancel", f"{job}_0")
    tasks = slurm.wait(job, 4)
    assert tasks[0][0] == "CANCELLED" and all(tasks[k] == ("COMPLETED", "0:0") for k in (1, 2, 3)), tasks
    assert sorted(shots_in(root)) == ["s1", "s2", "s3", "s4"]
    assert hidden(root) == []  # SIGTERM from scancel: vfxgen removed its temporary and its lock
    assert "error: interrupted" in task_logs(tmp_path, job)[0]
    made = {name: (root / name / "shot.json").stat().st_mtime_ns for name in ("s1", "s2", "s3", "s4")}

    # 3. Resubmit the same script (it passes --resume): only s5 is made, by task 0; the rest is skipped.
    job = slurm.sbatch(script, cwd=tmp_path)
    assert slurm.wait(job, 4) == {k: ("COMPLETED", "0:0") for k in range(4)}, task_logs(tmp_path, job)
    assert sorted(shots_in(root)) == ["s1", "s2", "s3", "s4", "s5"] and hidden(root) == []
    assert {name: (root / name / "shot.json").stat().st_mtime_ns for name in made} == made
    logs = task_logs(tmp_path, job)
    assert {k: written(log) for k, log in logs.items()} == {0: ["s5"], 1: [], 2: [], 3: []}
    assert "skipped" in logs[0] and f"{root / 's1'}" in logs[0]


def test_sbatch_test_only_sees_no_injected_option(slurm, tmp_path):
    """Hostile values that are valid data (quoted paths and arguments) pass `sbatch --test-only` as a job with
    only the options asked for; sbatch validates the directives and nothing they carry runs."""
    hostile = "$(touch PWNED); `touch PWNED` #SBATCH --wrap=touch_PWNED"
    shot_list = tmp_path / "shots.txt"
    shot_list.write_text("burning fireball\n")
    result = vfxgen(
        "farm", "slurm", "--prompts", shot_list, "-o", tmp_path / f"out{hostile}", "--array", 2,
        "--log-dir", tmp_path / "logs", "--python", "echo", "--", "--negative", hostile,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    script = tmp_path / "job.sh"
    script.write_text(result.stdout)
    done = subprocess.run(
        ["sbatch", "--test-only", str(script)], env=slurm.env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "wrap" not in done.stderr.lower() and not list(tmp_path.rglob("PWNED"))


def test_slurm_script_maps_array_tasks_to_shards(tmp_path):
    """The script's own logic, run by bash with the variables Slurm sets (`--python echo` prints the argv)."""
    shot_list = tmp_path / "shots.txt"
    shot_list.write_text("burning fireball\nthick smoke\nsparks\n")
    result = vfxgen(
        "farm", "slurm", "--prompts", shot_list, "-o", tmp_path / "out", "--array", 4, "--gres", "gpu:1",
        "--max-running", 2, "--sbatch=--mem=4G", "--log-dir", tmp_path / "logs", "--python", "echo",
        "--", "--steps", 30, "--negative", "it's blurry",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning: 4 shards for 3 shot(s): 1 task(s) will have nothing to do" in result.stderr
    script = tmp_path / "job.sh"
    script.write_text(result.stdout)
    directives = [line for line in result.stdout.splitlines() if line.startswith("#SBATCH")]
    assert directives == [
        "#SBATCH --job-name=vfxgen",
        "#SBATCH --array=0-3%2",
        "#SBATCH --gres=gpu:1",
        f"#SBATCH --output={tmp_path / 'logs'}/%x-%A_%a.log",
        "#SBATCH --mem=4G",
    ]

    def task(task_id: str | None, *extra: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in ENV.items() if not k.startswith("SLURM_")}
        if task_id is not None:
            env.update(SLURM_ARRAY_TASK_ID=task_id, SLURM_ARRAY_TASK_COUNT="1")  # a resubmitted single task
        return subprocess.run(["bash", str(script), *extra], env=env, capture_output=True, text=True)

    done = task("2", "--seed", "7")
    assert done.returncode == 0, done.stderr
    expected = (
        f"-m vfxgen generate --prompts {shot_list} -o {tmp_path / 'out'} --shard 3/4 --resume --steps 30 "
        "--negative it's blurry --seed 7"
    )
    assert done.stdout.strip() == expected
    for task_id in ("4", None):
        done = task(task_id)
        assert done.returncode == 2 and done.stderr.startswith("error: ") and done.stdout == ""


def test_farm_commands_refuse_bad_generate_options_before_submission(tmp_path):
    shot_list = tmp_path / "shots.txt"
    shot_list.write_text("fire\n")
    cases = {
        ("--", "--stpes", "3"): "No such option: --stpes",
        ("--", "--shard", "1/2"): "--shard is set by the farm job itself",
        ("--", "--overwrite"): "add --no-resume",
        ("--", "a prompt"): "besides --prompts",
    }
    for extra, message in cases.items():
        result = vfxgen("farm", "slurm", "--prompts", shot_list, "-o", tmp_path / "o", "--array", 2, *extra)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert result.returncode == 2 and len(errors) == 1 and message in errors[0], (extra, result.stderr)
        assert result.stdout == ""
    result = vfxgen("farm", "openjd", "--prompts", tmp_path / "missing.txt", "-o", tmp_path / "o", "--shards", 2)
    assert result.returncode == 3 and "missing.txt does not exist" in result.stderr
    assert not (tmp_path / "o").exists()


# -- OpenJD --------------------------------------------------------------------------------------------------


def test_openjd_template_validates_and_runs_every_shard_locally(tmp_path, tiny_model):
    """The template passes openjd-model and `openjd check`; `openjd run` makes every shot once; a rerun of
    one shard skips its finished shots."""
    model = pytest.importorskip("openjd.model", reason="pip install -e '.[test]' installs openjd-model")
    import yaml

    openjd = shutil.which("openjd", path=str(Path(sys.executable).parent)) or shutil.which("openjd")
    assert openjd, "openjd-cli is part of the test extra: pip install -e '.[test]'"
    shot_list = tmp_path / "shots.txt"
    shot_list.write_text("burning fireball\nthick grey smoke\nbright sparks\n")
    root = tmp_path / "elements"
    result = vfxgen(
        "farm", "openjd", "--prompts", shot_list, "-o", root, "--shards", 2, "--gpus", 1,
        "--", "--model", tiny_model, "--steps", 2, "--format", "exr",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    template_path = tmp_path / "vfxgen.template.yaml"
    template_path.write_text(result.stdout)

    template = model.decode_job_template(template=yaml.safe_load(result.stdout))
    params = model.preprocess_job_parameters(
        job_template=template,
        job_parameter_values={"Prompts": str(shot_list), "OutputRoot": str(root)},
        job_template_dir=tmp_path,
        current_working_dir=tmp_path,
    )
    job = model.create_job(job_template=template, job_parameter_values=params)
    assert [step.name for step in job.steps] == ["Generate"]
    tasks = list(model.StepParameterSpaceIterator(space=job.steps[0].parameterSpace))
    assert [t["Shard"].value for t in tasks] == ["1", "2"]
    assert job.steps[0].hostRequirements is not None
    check = subprocess.run([openjd, "check", str(template_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    run = [openjd, "run", str(template_path), "--step", "Generate", "-p", f"Prompts={shot_list}"]
    run += ["-p", f"OutputRoot={root}", "-p", "Shards=2"]
    ran = subprocess.run(run, env=ENV, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    log = ran.stdout + ran.stderr
    assert sorted(shots_in(root)) == ["0001_burning_fireball", "0002_thick_grey_smoke", "0003_bright_sparks"]
    assert hidden(root) == []
    sections = log.split("Running Task")[1:]  # openjd run's log: one section per task, Shard 1 then 2
    assert [re.search(r"Shard\(INT\) = (\d)", sec).group(1) for sec in sections] == ["1", "2"]
    assert [[Path(p).name for p in re.findall(r"wrote (\S+) in ", sec)] for sec in sections] == [
        ["0001_burning_fireball", "0003_bright_sparks"],
        ["0002_thick_grey_smoke"],
    ]
    before = {p.name: (p / "shot.json").stat().st_mtime_ns for p in root.iterdir() if p.is_dir()}

    again = subprocess.run([*run, "-tp", "Shard=1"], env=ENV, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(re.findall(r"skipped \S+ \(complete; --resume\)", again.stdout + again.stderr)) == 2
    assert {p.name: (p / "shot.json").stat().st_mtime_ns for p in root.iterdir() if p.is_dir()} == before


# -- Launchers: torchrun and accelerate launch on CPU ------------------------------------------------------


@pytest.mark.parametrize(
    "launcher",
    [
        "-m torch.distributed.run --standalone --nproc-per-node 2 -m".split(),
        # `--multi_gpu` is accelerate's torchrun launcher; it runs CPU processes too. (`--cpu --num_processes 2`
        # would start ONE process: accelerate's simple launcher.)
        "-m accelerate.commands.launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no "
        "--dynamo_backend no -m".split(),
    ],
    ids=["torchrun", "accelerate"],
)
def test_launcher_splits_a_batch_over_two_cpu_processes(tmp_path, tiny_model, launcher):
    """Two processes, no --shard: each takes its RANK's shard; together every shot once."""
    shot_list = tmp_path / "shots.txt"
    shot_list.write_text("fire\nsmoke\nsparks\ndust\nsplash\n")
    root = tmp_path / "out"
    cmd = [sys.executable, *launcher, "vfxgen", "generate", "--prompts", str(shot_list), "-o", str(root)]
    cmd += ["--model", str(tiny_model), "--steps", "1", "--format", "exr", "--json", "--device", "cpu"]
    env = {**ENV, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"shots"')]
    made = sorted(Path(s["output"]).name for r in reports for s in r["shots"] if s["status"] == "written")
    assert len(reports) == 2 and all(r["shots"] for r in reports)  # two processes, both with work
    assert made == sorted(shots_in(root)) == ["0001_fire", "0002_smoke", "0003_sparks", "0004_dust", "0005_splash"]


# -- Progress lines in farm logs -----------------------------------------------------------------------------


def test_farm_log_has_progress_lines_and_quiet_has_none(tmp_path, tiny_model):
    common = ["--model", tiny_model, "--steps", 4, "--format", "exr"]
    env = {**ENV, "VFXGEN_PROGRESS_STEPS": "2"}
    result = vfxgen("generate", "fire", "-o", tmp_path / "a", *common, env=env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("step ")]
    pattern = rf"step ([24])/4 {re.escape(str(tmp_path / 'a'))} elapsed \d+\.\d s eta \d+\.\d s"
    assert [re.fullmatch(pattern, line).group(1) for line in lines] == ["2", "4"], result.stderr

    env = {**ENV, "VFXGEN_PROGRESS_STEPS": "0", "VFXGEN_PROGRESS_SECONDS": "0"}  # a line at every step, by time
    result = vfxgen("generate", "fire", "-o", tmp_path / "b", *common, env=env)
    assert [line.split()[1] for line in result.stderr.splitlines() if line.startswith("step ")] == [
        "1/4",
        "2/4",
        "3/4",
        "4/4",
    ]
    result = vfxgen("-q", "generate", "fire", "-o", tmp_path / "c", *common, env=env)
    assert result.returncode == 0 and result.stderr == ""


def test_progress_lines_every_n_steps_or_every_30_seconds(capsys):
    """The clock is a list of readings: slow steps get a line each once 30 s have passed."""
    from vfxgen.cli.console import StepLines

    readings = iter([0.0, 0.0, 5.0, 10.0, 45.0, 50.0, 90.0])
    lines = StepLines(every=4, seconds=30, clock=lambda: next(readings))
    lines.start("shots/fb")  # t = 0
    for step in range(1, 6):
        lines(step, 50)  # t = 5, 10, 45 (30 s since the last line), 50, 90 (step 5: 40 s since step 3)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "step 3/50 shots/fb elapsed 45.0 s eta 705.0 s",
        "step 4/50 shots/fb elapsed 50.0 s eta 575.0 s",
        "step 5/50 shots/fb elapsed 90.0 s eta 810.0 s",
    ]
