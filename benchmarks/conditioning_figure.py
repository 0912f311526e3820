"""Pictures for the model card: `matte` and `animate` on held-out clips with the bundled model.

    python benchmarks/conditioning_figure.py      # writes docs/images/conditioning-{matte,animate}.png

Rows (matte): footage over black, true alpha, `vfxgen matte` alpha (the default: keyed at the element level the model
reads, then black cleared), model alpha only, max-channel key. Rows (animate): the true clip (its frame 0 is the
still), animate's output over a checkerboard, its alpha. Same held-out clips as benchmarks/conditioning.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).parent.parent / "docs" / "images"
HELD_OUT = 90_210  # as benchmarks/conditioning.py: generators (HELD_OUT, i), never used in training


def strip(frames: np.ndarray) -> np.ndarray:
    """`[T, H, W, 3|1]` -> one row `[H, T * (W + 2), 3]` with 2-pixel gaps."""
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    gap = np.ones((frames.shape[1], 2, 3), np.float32)
    return np.concatenate([np.concatenate([f, gap], axis=1) for f in frames], axis=1)


def save(rows: list[np.ndarray], path: Path, scale: int = 2) -> None:
    import cv2

    gap = np.ones((2, rows[0].shape[1], 3), np.float32)
    image = np.concatenate([np.concatenate([r, gap], axis=0) for r in rows], axis=0)
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), (np.clip(image, 0, 1) * 255).round().astype(np.uint8)[..., ::-1])


def main() -> None:
    from vfxgen.clip import Clip
    from vfxgen.compositing import over_checkerboard
    from vfxgen.pipelines.conditioning import pull_matte
    from vfxgen.pipelines.rgba import GenerationRequest, RGBAPipeline
    from vfxgen.training.synth import ELEMENTS, synth_clip

    pipe = RGBAPipeline.from_pretrained(device="cpu")
    matte_rows, animate_rows = [], []
    for element in ("fire", "smoke"):
        i = ELEMENTS.index(element)
        rgba, caption = synth_clip(element, 9, 64, 64, np.random.default_rng((HELD_OUT, i * 100)))
        over_black = rgba[..., :3] * rgba[..., 3:]
        footage = Clip(np.concatenate([over_black, np.ones_like(rgba[..., :1])], axis=-1))
        raw = pull_matte(pipe, footage, GenerationRequest(caption, clear_black=False), alpha_floor=False).alpha
        default = pull_matte(pipe, footage, GenerationRequest(caption)).alpha  # `vfxgen matte` as users get it
        matte_rows += [
            strip(over_black),
            strip(rgba[..., 3:]),
            strip(default[..., None]),
            strip(raw[..., None]),
            strip(over_black.max(axis=-1, keepdims=True)),
        ]
        animated = pipe.animate(rgba[0], GenerationRequest(caption))
        animate_rows += [
            strip(over_checkerboard(rgba)),
            strip(over_checkerboard(animated.frames)),
            strip(animated.frames[..., 3:]),
        ]
    OUT.mkdir(parents=True, exist_ok=True)
    save(matte_rows, OUT / "conditioning-matte.png")
    save(animate_rows, OUT / "conditioning-animate.png")


if __name__ == "__main__":
    main()
