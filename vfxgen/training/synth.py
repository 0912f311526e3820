"""Synthetic training datasets from the procedural elements of `vfxgen.training.elements`.

`synth_clip` draws one element with a caller's generator; `synth_dataset_items` draws a whole dataset
deterministically from one seed, item `i` from its own generator `(seed, i)`, with the elements in a
balanced, seed-dependent rotation. Both check their arguments before drawing anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from vfxgen.errors import UsageError
from vfxgen.training.elements import ELEMENTS, MAKERS

__all__ = ["ELEMENTS", "synth_clip", "synth_dataset_items"]


def _check_size(frames: int, height: int, width: int) -> None:
    """What the generators need to draw anything: a frame and 8x8 pixels.

    Not the model's 4k+1 frames / multiple-of-16 rule (`vfxgen.shapes`): a synthetic clip of any size is
    valid data (tests and benchmarks draw 24x24 clips), so that rule is for `vfxgen dataset synth` to check.
    """
    if int(frames) < 1:
        raise UsageError(f"frames must be at least 1, got {frames}", "pass a positive frame count")
    if int(height) < 8 or int(width) < 8:
        raise UsageError(
            f"synthetic clips need at least 8x8 pixels, got {width}x{height}", "pass a larger --height/--width"
        )


def _check_element(element: str) -> None:
    if element not in MAKERS:
        raise UsageError(f"unknown synthetic element {element!r}", f"choose one of: {', '.join(ELEMENTS)}")


def synth_clip(element: str, frames: int, height: int, width: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One procedural clip of `element` and a caption naming it.

    Returns float32 `[frames, height, width, 4]` straight sRGB RGBA (alpha exactly 0 and colour 0 on the
    background) and a caption whose adjectives match the randomised look. Raises `UsageError` for an
    unknown element or a size that cannot work.
    """
    _check_element(element)
    _check_size(frames, height, width)
    rgba, caption = MAKERS[element](rng, int(frames), int(height), int(width))
    return rgba, " ".join(caption.split())


def synth_dataset_items(
    count: int, frames: int, height: int, width: int, seed: int, elements: Sequence[str] = ELEMENTS
) -> Iterator[tuple[str, str, np.ndarray]]:
    """Yield `count` items `(element, caption, rgba)`, deterministic in `seed`.

    Elements cycle through a seed-dependent order (balanced classes); item `i` is drawn from its own
    generator seeded with `(seed, i)`, so an item does not depend on `count` or on the items before it.
    """
    elements = tuple(elements)
    if not elements:
        raise UsageError("no synthetic elements to draw from", f"choose from: {', '.join(ELEMENTS)}")
    for element in elements:
        _check_element(element)
    if int(count) < 0:
        raise UsageError(f"count must be 0 or more, got {count}", "pass a non-negative item count")
    if int(seed) < 0:
        raise UsageError(f"seed must be 0 or more, got {seed}", "pass a non-negative --seed")
    _check_size(frames, height, width)
    order = np.random.default_rng([int(seed), 0x5EED, 0]).permutation(len(elements))
    for index in range(int(count)):
        element = elements[int(order[index % len(elements)])]
        rng = np.random.default_rng([int(seed), int(index)])
        rgba, caption = synth_clip(element, frames, height, width, rng)
        yield element, caption, rgba
