"""Conditioning on the bundled demo model: `matte` against keyer baselines, `animate` against its still.

    python benchmarks/conditioning.py                      # 9 elements x 1 held-out clip, recipe steps
    python benchmarks/conditioning.py --seeds 2 --steps 50
    python benchmarks/conditioning.py --first-seed 1 --tag seed1        # another 9 held-out clips

Held-out clips: `vfxgen.training.synth.synth_clip` with generators seeded `(HELD_OUT, i)`; the training set
(`vfxgen dataset synth --seed 0`) draws item i from `(0, i)`, so none of these clips was trained on. Each
clip is composited over black (premultiplied display colour: the demo model's RGB convention, and what an
element shot on black looks like) at the native 64x64x9.

matte: alpha against the true alpha (IoU at 0.5, mean abs error) for the model's alpha (raw), the model's
alpha with the premultiplied floor, `--matte-alpha model` (the floor, then the alpha cleared where the footage
is black: `vfxgen.alpha_bounds`; the default before `keyed`), `vfxgen matte`'s default (`--matte-alpha keyed`:
the footage's brightest channel over the element's level, which the model's alpha sets; then cleared where
black), a luma key (Rec.709 luma / the clip's max) and a max-channel key (max of R, G, B).
animate: from frame 0 of each clip (RGBA) with its caption; the first output frame against the still (RGB
PSNR over black, alpha IoU at 0.5), eval-flow of the whole output and mean abs frame-to-frame change,
next to `generate` with the same caption and seed (no conditioning).
Writes benchmarks/results/conditioning.{json,md} (`--resample N`: conditioning-resampleN.{json,md}; `--tag T`:
conditioning-T.{json,md}). `--model DIR` measures another model folder (default: the bundled demo).
Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

HELD_OUT = 90_210
RESULTS = Path(__file__).parent / "results"


def iou(a: np.ndarray, b: np.ndarray) -> float:
    inter, union = np.logical_and(a > 0.5, b > 0.5).sum(), np.logical_or(a > 0.5, b > 0.5).sum()
    return float(inter / union) if union else 1.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def flow(clip) -> float | None:
    from vfxgen.errors import InputError
    from vfxgen.flow import flow_difference

    try:
        return flow_difference(clip).mean
    except InputError:  # an empty or full matte has no flow to compare
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="held-out clips per element")
    parser.add_argument("--first-seed", type=int, default=0, help="first clip seed (another set of held-out clips)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the recipe's)")
    parser.add_argument("--elements", default=None, help="comma list (default: all nine)")
    parser.add_argument("--resample", type=int, default=0, help="RePaint jumps per step (results: ...-resampleN)")
    parser.add_argument("--model", default=None, help="model folder (default: the bundled demo model)")
    parser.add_argument("--tag", default="", help="suffix of the result files, e.g. v2 for a baseline")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from vfxgen.alpha_bounds import clear_black
    from vfxgen.clip import Clip
    from vfxgen.pipelines.conditioning import Conditioning, pull_matte
    from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline
    from vfxgen.training.synth import ELEMENTS, synth_clip

    elements = args.elements.split(",") if args.elements else list(ELEMENTS)
    pipe = RGBAPipeline.from_pretrained(args.model, device="cpu")
    frames, size = pipe.info.sample_frames, pipe.info.sample_height
    rows = []
    for i, element in enumerate(elements):
        for s in range(args.first_seed, args.first_seed + args.seeds):
            rgba, caption = synth_clip(element, frames, size, size, np.random.default_rng((HELD_OUT, i * 100 + s)))
            truth = rgba[..., 3]
            over_black = rgba[..., :3] * rgba[..., 3:]  # premultiplied display colour
            footage = Clip(np.concatenate([over_black, np.ones_like(truth[..., None])], axis=-1))
            req = dict(seed=s, **({"steps": args.steps} if args.steps else {}))

            start = time.perf_counter()
            cond = Conditioning(resample=args.resample)
            delivered = pull_matte(pipe, footage, GenerationRequest(caption, **req), cond=cond)  # what users get
            default, level = delivered.alpha, delivered.metadata["conditioning"]["key_level"]
            matte_s = time.perf_counter() - start
            model_only = GenerationRequest(caption, clear_black=False, **req)
            raw_clip = pull_matte(pipe, footage, model_only, cond=cond, alpha_floor=False)
            raw = raw_clip.alpha
            floored = np.maximum(raw, over_black.max(axis=-1))
            # --matte-alpha model: the same denoise (same seed), floored, then cleared where black
            model_mode = clear_black(np.concatenate([raw_clip.pixels[..., :3], floored[..., None]], axis=-1))[..., 3]
            luma = over_black @ np.array([0.2126, 0.7152, 0.0722], np.float32)
            luma_key = luma / max(float(luma.max()), 1e-6)
            max_key = over_black.max(axis=-1)

            start = time.perf_counter()
            animated = pipe.animate(rgba[0], GenerationRequest(caption, **req), conditioning=cond)
            animate_s = time.perf_counter() - start
            plain = pipe.generate(GenerationRequest(caption, **req))
            first = animated.frames[0]
            rows.append(
                {
                    "element": element,
                    "caption": caption,
                    "seed": s,
                    "key_level": level,
                    "matte": {
                        name: {"iou": iou(alpha, truth), "mae": float(np.abs(alpha - truth).mean())}
                        for name, alpha in (
                            ("model_raw", raw),
                            ("model_floor", floored),
                            ("model_mode", model_mode),
                            ("model_default", default),
                            ("luma_key", luma_key),
                            ("max_key", max_key),
                        )
                    },
                    "animate": {
                        "first_rgb_psnr": psnr(first[..., :3] * first[..., 3:], over_black[0]),
                        "first_alpha_iou": iou(first[..., 3], truth[0]),
                        "flow": flow(animated),
                        "frame_change": float(np.abs(np.diff(animated.to_premultiplied(), axis=0)).mean()),
                        # The pop from the still: change 1001 -> 1002 against the mean change between later frames.
                        "first_step_change": float(np.abs(np.diff(animated.to_premultiplied(), axis=0))[0].mean()),
                        "later_step_change": float(np.abs(np.diff(animated.to_premultiplied(), axis=0))[1:].mean()),
                        "generate_flow": flow(plain),
                        "generate_frame_change": float(np.abs(np.diff(plain.to_premultiplied(), axis=0)).mean()),
                        "truth_frame_change": float(np.abs(np.diff(rgba[..., :3] * rgba[..., 3:], axis=0)).mean()),
                    },
                    "seconds": {"matte": matte_s, "animate": animate_s},
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            report(args, pipe, rows)  # after every clip, so a stopped run still leaves its figures


def report(args, pipe, rows) -> None:
    def mean(path):
        values = [r for r in (_get(row, path) for row in rows) if r is not None and np.isfinite(r)]
        return float(np.mean(values)) if values else None

    summary = {
        "matte": {
            m: {k: mean(("matte", m, k)) for k in ("iou", "mae")}
            for m in ("model_raw", "model_floor", "model_mode", "model_default", "luma_key", "max_key")
        },
        "animate": {
            k: mean(("animate", k))
            for k in (
                "first_rgb_psnr",
                "first_alpha_iou",
                "flow",
                "frame_change",
                "first_step_change",
                "later_step_change",
                "generate_flow",
                "generate_frame_change",
                "truth_frame_change",
            )
        },
        "seconds": {k: mean(("seconds", k)) for k in ("matte", "animate")},
    }
    meta = {
        "command": "python benchmarks/conditioning.py"
        + (f" --seeds {args.seeds}" if args.seeds != 1 else "")
        + (f" --first-seed {args.first_seed}" if args.first_seed else "")
        + (f" --steps {args.steps}" if args.steps else "")
        + (f" --elements {args.elements}" if args.elements else "")
        + (f" --resample {args.resample}" if args.resample else "")
        + (f" --model {args.model}" if args.model else ""),
        "held_out_seed": HELD_OUT,
        "clips": len(rows),
        "steps": args.steps or pipe.recipe.steps,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs: timings are upper bounds)",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "conditioning" + (f"-resample{args.resample}" if args.resample else "")
    name += f"-{args.tag}" if args.tag else ""
    (args.out / f"{name}.json").write_text(json.dumps({**meta, "summary": summary, "clips": rows}, indent=1))
    (args.out / f"{name}.md").write_text(markdown(meta, summary, rows))


def _get(row, path):
    for key in path:
        row = row.get(key) if isinstance(row, dict) else None
    return row


def _fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(meta, summary, rows) -> str:
    m, a = summary["matte"], summary["animate"]
    lines = [
        "# Conditioning on the bundled demo model",
        "",
        f"`{meta['command']}`: {meta['clips']} held-out procedural clips (seed {meta['held_out_seed']}, never in "
        f"training), over black, 64x64x9, {meta['steps']} steps. {meta['machine']}.",
        "",
        "## matte: alpha against the true alpha",
        "",
        "| method | IoU at 0.5 (higher is better) | mean abs error (lower is better) |",
        "|---|---|---|",
    ]
    names = {
        "model_raw": "vfxgen matte, model alpha only",
        "model_floor": "vfxgen matte, model alpha with the premultiplied floor (the default before clear black)",
        "model_mode": "vfxgen matte --matte-alpha model (floor, then alpha cleared where the footage is black)",
        "model_default": "vfxgen matte (default: --matte-alpha keyed, the model sets the key's level)",
        "luma_key": "luma key (normalised Rec.709 luma)",
        "max_key": "max-channel key",
    }
    lines += [f"| {names[k]} | {_fmt(v['iou'])} | {_fmt(v['mae'])} |" for k, v in m.items() if v["iou"] is not None]
    lines += ["", "Per element (IoU; the keyed matte's level in brackets):", ""]
    lines += [
        "| element | model raw | model + floor | --matte-alpha model | default: keyed (level) | luma key | max key |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row["matte"]
        lines.append(
            f"| {row['element']} | {_fmt(r['model_raw']['iou'], 2)} | {_fmt(r['model_floor']['iou'], 2)} | "
            f"{_fmt(r['model_mode']['iou'], 2)} | {_fmt(r['model_default']['iou'], 2)} ({_fmt(row['key_level'], 2)}) | "
            f"{_fmt(r['luma_key']['iou'], 2)} | {_fmt(r['max_key']['iou'], 2)} |"
        )
    lines += [
        "",
        "## animate: first frame against the still, and the rest",
        "",
        "| metric | animate (frame-0 replacement) | generate (same caption, no still) | true clip |",
        "|---|---|---|---|",
        f"| first frame RGB PSNR over black (dB) | {_fmt(a['first_rgb_psnr'], 1)} | - | - |",
        f"| first frame alpha IoU at 0.5 | {_fmt(a['first_alpha_iou'])} | - | - |",
        f"| eval-flow RGB/alpha difference (lower = aligned) | {_fmt(a['flow'])} | {_fmt(a['generate_flow'])} | - |",
        f"| mean abs frame-to-frame change | {_fmt(a['frame_change'])} | {_fmt(a['generate_frame_change'])} | "
        f"{_fmt(a['truth_frame_change'])} |",
        f"| change 1001 -> 1002 (the pop from the still) | {_fmt(a['first_step_change'])} | - | - |",
        f"| mean change between later frames | {_fmt(a['later_step_change'])} | - | - |",
        "",
        f"Mean wall-clock per clip: matte {_fmt(summary['seconds']['matte'], 1)} s, "
        f"animate {_fmt(summary['seconds']['animate'], 1)} s (model loaded once).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
