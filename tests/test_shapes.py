"""The one 4k+1 frames / multiple-of-16 sides rule (`vfxgen.shapes`), and that checking it needs no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vfxgen.errors import UsageError
from vfxgen.shapes import check_clip_shape, check_stride


def test_clip_shape_rule_and_its_fixes() -> None:
    check_clip_shape(49, 480, 720)
    check_clip_shape(1, 16, 16)
    check_clip_shape(9, 24, 32, spatial_multiple=8)
    with pytest.raises(UsageError, match="4k\\+1") as err:
        check_clip_shape(10, 64, 64)
    assert err.value.hint == "use 9 or 13"
    with pytest.raises(UsageError, match="--height must be a multiple of 16, got 8") as err:
        check_clip_shape(9, 8, 64)
    assert err.value.hint == "use --height 16"
    with pytest.raises(UsageError, match="--width must be a multiple of 8, got 30"):
        check_clip_shape(9, 32, 30, spatial_multiple=8)


def test_stride() -> None:
    check_stride(None, 9)
    check_stride(1, 9)
    with pytest.raises(UsageError, match="--stride must be positive, got 0") as err:
        check_stride(0, 9)
    assert err.value.hint == "use e.g. --stride 9"


def test_dataset_commands_check_shapes_without_torch(tmp_path: Path) -> None:
    """`vfxgen dataset synth --frames 10` is refused before torch is imported (it used to load it for this)."""
    code = (
        "import sys\n"
        "import vfxgen.cli.dataset, vfxgen.shapes, vfxgen.training.prepare, vfxgen.training.synth\n"
        "from typer.testing import CliRunner\n"
        "from vfxgen.cli.app import app\n"
        f"result = CliRunner().invoke(app, ['dataset', 'synth', '-o', {str(tmp_path / 'd')!r}, '--frames', '10'])\n"
        "assert result.exit_code == 2 and '4k+1' in result.output, result.output\n"
        "bad = [m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert not (tmp_path / "d").exists()
