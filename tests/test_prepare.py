"""`vfxgen dataset prepare`: the supplement's preprocessing (pure functions) and real files end to end."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from vfxgen.cli.app import app
from vfxgen.clip import Clip
from vfxgen.errors import UsageError
from vfxgen.io.exr import write_exr_sequence
from vfxgen.io.images import write_png
from vfxgen.io.video import read_movie
from vfxgen.training.data import RGBAClipDataset, read_dataset_info, to_uint8
from vfxgen.training.decontaminate import blurred_background, decontaminate, preprocess_matting, refine_mask
from vfxgen.training.frames import centre_crop, fit_frames, movie_frames, sliding, windows
from vfxgen.training.sources import load_captions

H, W = 64, 96  # source size: wider than the square target, so the centre crop matters
BG = np.array([0.2, 0.5, 0.8], np.float32)  # the "screen" behind the subject in fgr
FG = np.array([0.9, 0.3, 0.1], np.float32)


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]


# --------------------------------------------------------------------------------------------------
# test footage
# --------------------------------------------------------------------------------------------------
def blob_centre(t: int) -> tuple[float, float]:
    """(y, x) of the moving blob in source pixels: left to right across the centre crop."""
    return 32.0, 30.0 + 3.0 * t


def blob_alpha(t: int) -> np.ndarray:
    """A disc of radius 10 with a 3-pixel soft edge."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    cy, cx = blob_centre(t)
    r = np.hypot(y - cy, x - cx)
    return np.clip((12.0 - r) / 3.0, 0.0, 1.0)


def write_rgb_movie(path: Path, rgb: np.ndarray) -> None:
    """8-bit H.264 4:4:4 at crf 0 (lossless up to the RGB <-> Y'CbCr rounding), untagged as others write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv444p"
        for frame_rgb in rgb:
            image = np.rint(np.clip(frame_rgb, 0, 1) * 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def matting_footage(frames: int) -> tuple[np.ndarray, np.ndarray]:
    """fgr: a warm blob over a blue screen that spills into the soft edge; pha: the blob's matte."""
    alpha = np.stack([blob_alpha(t) for t in range(frames)])
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    screen = BG + 0.1 * np.stack([x / W, y / H, 0 * x], -1)  # not flat, so the blur has something to do
    rgb = alpha[..., None] * FG + (1 - alpha[..., None]) * screen
    return rgb.astype(np.float32), alpha


def write_matting_dir(root: Path, name: str = "walking_man", frames: int = 13, pha_frames: int | None = None) -> Path:
    rgb, alpha = matting_footage(max(frames, pha_frames or 0))
    write_rgb_movie(root / "fgr" / f"{name}.mp4", rgb[:frames])
    grey = np.repeat(alpha[: pha_frames or frames, ..., None], 3, axis=-1)
    write_rgb_movie(root / "pha" / f"{name}.mp4", grey)
    return root


@pytest.fixture(scope="module")
def matting_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matting_dir(tmp_path_factory.mktemp("vm240k"))


def load_clips(dataset: Path) -> tuple[dict, list[dict], list[np.ndarray]]:
    meta = json.loads((dataset / "dataset.json").read_text())
    entries = [json.loads(line) for line in (dataset / "manifest.jsonl").read_text().splitlines()]
    clips = [np.load(dataset / e["file"], allow_pickle=False) for e in entries]
    return meta, entries, clips


# --------------------------------------------------------------------------------------------------
# refine_mask / decontaminate / blurred_background
# --------------------------------------------------------------------------------------------------
def test_refine_mask_is_levels_from_choke_over_gain_to_one_over_gain() -> None:
    alpha = np.array([0.0, 0.3, 0.5 / 1.1, 0.5, 0.7, 1 / 1.1, 0.95, 1.0], np.float32)
    expected = np.clip((1.1 * alpha - 0.5) / 0.5, 0, 1)
    got = refine_mask(alpha)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got[0] == 0.0 and got[-1] == 1.0  # 0 stays 0, 1 stays 1
    np.testing.assert_allclose(got[[1, 2]], 0.0, atol=1e-6)  # at or below the black point 0.5/1.1: gone
    np.testing.assert_allclose(got[[5, 6]], 1.0, atol=1e-6)  # at or above the white point 1/1.1: solid
    np.testing.assert_allclose(got[3], 0.1, atol=1e-6)
    np.testing.assert_allclose(got[4], 0.54, atol=1e-6)


