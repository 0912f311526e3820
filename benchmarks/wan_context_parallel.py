"""Several GPUs for one Wan shot: does diffusers' context parallelism give the single-process output?

    torchrun --nproc_per_node 2 benchmarks/wan_context_parallel.py [--mode ulysses|ring] [--size tiny|14b-block]

Each process builds the same seeded Wan transformer, runs one forward pass alone, then with
`enable_parallelism(ContextParallelConfig(...))` across the processes, and compares the two (max abs
difference) and the time of each. On CPU it runs on gloo; diffusers 0.42.1 refuses context parallelism without
an accelerator (`ModelMixin._resolve_parallel_config` takes `rank % torch.accelerator.device_count()`, a
division by zero on CPU), which the result records as such. Writes benchmarks/results/wan_context_parallel.json
(rank 0).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {
    # heads, head dim, layers, latent frames, latent height, latent width
    "tiny": (2, 12, 2, 2, 8, 8),
    "14b-block": (40, 128, 1, 21, 60, 104),  # one block of Wan2.1-14B at 832x480x81 (needs a GPU)
}


def main() -> None:
    import torch
    import torch.distributed as dist
    from diffusers import ContextParallelConfig, WanTransformer3DModel

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("ulysses", "ring"), default="ulysses")
    parser.add_argument("--size", choices=tuple(SIZES), default="tiny")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", rank % torch.cuda.device_count()) if cuda else torch.device("cpu")
    heads, head_dim, layers, frames, height, width = SIZES[args.size]
    torch.manual_seed(0)
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=4 * heads * head_dim,
        num_layers=layers,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
    ).to(device).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 16, frames, height, width, generator=g).to(device)
    text = torch.randn(1, 16, 32, generator=g).to(device)
    t = torch.tensor([500], device=device)
    with torch.no_grad():
        start = time.perf_counter()
        single = model(x, t, text, return_dict=False)[0]
        single_s = time.perf_counter() - start
    result = {"mode": args.mode, "size": args.size, "processes": world, "device": str(device)}
    try:
        degree = {"ulysses_degree": world} if args.mode == "ulysses" else {"ring_degree": world}
        model.enable_parallelism(config=ContextParallelConfig(**degree))
        with torch.no_grad():
            start = time.perf_counter()
            parallel = model(x, t, text, return_dict=False)[0]
            parallel_s = time.perf_counter() - start
        result.update(
            max_abs_difference=float((parallel - single).abs().max()),
            single_seconds=round(single_s, 4),
            parallel_seconds=round(parallel_s, 4),
        )
    except Exception as exc:  # noqa: BLE001 - what diffusers refuses is the result on this machine
        result.update(refused=f"{type(exc).__name__}: {exc}")
    if rank == 0:
        RESULTS.mkdir(parents=True, exist_ok=True)
        report = {"benchmark": "wan_context_parallel", "machine": platform.node(), **result}
        (RESULTS / "wan_context_parallel.json").write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
