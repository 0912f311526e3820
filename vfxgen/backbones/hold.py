"""`vfxgen train --hold-elements`: train some clips toward the starting model's own prediction.

A fine-tune toward one element (the demo's muzzle flash) drifts the others (its dust turned the colour of
fire in every RGB fine-tune tried), even with their clips in the mix: a clip's data target is one noisy draw,
a weak pull next to the new element's. The starting model's prediction at the same noisy input, text and
timestep is a deterministic target - self-distillation - so the held elements keep what they were.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def hold_targets(
    target: torch.Tensor, held: torch.Tensor | None, predict: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """`target` with the rows of the held clips replaced by `predict(held)` (the frozen starting model run on
    those rows only, without gradients); unchanged when nothing in the batch is held."""
    if held is None or not bool(held.any()):
        return target
    with torch.no_grad():
        kept = predict(held).to(target.dtype)
    target = target.clone()
    target[held] = kept
    return target