def test_refine_mask_is_monotonic_and_gain_grows_choke_shrinks() -> None:
    ramp = np.linspace(0, 1, 1001, dtype=np.float32)
    refined = refine_mask(ramp)
    assert np.all(np.diff(refined) >= 0)
    np.testing.assert_allclose(refine_mask(ramp, gain=1.0, choke=0.0), ramp, atol=1e-6)  # identity
    assert np.all(refine_mask(ramp, gain=1.3) >= refined) and refine_mask(ramp, gain=1.3).sum() > refined.sum()
    assert np.all(refine_mask(ramp, choke=0.7) <= refined) and refine_mask(ramp, choke=0.7).sum() < refined.sum()
    for gain, choke in ((0.0, 0.5), (1.1, 1.0), (1.1, -0.1)):
        with pytest.raises(UsageError):
            refine_mask(ramp, gain, choke)


def test_decontaminate_keeps_the_core_and_puts_background_where_the_refined_matte_is_zero() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.random((2, 8, 8, 3), dtype=np.float32)
    background = rng.random((8, 8, 3), dtype=np.float32)  # a static plate, broadcast over frames
    alpha = rng.random((2, 8, 8), dtype=np.float32)
    alpha[0, :2] = 1.0
    alpha[0, 2:4] = 0.95  # above 1/1.1: refined matte 1, mask 0
    alpha[0, 4:6] = 0.0
    alpha[0, 6:] = 0.4  # below 0.5/1.1: refined matte 0, mask 1
    out = decontaminate(rgb, alpha, background)
    np.testing.assert_allclose(out[0, :4], rgb[0, :4], atol=1e-6)  # mask 0: colour unchanged
    np.testing.assert_allclose(out[0, 4:], np.broadcast_to(background[4:], (4, 8, 3)), atol=1e-6)  # mask 1
    m = 1 - refine_mask(alpha)[..., None]
    np.testing.assert_allclose(out, rgb * (1 - m) + m * background, atol=1e-6)  # the supplement's formula
    # gain 1, choke 0: the plain composite of the colour over the background with the original matte.
    plain = decontaminate(rgb, alpha, background, gain=1.0, choke=0.0)
    np.testing.assert_allclose(plain, rgb * alpha[..., None] + background * (1 - alpha[..., None]), atol=1e-6)
    # background 0 (no plate): contaminated edges fade to black.
    np.testing.assert_allclose(decontaminate(rgb, alpha, 0.0), rgb * refine_mask(alpha)[..., None], atol=1e-6)


def test_blurred_background_is_opencv_gaussian_201_with_default_sigma() -> None:
    frame = np.random.default_rng(1).random((300, 240, 3), dtype=np.float32)
    np.testing.assert_array_equal(blurred_background(frame), cv2.GaussianBlur(frame, (201, 201), 0))
    np.testing.assert_array_equal(blurred_background(frame, 31), cv2.GaussianBlur(frame, (31, 31), 0))
    with pytest.raises(UsageError):
        blurred_background(frame, 200)


def test_preprocess_matting_blends_every_frame_over_the_blurred_first_frame() -> None:
    rgb, alpha = matting_footage(5)
    plate = cv2.GaussianBlur(rgb[0], (201, 201), 0)
    out = preprocess_matting(rgb, alpha)
    np.testing.assert_array_equal(out[..., 3], alpha)
    np.testing.assert_allclose(out[..., :3], decontaminate(rgb, alpha, plate), atol=1e-6)
    over = preprocess_matting(rgb, alpha, decontaminate_colour=False)
    a = alpha[..., None]
    np.testing.assert_allclose(over[..., :3], rgb * a + plate * (1 - a), atol=1e-6)
    np.testing.assert_allclose(preprocess_matting(rgb, alpha, False, False)[..., :3], rgb, atol=1e-6)
    black = preprocess_matting(rgb, alpha, True, False)
    np.testing.assert_allclose(black[..., :3], rgb * refine_mask(alpha)[..., None], atol=1e-6)


