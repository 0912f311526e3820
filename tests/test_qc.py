"""`vfxgen qc`: synthetic elements with known defects, written to real files, checked through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.errors import QCFailedError, UsageError
from vfxgen.qc import Thresholds, box_sum, qc_source, run_qc
from vfxgen.shot import ShotOptions, write_shot

runner = CliRunner()
SIZE = 48
FRAMES = 5
ORANGE = (1.0, 0.55, 0.2)


def disc_alpha(cx: float, cy: float, radius: float = 9.0, soft: float = 4.0, size: int = SIZE) -> np.ndarray:
    """1 inside `radius`, a linear ramp to 0 over `soft` px outside it: a clean soft-edged matte."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(x - cx, y - cy)
    return np.clip(1.0 - (distance - radius) / soft, 0.0, 1.0)


def element(cx0: float = 20.0, step: float = 1.5, **disc) -> np.ndarray:
    """Straight sRGB RGBA `[T, H, W, 4]`: an orange disc moving right; colour constant under the matte."""
    frames = np.zeros((FRAMES, SIZE, SIZE, 4), np.float32)
    for t in range(FRAMES):
        frames[t, ..., :3] = ORANGE
        frames[t, ..., 3] = disc_alpha(cx0 + step * t, 24.0, **disc)
    frames[..., :3] *= frames[..., 3:] > 0  # straight colour 0 where alpha is 0
    return frames


def premultiplied(straight: np.ndarray) -> np.ndarray:
    return Clip(straight, 24.0).to_linear_premultiplied()


def write_raw_exr_sequence(directory: Path, premult: np.ndarray, name: str = "elem") -> str:
    """Frames written with OIIO directly (not vfxgen's writer): values exactly as given, NaN included."""
    directory.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(premult):
        path = directory / f"{name}.{1001 + index:04d}.exr"
        spec = oiio.ImageSpec(frame.shape[1], frame.shape[0], 4, "half")
        spec.channelnames = ("R", "G", "B", "A")
        out = oiio.ImageOutput.create(str(path))
        assert out.open(str(path), spec) and out.write_image(frame.astype(np.float16)), out.geterror()
        out.close()
    return str(directory / f"{name}.####.exr")


