"""Synthetic training datasets from the procedural elements of `vfxgen.training.elements`.

`synth_clip` draws one element with a caller's generator; `synth_dataset_items` draws a whole dataset
deterministically from one seed, item `i` from its own generator `(seed, i)`, with the elements in a
balanced, seed-dependent rotation. Both check their arguments before drawing anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from vfxgen.color import linear_to_srgb, srgb_to_linear
from vfxgen.errors import UsageError
from vfxgen.highlights import NO_HIGHLIGHTS, Highlights
from vfxgen.qc import REC709_LUMA
from vfxgen.training.elements import ELEMENTS, MAKERS
from vfxgen.training.elements.common import smoothstep

__all__ = ["ELEMENTS", "HOT_PEAKS", "hot_cores", "synth_clip", "synth_dataset_items"]

#: How hot each light-emitting element's core gets (scene-linear, at its whitest, densest pixels): the
#: elements a compositor expects to bloom. The others (smoke, dust, water, magic, explosion's lit smoke)
#: reflect or glow softly and stay at or below 1.0.
HOT_PEAKS = {"fire": 3.0, "sparks": 6.0, "lightning": 6.0, "muzzle_flash": 6.0}


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


def synth_clip(
    element: str,
    frames: int,
    height: int,
    width: int,
    rng: np.random.Generator,
    highlights: Highlights = NO_HIGHLIGHTS,
) -> tuple[np.ndarray, str]:
    """One procedural clip of `element` and a caption naming it.

    Returns float32 `[frames, height, width, 4]` straight sRGB RGBA (alpha exactly 0 and colour 0 on the
    background) and a caption whose adjectives match the randomised look. With an HDR `highlights`
    encoding the emitting elements get hot cores (`hot_cores`) and every colour is in that encoding (still
    [0, 1]); the drawing itself, and so the rest of a dataset, is the same. Raises `UsageError` for an
    unknown element or a size that cannot work.
    """
    _check_element(element)
    _check_size(frames, height, width)
    rgba, caption = MAKERS[element](rng, int(frames), int(height), int(width))
    if highlights.hdr:
        rgba[..., :3] = highlights.encode(linear_to_srgb(hot_cores(element, rgba)))
    return rgba, " ".join(caption.split())


def hot_cores(element: str, rgba: np.ndarray) -> np.ndarray:
    """The straight scene-linear colour `[..., 3]` of a drawn clip with its emitting core made hot.

    The generators draw display-referred colour that tops out at white; where an element emits light its
    near-white, dense core stands for a value above 1.0. Core-ness is read off the drawing (display luma
    0.75 -> 0.97 and alpha 0.5 -> 0.9, both smoothstepped), and the linear colour is scaled up to
    `HOT_PEAKS[element]` there, keeping its hue. Elements not in `HOT_PEAKS` keep their colour.
    """
    linear = srgb_to_linear(rgba[..., :3]).astype(np.float32)
    peak = HOT_PEAKS.get(element)
    if peak is None:
        return linear
    luma = rgba[..., :3] @ REC709_LUMA  # of the display values: how near white the drawing is
    core = smoothstep(0.75, 0.97, luma) * smoothstep(0.5, 0.9, rgba[..., 3])
    return (linear * (1.0 + (peak - 1.0) * core)[..., None]).astype(np.float32)


def synth_dataset_items(
    count: int,
    frames: int,
    height: int,
    width: int,
    seed: int,
    elements: Sequence[str] = ELEMENTS,
    highlights: Highlights = NO_HIGHLIGHTS,
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
        rgba, caption = synth_clip(element, frames, height, width, rng, highlights)
        yield element, caption, rgba