# --------------------------------------------------------------------------------------------------
# windows, crop, resize
# --------------------------------------------------------------------------------------------------
def test_windows_and_their_streaming_twin_agree() -> None:
    assert windows(20, 9) == [(0, 9), (9, 18)]
    assert windows(8, 9) == []
    assert windows(9, 9) == [(0, 9)]
    assert windows(13, 5, 4) == [(0, 5), (4, 9), (8, 13)]
    assert windows(30, 5, 12) == [(0, 5), (12, 17), (24, 29)]
    for n, frames, stride in ((20, 9, None), (13, 5, 4), (30, 5, 12), (4, 5, 1), (17, 1, 1)):
        streamed = [(start, items) for start, items in sliding(range(n), frames, stride)]
        assert [(s, s + frames) for s, _ in streamed] == windows(n, frames, stride)
        assert all(items == list(range(s, s + frames)) for s, items in streamed)


def test_fit_frames_crops_the_centre_and_resizes_premultiplied() -> None:
    frames = np.zeros((1, 40, 80, 4), np.float32)
    frames[0, :, 20:60, :3] = (1.0, 0.0, 0.0)  # the centre square is red...
    frames[0, :, 20:40, 3] = 1.0  # ...opaque on its left half
    frames[0, :, 40:60, :3] = (0.0, 1.0, 0.0)  # green hidden under alpha 0 on its right half
    frames[0, :, :20, :3] = frames[0, :, 60:, :3] = (0.0, 0.0, 1.0)  # cropped away
    assert centre_crop(frames, 16, 16).shape == (1, 40, 40, 4)
    out = fit_frames(frames, 16, 16)
    assert out.shape == (1, 16, 16, 4) and out.dtype == np.float32
    visible = out[0][out[0, ..., 3] > 0]
    np.testing.assert_allclose(visible[:, :3], np.broadcast_to([1.0, 0.0, 0.0], visible[:, :3].shape), atol=1e-5)
    np.testing.assert_allclose(out[0, :, :8, 3], 1.0)
    np.testing.assert_allclose(out[0, :, 8:, 3], 0.0)
    tall = fit_frames(np.ones((2, 80, 40, 3), np.float32), 32, 16)  # 2:1 portrait target, colour only
    assert tall.shape == (2, 32, 16, 3)


