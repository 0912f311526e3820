"""Which torch device a load runs on: one parser for every backbone (and for `LoadOptions.device_type`)."""

from __future__ import annotations

import os

import torch

from vfxgen.errors import UsageError


def parse_device(device: str | None) -> torch.device:
    """`cpu`, `cuda`, `cuda:N`, `mps`; a clear error for anything else or an absent accelerator.

    Default: `cuda:$LOCAL_RANK` under a multi-process launcher, else `cuda` if present, else `cpu`.
    """
    if device is None and torch.cuda.is_available():
        # Under torchrun / accelerate launch each process takes its own GPU.
        device = f"cuda:{os.environ['LOCAL_RANK']}" if "LOCAL_RANK" in os.environ else "cuda"
    name = device or "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"unknown --device {name!r}", "use cpu, cuda, cuda:N or mps") from exc
    if dev.type not in ("cpu", "cuda", "mps"):
        raise UsageError(f"unsupported --device {name!r}", "use cpu, cuda, cuda:N or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for but no CUDA GPU is visible", "use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise UsageError(f"--device {name} does not exist ({torch.cuda.device_count()} GPUs)", "pick another index")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps asked for but MPS is not available", "use --device cpu")
    return dev
