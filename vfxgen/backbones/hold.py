"""`vfxgen train --hold-elements`: train some clips toward the starting model's own prediction.

A fine-tune toward one element (the demo's muzzle flash) drifts the others (its dust turned the colour of
fire in every RGB fine-tune tried), even with their clips in the mix: a clip's data target is one noisy draw,
a weak pull next to the new element's. The starting model's prediction at the same noisy input, text and
timestep is a deterministic target - self-distillation - so the held elements keep what they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch.func import functional_call


class StartingModel:
    """The module as a run starts, frozen: callable like the module, without a second copy of what the run
    leaves frozen.

    Only the parameters the run trains are snapshotted; a call runs the live module with the snapshot swapped in
    (`torch.func.functional_call`, no gradients, eval mode), so the frozen base - all of CogVideoX-5B's ~11 GB
    in bf16 for the alpha stage - is shared, and the alpha stage's teacher costs only its LoRA and domain
    embedding. The RGB stage trains every weight, so its snapshot is a whole copy, as it must be.
    """

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.weights = {name: p.detach().clone() for name, p in module.named_parameters() if p.requires_grad}

    def parameters(self) -> Iterator[torch.Tensor]:
        """The snapshotted tensors (never trained: they carry no gradient)."""
        return iter(self.weights.values())

    def __call__(self, *args, **kwargs):
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                return functional_call(self.module, self.weights, args, kwargs, strict=False)
        finally:
            self.module.train(was_training)


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
