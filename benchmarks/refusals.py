"""How fast generate / animate / matte refuse input that needs no model (issue: refusals before the heavy imports).

    python benchmarks/refusals.py [--repeats 3]

Each case runs `python -m vfxgen ...` in a fresh process (as a user or a farm task would) and is timed
wall-clock and CPU (user + system of the child). Target: every refusal under 1 s on an idle 2-core machine,
i.e. before torch and diffusers are imported (5-7 CPU seconds). Also checks each case exits non-zero with
exactly one `error:` line. Writes benchmarks/results/refusals.{json,md}. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

CASES = [
    "generate fire -o {out} --frames 4",
    "generate fire -o {out} --seed -1",
    "generate fire -o {out} --steps 0",
    "generate fire -o {out} --guidance -1",
    "generate fire -o {out} --width 50",
    "generate --prompts {tmp}/shots.txt -o {out} --shard 0/4",
    "generate -o / fire",
    "generate fire -o /proc/vfxgen-shot",
    "generate --prompts {tmp}/missing.txt -o {out}",
    "generate --preset nope -o {out}",
    "generate fire -o {out} --recipe nope",
    "generate fire -o {out} --scheduler nope",
    "generate fire -o {out} --colorspace nope",
    "generate fire -o {out} --attention nope",
    "generate fire -o {out} --cache nope",
    "generate fire -o {out} --format exr,,png",
    "generate fire -o {tmp}/project --overwrite",
    "animate {tmp}/still.png fire -o {out} --frames 4",
    "animate {tmp}/still.png fire -o {out} --seed -1",
    "animate {tmp}/dot.png fire -o {out}",
    "animate {tmp}/still.png fire -o /",
    "matte {tmp}/plates/p.####.png fire -o {out} --strength 5",
    "matte {tmp}/plates/p.####.png fire -o {out} --overlap 100000",
    "matte {tmp}/plates/p.####.png fire -o {tmp}/plates",
]


def make_inputs(tmp: Path) -> None:
    from vfxgen.clip import Clip
    from vfxgen.io.images import write_png, write_png_sequence

    (tmp / "shots.txt").write_text("fire\nsmoke\n")
    (tmp / "project").mkdir()
    (tmp / "project" / "comp.nk").write_text("Root {}\n")
    write_png(tmp / "still.png", np.full((64, 64, 4), 0.5, np.float32))
    write_png(tmp / "dot.png", np.ones((1, 1, 4), np.float32))
    frames = np.zeros((5, 64, 64, 4), np.float32)
    frames[..., 3] = 1
    write_png_sequence(Clip(frames), tmp / "plates", "p", 1001)


def run_case(argv: list[str]) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vfxgen", *argv], capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        make_inputs(tmp)
        for case in CASES:
            argv = case.format(tmp=tmp, out=tmp / "out").split()
            runs = [run_case(argv) for _ in range(args.repeats)]
            wall = min(r[0] for r in runs)
            cpu = min(r[1] for r in runs)
            code, stderr = runs[0][2], runs[0][3]
            errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
            rows.append(
                {
                    "case": case.replace(str(tmp), "TMP"),
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "exit": code,
                    "one_error_line": len(errors) == 1,
                    "error": errors[0] if errors else stderr[-200:],
                }
            )
            print(f"{wall:6.2f} s  {cpu:5.2f} cpu  exit {code}  {case}", flush=True)
    load = os.getloadavg()[0]
    result = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "load_1min": load, "cases": rows,
              "max_wall_s": max(r["wall_s"] for r in rows), "max_cpu_s": max(r["cpu_s"] for r in rows)}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "refusals.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Refusals before the heavy imports",
        "",
        f"`python benchmarks/refusals.py` on {result['machine']} (1-minute load {load:.2f} when it ended: "
        "above 0 means other work shared the CPU); best of the repeats per case, each a fresh process.",
        "",
        f"Slowest refusal: **{result['max_wall_s']:.2f} s** wall, {result['max_cpu_s']:.2f} s CPU (target < 1 s).",
        "",
        "| case | wall s | CPU s | exit | one error line |",
        "|---|---|---|---|---|",
        *[
            f"| `{r['case']}` | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['exit']} | {r['one_error_line']} |"
            for r in rows
        ],
        "",
    ]
    (RESULTS / "refusals.md").write_text("\n".join(lines))
    print(f"wrote {RESULTS / 'refusals.md'}")


if __name__ == "__main__":
    main()
