"""What a shot's weights may be used for, said where it matters: once per run, and in shot.json.

The TransPixar release (code and LoRA) is under the Adobe Research License: noncommercial research only, so
no facility may deliver a paid shot made with it. vfxgen cannot read a licence from a weights file; it knows
the release by its recipe (`--recipe release`, the release's sha256, or a release-layout guess) and warns
once per run, and records the licence in shot.json (`generation.weights_licence`) so a delivery check can
refuse it. Everything else is recorded as "see the weights' model card" (unverified).
"""

from __future__ import annotations

TRANSPIXAR_RELEASE = "Adobe Research License: noncommercial research only (TransPixar release LoRA)"
UNVERIFIED = "unverified: see the model card of the weights used"


def weights_licence(recipe_source: str) -> str:
    """The licence a shot's LoRA carries, as far as vfxgen can tell from where its recipe came from."""
    source = recipe_source.lower()
    if source.startswith("transpixar release") or source.startswith("guessed: release"):
        return TRANSPIXAR_RELEASE
    return UNVERIFIED


def noncommercial_notice(recipe_source: str) -> str | None:
    """The one-line notice for noncommercial weights, or None."""
    if weights_licence(recipe_source) != TRANSPIXAR_RELEASE:
        return None
    return (
        "these weights are the TransPixar release's (Adobe Research License: noncommercial research only); "
        "do not deliver paid work made with them"
    )
