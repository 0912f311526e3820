"""Movies through real PyAV files: ProRes 4444, WebM VP9 alpha, H.264 preview, TransPixar pairs.

Every test writes real files under tmp_path from synthetic clips whose right answer is known.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vfxgen.clip import Clip
from vfxgen.errors import InputError, OutputError, UsageError
from vfxgen.io.video import (
    iter_movie_frames,
    read_movie,
    read_transpixar_pair,
    write_preview,
    write_prores,
    write_webm,
)

T, H, W = 5, 48, 64


def gradient_clip(frames: int = T, height: int = H, width: int = W) -> Clip:
    """Smooth colour ramps and a soft alpha ramp that changes per frame (no hard edges)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y /= height - 1
    x /= width - 1
    out = np.zeros((frames, height, width, 4), np.float32)
    for t in range(frames):
        out[t, ..., 0] = x
        out[t, ..., 1] = y
        out[t, ..., 2] = (x + y + 0.1 * t) / 2.4
        out[t, ..., 3] = 1.0 - x * y * (0.5 + 0.1 * t)
    return Clip(out, fps=24.0, metadata={"prompt": "burning fireball", "seed": 7})


def solid_clip(colours: list[tuple[float, float, float]], alpha: float = 1.0) -> Clip:
    """One frame per colour, each a flat field."""
    out = np.zeros((len(colours), 32, 32, 4), np.float32)
    for t, rgb in enumerate(colours):
        out[t, ..., :3] = rgb
        out[t, ..., 3] = alpha
    return Clip(out, fps=8.0)


def first_raw_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as container:
        return next(container.decode(video=0))


# --------------------------------------------------------------------------------------------------
# ProRes 4444
# --------------------------------------------------------------------------------------------------
def test_prores_round_trip_within_10bit_quantisation(tmp_path: Path) -> None:
    clip = gradient_clip()
    path = write_prores(clip, tmp_path / "shot.mov")
    assert path == tmp_path / "shot.mov" and path.is_file()
    assert not list(tmp_path.glob(".*.part")), "the temporary file must be renamed into place"

    back = read_movie(path)
    assert back.frames.shape == clip.frames.shape
    assert back.fps == pytest.approx(24.0)
    err = np.abs(back.frames - clip.frames)
    # 10-bit limited range alone: Y step 1/876, C step 1/896; rounding both and inverting gives at most
    # 0.5/876 + 1.8556 * 0.5/896 ~= 0.0016 on B (worst channel). ProRes' DCT quantisation at the 4444
    # rate adds about one more code on smooth ramps, so 0.004 (~1 code at 8 bit) is a tight max.
    assert err[..., :3].max() <= 0.004
    assert err[..., :3].mean() <= 0.001
    # ProRes alpha is coded losslessly: only the 10-bit rounding (and 12-bit decode) remains.
    assert err[..., 3].max() <= 1.0 / 1023.0
    assert back.metadata == {"prompt": "burning fireball", "seed": 7}


def test_prores_stream_is_4444_bt709_tagged(tmp_path: Path) -> None:
    path = write_prores(gradient_clip(), tmp_path / "shot.mov")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        assert cc.name == "prores"
        assert cc.profile == "4444"
        assert stream.frames == T
        assert (cc.color_primaries, cc.color_trc, cc.colorspace) == (1, 1, 1)
        assert cc.color_range == 1  # limited ("tv")
        assert container.metadata["vfxgen:alpha"] == "straight"
        # The encoder's own pixel format (the decoder reports its 12-bit output format).
        assert container.streams.video[0].codec_context.pix_fmt.startswith("yuva444p")
        packet = next(p for p in container.demux(stream) if p.size)
        header = bytes(packet)[:16]
        assert header[4:8] == b"icpf" and header[12:16] == b"apl0"  # ProRes frame, vendor apl0
        frames = list(container.decode(stream))
    assert len(frames) == T - 1  # the first packet went to the header check above
    for frame in frames:
        assert (frame.color_primaries, frame.color_trc, frame.colorspace, frame.color_range) == (1, 1, 1, 1)


def test_prores_4444xq_profile(tmp_path: Path) -> None:
    path = write_prores(gradient_clip(frames=2), tmp_path / "xq.mov", profile="4444xq")
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.profile == "XQ"


