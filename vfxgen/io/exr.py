"""EXR sequences, the Nuke deliverable (design Sec. 3), through OpenImageIO.

On disk: scene-linear Rec.709, premultiplied (`srgb_to_linear(rgb) * a`), HALF float, channels
R,G,B,A in that order, one file per frame `{name}.{frame:04d}.exr` from 1001, lossless `zip` by default.
Nuke reads this with the Read node's defaults (premultiplied, linear) and nothing to set.

Header attributes written (and what OIIO 3.2 actually stores in the file):

- colour space: we set `oiio:ColorSpace = lin_rec709_scene`; OIIO stores it as the EXR string attribute
  `colorInteropID` (and reports both names on read). The reader accepts either.
- `FramesPerSecond` (rational, e.g. 24000/1001) for Nuke/OIIO, and `vfxgen/fps` (exact decimal string).
- `vfxgen/<key>` strings for clip.metadata and the `metadata` argument: prompt, seed, model, preset,
  version (always, defaulting to the vfxgen version) and any other scalar entries.

Lossy compression (`dwaa`, `dwab`): OpenEXR's DWA codec compresses only colour channels (R, G, B, Y...)
with its lossy DCT and stores `A` with lossless RLE, so alpha stays bit-exact (tested). Colour does not,
and DCT ringing may put faint colour under alpha 0. That is a trade the caller must choose: the writer
refuses DWA unless `allow_lossy=True` (CLI: `--allow-lossy`) and then records `vfxgen/lossy` in the header.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio

from vfxgen.clip import Clip
from vfxgen.color import LINEAR_COLORSPACE
from vfxgen.errors import InputError, MissingAlphaError, UsageError
from vfxgen.framerate import DEFAULT_FPS, frame_rate
from vfxgen.io.images import (
    colorspace_is_linear,
    colorspace_of,
    ensure_directory,
    map_frames,
    open_input,
    read_pixels,
    select_sequence,
    stack_frames,
    where,
    write_image_atomic,
)
from vfxgen.io.sequence import FrameSequence, sequence_for_output

LOSSLESS_COMPRESSIONS = ("zip", "zips", "piz", "rle", "none")
LOSSY_COMPRESSIONS = ("dwaa", "dwab")
#: zlib level for zip/zips when none is given: level 1 writes ~45% faster than OpenEXR's default for ~3%
#: more bytes; the pixels are identical (zip is lossless at every level).
DEFAULT_ZIP_LEVEL = 1
METADATA_PREFIX = "vfxgen/"
STANDARD_KEYS = ("prompt", "seed", "model", "preset", "version")
EXR_EXTENSIONS = (".exr",)


# --- writing ----------------------------------------------------------------------------------
def write_exr_sequence(
    clip: Clip,
    directory: os.PathLike[str] | str,
    name: str = "shot",
    start_frame: int = 1001,
    compression: str = "zip",
    metadata: dict[str, Any] | None = None,
    threads: int = 0,
    allow_lossy: bool = False,
    colorspace: str = LINEAR_COLORSPACE,
) -> list[Path]:
    """Write `clip` as half-float, premultiplied, scene-linear RGBA EXRs; returns the frame paths.

    `colorspace`: any scene-linear space of the OCIO config (`vfxgen.colorspaces`; default lin_rec709_scene,
    `ACEScg` the common facility choice); the colour is converted by OCIO's matrix from lin_rec709 and the
    header tagged with the space's interop ID (`colorInteropID`) and chromaticities.

    `compression`: zip (default), zips, piz, rle, none; dwaa/dwab (optionally `dwaa:45` with a
    level) only with `allow_lossy=True`. Frames are written in parallel on `threads` workers
    (0 = the CPUs this process may use), each to a hidden temporary name then renamed into place, so
    no reader sees half a frame; existing frames of the same names are replaced.
    """
    compression = check_compression(compression, allow_lossy)
    sequence = sequence_for_output(directory, name, ".exr", start_frame, clip.num_frames)
    ensure_directory(sequence.directory)
    attributes = header_attributes(clip, metadata, compression)
    from vfxgen.colorspaces import exr_colorspace, is_working, linear_matrix

    space = exr_colorspace(colorspace)
    matrix = None if is_working(space) else linear_matrix(LINEAR_COLORSPACE, space.name)
    spec = _exr_spec(clip, compression, attributes, space)

    def write(index: int) -> Path:
        frame = sequence.frames[index]
        pixels = linear_premultiplied_half(clip.pixels[index], matrix)
        return write_image_atomic(sequence.path(frame), pixels, spec, frame)

    return map_frames(write, range(clip.num_frames), threads)


def linear_premultiplied_half(pixels: np.ndarray, matrix: np.ndarray | None = None) -> np.ndarray:
    """One canonical frame `[H, W, 4]` (premultiplied, scene-linear working space) as EXR half pixels,
    converted to another scene-linear space by OCIO's 3x3 `matrix` when given (it commutes with the
    premultiplication). Without a matrix this is a plain cast: EXR -> EXR is bit-exact in half."""
    out = np.empty(pixels.shape, np.float16)
    out[..., :3] = pixels[..., :3] if matrix is None else pixels[..., :3] @ matrix
    out[..., 3:] = pixels[..., 3:]
    return out


def check_compression(compression: str, allow_lossy: bool = False) -> str:
    """Validate a compression name (OIIO silently falls back to zip on unknown names, so we check)."""
    text = compression.strip().lower()
    method, _, level = text.partition(":")
    if method in LOSSY_COMPRESSIONS:
        if not allow_lossy:
            raise UsageError(
                f"EXR compression {method!r} is lossy (colour only; alpha stays lossless)",
                "pass --allow-lossy (allow_lossy=True) to accept it, or use zip or piz",
            )
        if level and not level.isdigit():
            raise UsageError(f"bad {method} level {level!r}", f"use e.g. {method}:45")
        return text
    if method in ("zip", "zips"):
        if level and not (level.isdigit() and 1 <= int(level) <= 9):
            raise UsageError(f"bad {method} level {level!r}", f"use {method}:1 (fastest) to {method}:9 (smallest)")
        return f"{method}:{level or DEFAULT_ZIP_LEVEL}"
    if method in LOSSLESS_COMPRESSIONS and not level:
        return method
    choices = ", ".join(LOSSLESS_COMPRESSIONS + LOSSY_COMPRESSIONS)
    raise UsageError(f"unknown EXR compression {compression!r}", f"choose one of {choices}")


def header_attributes(clip: Clip, metadata: dict[str, Any] | None, compression: str) -> dict[str, str]:
    """The `vfxgen/*` string attributes: clip metadata, then `metadata` on top, plus version and fps."""
    from vfxgen import __version__  # late: vfxgen/__init__ may one day import vfxgen.io

    merged = {"version": __version__, **clip.metadata, **(metadata or {})}
    attributes = {}
    for key, value in merged.items():
        text = _attribute_text(value)
        if text is not None:
            attributes[_attribute_name(str(key))] = text
    attributes[METADATA_PREFIX + "fps"] = repr(clip.fps)
    if compression.partition(":")[0] in LOSSY_COMPRESSIONS:
        attributes[METADATA_PREFIX + "lossy"] = f"{compression}: colour lossy, alpha lossless"
    return attributes


def _attribute_name(key: str) -> str:
    """`prompt` -> `vfxgen/prompt`; keys already namespaced (`studio/shot`) are kept as given."""
    return key if "/" in key else METADATA_PREFIX + key


def _attribute_text(value: Any) -> str | None:
    """Strings as they are; numbers and small flat lists/dicts (e.g. versions) as JSON.

    None and large or nested values (per-frame lists) are left out: they belong in shot.json, not in
    every frame's header.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    items = list(value.values()) if isinstance(value, dict) else value
    if isinstance(items, list | tuple) and len(items) <= 16 and all(_is_scalar(v) for v in items):
        return json.dumps(value if isinstance(value, dict) else list(value))
    return None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _exr_spec(clip: Clip, compression: str, attributes: dict[str, str], space=None) -> oiio.ImageSpec:
    spec = oiio.ImageSpec(clip.width, clip.height, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.alpha_channel = 3
    spec.attribute("compression", compression)
    spec.attribute("oiio:ColorSpace", space.interop_id if space is not None else LINEAR_COLORSPACE)
    if space is not None and space.chromaticities:
        spec.attribute("chromaticities", oiio.TypeDesc("float[8]"), space.chromaticities)
    spec.attribute("FramesPerSecond", oiio.TypeDesc("rational"), fps_rational(clip.fps))
    for name, value in attributes.items():
        spec.attribute(name, value)
    return spec


def fps_rational(fps: float) -> tuple[int, int]:
    """`23.976...` -> (24000, 1001), `24.0` -> (24, 1): `vfxgen.framerate.frame_rate` as a pair."""
    ratio = frame_rate(fps)
    return ratio.numerator, ratio.denominator


# --- reading ----------------------------------------------------------------------------------
def read_exr_header(path: os.PathLike[str] | str) -> dict[str, Any]:
    """All header attributes of one EXR by their OIIO names, plus derived keys.

    Derived: `width`, `height`, `channels` (tuple of names), `pixel_type` ("half"...), and
    `colorspace` (from `oiio:ColorSpace` or `colorInteropID`, "" when untagged).
    """
    inp = open_input(path)
    try:
        spec = inp.spec()
        header = {attr.name: attr.value for attr in spec.extra_attribs}
    finally:
        inp.close()
    header.update(
        width=spec.full_width,
        height=spec.full_height,
        channels=tuple(spec.channelnames),
        pixel_type=str(spec.format),
        colorspace=colorspace_of(spec),
    )
    return header


def read_exr_sequence(
    pattern_or_sequence: os.PathLike[str] | str | FrameSequence,
    frame_range: tuple[int, int] | None = None,
    fps: float | None = None,
    threads: int = 0,
) -> Clip:
    """Read a premultiplied scene-linear RGBA EXR sequence into a `Clip`, pixels kept as stored.

    Channels are picked by name (R, G, B, A; extra AOV channels are ignored); a file without A is an
    error, since a clip without a matte is not what vfxgen works on. fps: the argument if given (an
    explicit choice overrides the file), else the header (`vfxgen/fps`, then `FramesPerSecond`), else 8
    (the model's rate). `vfxgen/*` header entries of the first frame become the clip's metadata.
    """
    sequence = select_sequence(pattern_or_sequence, frame_range, EXR_EXTENSIONS)

    def read(frame: int) -> np.ndarray:
        return _read_rgba_frame(sequence.path(frame), frame)

    frames = stack_frames(map_frames(read, sequence.frames, threads), sequence)
    header = read_exr_header(sequence.path(sequence.frames[0]))
    metadata = metadata_from_header(header)
    metadata["source"] = sequence.pattern
    return Clip.from_linear_premultiplied(frames, fps or header_fps(header) or DEFAULT_FPS, metadata)


def _read_rgba_frame(path: Path, frame: int) -> np.ndarray:
    pixels, spec, fmt = read_pixels(path, frame)
    names = list(spec.channelnames)
    if fmt != "openexr":
        raise InputError(f"{where(path, frame)} is {fmt}, not OpenEXR", "give an .exr sequence")
    missing = [c for c in "RGBA" if c not in names]
    if missing:
        need = "alpha (A)" if missing == ["A"] else f"channels {','.join(missing)}"
        error = MissingAlphaError if missing == ["A"] else InputError
        raise error(
            f"{where(path, frame)} has {len(names)} channels ({','.join(names)}) and lacks {need}",
            "vfxgen reads RGBA EXRs: write R,G,B,A (premultiplied) from your compositor",
        )
    space = colorspace_of(spec)
    converted = _to_working(pixels, names, space)
    if converted is not None:
        return converted
    try:
        linear = colorspace_is_linear(space, fmt)
    except InputError as exc:
        raise InputError(f"{where(path, frame)}: {exc.message}", exc.hint) from None
    if not linear:
        raise InputError(
            f"{where(path, frame)} is tagged colour space {space!r}, not scene-linear",
            f"write the EXR as {LINEAR_COLORSPACE} (Nuke: Write node colorspace linear)",
        )
    return pixels[..., [names.index(c) for c in "RGBA"]]


def read_raw_rgba(path: os.PathLike[str] | str, frame: int | None = None) -> np.ndarray:
    """R,G,B,A of one EXR frame as stored (premultiplied; NaN/inf kept), float32 `[H, W, 4]`, for QC."""
    pixels, spec, fmt = read_pixels(path, frame)
    names = list(spec.channelnames)
    if fmt != "openexr" or any(c not in names for c in "RGBA"):
        raise InputError(f"{where(path, frame)} is not an RGBA OpenEXR ({','.join(names)})", "give an RGBA .exr")
    converted = _to_working(pixels, names, colorspace_of(spec))  # ACEScg etc. -> lin_rec709, as read_exr_sequence
    return converted if converted is not None else pixels[..., [names.index(c) for c in "RGBA"]]


def _to_working(pixels: np.ndarray, names: list[str], space: str) -> np.ndarray | None:
    """RGBA in lin_rec709 for an EXR tagged with another scene-linear OCIO space (ACEScg ...); else None."""
    if not space or space.lower() in ("lin_rec709_scene", "lin_rec709", "linear", "scene_linear"):
        return None
    from vfxgen.colorspaces import colorspace, is_working, linear_matrix

    try:
        resolved = colorspace(space)
    except UsageError:
        return None  # not in the config: colorspace_is_linear decides
    if not resolved.linear or is_working(resolved):
        return None
    rgba = pixels[..., [names.index(c) for c in "RGBA"]]
    rgba[..., :3] = rgba[..., :3] @ linear_matrix(resolved.name, LINEAR_COLORSPACE)
    return rgba


def header_fps(header: dict[str, Any]) -> float | None:
    """Frame rate stored in a header: `vfxgen/fps` (exact) else `FramesPerSecond`, else None."""
    text = header.get(METADATA_PREFIX + "fps")
    try:
        if text:
            return float(text)
        rational = header.get("FramesPerSecond")
        if rational:
            numerator, denominator = rational
            return numerator / denominator if denominator else None
    except (TypeError, ValueError):
        return None
    return None


def metadata_from_header(header: dict[str, Any]) -> dict[str, Any]:
    """`vfxgen/*` attributes -> clip metadata; the seed becomes an int again, everything else a string."""
    metadata: dict[str, Any] = {}
    for name, value in header.items():
        if not name.startswith(METADATA_PREFIX) or name in (METADATA_PREFIX + "fps",):
            continue
        key = name[len(METADATA_PREFIX) :]
        metadata[key] = value
    seed = metadata.get("seed")
    if isinstance(seed, str) and seed.lstrip("-").isdigit():
        metadata["seed"] = int(seed)
    return metadata
