"""Wan's samplers as its release runs them, on diffusers' own solvers: only the sigma grid is the release's.

The release offers two (`--sample_solver`): flow-matching UniPC (`unipc`, what Wan-Alpha's scripts use; its
grid lives with the other Wan-Alpha facts in `vfxgen.backbones.wan_alpha.release_scheduler`) and multistep
DPM-Solver++ (`dpm++`, `wan/utils/fm_solvers.py`). For `dpm++` the release shifts `linspace(1, 0, n + 1)[:n]`
by `shift * s / (1 + (shift - 1) * s)`, takes int64-truncated timesteps (4 steps at shift 5: 1000, 937, 833,
625) and float32 sigmas ending in 0, then solves with order 2, midpoint, lower-order final, x0 = x - sigma * v.
diffusers' `DPMSolverMultistepScheduler` does the same maths but builds another grid (it starts at 0.999 and
0.42.1 takes no sigmas), so the grid is installed after its own `set_timesteps`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler

#: The release's DPM-Solver++ configuration (fm_solvers.py defaults as Wan's generate() builds it).
RELEASE_DPM_SETTINGS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "flow_shift": 5.0,
    "algorithm_type": "dpmsolver++",
    "solver_order": 2,
    "solver_type": "midpoint",
    "lower_order_final": True,
    "euler_at_final": False,
    "final_sigmas_type": "zero",
    "thresholding": False,
}


def release_dpm_sigmas(steps: int, shift: float) -> np.ndarray:
    """The release's shifted dpm++ sigmas (without the final 0), float64: `linspace(1, 0, steps + 1)[:steps]`
    shifted by `shift * s / (1 + (shift - 1) * s)`."""
    s = np.linspace(1.0, 0.0, steps + 1)[:steps]
    return shift * s / (1.0 + (shift - 1.0) * s)


class ReleaseFlowDPMScheduler(DPMSolverMultistepScheduler):
    """diffusers' multistep DPM-Solver++ whose `set_timesteps(n)` installs the release's dpm++ grid."""

    def set_timesteps(self, num_inference_steps: int | None = None, device=None, **kwargs) -> None:
        super().set_timesteps(num_inference_steps, device=device, **kwargs)
        shifted = release_dpm_sigmas(num_inference_steps, float(self.config.flow_shift))
        timesteps = torch.from_numpy(shifted * self.config.num_train_timesteps).to(torch.int64)
        self.timesteps = timesteps.to(device) if device is not None else timesteps
        self.sigmas = torch.from_numpy(np.concatenate([shifted, [0.0]]).astype(np.float32))
        self.num_inference_steps = len(timesteps)


def release_dpm_scheduler(config: dict[str, Any] | None = None, shift: float | None = None) -> ReleaseFlowDPMScheduler:
    """The release's dpm++ sampler; `shift` (the recipe's `flow_shift`) replaces the release's 5 when given."""
    import inspect

    accepted = set(inspect.signature(DPMSolverMultistepScheduler.__init__).parameters) - {"self"}
    base = {k: v for k, v in (config or {}).items() if k in accepted}
    chosen = {"flow_shift": float(shift)} if shift else {}
    return ReleaseFlowDPMScheduler.from_config({**base, **RELEASE_DPM_SETTINGS, **chosen})
