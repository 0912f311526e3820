"""Clips in and out: one entry point per direction, dispatched by file suffix (OpenTimelineIO-style).

    read_clip(src)              RGBA `Clip` from a shot directory, an image sequence, a movie with
                                alpha, or a TransPixar rgb.mp4 + alpha.mp4 pair (`alpha_video=`)
    read_footage(src)           footage to pull a matte from: RGBA, an EXR plate without A as colour over black
    read_plate(src)             a background plate (still, sequence or movie) as straight sRGB RGB
    write_clip(clip, out, fmt)  one deliverable (EXR/PNG sequence, ProRes, WebM, preview, contact sheet),
                                refusing to clobber or to write into its own input, written atomically

Modules: `registry` (the format table: suffix -> reader, format -> writer), `manifest` (reading
shot.json), `read` (read_clip, read_plate, source_paths), `write`
(plan_output, check_output, write_clip), `sequence` (frame patterns), and the codecs `exr`, `images`,
`video`, `contact`. This package only re-exports their public names. It imports no torch or
diffusers; the codec modules (OpenImageIO, PyAV, OpenCV) are loaded on first use (`__getattr__`),
so `import vfxgen.io` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vfxgen.io.read import read_clip, read_footage, read_plate, source_paths
from vfxgen.io.registry import (
    _READERS,  # noqa: F401  private, still importable from here as before
    DEFAULT_FPS,  # noqa: F401
    PLATE_STILL_SUFFIXES,  # noqa: F401
    Reader,
    Writer,
    WriteSettings,
    reader_for,
    readers,
    register_reader,
    register_writer,
    writer_for,
    writers,
)
from vfxgen.io.sequence import (
    FrameSequence,
    check_frame_range,  # noqa: F401
    find_sequence,
    is_pattern,  # noqa: F401
    parse_frame_range,
    parse_pattern,  # noqa: F401
)
from vfxgen.io.write import OUTPUT_FORMATS, OutputTarget, check_output, format_for_output, plan_output, write_clip

if TYPE_CHECKING:  # re-exported lazily through __getattr__ below
    from vfxgen.io.contact import write_contact_sheet
    from vfxgen.io.exr import read_exr_header, read_exr_sequence, write_exr_sequence
    from vfxgen.io.images import read_image, read_png_sequence, write_png, write_png_sequence
    from vfxgen.io.video import read_movie, read_transpixar_pair, write_preview, write_prores, write_webm

__all__ = [
    "OUTPUT_FORMATS",
    "FrameSequence",
    "OutputTarget",
    "Reader",
    "WriteSettings",
    "Writer",
    "check_output",
    "find_sequence",
    "format_for_output",
    "parse_frame_range",
    "plan_output",
    "read_clip",
    "read_footage",
    "read_exr_header",
    "read_exr_sequence",
    "read_image",
    "read_movie",
    "read_plate",
    "read_png_sequence",
    "read_transpixar_pair",
    "reader_for",
    "readers",
    "register_reader",
    "register_writer",
    "source_paths",
    "write_clip",
    "write_contact_sheet",
    "write_exr_sequence",
    "write_png",
    "write_png_sequence",
    "write_preview",
    "write_prores",
    "write_webm",
    "writer_for",
    "writers",
]

_LAZY = {
    "read_exr_header": "vfxgen.io.exr",
    "read_exr_sequence": "vfxgen.io.exr",
    "write_exr_sequence": "vfxgen.io.exr",
    "read_image": "vfxgen.io.images",
    "read_png_sequence": "vfxgen.io.images",
    "write_png": "vfxgen.io.images",
    "write_png_sequence": "vfxgen.io.images",
    "read_movie": "vfxgen.io.video",
    "read_transpixar_pair": "vfxgen.io.video",
    "write_preview": "vfxgen.io.video",
    "write_prores": "vfxgen.io.video",
    "write_webm": "vfxgen.io.video",
    "write_contact_sheet": "vfxgen.io.contact",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vfxgen.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
