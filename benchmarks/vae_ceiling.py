"""The VAE's ceiling per element: what a model's VAE alone keeps of each procedural element.

    python benchmarks/vae_ceiling.py MODEL_DIR [MODEL_DIR ...]

For each synthetic element, training clip 0 (`synth_clip(element, 9, 64, 64, rng((0, i)))`) through the
model's VAE (posterior mode, then decode):

- **alpha IoU**: its alpha as a grey video (as TransPixar encodes the alpha half), IoU at 0.5 against the
  original. No transformer can generate structure its VAE cannot reconstruct, so this bounds what a demo
  model can show (thin sparks and bolts first).
- **motion on twos**: its premultiplied colour; the mean frame-to-frame change across latent-frame
  boundaries over the mean change between two frames decoded from the same latent frame (2x temporal
  compression: frames 1-2, 3-4, ... share one). 1.0 is even motion; above it, the two frames of a latent
  come out alike and the motion judders. The source clips' own ratio is the reference.

Writes benchmarks/results/vae_ceiling.{json,md}. Never part of the test run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def twos_ratio(video: np.ndarray, compression: int) -> float:
    """Mean change across latent-frame boundaries / mean change within one latent frame (`[T, ...]`)."""
    change = np.abs(np.diff(video, axis=0)).reshape(len(video) - 1, -1).mean(1)  # change[k]: frame k -> k+1
    across = change[0::compression]  # 0->1, 2->3, ... (frame 0 is a latent of its own)
    within = np.concatenate([change[k::compression] for k in range(1, compression)])
    return float(across.mean() / max(within.mean(), 1e-9))


def measure(model_dir: str) -> dict[str, dict[str, float]]:
    import torch
    from diffusers import AutoencoderKLCogVideoX

    from vfxgen.training.synth import ELEMENTS, synth_clip

    vae = AutoencoderKLCogVideoX.from_pretrained(model_dir, subfolder="vae").float().eval()
    compression = int(vae.config.temporal_compression_ratio)

    def round_trip(video: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(video.transpose(3, 0, 1, 2).copy())[None] * 2 - 1
        with torch.no_grad():
            decoded = vae.decode(vae.encode(x).latent_dist.mode()).sample
        return ((decoded[0].numpy().transpose(1, 2, 3, 0) + 1) / 2)[: len(video)]

    out = {}
    for i, element in enumerate(ELEMENTS):
        rgba, _ = synth_clip(element, 9, 64, 64, np.random.default_rng((0, i)))
        alpha = round_trip(np.repeat(rgba[..., 3:], 3, -1)).mean(-1)
        truth, got = rgba[..., 3] > 0.5, alpha > 0.5
        colour = rgba[..., :3] * rgba[..., 3:]
        out[element] = {
            "alpha_iou": round(float((truth & got).sum() / max((truth | got).sum(), 1)), 3),
            "twos": round(twos_ratio(np.clip(round_trip(colour), 0, 1), compression), 3),
            "twos_source": round(twos_ratio(colour, compression), 3),
        }
    return out


def main() -> None:
    models = sys.argv[1:] or ["vfxgen/default_model"]
    table = {m: measure(m) for m in models}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "vae_ceiling.json").write_text(json.dumps(table, indent=2) + "\n")
    elements = list(next(iter(table.values())))
    header = ["| model | " + " | ".join(elements) + " | mean |", "|---|" + "---|" * (len(elements) + 1)]

    def rows(key: str, source: bool = False) -> list[str]:
        out = []
        if source:
            first = next(iter(table.values()))
            values = [first[e]["twos_source"] for e in elements]
            out.append("| source clips | " + " | ".join(f"{v:.2f}" for v in values) + f" | {np.mean(values):.3f} |")
        for model, row in table.items():
            values = [row[e][key] for e in elements]
            out.append(f"| `{model}` | " + " | ".join(f"{v:.2f}" for v in values) + f" | {np.mean(values):.3f} |")
        return out

    lines = [
        "# The VAE's ceiling per element (encode + decode of training clip 0)",
        "",
        f"`python benchmarks/vae_ceiling.py {' '.join(models)}`",
        "",
        "## Alpha IoU at 0.5 (higher is better)",
        "",
        *header,
        *rows("alpha_iou"),
        "",
        "## Motion on twos: change across latent frames / change within one (1.0 = even; higher judders)",
        "",
        *header,
        *rows("twos", source=True),
    ]
    (RESULTS / "vae_ceiling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