def statuses(report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


@pytest.fixture(scope="module")
def clean_shot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qc") / "clean"
    write_shot(Clip(element(), 24.0, {"prompt": "disc"}), path, ShotOptions(formats=("exr", "prores")))
    return path


def test_box_sum_matches_brute_force() -> None:
    x = np.random.default_rng(0).random((7, 9))
    r = 2
    padded = np.pad(x, r)
    brute = np.array([[padded[i : i + 2 * r + 1, j : j + 2 * r + 1].sum() for j in range(9)] for i in range(7)])
    np.testing.assert_allclose(box_sum(x, r), brute)


def test_clean_shot_passes_through_the_cli(clean_shot: Path) -> None:
    result = runner.invoke(app, ["qc", str(clean_shot)])
    assert result.exit_code == 0, result.output
    assert "result: passed" in result.output
    result = runner.invoke(app, ["qc", str(clean_shot), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    got = {c["name"]: c for c in data["checks"]}
    assert data["passed"] is True and data["failed"] == []
    assert {n: c["status"] for n, c in got.items()} == {
        "values": "pass",
        "matte": "pass",
        "noise": "pass",
        "outside": "pass",
        "halo": "pass",
        "border": "pass",
        "size": "pass",
        "black": "pass",
        "framing": "pass",
        "ends": "info",
        "flow": "pass",
        "manifest": "pass",
    }
    assert got["noise"]["value"] == 0.0  # the ramp ends at alpha 0: a perfectly clean background
    assert abs(got["halo"]["value"]) < 0.05  # straight colour constant across the edge: ~0 stops
    assert got["manifest"]["data"]["rates"] == {"exr header": 24.0, "prores": 24.0}
    expected_area = np.mean([(disc_alpha(20 + 1.5 * t, 24) >= 1 / 255).mean() for t in range(FRAMES)])
    assert got["matte"]["value"] == pytest.approx(expected_area, abs=1e-6)


def test_background_haze_fails_with_exit_9(tmp_path: Path) -> None:
    straight = element()
    straight[..., 3] = np.maximum(straight[..., 3], 0.02)  # a partly transparent background
    straight[..., :3] = ORANGE
    path = tmp_path / "haze"
    write_shot(Clip(straight, 24.0), path, ShotOptions(formats=("exr",)))
    result = runner.invoke(app, ["qc", str(path), "--no-flow"])
    assert result.exit_code == QCFailedError.exit_code == 9
    assert "failed QC: noise" in result.stderr
    noise = next(c for c in qc_source(path, flow=False).checks if c.name == "noise")
    assert noise.status == "fail" and noise.value == pytest.approx(1.0)  # every background pixel is haze
    assert noise.data["max_background_alpha"] == pytest.approx(0.02, abs=1e-4)
    # The limit is the user's: raising the floor above the haze passes.
    result = runner.invoke(app, ["qc", str(path), "--no-flow", "--threshold", "noise_floor=0.05"])
    assert result.exit_code == 0, result.output


def test_double_premultiplied_edge_is_a_dark_halo() -> None:
    straight = element()
    twice = straight.copy()
    twice[..., :3] *= twice[..., 3:]  # premultiplied twice: the edge darkens by alpha
    clean = statuses(run_qc(premultiplied(straight), 24.0, flow=False))
    report = run_qc(premultiplied(twice), 24.0, flow=False)
    halo = next(c for c in report.checks if c.name == "halo")
    assert clean["halo"] == "pass"
    assert halo.status == "warn" and "dark fringe" in halo.detail
    # Edge band alpha in [0.05, 0.5): log2 of the sRGB-decoded darkening, median well below -1 stop.
    assert -4.5 < halo.value < -1.0
    assert not report.failed and report.strict is False  # a warning
    assert run_qc(premultiplied(twice), 24.0, flow=False, strict=True).failed


def test_a_hot_core_is_not_a_surface_the_edge_must_match() -> None:
    """An emitter's body above 1.0 (a hot core) glows out into a dimmer soft edge: no fringe. The same
    element premultiplied twice still warns: the check is not switched off by hot pixels."""
    clean = premultiplied(element())
    hot = clean.copy()
    hot[..., :3] *= np.where(hot[..., 3:] >= 0.98, 4.0, 1.0)  # the opaque body at 4x: scene-linear above 1
    assert (hot[..., :3].max(-1) > 1.0).any()
    halo = next(c for c in run_qc(hot, 24.0, flow=False).checks if c.name == "halo")
    assert halo.status != "warn", halo.detail
    twice = element()
    twice[..., :3] *= twice[..., 3:]
    hot_twice = premultiplied(twice)
    hot_twice[..., :3] *= np.where(hot_twice[..., 3:] >= 0.98, 4.0, 1.0)
    rim = (hot_twice[..., 3] >= 0.6) & (hot_twice[..., 3] < 0.98)  # a body ring that is not hot stays body
    assert rim.any()
    halo = next(c for c in run_qc(hot_twice, 24.0, flow=False).checks if c.name == "halo")
    assert halo.status == "warn" and "dark fringe" in halo.detail


def test_bright_fringe() -> None:
    straight = element()
    edge = (straight[..., 3] > 0) & (straight[..., 3] < 0.5)
    straight[edge, :3] = 1.0  # white fringe (keyed off a bright background), body orange
    straight[..., :3] *= np.array([0.2, 0.2, 0.2], np.float32) ** (~edge[..., None])  # body darker
    halo = next(c for c in run_qc(premultiplied(straight), 24.0, flow=False).checks if c.name == "halo")
    assert halo.status == "warn" and "bright fringe" in halo.detail and halo.value > 1.0


def test_emission_and_nan_read_from_real_files(tmp_path: Path) -> None:
    premult = premultiplied(element())
    glow = premult.copy()
    glow[:, :4, :, :3] = 0.3  # colour where alpha is 0: additive emission
    pattern = write_raw_exr_sequence(tmp_path / "glow", glow)
    outside = next(c for c in qc_source(pattern, flow=False).checks if c.name == "outside")
    assert outside.status == "warn"
    assert outside.data["emission_pixels"] == FRAMES * 4 * SIZE
    assert outside.data["max_emission"] == pytest.approx(0.3, abs=1e-3)
    assert outside.value == pytest.approx(4 / SIZE, rel=1e-6)

    broken = premult.copy()
    broken[2, 10, 10, 0] = np.nan
    broken[3, 0, 0, 3] = np.inf
    pattern = write_raw_exr_sequence(tmp_path / "nan", broken)
    report = qc_source(pattern, flow=False)
    values = next(c for c in report.checks if c.name == "values")
    assert values.status == "fail" and values.data["non_finite"] == 2 and values.data["first_bad_frame_index"] == 2
    result = runner.invoke(app, ["qc", pattern, "--no-flow"])
    assert result.exit_code == 9 and "values" in result.stderr


def test_border_empty_and_full_mattes() -> None:
    cut = statuses(run_qc(premultiplied(element(cx0=2.0, step=0.0)), 24.0, flow=False))
    assert cut["border"] == "warn"
    report = run_qc(premultiplied(element(cx0=2.0, step=0.0)), 24.0, flow=False)
    border = next(c for c in report.checks if c.name == "border")
    assert border.data["sides"] == {"left": [1001, 1002, 1003, 1004, 1005]}

    empty = np.zeros((3, 16, 16, 4), np.float32)
    assert statuses(run_qc(empty, 24.0))["matte"] == "fail"
    assert statuses(run_qc(empty, 24.0))["flow"] == "skip"
    full = np.ones((3, 16, 16, 4), np.float32)
    full_report = run_qc(full, 24.0, flow=False)
    assert statuses(full_report)["matte"] == "fail" and full_report.failed
    dropout = premultiplied(element())
    dropout[2] = 0.0
    matte = next(c for c in run_qc(dropout, 24.0, flow=False).checks if c.name == "matte")
    assert matte.status == "warn" and "1003" in matte.detail


def test_ends_threshold() -> None:
    premult = premultiplied(element())
    assert statuses(run_qc(premult, 24.0, flow=False))["ends"] == "info"
    strict_ends = Thresholds().with_overrides({"ends_coverage": "0"})
    assert statuses(run_qc(premult, 24.0, strict_ends, flow=False))["ends"] == "fail"
    premult[0] = premult[-1] = 0.0
    assert statuses(run_qc(premult, 24.0, strict_ends, flow=False))["ends"] == "pass"


def test_manifest_mismatch(clean_shot: Path, tmp_path: Path) -> None:
    import shutil

    shot = tmp_path / "edited"
    shutil.copytree(clean_shot, shot)
    manifest = json.loads((shot / "shot.json").read_text())
    manifest["fps"] = 25.0
    (shot / "shot.json").write_text(json.dumps(manifest))
    check = next(c for c in qc_source(shot, flow=False).checks if c.name == "manifest")
    assert check.status == "fail"
    assert "fps 25 in shot.json, 24 in exr header" in check.detail and "24 in prores" in check.detail

    manifest["fps"] = 24.0
    manifest["frames"] = 7
    (shot / "shot.json").write_text(json.dumps(manifest))
    (shot / "clean_prores4444.mov").unlink()
    check = next(c for c in qc_source(shot, flow=False).checks if c.name == "manifest")
    assert check.status == "fail" and "frames 7 in shot.json, 5 on disk" in check.detail
    assert "prores file clean_prores4444.mov missing" in check.detail


def test_threshold_errors() -> None:
    with pytest.raises(UsageError, match="unknown QC threshold 'nosie_area'"):
        Thresholds().with_overrides({"nosie_area": "1"})
    with pytest.raises(UsageError, match="not a number"):
        Thresholds().with_overrides({"halo_stops": "lots"})
    result = runner.invoke(app, ["qc", "nowhere", "--threshold", "noise_area"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr


def test_what_a_compositor_sees_fails_qc(tmp_path: Path) -> None:
    """Black holes inside the matte, a speck, a full-frame wash: each fails with exit 9 on its own check."""
    holes = element(radius=12.0)
    holes[:, 20:28, 16:30, :3] = 0.0  # opaque black inside the disc: a hole in the comp
    speck = element(radius=1.0, soft=1.0)
    full = element()
    full[..., 3] = 1.0
    full[..., :3] = ORANGE
    cases = {"holes": (holes, "black"), "speck": (speck, "size"), "full": (full, "framing")}
    for name, (frames, check) in cases.items():
        path = tmp_path / name
        write_shot(Clip(frames, 24.0), path, ShotOptions(formats=("exr",)))
        result = runner.invoke(app, ["qc", str(path), "--no-flow", "--json"])
        report = json.loads(result.stdout)
        assert result.exit_code == 9 and check in report["failed"], (name, report["failed"])
    sizes = statuses(qc_source(tmp_path / "full", flow=False))
    assert sizes["size"] == "fail" and sizes["framing"] == "fail"


def test_a_preset_relaxes_a_limit_and_the_shot_records_it(tmp_path: Path) -> None:
    """Dark smoke: 20 % black inside the matte passes under the smoke preset's [qc] black_area = 0.25 (recorded
    in shot.json and applied by `vfxgen qc`), and fails under the default 5 %."""
    frames = element(radius=12.0)
    alpha = frames[..., 3]
    visible = alpha > 0.5
    rows = np.argwhere(visible[0])
    dark_rows = rows[:, 0] < np.quantile(rows[:, 0], 0.2)
    frames[0][tuple(rows[dark_rows].T)] = (0.0, 0.0, 0.0, 1.0)
    for t in range(1, FRAMES):
        frames[t, ..., :3] = np.where(
            visible[t, ..., None] & (np.arange(SIZE)[:, None, None] < 16), 0.0, frames[t, ..., :3]
        )
    path = tmp_path / "smoke"
    meta = {"prompt": "smoke", "preset": "smoke", "qc_limits": {"black_area": 0.25}}
    manifest = write_shot(Clip(frames, 24.0, meta), path, ShotOptions(formats=("exr",)))
    assert manifest["qc"] == {"limits": {"black_area": 0.25}, "relaxed_by": "preset smoke"}
    assert "qc_limits" not in manifest["generation"]
    black = next(c for c in qc_source(path, flow=False).checks if c.name == "black")
    assert 0.05 < black.value <= 0.25 and black.status == "pass" and black.limit == 0.25
    strict = next(c for c in qc_source(path, overrides={"black_area": "0.05"}, flow=False).checks if c.name == "black")
    assert strict.status == "fail"


def test_a_frame_replaced_after_delivery_fails_the_manifest_check(clean_shot: Path, tmp_path: Path) -> None:
    import shutil

    shot = tmp_path / "shot"
    shutil.copytree(clean_shot, shot)
    frames = sorted((shot / "rgba").glob("*.exr"))
    other = element(cx0=30.0)  # same size, same count: only the content differs
    write_raw_exr_sequence(tmp_path / "other", premultiplied(other))
    shutil.copy(tmp_path / "other" / "elem.1003.exr", frames[2])
    manifest = next(c for c in qc_source(shot, flow=False).checks if c.name == "manifest")
    assert manifest.status == "fail" and f"rgba/{frames[2].name} changed after delivery" in manifest.detail


def test_a_margin_that_is_not_a_whole_number_of_pixels_is_a_usage_error(clean_shot: Path) -> None:
    for value in ("inf", "1e30", "2.5", "-1"):
        result = runner.invoke(app, ["qc", str(clean_shot), "--no-flow", "--threshold", f"margin={value}"])
        assert result.exit_code == 2 and result.output.startswith("error: ") and "internal" not in result.output
