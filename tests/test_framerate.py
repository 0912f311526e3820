"""One frame-rate function: what users type becomes the rational every file carries, and a shot agrees with itself."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from tests.tiny_models import save_tiny_model_dir
from vfxgen.cli.app import app
from vfxgen.errors import UsageError
from vfxgen.framerate import frame_rate, same_rate


@pytest.mark.parametrize(
    ("typed", "rate"),
    [(23.98, Fraction(24000, 1001)), (23.976, Fraction(24000, 1001)), ("29.97", Fraction(30000, 1001)),
     (59.94, Fraction(60000, 1001)), (24, Fraction(24)), (8.0, Fraction(8)), (12.5, Fraction(25, 2)),
     (25, Fraction(25)), (23.9, Fraction(239, 10))],
)  # fmt: skip
def test_typed_rates_become_exact_rationals(typed, rate):
    assert frame_rate(typed) == rate
    assert same_rate(float(rate), typed)


@pytest.mark.parametrize("bad", [0, -24, float("nan"), float("inf"), "fast"])
def test_bad_rates_are_refused(bad):
    with pytest.raises(UsageError):
        frame_rate(bad)


def test_a_shot_at_23_98_passes_its_own_qc(tmp_path):
    """Regression: shot.json said 23.98, the ProRes 23.976 (two converters), and qc failed the shot."""
    model = save_tiny_model_dir(tmp_path / "model")
    shot = tmp_path / "shot"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["generate", "fire", "-o", str(shot), "--model", str(model), "--steps", "1", "--fps", "23.98",
         "--format", "exr,nk,prores"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "differs from the model's native 8 fps" in result.output  # relabelled, not retimed: said once
    manifest = json.loads((shot / "shot.json").read_text())
    assert manifest["fps"] == pytest.approx(24000 / 1001, abs=1e-12)
    result = runner.invoke(app, ["qc", str(shot), "--no-flow", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["manifest"]["status"] == "pass", checks["manifest"]["detail"]
    assert set(checks["manifest"]["data"]["rates"]) == {"exr header", "nuke script", "prores"}
    assert all(same_rate(r, 23.976) for r in checks["manifest"]["data"]["rates"].values())


def test_resume_takes_the_same_rate_typed_another_way(tmp_path):
    model = save_tiny_model_dir(tmp_path / "model")
    runner = CliRunner()
    base = ["generate", "fire", "-o", str(tmp_path / "s"), "--model", str(model), "--steps", "1", "--format", "exr"]
    assert runner.invoke(app, [*base, "--fps", "23.98"]).exit_code == 0
    again = runner.invoke(app, [*base, "--fps", "23.976", "--resume"])
    assert again.exit_code == 0 and "skipped" in again.output, again.output
