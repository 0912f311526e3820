"""Hostile values in every field of a generated farm script or template (issue: command injection).

Each value either is refused before anything is written (exit 2, one `error:` line, no script), or lands in
the script as data: run by bash as a Slurm task would run it, nothing it carries is executed, and the
`#SBATCH` directives are exactly the ones asked for. `sbatch --test-only` on the local cluster is in
test_farm_engines.py (it needs the cluster fixture).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ENV = {**os.environ, "CI": "true", "HF_HUB_OFFLINE": "1"}
HOSTILE = [
    "x\ntouch PWNED",
    "x; touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x' ; touch PWNED ; echo '",
    'x" ; touch PWNED ; echo "',
    "x\n#SBATCH --wrap=touch PWNED",
    "#SBATCH --wrap=touch_PWNED",
    "x\rtouch PWNED",
]
SLURM_FIELDS = ["--job-name", "--partition", "--gres", "--time", "--log-dir", "--sbatch", "--python", "--prompts",
                "-o", "generate"]  # fmt: skip


def vfxgen(*args, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "vfxgen", *[str(a) for a in args]]
    return subprocess.run(cmd, env=ENV, cwd=cwd, capture_output=True, text=True, timeout=120)


def farm_args(engine: str, field: str, value: str, tmp: Path) -> list:
    """`vfxgen farm ENGINE ...` with `value` in `field` (paths get the value as their last component)."""
    prompts = tmp / "shots.txt"
    if field == "--prompts":
        prompts = tmp / f"shots{value}.txt"
    prompts.write_text("burning fireball\nthick smoke\n")
    output = tmp / (f"out{value}" if field == "-o" else "out")
    count = ["--array", 2] if engine == "slurm" else ["--shards", 2]
    args = ["farm", engine, "--prompts", prompts, "-o", output, *count]
    args += ["--python", value if field == "--python" else "echo"]
    if field == "--log-dir":
        args += ["--log-dir", tmp / f"logs{value}"]
    elif field == "--sbatch":
        args += [f"--sbatch=--comment={value}"]
    elif field not in ("--python", "--prompts", "-o", "generate"):
        args += [field, value]
    if field == "generate":
        args += ["--", "--negative", value]
    return args


def assert_refused(result: subprocess.CompletedProcess) -> None:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 2, result.stderr
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("field", SLURM_FIELDS)
def test_slurm_script_never_runs_a_hostile_value(tmp_path, field):
    refused = 0
    for i, value in enumerate(HOSTILE):
        case = tmp_path / f"case{i}"
        case.mkdir()
        result = vfxgen(*farm_args("slurm", field, value, case), cwd=case)
        if result.returncode != 0:
            assert_refused(result)
            refused += 1
            assert not any(p.name.startswith("logs") for p in case.iterdir())  # nothing made for a refused job
            continue
        lines = result.stdout.splitlines()
        directives = [line.split()[1].split("=")[0] for line in lines if line.startswith("#SBATCH")]
        expected = {"--job-name", "--array"} | ({field} if field in ("--partition", "--gres", "--time") else set())
        expected |= {"--output"} if field == "--log-dir" else set()
        expected |= {"--comment"} if field == "--sbatch" else set()
        assert set(directives) == expected and len(directives) == len(expected), result.stdout
        assert all(line.split()[1].startswith("--") for line in lines if line.startswith("#SBATCH"))
        script = case / "job.sh"
        script.write_text(result.stdout)
        env = {**ENV, "SLURM_ARRAY_TASK_ID": "0"}
        subprocess.run(["bash", str(script)], env=env, cwd=case, capture_output=True, text=True, timeout=60)
        assert not any(p.name == "PWNED" for p in case.rglob("*")), (field, value, result.stdout)
    # Values with control characters or shell syntax are never valid names, partitions, resources or times.
    if field in ("--job-name", "--partition", "--gres", "--time", "--sbatch"):
        assert refused == len(HOSTILE)
    else:  # paths and arguments may hold shell characters (they are quoted); control characters never
        assert refused >= 3


@pytest.mark.parametrize("field", ["--job-name", "--python", "--prompts", "-o", "generate"])
def test_openjd_template_carries_hostile_values_as_data(tmp_path, field):
    for i, value in enumerate([*HOSTILE, "{{Param.Shards}}"]):
        case = tmp_path / f"case{i}"
        case.mkdir()
        result = vfxgen(*farm_args("openjd", field, value, case), cwd=case)
        if result.returncode != 0:
            assert_refused(result)
            continue
        assert "\n" not in value and "\r" not in value and field != "--job-name"
        template = yaml.safe_load(result.stdout)
        action = template["steps"][0]["script"]["actions"]["onRun"]
        if field == "generate":
            assert action["args"][-2:] == ["--negative", value]  # one argument, verbatim: no shell is involved
        if field == "--python":
            names = [p["name"] for p in template["parameterDefinitions"]]
            assert template["parameterDefinitions"][names.index("Python")]["default"] == value


def test_an_attached_short_output_option_cannot_redirect_the_shots(tmp_path):
    (tmp_path / "shots.txt").write_text("fire\n")
    result = vfxgen("farm", "slurm", "--prompts", tmp_path / "shots.txt", "-o", tmp_path / "elements", "--array", 2,
                    "--", f"-o{tmp_path / 'elsewhere'}", cwd=tmp_path)  # fmt: skip
    assert_refused(result)
    assert "-o is set by the farm job itself" in result.stderr
