"""Movies in and out with PyAV: ProRes 4444 (After Effects), WebM VP9 + alpha (web), H.264 preview.

The Y'CbCr maths (BT.709, limited range, written by us because swscale is less exact) lives in
`vfxgen.io.ycbcr`; this module does the PyAV plumbing: encoders, containers, tags, decoding.

Clip convention (design Sec. 3): colour straight, sRGB-encoded, in [0, 1]; alpha in [0, 1]. Writers clamp;
`alpha="premultiplied"` multiplies colour by alpha in display space (`Clip.to_premultiplied`).

Facts about PyAV 18.1 / its bundled FFmpeg 8 checked when this was written:
- `prores_ks` encodes `yuva444p10le`, profiles 4 (4444) and 5 (4444xq); alpha is coded losslessly
  (16-bit alpha); the `vendor` option writes `apl0` into each ProRes frame header. The MOV sample
  description vendor is hard-coded to `FFMP` by FFmpeg's muxer and cannot be set.
- FFmpeg's ProRes decoder returns `yuva444p12le` (10-bit code v comes back as 4 v).
- `libvpx-vp9` encodes `yuva420p`; the WebM muxer stores alpha as BlockAdditional and tags
  `alpha_mode=1`. FFmpeg's native `vp9` decoder drops the alpha plane, so VP8/VP9 are decoded with the
  `libvpx-vp9` / `libvpx` decoders, which keep it.
- `libx264` is available for the preview.
- The MOV/MP4 muxers keep arbitrary container metadata keys only with `movflags=use_metadata_tags`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vfxgen.atomic import atomic_path
from vfxgen.clip import Clip
from vfxgen.color import unpremultiply
from vfxgen.compositing import over_checkerboard
from vfxgen.errors import InputError, OutputError, UsageError
from vfxgen.framerate import DEFAULT_FPS, frame_rate
from vfxgen.io.ycbcr import (
    AVCOL_BT709,
    AVCOL_RANGE_MPEG,
    frame_to_rgba,
    yuv_frame,
)

__all__ = [
    "announced_frame_count",
    "stream_frame_rate",
    "iter_movie_frames",
    "read_movie",
    "read_transpixar_pair",
    "write_preview",
    "write_prores",
    "write_webm",
]

PRORES_PROFILES: dict[str, int] = {"4444": 4, "4444xq": 5}
ALPHA_MODES = ("straight", "premultiplied")

META_ALPHA = "vfxgen:alpha"
META_COLOUR = "vfxgen:colour"
META_JSON = "vfxgen:metadata"
META_VERSION = "vfxgen:version"

# The fix suggested for a movie without alpha where alpha is needed.
_NO_ALPHA_HINT = "export the movie with an alpha channel (ProRes 4444, WebM VP9 with alpha)"

# How many frames go through the checkerboard composite at once (bounds memory on long clips).
_PREVIEW_CHUNK = 8
# Previews smaller than this on their longer side are enlarged by an integer nearest-neighbour factor.
_PREVIEW_MIN_SIDE = 256


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------
def _rate(fps: float) -> Fraction:
    """fps -> the exact rational frame rate (`vfxgen.framerate.frame_rate`, shared with EXR and .nk)."""
    return frame_rate(fps)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vfxgen")
    except Exception:  # not installed (running from a checkout)
        return "unknown"


def _container_metadata(clip: Clip, alpha_mode: str, colour: str) -> dict[str, str]:
    """Container tags: the alpha mode for `read_movie(alpha="auto")`, and the clip's metadata as JSON."""
    meta = {
        META_ALPHA: alpha_mode,
        META_COLOUR: colour,
        META_VERSION: _version(),
        META_JSON: json.dumps(clip.metadata, default=str, ensure_ascii=False, sort_keys=True),
    }
    prompt = clip.metadata.get("prompt")
    if prompt:
        meta["comment"] = str(prompt)
    return meta