def test_prores_written_as_10bit_yuva444(tmp_path: Path) -> None:
    """The encoder takes yuva444p10le: a 10-bit alpha code survives as exactly 4x in 12-bit output."""
    clip = solid_clip([(0.5, 0.5, 0.5)], alpha=700 / 1023)
    frame = first_raw_frame(write_prores(clip, tmp_path / "a.mov"))
    assert frame.format.name == "yuva444p12le"
    alpha12 = np.frombuffer(frame.planes[3], np.uint16)[:32]
    assert np.all(np.abs(alpha12.astype(int) - round(700 * 4095 / 1023)) <= 1)


def test_prores_premultiplied_option(tmp_path: Path) -> None:
    clip = gradient_clip()
    path = write_prores(clip, tmp_path / "premult.mov", alpha="premultiplied")
    raw = read_movie(path, alpha="straight")  # the stored numbers, not divided
    expected = clip.frames[..., :3] * clip.frames[..., 3:4]
    assert np.abs(raw.frames[..., :3] - expected).max() <= 0.004
    # "auto" reads the mode from the container and un-premultiplies; exact where alpha is not tiny.
    auto = read_movie(path)
    solid = clip.frames[..., 3] > 0.25
    assert np.abs(auto.frames[..., :3] - clip.frames[..., :3])[solid].max() <= 0.02


def test_prores_conversion_is_bt709_not_bt601(tmp_path: Path) -> None:
    colours = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)]
    path = write_prores(solid_clip(colours), tmp_path / "bars.mov")

    # Y' of pure red is Kr of BT.709: 0.2126 * 876 + 64 = 250.2 (BT.601 would give 0.299 -> 325.9).
    frame = first_raw_frame(path)
    y10 = np.frombuffer(frame.planes[0], np.uint16)[:32].astype(np.float64) / 4.0
    assert np.all(np.abs(y10 - (0.2126 * 876 + 64)) <= 1.0)
    cr10 = np.frombuffer(frame.planes[2], np.uint16)[:32].astype(np.float64) / 4.0
    assert np.all(np.abs(cr10 - 960.0) <= 1.0)  # Cr of red is +0.5: the top of limited chroma

    back = read_movie(path)
    for t, rgb in enumerate(colours):
        assert np.abs(back.frames[t, ..., :3] - np.array(rgb, np.float32)).max() <= 0.004

    # Independent check: FFmpeg's own converter, told the file's tags, gets the same colours back.
    with av.open(str(path)) as container:
        for t, decoded in enumerate(container.decode(video=0)):
            assert decoded.colorspace == 1
            rgb = decoded.reformat(format="gbrpf32le", src_colorspace="ITU709", src_color_range="MPEG")
            assert np.abs(rgb.to_ndarray()[0, 0] - np.array(colours[t])).max() <= 0.01
            wrong = decoded.reformat(format="gbrpf32le", src_colorspace="ITU601", src_color_range="MPEG")
            if t < 2:  # a BT.601 reading of red and green is visibly off: the test can tell them apart
                assert np.abs(wrong.to_ndarray()[0, 0] - np.array(colours[t])).max() > 0.05


