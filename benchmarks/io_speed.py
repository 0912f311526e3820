"""CPU-side throughput at 720x480: EXR write, ProRes 4444 encode, eval-flow pairs per second.

    python benchmarks/io_speed.py [--frames 48]

Writes benchmarks/results/io_speed.{json,md}. Content is a moving textured element with soft alpha
(grain included, so zip has real work to do). Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from vfxgen.clip import Clip

RESULTS = Path(__file__).resolve().parent / "results"


def element_clip(frames: int, height: int = 480, width: int = 720, seed: int = 0) -> Clip:
    """A drifting, noisy orange blob with soft alpha: representative of generated elements."""
    import cv2

    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = cv2.GaussianBlur(rng.random((height, width + 4 * frames), dtype=np.float32), (0, 0), 3)
    out = np.empty((frames, height, width, 4), np.float32)
    for t in range(frames):
        cx, cy = width * (0.3 + 0.01 * t), height * 0.5
        blob = np.exp(-(((xs - cx) / (width * 0.2)) ** 2 + ((ys - cy) / (height * 0.25)) ** 2))
        tex = texture[:, 4 * t : 4 * t + width]
        alpha = np.clip(blob * (0.6 + tex), 0, 1)
        out[t, ..., 0] = np.clip(0.9 + 0.1 * tex, 0, 1)
        out[t, ..., 1] = np.clip(0.4 + 0.5 * tex * blob, 0, 1)
        out[t, ..., 2] = np.clip(0.1 * tex, 0, 1)
        out[t, ..., 3] = alpha
        out[t, ..., :3] += rng.normal(0, 0.01, (height, width, 3)).astype(np.float32)
    return Clip(np.clip(out, 0, 1), fps=8)


def timed(fn, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()

    from vfxgen.flow import flow_difference
    from vfxgen.io.exr import write_exr_sequence
    from vfxgen.io.video import write_prores

    clip = element_clip(args.frames)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for compression in ("zip", "piz"):
            seconds = timed(lambda c=compression: write_exr_sequence(clip, tmp / f"exr-{c}", "bench", compression=c))
            results[f"exr_write_{compression}_fps"] = args.frames / seconds
        seconds = timed(lambda: write_prores(clip, tmp / "bench.mov"))
        results["prores4444_encode_fps"] = args.frames / seconds
        seconds = timed(lambda: flow_difference(clip), repeats=1)
        results["eval_flow_pairs_per_s"] = (args.frames - 1) / seconds
    report = {
        "benchmark": "io_speed",
        "size": "720x480",
        "frames": args.frames,
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, {platform.processor() or platform.machine()})",
        "load_average_at_end": os.getloadavg(),
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "io_speed.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# CPU-side throughput at 720x480",
        "",
        f"Machine: {report['machine']}; load average at end: {report['load_average_at_end']}",
        "",
        "| measurement | value |",
        "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in results.items()],
    ]
    (RESULTS / "io_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
