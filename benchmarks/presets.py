"""Does every stock preset look like its name and pass vfxgen's own QC? (demo model acceptance)

    python benchmarks/presets.py [--model DIR] [--seeds 0-9] [--tag v2] [--presets water_splash,...]

For each of the 9 presets and each seed, one shot through the same path as `vfxgen generate --preset P
--seed S` (the Python API: `resolve_request` + the loaded pipeline + `write_shot`), then per shot the checks
of `vfxgen.element_checks` and `vfxgen qc`:

    visible     1-70 % of the pixels have alpha > 0.5 (per frame, on average)
    not cut     the element is not cut by all four edges in most frames
    black       opaque black (alpha > 0.5, scene-linear luminance < 0.005) <= 5 % of the visible element
                (<= 25 % for smoke, dust and explosion: their presets' [qc] table)
    colour      the element's colour family: fire, explosion, sparks, muzzle flash warm; smoke and dust grey
                or brown; lightning, magic, water splash cool or white (mean straight colour where alpha > 0.5)
    qc          `vfxgen qc SHOT` passes (with the limits the preset records in shot.json)

and, as figures (not checks), whether the element has a hot core (at least 1 % of it above 1.0 in
scene-linear) and its median peak value: non-zero only for a model trained with `--hot-cores` data.

Writes benchmarks/results/presets[-TAG].{json,md} and docs/images/presets[-TAG].png (per preset, the middle
frame of every seed over a checkerboard). Never part of the test run (90 shots: minutes on a CPU).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from vfxgen.element_checks import element_checks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"


def _name_tile(name: str, height: int) -> np.ndarray:
    """A dark tile with the preset's name, the first column of its row in the sheet."""
    import cv2

    tile = np.zeros((height, 128), np.uint8)
    for i, word in enumerate(name.split("_")):
        cv2.putText(tile, word, (6, 40 + 22 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1, cv2.LINE_AA)
    grey = 0.12 + 0.8 * tile.astype(np.float32) / 255
    return np.repeat(grey[..., None], 3, axis=-1)


def parse_seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    from vfxgen.api import load_pipeline
    from vfxgen.compositing import over_checkerboard
    from vfxgen.io.contact import thumbnail
    from vfxgen.io.images import write_png
    from vfxgen.presets import load_preset, preset_names
    from vfxgen.qc import qc_source
    from vfxgen.settings import resolve_request
    from vfxgen.shot import ShotOptions, write_shot

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the bundled demo model)")
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--tag", default="", help="suffix of the result files, e.g. v1 for a baseline")
    parser.add_argument("--presets", default="", help="comma list (default: all 9; a subset wants a --tag)")
    args = parser.parse_args()
    names = args.presets.split(",") if args.presets else preset_names()
    if args.presets and not args.tag:
        parser.error("--presets without --tag would overwrite the full table with a partial one")
    seeds = parse_seeds(args.seeds)
    pipe = load_pipeline(model=args.model)
    rows, strips = [], []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            preset = load_preset(name)
            strip = []
            for seed in seeds:
                request = resolve_request(None, pipe.info, preset=preset, options={"seed": seed})
                clip = pipe.generate(request)
                shot = Path(tmp) / f"{name}_{seed}"
                write_shot(clip, shot, ShotOptions(formats=("exr", "nk")))
                report = qc_source(shot)
                row = {"preset": name, "seed": seed, **element_checks(clip.pixels, name)}
                row["checks"]["qc"] = not report.failed
                row["qc_failed"] = [c.name for c in report.failures]
                row["passed"] = all(row["checks"].values())
                rows.append(row)
                middle = clip.frames[clip.num_frames // 2]
                strip.append(over_checkerboard(thumbnail(middle, 128, 128)[None])[0])
                print(f"{name:13s} seed {seed}: {'PASS' if row['passed'] else 'fail'} "
                      f"{ {k: v for k, v in row['checks'].items() if not v} or ''} {row['qc_failed'] or ''}",
                      flush=True)  # fmt: skip
            strips.append(np.concatenate([_name_tile(name, 128), *strip], axis=1))
    seconds = time.perf_counter() - start
    tag = f"-{args.tag}" if args.tag else ""
    summary = {}
    for name in names:
        mine = [r for r in rows if r["preset"] == name]
        summary[name] = {
            "passed": sum(r["passed"] for r in mine),
            **{k: sum(r["checks"][k] for r in mine) for k in ("visible", "not_cut", "black", "colour", "qc")},
            "hot": sum(r["hot"] >= 0.01 for r in mine),  # shots with at least 1 % of the element above 1.0
            "peak": float(np.median([r["peak"] for r in mine])),
        }
    result = {"model": args.model or "bundled", "seeds": seeds, "seconds": round(seconds, 1), "summary": summary,
              "shots": rows}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"presets{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    n = len(seeds)
    lines = [
        f"# Stock presets on the {'bundled demo model' if args.model is None else args.model}{tag}",
        "",
        f"`python benchmarks/presets.py --seeds {args.seeds}{' --tag ' + args.tag if args.tag else ''}"
        f"{' --presets ' + args.presets if args.presets else ''}`: "
        f"{len(rows)} shots in {seconds:.0f} s. Shots passing every check, and each check on its own "
        f"(of {n} seeds; target: every preset >= {max(1, round(0.8 * n))}):",
        "",
        "| preset | all checks | visible 1-70 % | not cut on 4 edges | black <= limit | colour family | vfxgen qc "
        "| hot core (>= 1 % above 1.0) | median peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | **{s['passed']}/{n}** | {s['visible']} | {s['not_cut']} | {s['black']} | {s['colour']} "
            f"| {s['qc']} | {s['hot']} | {s['peak']:.2f} |"
        )
    total = sum(s["passed"] for s in summary.values())
    lines += ["", f"All checks: {total}/{len(rows)} shots.", ""]
    (RESULTS / f"presets{tag}.md").write_text("\n".join(lines))
    IMAGES.mkdir(parents=True, exist_ok=True)
    sheet = np.concatenate([np.pad(s, ((2, 2), (0, 0), (0, 0)), constant_values=0.1) for s in strips], axis=0)
    write_png(IMAGES / f"presets{tag}.png", sheet)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