def _codes(frame: av.VideoFrame, count: int) -> list[np.ndarray]:
    """The first `count` planes of a planar 4:4:4 frame of more than 8 bits, as float64 codes."""
    out = []
    for plane in frame.planes[:count]:
        rows = np.frombuffer(plane, np.uint16).reshape(frame.height, plane.line_size // 2)
        out.append(rows[:, : frame.width].astype(np.float64))
    return out


def test_own_bt709_conversion_is_exact_where_swscale_is_not(tmp_path: Path) -> None:
    """Why io/video.py converts R'G'B' <-> Y'CbCr itself instead of `VideoFrame.reformat(format=...,
    dst_colorspace="ITU709", dst_color_range="MPEG")` (and `src_*` when reading).

    Measured with PyAV 18.1 / FFmpeg 8.1 on a 480x270 gradient: swscale from float (gbrapf32le) or 16-bit
    (rgba64le) RGB to yuva444p10le, the ProRes input, is up to 3.87 10-bit codes off the exact BT.709
    limited-range value (white lands on 943, not 940; mean +1.7 codes on Y) and alpha up to 1.49 codes
    off (biased +0.86, so not exact), the same with ACCURATE_RND, BITEXACT or FULL_CHR_H_INP; ours is
    within rounding (0.5 code) with alpha exact. Reading the 12-bit ProRes decode back, swscale to
    gbrapf32le is up to 3.9e-3 off the exact inverse (one 8-bit code), ours 1.5e-7. End to end, ProRes
    round trips of `gradient_clip` give max colour error 0.0020 (ours) vs 0.0052 (swscale) and alpha
    0.00066 vs 0.00145. (For the 8-bit 4:2:0 WebM / H.264 files both are within the codecs' own noise:
    max 0.021 / 0.022 vs 0.026 / 0.020.) If this test fails because swscale became exact, use it.
    """
    from vfxgen.io.ycbcr import frame_to_rgba, yuv_frame

    y, x = np.mgrid[0:270, 0:480].astype(np.float64)
    x, y = x / 479, y / 269
    rgb = np.stack([x, y, (x + y) / 2.4], axis=-1)
    alpha = 1.0 - 0.5 * x * y
    kr, kb = 0.2126, 0.0722
    luma = kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2]
    ideal = [
        4 * (16 + 219 * luma),
        4 * (128 + 224 * (rgb[..., 2] - luma) / (2 * (1 - kb))),
        4 * (128 + 224 * (rgb[..., 0] - luma) / (2 * (1 - kr))),
    ]

    ours = _codes(yuv_frame(rgb.astype(np.float32), alpha.astype(np.float32), "yuva444p10le"), 4)
    rgba = np.concatenate([rgb, alpha[..., None]], axis=-1).astype(np.float32)
    theirs = _codes(
        av.VideoFrame.from_ndarray(rgba, format="gbrapf32le").reformat(
            format="yuva444p10le", dst_colorspace="ITU709", dst_color_range="MPEG"
        ),
        4,
    )
    our_error = max(np.abs(ours[i] - ideal[i]).max() for i in range(3))
    their_error = max(np.abs(theirs[i] - ideal[i]).max() for i in range(3))
    assert our_error <= 0.5 + 1e-3  # rounding to the nearest code, nothing more
    np.testing.assert_array_equal(ours[3], np.rint(alpha * 1023))  # alpha exact
    assert their_error - our_error >= 3.0, f"swscale is now within {their_error:.2f} codes: consider using it"
    assert not np.array_equal(theirs[3], np.rint(alpha * 1023)), "swscale now keeps alpha exact: consider using it"

    # Reading: the 12-bit planes FFmpeg's ProRes decoder returns, inverted exactly in float64.
    clip = Clip(rgba[None], fps=24.0)
    with av.open(str(write_prores(clip, tmp_path / "g.mov"))) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "yuva444p12le"
    codes = _codes(frame, 4)
    y12, cb12, cr12 = (codes[0] / 16 - 16) / 219, (codes[1] / 16 - 128) / 224, (codes[2] / 16 - 128) / 224
    red, blue = y12 + 2 * (1 - kr) * cr12, y12 + 2 * (1 - kb) * cb12
    green = (y12 - kr * red - kb * blue) / (1 - kr - kb)
    exact = np.clip(np.stack([red, green, blue], axis=-1), 0.0, 1.0)
    ours_rgb = frame_to_rgba(frame)[0][..., :3]
    theirs_rgb = frame.reformat(format="gbrapf32le", src_colorspace="ITU709", src_color_range="MPEG").to_ndarray()
    our_read = np.abs(ours_rgb - exact).max()
    their_read = np.abs(np.clip(theirs_rgb[..., :3], 0.0, 1.0) - exact).max()
    assert our_read <= 1e-6
    assert their_read >= 1e-3, f"swscale now reads within {their_read:.1e}: consider using it"


def test_prores_odd_size_and_fps(tmp_path: Path) -> None:
    clip = gradient_clip(frames=3, height=27, width=45)
    back = read_movie(write_prores(clip, tmp_path / "odd.mov", fps=23.976))
    assert back.frames.shape == (3, 27, 45, 4)
    assert back.fps == pytest.approx(24000 / 1001)
    assert np.abs(back.frames - clip.frames).mean() <= 0.001


def test_prores_replaces_existing_file_and_rejects_bad_options(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "shot.mov"
    write_prores(gradient_clip(frames=2), target)
    write_prores(gradient_clip(frames=3), target)
    assert read_movie(target).num_frames == 3
    assert sorted(p.name for p in target.parent.iterdir()) == ["shot.mov"]
    with pytest.raises(UsageError):
        write_prores(gradient_clip(frames=2), tmp_path / "x.mov", alpha="multiplied")
    with pytest.raises(UsageError):
        write_prores(gradient_clip(frames=2), tmp_path / "x.mov", profile="422hq")
    with pytest.raises(UsageError):
        read_movie(target, alpha="bogus")


def test_unwritable_destination_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError, match="not_a_folder"):
        write_prores(gradient_clip(frames=2), blocker / "shot.mov")
    with pytest.raises(OutputError, match="is a folder"):
        write_prores(gradient_clip(frames=2), tmp_path)