def _movie_target(path: Path) -> Path:
    """Refuse a folder where a movie file is asked for (one line, before any encoding)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder, not a movie file", "give a file name such as shot.mov")
    return path


@dataclass
class _Encode:
    """What one encode needs; `_encode` does the PyAV plumbing the same way for every format."""

    container_format: str
    codec: str
    width: int
    height: int
    pix_fmt: str
    rate: Fraction
    stream_options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Any], None] | None = None


def _encode(job: _Encode, path: Path, frames: Iterable[av.VideoFrame]) -> Path:
    path = Path(path)
    with atomic_path(_movie_target(path)) as tmp:
        try:
            with av.open(str(tmp), "w", format=job.container_format, options=job.container_options) as out:
                for key, value in job.metadata.items():
                    out.metadata[key] = value
                stream = out.add_stream(job.codec, rate=job.rate, options=job.stream_options)
                stream.width = job.width
                stream.height = job.height
                stream.pix_fmt = job.pix_fmt
                cc = stream.codec_context
                cc.thread_type = "AUTO"
                cc.thread_count = 0  # one per core
                cc.color_primaries = AVCOL_BT709
                cc.color_trc = AVCOL_BT709
                cc.colorspace = AVCOL_BT709
                cc.color_range = AVCOL_RANGE_MPEG
                if job.setup is not None:
                    job.setup(cc)
                time_base = Fraction(1) / job.rate
                for index, frame in enumerate(frames):
                    frame.pts = index
                    frame.time_base = time_base
                    for packet in stream.encode(frame):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)
        except (av.FFmpegError, OSError) as exc:
            raise OutputError(
                f"cannot write {path}: {exc}", "check free disk space and permissions of the output folder"
            ) from exc
    return path


def _check_alpha_mode(alpha: str, allowed: tuple[str, ...]) -> str:
    if alpha not in allowed:
        raise UsageError(f"alpha must be one of {', '.join(allowed)}, got {alpha!r}", "pass --alpha straight")
    return alpha


def write_prores(
    clip: Clip,
    path: str | os.PathLike[str],
    alpha: str = "straight",
    profile: str = "4444",
    fps: float | None = None,
) -> Path:
    """Write a ProRes 4444 (or 4444 XQ) `.mov` with alpha: the After Effects deliverable.

    `prores_ks`, `yuva444p10le`, vendor `apl0`, BT.709 primaries/transfer/matrix tagged on the stream
    and every frame, limited range. The Y'CbCr conversion is done here with BT.709 coefficients
    (swscale would use BT.601). `alpha="straight"` (AE: "Interpret as straight") is the default;
    `"premultiplied"` stores colour * alpha in display space. The mode is stored in the container
    metadata (`vfxgen:alpha`), so `read_movie(alpha="auto")` reads it back right. Written to a temporary
    sibling and renamed into place. The quantiser is fixed at prores_ks' finest (see
    `_prores_fixed_quant`): the same picture as its rate control would choose, 3-4x faster.
    `fps` overrides the clip's frame rate (23.976 etc. become exact n*1000/1001 rates).
    """
    _check_alpha_mode(alpha, ALPHA_MODES)
    if profile not in PRORES_PROFILES:
        raise UsageError(
            f"ProRes profile must be one of {', '.join(PRORES_PROFILES)}, got {profile!r}",
            "pass --profile 4444 or --profile 4444xq",
        )
    clip = clip.clipped()
    rgba = clip.to_premultiplied() if alpha == "premultiplied" else clip.straight_frames()

    def frames() -> Iterator[av.VideoFrame]:
        for t in range(clip.num_frames):
            yield yuv_frame(rgba[t, ..., :3], rgba[t, ..., 3], "yuva444p10le")

    job = _Encode(
        container_format="mov",
        codec="prores_ks",
        width=clip.width,
        height=clip.height,
        pix_fmt="yuva444p10le",
        rate=_rate(fps or clip.fps),
        stream_options={
            "profile": str(PRORES_PROFILES[profile]),
            "vendor": "apl0",
            "alpha_bits": "16",
        },
        container_options={"movflags": "use_metadata_tags+write_colr"},
        metadata=_container_metadata(clip, alpha, "bt709 limited, sRGB-encoded display colour"),
        setup=_prores_fixed_quant,
    )
    return _encode(job, Path(path), frames())


def _prores_fixed_quant(cc: Any) -> None:
    """Fix prores_ks' quantiser at 1 (its finest) instead of letting rate control search for it.

    With an alpha plane prores_ks multiplies its bits-per-macroblock budget by 20, so the search lands
    on quantiser 1 anyway for any textured picture (checked: bit-identical output on noise and
    gradients at 360x240, 720x480 and 1920x1080); skipping the search makes encoding 3-4x faster.
    Only flat areas differ (the search may pick a coarser quantiser there: a few bytes smaller).
    prores_ks reads the quantiser from `global_quality` directly (not in lambda units).
    """
    cc.qscale = True
    cc.global_quality = 1


def write_webm(clip: Clip, path: str | os.PathLike[str], fps: float | None = None) -> Path:
    """Write a WebM (VP9, `yuva420p`, straight alpha): what browsers play with transparency.

    `libvpx-vp9` in constant-quality mode (crf 20), BT.709 limited range converted here and tagged.
    Alpha is straight because that is what `<video>` compositing in browsers expects. `cpu-used 5`:
    measured as good as 4 on 720x480 test clips at about 2.4x the speed (libvpx codes alpha as a
    second stream, so VP9 alpha costs twice a plain encode).
    """
    try:
        av.codec.Codec("libvpx-vp9", "w")
    except Exception as exc:  # FFmpeg built without libvpx
        raise OutputError(
            "this PyAV/FFmpeg build has no libvpx-vp9 encoder, so WebM with alpha cannot be written",
            "install a PyAV wheel built with libvpx, or write ProRes 4444 instead",
        ) from exc
    clip = clip.clipped()
    straight = clip.straight_frames()

    def frames() -> Iterator[av.VideoFrame]:
        for t in range(clip.num_frames):
            yield yuv_frame(straight[t, ..., :3], straight[t, ..., 3], "yuva420p")

    job = _Encode(
        container_format="webm",
        codec="libvpx-vp9",
        width=clip.width,
        height=clip.height,
        pix_fmt="yuva420p",
        rate=_rate(fps or clip.fps),
        stream_options={"crf": "20", "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "5"},
        metadata=_container_metadata(clip, "straight", "bt709 limited, sRGB-encoded display colour"),
    )
    return _encode(job, Path(path), frames())


def _h264_encoder() -> tuple[str, dict[str, str]]:
    """The best H.264 encoder this FFmpeg has (libx264; else whatever `h264` names; else MPEG-4 part 2)."""
    for name, options in (
        ("libx264", {"crf": "18", "preset": "fast"}),
        ("h264", {}),
        ("mpeg4", {"q": "2"}),
    ):
        try:
            av.codec.Codec(name, "w")
        except Exception:
            continue
        return name, options
    raise OutputError("this PyAV/FFmpeg build has no H.264 or MPEG-4 encoder", "install the PyAV wheel from PyPI")


def _preview_scale(height: int, width: int) -> int:
    """Integer nearest-neighbour enlargement so a tiny clip is watchable (longer side >= 256 px)."""
    longest = max(height, width)
    if longest >= _PREVIEW_MIN_SIDE:
        return 1
    return min(16, -(-_PREVIEW_MIN_SIDE // longest))


def write_preview(clip: Clip, path: str | os.PathLike[str], fps: float | None = None) -> Path:
    """Write an H.264 `.mp4` of the clip over a grey checkerboard: a look at the alpha anywhere.

    The composite is done in scene-linear light (`over_checkerboard`) so soft edges look as in Nuke.
    Clips under 256 px are enlarged by an integer nearest factor; odd sizes are padded by repeating
    the last row/column because 4:2:0 H.264 needs even dimensions. BT.709 tagged, crf 18.
    """
    codec, options = _h264_encoder()
    scale = _preview_scale(clip.height, clip.width)
    height, width = clip.height * scale, clip.width * scale
    pad_h, pad_w = height % 2, width % 2
    square = max(4, min(height, width) // 12)

    def frames() -> Iterator[av.VideoFrame]:
        for start in range(0, clip.num_frames, _PREVIEW_CHUNK):
            chunk = np.clip(clip.frames[start : start + _PREVIEW_CHUNK], 0.0, 1.0)
            if scale > 1:
                chunk = np.repeat(np.repeat(chunk, scale, axis=1), scale, axis=2)
            rgb = over_checkerboard(chunk, square=square)
            if pad_h or pad_w:
                rgb = np.pad(rgb, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            for frame_rgb in rgb:
                yield yuv_frame(frame_rgb, None, "yuv420p")

    job = _Encode(
        container_format="mp4",
        codec=codec,
        width=width + pad_w,
        height=height + pad_h,
        pix_fmt="yuv420p",
        rate=_rate(fps or clip.fps),
        stream_options=options,
        container_options={"movflags": "use_metadata_tags+faststart"},
        metadata=_container_metadata(clip, "none (composited over a checkerboard)", "bt709 limited"),
    )
    return _encode(job, Path(path), frames())


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------
@dataclass
class _Decoded:
    rgba: np.ndarray  # float32 [T, H, W, 4], colour as stored (straight or premultiplied)
    has_alpha: bool
    fps: float | None
    tags: dict[str, str]


@dataclass
class _OpenMovie:
    """An opened container and what is known before decoding: its first video stream, rate and tags."""

    path: Path
    container: Any
    stream: Any
    fps: float | None
    tags: dict[str, str]


def _damaged(path: Path, detail: object) -> InputError:
    return InputError(
        f"cannot read movie {path}: it is damaged, truncated or not a movie ({detail})",
        "re-export or re-copy the file",
    )


def _no_alpha(path: str | os.PathLike[str], hint: str) -> InputError:
    from vfxgen.errors import MissingAlphaError

    return MissingAlphaError(f"movie {path} has no alpha channel", hint)


def _decoder_for(stream: Any) -> Any:
    """The stream's decoder, except VP8/VP9: FFmpeg's native decoders drop the alpha plane."""
    name = stream.codec_context.name
    lib = {"vp9": "libvpx-vp9", "vp8": "libvpx"}.get(name)
    if lib:
        try:
            decoder = av.CodecContext.create(lib, "r")
        except Exception:  # no libvpx in this build: decode without alpha
            decoder = None
        if decoder is not None:
            decoder.thread_type = "AUTO"
            return decoder
    decoder = stream.codec_context
    decoder.thread_type = "AUTO"
    return decoder


def _open_movie(path: str | os.PathLike[str]) -> _OpenMovie:
    """Open a movie for decoding; typed errors for a missing path, a folder, garbage or no video stream."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"movie {path} does not exist", "check the path")
    if not path.is_file():
        raise InputError(f"{path} is not a file", "give a movie file such as shot.mov")
    try:
        container = av.open(str(path), "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise _damaged(path, exc) from exc
    try:
        if not container.streams.video:
            raise InputError(f"{path} has no video stream", "give a movie with a picture track")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        tags = {str(k).lower(): str(v) for k, v in (container.metadata or {}).items()}
    except BaseException:
        container.close()
        raise
    return _OpenMovie(path, container, stream, float(rate) if rate else None, tags)


def _decoded_frames(movie: _OpenMovie) -> Iterator[tuple[np.ndarray, bool]]:
    """The one decode loop: `(float32 [H, W, 4] colour as stored, has_alpha)` per frame, then closed.

    Holds one decoded frame at a time. After the last frame it checks what only the end can tell:
    nothing decoded, or fewer frames than the container announced (a truncated file), and raises the
    same `InputError` as for a damaged file. A frame size change mid-stream is refused when met.
    """
    path = movie.path
    count = 0
    shape: tuple[int, ...] | None = None
    try:
        with movie.container as container:
            expected = int(movie.stream.frames or 0)
            decoder = _decoder_for(movie.stream)

            def frames() -> Iterator[av.VideoFrame]:
                for packet in container.demux(movie.stream):
                    if packet.size:
                        yield from decoder.decode(packet)
                yield from decoder.decode(None)  # flush the frames the decoder still holds

            for frame in frames():
                rgba, has_alpha = frame_to_rgba(frame)
                if shape is None:
                    shape = rgba.shape
                elif rgba.shape != shape:
                    raise InputError(f"movie {path} changes frame size mid-stream", "re-export it at one size")
                count += 1
                yield rgba, has_alpha
    except (av.FFmpegError, OSError, EOFError) as exc:
        raise _damaged(path, exc) from exc
    if count == 0:
        raise _damaged(path, "no frame could be decoded")
    if expected and count < expected:
        raise _damaged(path, f"decoded {count} of {expected} frames")


def _decode(path: str | os.PathLike[str]) -> _Decoded:
    """Decode every frame of the first video stream to float RGBA; typed errors for bad files."""
    movie = _open_movie(path)
    frames: list[np.ndarray] = []
    has_alpha = False
    for rgba, alpha_here in _decoded_frames(movie):
        has_alpha = has_alpha or alpha_here
        frames.append(rgba)
    return _Decoded(np.stack(frames), has_alpha, movie.fps, movie.tags)


def announced_frame_count(path: str | os.PathLike[str]) -> int:
    """The frame count the container announces, without decoding (0 when it does not say or cannot be
    opened): cheap enough to pair or count many source movies before any are read."""
    try:
        with av.open(os.fspath(path), "r") as container:
            return int(container.streams.video[0].frames or 0) if container.streams.video else 0
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return 0


def stream_frame_rate(path: str | os.PathLike[str]) -> float | None:
    """The frame rate a movie's video stream states (average, else base rate); None when it states none or
    the file cannot be opened. What `vfxgen qc` compares with shot.json."""
    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.base_rate
            return float(rate) if rate else None
    except (av.FFmpegError, OSError, IndexError):
        return None


def iter_movie_frames(
    path: str | os.PathLike[str],
    require_alpha: bool = True,
    alpha: str = "auto",
    no_alpha_hint: str = _NO_ALPHA_HINT,
) -> Iterator[np.ndarray]:
    """Decode a movie one frame at a time: straight sRGB float32 `[H, W, 4]` (alpha 1 when it has none).

    The streaming form of `read_movie`, for movies too long to hold whole (training data preparation):
    the same decoders and colour maths, one frame in memory instead of the movie. `alpha` is read as in
    `read_movie` ("auto": the `vfxgen:alpha` container tag, straight when absent); premultiplied colour
    is divided by alpha and clamped to [0, 1]. Nothing is opened until the first frame is asked for.
    Raises `InputError` for a missing, damaged or truncated file (the truncation only after the last
    good frame, since a stream cannot know earlier), and, with `require_alpha`, at the first frame
    without alpha, with `no_alpha_hint` as the fix (callers know what their user can do instead).
    """
    _check_alpha_mode(alpha, (*ALPHA_MODES, "auto"))
    movie = _open_movie(path)
    mode = alpha if alpha != "auto" else movie.tags.get(META_ALPHA, "straight")
    with closing(_decoded_frames(movie)) as frames:  # closes the file at once if the caller stops early
        for rgba, has_alpha in frames:
            if require_alpha and not has_alpha:
                raise _no_alpha(path, no_alpha_hint)
            yield np.clip(unpremultiply(rgba), 0.0, 1.0) if mode == "premultiplied" else rgba


def _stored_metadata(tags: dict[str, str]) -> dict[str, Any]:
    raw = tags.get(META_JSON)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def read_movie(
    path: str | os.PathLike[str],
    alpha: str = "auto",
    fps: float | None = None,
    require_alpha: bool = True,
) -> Clip:
    """Read a movie with alpha (ProRes 4444, WebM VP9/VP8 alpha, QuickTime Animation, ...) into a Clip.

    `alpha` says how the file's colour relates to its alpha: `"straight"`, `"premultiplied"` (colour
    is divided by alpha), or `"auto"`: what `write_prores`/`write_webm` stored in the container
    (`vfxgen:alpha`), straight when the file does not say. ProRes 4:4:4 is converted back with the
    matrix the file is tagged with (BT.709 for ours), so a round trip is within 10-bit quantisation.
    A movie without alpha raises `InputError` unless `require_alpha=False` (then alpha is 1).
    """
    _check_alpha_mode(alpha, (*ALPHA_MODES, "auto"))
    decoded = _decode(path)
    if not decoded.has_alpha and require_alpha:
        pair = "for a TransPixar rgb.mp4/alpha.mp4 pair pass the matte as --alpha-video FILE"
        raise _no_alpha(path, f"{pair}; otherwise {_NO_ALPHA_HINT}")
    mode = alpha
    if mode == "auto":
        mode = decoded.tags.get(META_ALPHA, "straight")
        if mode not in ALPHA_MODES:
            mode = "straight"
    rate = fps or decoded.fps or DEFAULT_FPS
    metadata = _stored_metadata(decoded.tags)
    stored = {"source_rgb": decoded.rgba[..., :3], "source_alpha": mode}  # the file's own colour (eval-flow)
    if mode == "premultiplied":
        return _with_source(Clip.from_premultiplied(decoded.rgba, rate, metadata).clipped(), **stored)
    return Clip(decoded.rgba, rate, metadata, **stored)


def _with_source(clip: Clip, source_rgb: np.ndarray, source_alpha: str) -> Clip:
    """`clip` carrying the colour its file stored (`Clip.source_rgb`), clamped like the clip."""
    clip.source_rgb = np.clip(np.asarray(source_rgb, np.float32), 0.0, 1.0)
    clip.source_alpha = source_alpha
    return clip


def read_transpixar_pair(
    rgb_path: str | os.PathLike[str],
    alpha_path: str | os.PathLike[str],
    fps: float | None = None,
) -> Clip:
    """Import the official TransPixar release output: `rgb.mp4` plus `alpha.mp4`.

    The release writes colour already multiplied by alpha (display-encoded) and the alpha video with
    alpha in all three channels, both 8-bit H.264. Alpha is the mean of the three decoded channels
    (averages out 4:2:0 chroma noise); colour is un-premultiplied and clamped to [0, 1] because lossy
    coding can leave premultiplied colour above its alpha.
    """
    rgb = _decode(rgb_path)
    matte = _decode(alpha_path)
    n_rgb, n_alpha = rgb.rgba.shape[0], matte.rgba.shape[0]
    if n_rgb != n_alpha:
        raise InputError(
            f"{rgb_path} has {n_rgb} frames but {alpha_path} has {n_alpha}",
            "give the rgb and alpha videos written together by the same TransPixar run",
        )
    size_rgb, size_alpha = rgb.rgba.shape[1:3], matte.rgba.shape[1:3]
    if size_rgb != size_alpha:
        raise InputError(
            f"{rgb_path} is {size_rgb[1]}x{size_rgb[0]} but {alpha_path} is {size_alpha[1]}x{size_alpha[0]}",
            "give the rgb and alpha videos written together by the same TransPixar run",
        )
    premult = np.empty_like(rgb.rgba)
    premult[..., :3] = rgb.rgba[..., :3]
    premult[..., 3] = matte.rgba[..., :3].mean(axis=-1)
    metadata = {"source": "transpixar", "rgb_video": str(rgb_path), "alpha_video": str(alpha_path)}
    clip = Clip.from_premultiplied(premult, fps or rgb.fps or DEFAULT_FPS, metadata).clipped()
    return _with_source(clip, rgb.rgba[..., :3], "premultiplied")  # eval-flow measures rgb.mp4 as stored