def test_load_captions_tsv_and_json(tmp_path: Path) -> None:
    tsv = tmp_path / "c.tsv"
    tsv.write_text("# name\tcaption\nwalking_man\ta man walks\n\nb.mp4\tsomething else\n")
    assert load_captions(tsv) == {"walking_man": "a man walks", "b.mp4": "something else"}
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"walking_man": "a man walks"}))
    assert load_captions(js) == {"walking_man": "a man walks"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("no tab here\n")
    with pytest.raises(Exception, match="line 1"):
        load_captions(bad)


# --------------------------------------------------------------------------------------------------
# matting data end to end
# --------------------------------------------------------------------------------------------------
def test_streaming_decoder_matches_read_movie(matting_dir: Path) -> None:
    path = matting_dir / "fgr" / "walking_man.mp4"
    streamed = np.stack(list(movie_frames(path, require_alpha=False)))
    np.testing.assert_array_equal(streamed, read_movie(path, require_alpha=False).frames)


def test_prepare_matting_folder(matting_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = run("dataset", "prepare", matting_dir, "-o", out, "--frames", "5", "--size", "32")
    assert result.exit_code == 0, result.output
    assert "wrote 2 clips of 5x32x32" in result.stderr  # 13 frames -> windows 0-4, 5-9; 3 left over
    assert "1 captions from file names" in result.stderr
    meta, entries, clips = load_clips(out)
    assert meta["frames"] == 5 and meta["height"] == 32 and meta["width"] == 32 and meta["count"] == 2
    assert "matting" in meta["source"] and "choke=0.5" in meta["source"]
    assert [e["caption"] for e in entries] == ["walking man", "walking man"]
    assert [e["element"] for e in entries] == ["walking_man:0-4", "walking_man:5-9"]
    assert all(c.shape == (5, 32, 32, 4) and c.dtype == np.uint8 for c in clips)
    assert read_dataset_info(out).count == 2 and len(RGBAClipDataset(out)) == 2

    # The alpha follows the blob: centroid in crop-then-resize coordinates (crop 64x64 from x=16, scale 1/2).
    for clip_index, clip in enumerate(clips):
        for t in range(5):
            alpha = clip[t, ..., 3].astype(np.float32) / 255
            ys, xs = np.mgrid[0:32, 0:32]
            cy, cx = (alpha * ys).sum() / alpha.sum(), (alpha * xs).sum() / alpha.sum()
            sy, sx = blob_centre(5 * clip_index + t)
            assert abs(cy - (sy / 2 - 0.25)) < 0.3 and abs(cx - ((sx - 16) / 2 - 0.25)) < 0.3
            core = alpha > 0.99
            assert core.sum() > 50
            np.testing.assert_allclose(clip[t][core][:, :3] / 255, np.broadcast_to(FG, (core.sum(), 3)), atol=0.02)

    # Exactly the library pipeline on the decoded movies: crop, preprocess at source size, resize.
    rgb = read_movie(matting_dir / "fgr" / "walking_man.mp4", require_alpha=False).frames[..., :3]
    alpha = read_movie(matting_dir / "pha" / "walking_man.mp4", require_alpha=False).frames[..., :3].mean(-1)
    for clip_index, clip in enumerate(clips):
        window = slice(5 * clip_index, 5 * clip_index + 5)
        crop_rgb, crop_alpha = centre_crop(rgb[window], 64, 64), centre_crop(alpha[window, ..., None], 64, 64)[..., 0]
        expected = to_uint8(fit_frames(preprocess_matting(crop_rgb, crop_alpha), 32, 32))
        assert np.abs(clip.astype(int) - expected.astype(int)).max() <= 1

    # Decontamination changed the soft edge: the blue screen spill there is replaced by the blurred plate.
    plain = tmp_path / "plain"
    result = run(
        "dataset", "prepare", matting_dir, "-o", plain, "--frames", "5", "--size", "32",
        "--no-decontaminate", "--no-blur-background", "--caption", "a walking man",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta, entries, raw = load_clips(plain)
    assert "no decontamination" in meta["source"] and {e["caption"] for e in entries} == {"a walking man"}
    np.testing.assert_array_equal(raw[0][..., 3], clips[0][..., 3])  # same matte either way
    edge = (clips[0][..., 3] > 10) & (clips[0][..., 3] < 200)
    assert edge.sum() > 20 and np.abs(raw[0][edge][:, :3].astype(int) - clips[0][edge][:, :3]).mean() > 5


def test_prepare_stride_size_and_captions_file(matting_dir: Path, tmp_path: Path) -> None:
    captions = tmp_path / "captions.tsv"
    captions.write_text("walking_man\ta person walking left to right\n")
    out = tmp_path / "data"
    result = run(
        "dataset", "prepare", matting_dir, "-o", out, "--frames", "9", "--width", "32", "--height", "16",
        "--stride", "2", "--captions", captions,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta, entries, clips = load_clips(out)
    assert (meta["count"], meta["height"], meta["width"]) == (3, 16, 32)  # starts 0, 2, 4 of 13 frames
    assert {e["caption"] for e in entries} == {"a person walking left to right"}
    assert clips[0].shape == (9, 16, 32, 4)
    np.testing.assert_array_equal(clips[0][2:, ..., 3], clips[1][:7, ..., 3])  # overlapping windows share frames
    core = clips[0][2:, ..., 3] == 255  # colour differs only at the soft edge: each window has its own plate
    np.testing.assert_array_equal(clips[0][2:][core], clips[1][:7][core])
    assert "captions from file names" not in result.stderr


def test_too_short_sources_are_skipped_then_refused(matting_dir: Path, tmp_path: Path) -> None:
    mixed = write_matting_dir(tmp_path / "mixed", "long", frames=9)
    write_matting_dir(mixed, "short", frames=3)
    result = run("dataset", "prepare", mixed, "-o", tmp_path / "d1", "--frames", "5")
    assert result.exit_code == 0, result.output
    assert "1 clips from 1 of 2 matting sources; 1 too short, skipped" in result.stderr
    assert read_dataset_info(tmp_path / "d1").count == 1

    short = write_matting_dir(tmp_path / "short", "short", frames=3)
    result = run("dataset", "prepare", short, "-o", tmp_path / "d2", "--frames", "5")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "shorter than --frames 5" in line and "short, has 3" in line and "lower --frames" in line
    assert not (tmp_path / "d2").exists()


def test_matting_errors_exit_with_one_line(matting_dir: Path, tmp_path: Path) -> None:
    unpaired = write_matting_dir(tmp_path / "unpaired", "a", frames=5)
    (unpaired / "pha" / "a.mp4").rename(unpaired / "pha" / "b.mp4")
    result = run("dataset", "prepare", unpaired, "-o", tmp_path / "d")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "no pha/ partner: a" in line and "matching" in line

    mismatch = write_matting_dir(tmp_path / "mismatch", "a", frames=9, pha_frames=7)
    result = run("dataset", "prepare", mismatch, "-o", tmp_path / "d", "--frames", "5")
    assert result.exit_code == 3
    assert "has 9 frames but" in one_error_line(result) and "has 7" in result.stderr

    only_fgr = tmp_path / "only_fgr"
    (only_fgr / "fgr").mkdir(parents=True)
    result = run("dataset", "prepare", only_fgr, "-o", tmp_path / "d")
    assert result.exit_code == 3 and "no pha/" in one_error_line(result)

    result = run("dataset", "prepare", matting_dir, "-o", tmp_path / "d", "--frames", "6")
    assert result.exit_code == 2 and "4k+1" in one_error_line(result)
    result = run("dataset", "prepare", matting_dir, "-o", tmp_path / "d", "--size", "40")
    assert result.exit_code == 2 and "multiple of 16" in one_error_line(result)
    result = run("dataset", "prepare", matting_dir, "-o", tmp_path / "d", "--caption", "x", "--captions", "y")
    assert result.exit_code == 2 and "together" in one_error_line(result)
    assert not (tmp_path / "d").exists()


def test_prepare_image_sequence_pairs_and_late_frame_mismatch(tmp_path: Path) -> None:
    """VideoMatte240K_JPEG keeps each shot as a folder of numbered stills; MKV files announce no count."""
    rgb, alpha = matting_footage(6)
    root = tmp_path / "jpeg"
    for t in range(6):
        write_png(root / "fgr" / "0000" / f"{t:05d}.png", rgb[t])
        write_png(root / "pha" / "0000" / f"{t:05d}.png", alpha[t])
    out = tmp_path / "data"
    result = run("dataset", "prepare", root, "-o", out, "--frames", "5", "--size", "16", "--caption", "a person")
    assert result.exit_code == 0, result.output
    meta, entries, clips = load_clips(out)
    assert meta["count"] == 1 and entries[0]["element"] == "0000:0-4" and clips[0].shape == (5, 16, 16, 4)
    expected = fit_frames(centre_crop(alpha[:5, ..., None], 64, 64), 16, 16)[..., 0]
    assert np.abs(clips[0][..., 3].astype(int) - np.round(expected * 255)).max() <= 1

    # fgr and pha disagree, but only decoding finds out (Matroska stores no frame count).
    mkv = tmp_path / "mkv"
    for part, n in (("fgr", 9), ("pha", 7)):
        (mkv / part).mkdir(parents=True)
        with av.open(str(mkv / part / "a.mkv"), "w") as container:
            stream = container.add_stream("ffv1", rate=8)
            stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv444p"
            for i in range(n):
                frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 20 * i, np.uint8), format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    result = run("dataset", "prepare", mkv, "-o", tmp_path / "d", "--frames", "5", "--size", "16")
    assert result.exit_code == 3
    assert "a.mkv has 9 frames but" in one_error_line(result) and "has 7" in result.stderr
    assert not (tmp_path / "d").exists() and not list(tmp_path.glob(".d.tmp-*"))


# --------------------------------------------------------------------------------------------------
# RGBA sources
# --------------------------------------------------------------------------------------------------
def rgba_clip(frames: int) -> Clip:
    alpha = np.stack([blob_alpha(t) for t in range(frames)])
    rgba = np.zeros((frames, H, W, 4), np.float32)
    rgba[..., :3] = FG
    rgba[..., 3] = alpha
    return Clip(rgba, fps=24.0)


def test_prepare_exr_sequence_pattern_and_folder(tmp_path: Path) -> None:
    clip = rgba_clip(11)
    write_exr_sequence(clip, tmp_path / "elements" / "fire_ball", name="fire_ball")
    write_exr_sequence(rgba_clip(5), tmp_path / "elements" / "spark", name="spark")
    out = tmp_path / "data"
    pattern = tmp_path / "elements" / "fire_ball" / "fire_ball.####.exr"
    result = run("dataset", "prepare", pattern, "-o", out, "--frames", "5", "--size", "32", "--stride", "3")
    assert result.exit_code == 0, result.output
    meta, entries, clips = load_clips(out)
    assert meta["count"] == 3 and "rgba" in meta["source"]  # starts 0, 3, 6 of 11
    assert [e["element"] for e in entries] == ["fire_ball:0-4", "fire_ball:3-7", "fire_ball:6-10"]
    assert entries[0]["caption"] == "fire ball"
    expected = to_uint8(fit_frames(clip.frames[3:8], 32, 32))  # EXR is half float: within a code value
    assert np.abs(clips[1].astype(int) - expected.astype(int)).max() <= 1

    # The folder: both sequences, found recursively, sorted; the element name comes from the sequence.
    result = run("dataset", "prepare", tmp_path / "elements", "-o", out, "--frames", "5", "--overwrite")
    assert result.exit_code == 0, result.output
    meta, entries, clips = load_clips(out)
    assert meta["count"] == 3 and meta["height"] == 64
    assert [e["caption"] for e in entries] == ["fire ball", "fire ball", "spark"]


def test_rgba_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run("dataset", "prepare", tmp_path / "notes.txt", "-o", tmp_path / "d")
    assert result.exit_code == 2 and "not a known source kind" in one_error_line(result)
    result = run("dataset", "prepare", tmp_path / "missing", "-o", tmp_path / "d")
    assert result.exit_code == 3 and "does not exist" in one_error_line(result)
    (tmp_path / "vm" / "train" / "fgr").mkdir(parents=True)
    result = run("dataset", "prepare", tmp_path / "vm", "-o", tmp_path / "d")
    assert result.exit_code == 3 and "vm/train" in one_error_line(result)
    (tmp_path / "empty").mkdir()
    result = run("dataset", "prepare", tmp_path / "empty", "-o", tmp_path / "d")
    assert result.exit_code == 3 and "found no sources" in one_error_line(result)
    write_rgb_movie(tmp_path / "opaque" / "plate.mp4", np.zeros((5, 32, 32, 3), np.float32))
    result = run("dataset", "prepare", tmp_path / "opaque", "-o", tmp_path / "d", "--frames", "5")
    assert result.exit_code == 3 and "no alpha channel" in one_error_line(result)
    assert not (tmp_path / "d").exists()