# --------------------------------------------------------------------------------------------------
# WebM VP9 with alpha
# --------------------------------------------------------------------------------------------------
def test_webm_round_trip_keeps_alpha(tmp_path: Path) -> None:
    clip = gradient_clip()
    path = write_webm(clip, tmp_path / "shot.webm")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp9"
        assert stream.metadata.get("alpha_mode") == "1"
    back = read_movie(path)
    assert back.frames.shape == clip.frames.shape
    err = np.abs(back.frames - clip.frames)
    assert err[..., 3].mean() < 0.03 and err[..., 3].max() < 0.1
    assert err[..., :3].mean() < 0.03
    assert back.metadata["prompt"] == "burning fireball"


# --------------------------------------------------------------------------------------------------
# H.264 preview
# --------------------------------------------------------------------------------------------------
def test_preview_decodes_with_even_upscaled_size(tmp_path: Path) -> None:
    clip = gradient_clip(frames=4, height=21, width=35)
    path = write_preview(clip, tmp_path / "preview.mp4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(stream))
    assert len(frames) == 4
    height, width = frames[0].height, frames[0].width
    assert height % 2 == 0 and width % 2 == 0
    assert max(height, width) >= 256  # tiny clips are enlarged to be watchable
    assert frames[0].colorspace == 1


def test_preview_shows_the_checkerboard_where_transparent(tmp_path: Path) -> None:
    clip = solid_clip([(1.0, 0.0, 0.0)] * 2, alpha=0.0)
    back = read_movie(write_preview(clip, tmp_path / "p.mp4"), require_alpha=False)
    grey = back.frames[0, ..., :3]
    assert np.abs(grey[..., 0] - grey[..., 1]).max() < 0.05  # no red anywhere: alpha 0 shows the board
    assert grey.max() - grey.min() > 0.2  # two shades of the board


def test_untagged_444_movie_is_read_as_bt601(tmp_path: Path) -> None:
    """An untagged 4:4:4 file (swscale's default BT.601 matrix, as untagged writers use) reads back right."""
    colours = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.4, 0.9]], np.float32)
    path = tmp_path / "untagged.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv444p"
        for rgb in colours:
            image = np.broadcast_to(np.rint(rgb * 255).astype(np.uint8), (32, 32, 3)).copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    back = read_movie(path, require_alpha=False)
    assert np.abs(back.frames[:, 16, 16, :3] - colours).max() <= 0.02
    assert np.all(back.alpha == 1.0)


# --------------------------------------------------------------------------------------------------
# reading errors
# --------------------------------------------------------------------------------------------------
def test_movie_without_alpha_is_refused_unless_asked(tmp_path: Path) -> None:
    path = write_preview(gradient_clip(frames=2), tmp_path / "preview.mp4")
    with pytest.raises(InputError, match="no alpha channel") as info:
        read_movie(path)
    assert "preview.mp4" in str(info.value) and "--alpha-video" in info.value.hint
    opaque = read_movie(path, require_alpha=False)
    assert np.all(opaque.alpha == 1.0)


def test_iter_movie_frames_streams_what_read_movie_reads(tmp_path: Path) -> None:
    clip = gradient_clip()
    for mode in ("straight", "premultiplied"):
        path = write_prores(clip, tmp_path / f"{mode}.mov", alpha=mode)
        streamed = np.stack(list(iter_movie_frames(path)))  # "auto": the stored mode is read back
        np.testing.assert_allclose(streamed, read_movie(path).frames, atol=1e-6)
    preview = write_preview(gradient_clip(frames=2), tmp_path / "preview.mp4")
    frames = iter_movie_frames(preview, no_alpha_hint="give fgr/ and pha/ folders")  # lazy: nothing read yet
    with pytest.raises(InputError, match="no alpha channel") as info:
        next(frames)
    assert info.value.hint == "give fgr/ and pha/ folders"
    assert np.all(next(iter_movie_frames(preview, require_alpha=False))[..., 3] == 1.0)
    missing = iter_movie_frames(tmp_path / "nope.mov")
    with pytest.raises(InputError, match="does not exist"):
        next(missing)


