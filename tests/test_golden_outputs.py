"""Golden outputs: the pixels of a few shots, pinned before the redesign moves code around.

A refactor (settings schema, backbone seam) must leave every delivered pixel as it was. Each case runs
through the Python API on a tiny model built in the test (seeded, offline) and is compared with
`tests/golden/outputs.npz` to 1e-3 (float16 storage; CPUs may differ in the last bits of float32 maths,
a changed convention moves pixels by far more). Cases: the vfxgen recipe (generate), the release recipe with
its official mask and tiled decode, animate (replacement) and matte (two windows; the model's alpha, and keyed).

To re-pin after an *intended* change of output: `VFXGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_outputs.py`,
and say why in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.tiny_models import save_tiny_model_dir

GOLDEN = Path(__file__).parent / "golden" / "outputs.npz"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return save_tiny_model_dir(tmp_path_factory.mktemp("golden") / "t2v")


@pytest.fixture(scope="module")
def release_lora(model, tmp_path_factory) -> Path:
    state = load_file(model / "transpixar_lora.safetensors")
    g = torch.Generator().manual_seed(11)
    state = {k: torch.randn(v.shape, generator=g) * 0.5 for k, v in state.items()}
    path = tmp_path_factory.mktemp("golden") / "release.safetensors"
    save_file(state, path)  # no metadata: the release's file
    return path


def _cases(model: Path, release_lora: Path) -> dict[str, np.ndarray]:
    import vfxgen
    from vfxgen.clip import Clip
    from vfxgen.pipelines.conditioning import Conditioning, pull_matte
    from vfxgen.settings import resolve_request

    pipe = vfxgen.load_pipeline(model=model, device="cpu")
    out = {"generate": vfxgen.generate("fire", pipeline=pipe, steps=3, seed=7).pixels}
    release = vfxgen.load_pipeline(model=model, lora=release_lora, device="cpu", recipe="release", attention="official")
    out["release"] = vfxgen.generate("fire", pipeline=release, steps=3, seed=3).pixels
    still = np.zeros((32, 48, 4), np.float32)
    still[8:24, 12:36] = (0.9, 0.5, 0.1, 1.0)
    out["animate"] = vfxgen.animate(still, "fire", pipeline=pipe, steps=3, seed=5).pixels
    frames = np.zeros((13, 32, 48, 4), np.float32)
    frames[..., 3] = 1.0
    for t in range(13):
        frames[t, 8:24, 4 + 2 * t : 20 + 2 * t, :3] = (0.9, 0.6, 0.2)
    footage = Clip(frames, fps=8.0)
    request = resolve_request("fire", pipe.info, options={"steps": 2, "seed": 1})
    model = Conditioning(mode="replace", overlap=2, matte_alpha="model")  # the matte as pinned before `keyed`
    out["matte"] = pull_matte(pipe, footage, request, None, model).pixels
    grey = frames.copy()
    grey[..., :3] = np.where(frames[..., :3] > 0, 0.3, 0.0)  # a grey element: its level is below a max key's 1
    keyed = pull_matte(pipe, Clip(grey, fps=8.0), request, None, Conditioning(overlap=2))
    assert keyed.metadata["conditioning"]["key_level"] < 0.9, "the keyed case must pin a level below a max key's"
    out["matte_keyed"] = keyed.pixels
    return out


def test_outputs_match_the_golden_pixels(model, release_lora):
    got = _cases(model, release_lora)
    if os.environ.get("VFXGEN_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        np.savez_compressed(GOLDEN, **{k: v.astype(np.float16) for k, v in got.items()})
    want = np.load(GOLDEN)
    assert sorted(want.files) == sorted(got)
    for name, pixels in got.items():
        assert pixels.shape == want[name].shape, name
        assert pixels.std() > 1e-3, f"{name}: a degenerate clip pins nothing"
        np.testing.assert_allclose(pixels, want[name].astype(np.float32), atol=1e-3, rtol=1e-3, err_msg=name)
