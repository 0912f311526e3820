#!/usr/bin/env bash
# Regenerates the pictures in docs/images/ with the bundled model and vfxgen's own commands:
# a contact sheet per stock preset (fire, smoke, explosion) and a composite over a plate.
set -euo pipefail
OUT=docs/images
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
for preset in fire smoke explosion; do
  vfxgen -q generate --preset "$preset" -o "$WORK/$preset" --format exr,contact
  cp "$WORK/$preset/contact.png" "$OUT/preset-$preset.png"
done
python - "$WORK/plate.png" <<'PY'
"""A 64x64 night-street plate (sky gradient, dark buildings with lit windows) to composite over."""
import sys

import numpy as np

from vfxgen.io.images import write_png

h = w = 64
y = np.linspace(0, 1, h)[:, None]
img = (np.stack([0.05 + 0.5 * y**3, 0.07 + 0.25 * y**3, 0.2 - 0.1 * y], -1) * np.ones((h, w, 1))).astype(np.float32)
rng = np.random.default_rng(3)
x0 = 0
while x0 < w:
    bw, bh = int(rng.integers(6, 14)), int(rng.integers(10, 30))
    img[h - bh :, x0 : x0 + bw] = [0.04, 0.04, 0.06]
    for _ in range(3):
        wy, wx = h - bh + int(rng.integers(2, max(3, bh - 2))), min(w - 1, x0 + int(rng.integers(1, max(2, bw - 1))))
        img[wy, wx] = [0.9, 0.8, 0.4]
    x0 += bw + int(rng.integers(0, 3))
img[h - 6 :] = [0.08, 0.07, 0.07]
write_png(sys.argv[1], img)
PY
vfxgen -q composite "$WORK/fire" --over "$WORK/plate.png" -o "$OUT/composite-fire-over-plate.png" --format contact --overwrite
cp "$WORK/plate.png" "$OUT/plate.png"