def test_missing_garbage_and_truncated_files_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_movie(tmp_path / "nope.mov")

    garbage = tmp_path / "garbage.mov"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="garbage.mov"):
        read_movie(garbage)

    # A MOV cut in half loses its index (written at the end): it cannot even be opened.
    good = write_prores(gradient_clip(), tmp_path / "good.mov")
    cut = tmp_path / "cut.mov"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.mov"):
        read_movie(cut)

    # An MP4 with its index first (faststart) cut short opens, but frames are missing: refused too.
    preview = write_preview(gradient_clip(frames=12), tmp_path / "p.mp4")
    short = tmp_path / "short.mp4"
    short.write_bytes(preview.read_bytes()[: preview.stat().st_size // 2])
    with pytest.raises(InputError, match="short.mp4"):
        read_movie(short, require_alpha=False)


# --------------------------------------------------------------------------------------------------
# TransPixar rgb.mp4 + alpha.mp4
# --------------------------------------------------------------------------------------------------
def write_h264_rgb(path: Path, rgb: np.ndarray, fps: int = 8) -> None:
    """8-bit H.264 yuv420p through swscale's default (BT.601, untagged), like TransPixar's export."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
        for frame_rgb in rgb:
            frame = av.VideoFrame.from_ndarray(np.rint(frame_rgb * 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def transpixar_pair(tmp_path: Path, alpha_frames: int = T) -> tuple[Path, Path, Clip]:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    rgba = np.zeros((T, H, W, 4), np.float32)
    for t in range(T):
        rgba[t, ..., 0] = 0.9
        rgba[t, ..., 1] = 0.3 + 0.4 * x / W
        rgba[t, ..., 2] = 0.1
        r = np.hypot(x - W / 2 - t, y - H / 2) / 16.0
        rgba[t, ..., 3] = np.clip(1.5 - r, 0.0, 1.0)
    clip = Clip(rgba, fps=8.0)
    premult = clip.to_premultiplied()
    write_h264_rgb(tmp_path / "rgb.mp4", premult[..., :3])
    matte = np.repeat(rgba[:alpha_frames, ..., 3:4], 3, axis=-1)
    write_h264_rgb(tmp_path / "alpha.mp4", matte)
    return tmp_path / "rgb.mp4", tmp_path / "alpha.mp4", clip


def test_transpixar_pair_import(tmp_path: Path) -> None:
    rgb_path, alpha_path, clip = transpixar_pair(tmp_path)
    imported = read_transpixar_pair(rgb_path, alpha_path)
    assert imported.frames.shape == clip.frames.shape
    assert imported.fps == pytest.approx(8.0)
    assert np.abs(imported.alpha - clip.alpha).mean() < 0.01
    assert np.abs(imported.alpha - clip.alpha).max() < 0.05
    solid = clip.alpha > 0.5
    colour_err = np.abs(imported.rgb - clip.rgb)[solid]
    assert colour_err.mean() < 0.02 and colour_err.max() < 0.08
    assert np.all(imported.rgb[imported.alpha == 0] == 0.0)  # alpha 0 means colour 0, never NaN
    assert imported.alpha[clip.alpha == 0].max() < 3 / 255  # 8-bit coding noise only
    # The premultiplied file on its own has no alpha: read_movie says how to import it.
    with pytest.raises(InputError, match="no alpha"):
        read_movie(rgb_path)


def test_transpixar_pair_frame_count_mismatch(tmp_path: Path) -> None:
    rgb_path, alpha_path, _ = transpixar_pair(tmp_path, alpha_frames=T - 2)
    with pytest.raises(InputError, match=f"{T} frames but .*alpha.mp4 has {T - 2}"):
        read_transpixar_pair(rgb_path, alpha_path)


def test_announced_frame_count_reads_the_container_without_decoding(tmp_path: Path) -> None:
    from vfxgen.io.video import announced_frame_count

    movie = write_prores(gradient_clip(frames=5), tmp_path / "a.mov")
    assert announced_frame_count(movie) == 5
    assert announced_frame_count(tmp_path / "missing.mov") == 0
    (tmp_path / "junk.mov").write_bytes(b"not a movie")
    assert announced_frame_count(tmp_path / "junk.mov") == 0
