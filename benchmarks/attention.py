"""Block-split RGBA attention vs the release's dense additive mask: time per transformer step and peak memory.

    python benchmarks/attention.py                       # CPU: the largest size that fits here (see --help)
    python benchmarks/attention.py --preset 5b-full      # GPU: CogVideoX-5B, bf16, 480x720x49 RGBA

Each variant runs in its own subprocess so its peak memory is its own (CUDA: max_memory_allocated; CPU:
peak RSS). Results go to benchmarks/results/attention-<preset>.{json,md}. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

PRESETS = {
    # CogVideoX-5B width (48 heads x 64), 2 of its 42 blocks, 320x480x13 RGBA: 2 x 2,400 + 226 tokens.
    "cpu": dict(layers=2, heads=48, head_dim=64, height=320, width=480, frames=13, dtype="fp32", device="cpu"),
    # The real thing: CogVideoX-5B config, all 42 blocks, bf16, 480x720x49 RGBA: 2 x 17,550 + 226 tokens.
    "5b-full": dict(layers=42, heads=48, head_dim=64, height=480, width=720, frames=49, dtype="bf16", device="cuda"),
}
VARIANTS = ("block-split", "dense-mask")
RESULTS = Path(__file__).resolve().parent / "results"


def run_variant(args: argparse.Namespace) -> dict:
    import torch
    from diffusers import CogVideoXTransformer3DModel

    from vfxgen.models.transpixar import apply_transpixar

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = CogVideoXTransformer3DModel(
        num_attention_heads=args.heads,
        attention_head_dim=args.head_dim,
        num_layers=args.layers,
        in_channels=16,
        out_channels=16,
        text_embed_dim=4096,
        time_embed_dim=512,
        sample_height=args.height // 8,
        sample_width=args.width // 8,
        use_rotary_positional_embeddings=True,
    ).to(device, dtype)
    apply_transpixar(model, rank=128, official_mask=args.variant == "dense-mask")
    model.eval()
    latent_frames = (args.frames - 1) // 4 + 1
    h, w = args.height // 8, args.width // 8
    x = torch.randn(1, 2 * latent_frames, 16, h, w, device=device, dtype=dtype)
    text = torch.randn(1, 226, 4096, device=device, dtype=dtype)
    t = torch.tensor([500], device=device)
    from diffusers.models.embeddings import get_3d_rotary_pos_embed

    rope = get_3d_rotary_pos_embed(
        args.head_dim, ((0, 0), (h // 2, w // 2)), (h // 2, w // 2), latent_frames, device=device
    )
    tokens = 2 * latent_frames * (h // 2) * (w // 2) + 226

    def step():
        with torch.inference_mode():
            model(hidden_states=x, encoder_hidden_states=text, timestep=t, image_rotary_emb=rope)
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up (kernel selection, allocator)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
        peak_kind = "max_memory_allocated"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        peak_kind = "peak RSS"
    return {
        "variant": args.variant,
        "tokens": tokens,
        "seconds_per_step": min(times),
        "seconds_all": times,
        "peak_gib": peak,
        "peak_kind": peak_kind,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    for key in ("layers", "heads", "head_dim", "height", "width", "frames"):
        parser.add_argument(f"--{key.replace('_', '-')}", type=int)
    parser.add_argument("--dtype")
    parser.add_argument("--device")
    args = parser.parse_args()
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.variant:  # child process: one variant, JSON on stdout
        print(json.dumps(run_variant(args)))
        return
    results = []
    for variant in VARIANTS:
        cmd = [sys.executable, __file__, *sys.argv[1:], "--variant", variant]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            results.append({"variant": variant, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
    config = {
        k: getattr(args, k) for k in ("layers", "heads", "head_dim", "height", "width", "frames", "dtype", "device")
    }
    report = {
        "benchmark": "attention",
        "preset": args.preset,
        "config": config,
        "machine": platform.node(),
        "results": results,
    }
    ok = [r for r in results if "error" not in r]
    if len(ok) == 2:
        split, dense = ok
        report["speedup_dense_over_split"] = dense["seconds_per_step"] / split["seconds_per_step"]
        report["memory_ratio_dense_over_split"] = dense["peak_gib"] / split["peak_gib"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"attention-{args.preset}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Attention: block-split vs dense mask ({args.preset})",
        "",
        f"Config: {config}; machine: {report['machine']}",
        "",
        "| variant | tokens | s/step | peak GiB | device |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['variant']} | - | failed: {r['error']} | - | - |")
        else:
            lines.append(
                f"| {r['variant']} | {r['tokens']} | {r['seconds_per_step']:.3f} | {r['peak_gib']:.2f} "
                f"({r['peak_kind']}) | {r['device']} |"
            )
    if "speedup_dense_over_split" in report:
        lines += [
            "",
            f"Block-split is {report['speedup_dense_over_split']:.2f}x faster and uses "
            f"{report['memory_ratio_dense_over_split']:.2f}x less peak memory than the dense mask.",
        ]
    (RESULTS / f"attention-{args.preset}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
