"""Seconds per clip and peak memory of the whole RGBA pipeline: offload modes, step caches, torch.compile.

    python benchmarks/end_to_end.py --preset 5b --variants none,model,sequential,fbc,pab,faster,compile
    python benchmarks/end_to_end.py --preset tiny            # seconds, on a CPU: checks the script itself

With `--model DIR --lora FILE` it uses real weights (then the cache variants' pixel and eval-flow
differences against `none` mean something); otherwise it builds random-initialised components from the
CogVideoX-5B configuration (transformer, VAE, T5-XXL) in memory, which is right for speed and memory.
Writes benchmarks/results/end_to_end-<preset>.{json,md}. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PRESETS = {
    # CogVideoX-5B: 480x720x49, 50 steps, CFG 6 (the release's settings).
    "5b": dict(height=480, width=720, frames=49, steps=50, device="cuda", dtype="bf16", arch="5b"),
    "tiny": dict(height=32, width=48, frames=9, steps=4, device="cpu", dtype="fp32", arch="tiny"),
}
VARIANTS = {  # name -> RGBAPipeline.from_pretrained options
    "none": {},
    "model": {"offload": "model"},
    "sequential": {"offload": "sequential"},
    "fbc": {"cache": "fbc"},
    "pab": {"cache": "pab"},
    "faster": {"cache": "faster"},
    "compile": {"compile": True},
    "tiling": {"vae_tiling": True},
}


def build_random_model(directory: Path, arch: str) -> tuple[Path, Path]:
    """Save a random-initialised CogVideoX model dir (+ a zero TransPixar LoRA) for timing."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    from vfxgen.models.transpixar import apply_transpixar, save_rgba_lora

    device = "cuda" if arch == "5b" else "cpu"
    dtype = torch.bfloat16 if arch == "5b" else torch.float32
    with torch.device(device):
        if arch == "5b":
            transformer = CogVideoXTransformer3DModel(
                num_attention_heads=48, attention_head_dim=64, num_layers=42, use_rotary_positional_embeddings=True
            )
            vae = AutoencoderKLCogVideoX()
            text = T5EncoderModel(
                T5Config(
                    vocab_size=32128,
                    d_model=4096,
                    d_ff=10240,
                    d_kv=64,
                    num_heads=64,
                    num_layers=24,
                    feed_forward_proj="gated-gelu",
                )
            )
        else:
            transformer = CogVideoXTransformer3DModel(
                num_attention_heads=2,
                attention_head_dim=16,
                num_layers=2,
                in_channels=4,
                out_channels=4,
                time_embed_dim=16,
                text_embed_dim=16,
                sample_width=12,
                sample_height=8,
                sample_frames=9,
                max_text_seq_length=16,
            )
            vae = AutoencoderKLCogVideoX(
                down_block_types=("CogVideoXDownBlock3D",) * 3,
                up_block_types=("CogVideoXUpBlock3D",) * 3,
                block_out_channels=(8, 8, 8),
                latent_channels=4,
                layers_per_block=1,
                norm_num_groups=2,
            )
            text = T5EncoderModel(T5Config(vocab_size=384, d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=1))
    pipe = CogVideoXPipeline(
        tokenizer=ByT5Tokenizer(),
        text_encoder=text.to(dtype),
        vae=vae.to(dtype),
        transformer=transformer.to(dtype),
        scheduler=CogVideoXDPMScheduler(timestep_spacing="trailing", prediction_type="v_prediction"),
    )
    model_dir = directory / "model"
    pipe.save_pretrained(str(model_dir), safe_serialization=True)
    lora = save_rgba_lora(apply_transpixar(transformer, rank=128), directory / "lora.safetensors")
    return model_dir, lora


def run_variant(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch

    from vfxgen.flow import flow_difference
    from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline

    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    pipe = RGBAPipeline.from_pretrained(
        args.model, args.lora, device=args.device, dtype=args.dtype, **VARIANTS[args.variant]
    )
    load_s = time.perf_counter() - start
    request = GenerationRequest(
        "burning fireball", frames=args.frames, height=args.height, width=args.width, steps=args.steps, seed=0
    )
    times = []
    for _ in range(args.repeats):  # the first clip of `compile` includes compilation
        start = time.perf_counter()
        clip = pipe.generate(request)
        times.append(time.perf_counter() - start)
    np.save(args.clip_out, clip.frames)
    return {
        "variant": args.variant,
        "load_s": load_s,
        "seconds_per_clip": min(times),
        "seconds_all": times,
        "peak_vram_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
        "eval_flow": flow_difference(clip).mean,
        "device": torch.cuda.get_device_name() if cuda else platform.processor() or "cpu",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    parser.add_argument("--variants", default="none,model,sequential,fbc,pab,faster,compile")
    parser.add_argument("--model")
    parser.add_argument("--lora")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--clip-out", help=argparse.SUPPRESS)
    for key in ("height", "width", "frames", "steps"):
        parser.add_argument(f"--{key}", type=int)
    parser.add_argument("--device")
    parser.add_argument("--dtype")
    args = parser.parse_args()
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.variant:  # child process: one variant in a fresh process (its own peak memory)
        print(json.dumps(run_variant(args)))
        return
    import numpy as np

    random_weights = not args.model
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if random_weights:
            args.model, args.lora = build_random_model(tmp, args.arch)
        rows, clips = [], {}
        for variant in args.variants.split(","):
            if variant in ("model", "sequential") and not args.device.startswith("cuda"):
                rows.append({"variant": variant, "error": "offload needs a CUDA device"})
                continue
            out = tmp / f"{variant}.npy"
            cmd = [
                sys.executable,
                __file__,
                "--preset",
                args.preset,
                "--model",
                str(args.model),
                "--lora",
                str(args.lora),
                "--variant",
                variant,
                "--clip-out",
                str(out),
                "--repeats",
                str(args.repeats),
                "--height",
                str(args.height),
                "--width",
                str(args.width),
                "--frames",
                str(args.frames),
                "--steps",
                str(args.steps),
                "--device",
                args.device,
                "--dtype",
                args.dtype,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                rows.append({"variant": variant, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]})
            else:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                clips[variant] = np.load(out)
            print(json.dumps(rows[-1]), file=sys.stderr)
        for row in rows:
            if "none" in clips and row["variant"] in clips:
                row["mean_abs_diff_vs_none"] = float(np.abs(clips[row["variant"]] - clips["none"]).mean())
    report = {
        "benchmark": "end_to_end",
        "preset": args.preset,
        "random_weights": random_weights,
        "settings": {k: getattr(args, k) for k in ("height", "width", "frames", "steps", "device", "dtype")},
        "machine": platform.node(),
        "results": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"end_to_end-{args.preset}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    lines = [
        f"# End to end ({args.preset}): {report['settings']}",
        "",
        "| variant | s/clip | load s | peak VRAM GiB | eval-flow | mean abs diff vs none |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['variant']} | failed: {r['error']} | | | | |")
        else:
            vram = f"{r['peak_vram_gib']:.1f}" if r["peak_vram_gib"] is not None else "-"
            lines.append(
                f"| {r['variant']} | {r['seconds_per_clip']:.2f} | {r['load_s']:.1f} | {vram} | "
                f"{r['eval_flow']:.4f} | {r.get('mean_abs_diff_vs_none', 0):.4f} |"
            )
    (RESULTS / f"end_to_end-{args.preset}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
