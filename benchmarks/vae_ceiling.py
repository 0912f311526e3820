"""The VAE's ceiling per element: what a model's VAE alone keeps of each procedural element's matte.

    python benchmarks/vae_ceiling.py MODEL_DIR [MODEL_DIR ...]

For each synthetic element, training clip 0 (`synth_clip(element, 9, 64, 64, rng((0, i)))`): its alpha as a
grey video (as TransPixar encodes the alpha half) through the model's VAE (posterior mode, then decode),
IoU of the alpha at 0.5 against the original. No transformer can generate structure its VAE cannot
reconstruct, so this bounds what a demo model can show (thin sparks and bolts first). Writes
benchmarks/results/vae_ceiling.{json,md}. Never part of the test run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def alpha_ious(model_dir: str) -> dict[str, float]:
    import torch
    from diffusers import AutoencoderKLCogVideoX

    from vfxgen.training.synth import ELEMENTS, synth_clip

    vae = AutoencoderKLCogVideoX.from_pretrained(model_dir, subfolder="vae").float().eval()
    out = {}
    for i, element in enumerate(ELEMENTS):
        rgba, _ = synth_clip(element, 9, 64, 64, np.random.default_rng((0, i)))
        grey = np.repeat(rgba[..., 3:], 3, -1)
        video = torch.from_numpy(grey.transpose(3, 0, 1, 2))[None] * 2 - 1
        with torch.no_grad():
            decoded = vae.decode(vae.encode(video).latent_dist.mode()).sample
        alpha = ((decoded[0].numpy().transpose(1, 2, 3, 0) + 1) / 2).mean(-1)[: len(rgba)]
        truth, got = rgba[..., 3] > 0.5, alpha > 0.5
        out[element] = round(float((truth & got).sum() / max((truth | got).sum(), 1)), 3)
    return out


def main() -> None:
    models = sys.argv[1:] or ["vfxgen/default_model"]
    table = {m: alpha_ious(m) for m in models}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "vae_ceiling.json").write_text(json.dumps(table, indent=2) + "\n")
    elements = list(next(iter(table.values())))
    lines = [
        "# The VAE's ceiling per element (alpha IoU at 0.5, encode + decode of training clip 0)",
        "",
        f"`python benchmarks/vae_ceiling.py {' '.join(models)}`",
        "",
        "| model | " + " | ".join(elements) + " | mean |",
        "|---|" + "---|" * (len(elements) + 1),
    ]
    for model, row in table.items():
        values = " | ".join(f"{row[e]:.2f}" for e in elements)
        lines.append(f"| `{model}` | {values} | {np.mean(list(row.values())):.3f} |")
    (RESULTS / "vae_ceiling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
