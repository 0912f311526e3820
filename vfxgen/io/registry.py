"""The one table of file formats, both directions (OpenTimelineIO-style adapters).

Readers: a `Reader` turns one kind of file into a `Clip`: `"sequence"` readers take a `FrameSequence`
(one file per frame), `"movie"` readers one file. `register_reader` maps suffixes (case-insensitive) to
a reader; `reader_for` looks one up (`read_clip` dispatches through it).

Writers: a `Writer` puts a `Clip` down as one deliverable: a `"sequence"` (one file per frame) or a
`"file"` (a movie, a contact sheet, a script). It says which `WriteSettings` apply to it, where a shot
keeps it (`shot_file`), which other deliverable it needs first, and what a shot does with it afterwards:
whether `read_clip(SHOT)` may take its frames (`read_as`), the frame rate `vfxgen qc` finds in it
(`stated_fps`), what `shot.json` says of it (`conventions`) and its line in `--format` help (`help`).
`write_clip` (`export`, `composite`) and `write_shot` (`generate`, `animate`, `matte`) both dispatch
through `writer_for`, and the shot readers (`io/read.py`, `io/delivered.py`), the manifest and the help
loop over `writers()`, so a new output format is one `register_writer` call here (its codec in its own
`io/` module).

The codec modules load on first use. Formats of a facility's own live in a separate package that declares
an entry point in the group `vfxgen.formats` (a module that registers on import, or a function to call):
they load on the first lookup, so the CLI offers them too (`docs/python-api.md`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfxgen.clip import Clip
from vfxgen.errors import InputError
from vfxgen.io.sequence import FrameSequence

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DEFAULT_FPS",
    "PLATE_STILL_SUFFIXES",
    "READ_AS",
    "Reader",
    "WriteSettings",
    "Writer",
    "formats_help",
    "reader_for",
    "readers",
    "register_reader",
    "register_writer",
    "sequence_folders",
    "shot_clip_writers",
    "shot_conventions",
    "suffix_key",
    "suffixes_read",
    "writer_for",
    "writers",
]

DEFAULT_FPS = 8.0  # the model's frame rate, for inputs that carry none


@dataclass(frozen=True)
class Reader:
    """How to read one kind of file into a `Clip`.

    `kind` is `"sequence"` (one file per frame: `read(sequence: FrameSequence, fps, require_alpha)`) or
    `"movie"` (one file: `read(path: Path, fps, require_alpha)`). `fps=None` means "what the file says".
    """

    name: str
    kind: str
    suffixes: tuple[str, ...]
    read: Callable[[Any, float | None, bool], Clip]


_READERS: dict[str, Reader] = {}


def suffix_key(suffix: str) -> str:
    """`EXR` / `.exr` -> `.exr`: how suffixes are compared everywhere."""
    suffix = suffix.lower()
    return suffix if suffix.startswith(".") else "." + suffix


def register_reader(reader: Reader, *, replace: bool = False) -> Reader:
    """Make `read_clip` dispatch `reader.suffixes` (case-insensitive) to `reader`."""
    if reader.kind not in ("sequence", "movie"):
        raise ValueError(f"reader kind must be 'sequence' or 'movie', got {reader.kind!r}")
    keys = [suffix_key(s) for s in reader.suffixes]
    taken = [k for k in keys if k in _READERS and _READERS[k].name != reader.name]
    if taken and not replace:
        raise ValueError(f"suffix {taken[0]} is already read by {_READERS[taken[0]].name!r}; pass replace=True")
    for key in keys:
        _READERS[key] = reader
    return reader


def readers() -> list[Reader]:
    """The registered readers, each once, in registration order."""
    _load_plugins()
    return list(dict.fromkeys(_READERS.values()))


def suffixes_read(kind: str) -> tuple[str, ...]:
    """The suffixes (`.exr`, ...) read as `kind` (`"sequence"` or `"movie"`)."""
    _load_plugins()
    return tuple(k for k, r in _READERS.items() if r.kind == kind)


def reader_for(path: str | os.PathLike[str], kinds: Sequence[str] = ("sequence", "movie")) -> Reader:
    """The reader for a file name (or bare suffix such as `.exr`); `InputError` naming what is readable."""
    _load_plugins()
    text = os.fspath(path)
    suffix = text if text.startswith(".") and os.sep not in text else Path(text).suffix
    reader = _READERS.get(suffix_key(suffix)) if suffix else None
    if reader is None or reader.kind not in kinds:
        known = " ".join(sorted(k for k, r in _READERS.items() if r.kind in kinds))
        what = f"suffix {suffix!r}" if suffix else "no suffix"
        raise InputError(f"cannot read {text}: {what} is not a clip format vfxgen reads", f"use one of: {known}")
    return reader


def _read_exr(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.exr import read_exr_sequence

    return read_exr_sequence(sequence, fps=fps)  # EXR always needs A: the reader says so per frame


def _read_png(sequence: FrameSequence, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.images import read_png_sequence

    return read_png_sequence(sequence, fps=fps or DEFAULT_FPS, require_alpha=require_alpha)


def _read_movie(path: Path, fps: float | None, require_alpha: bool) -> Clip:
    from vfxgen.io.video import read_movie

    return read_movie(path, fps=fps, require_alpha=require_alpha)


register_reader(Reader("exr", "sequence", (".exr",), _read_exr))
register_reader(Reader("png", "sequence", (".png",), _read_png))
register_reader(Reader("movie", "movie", (".mov", ".webm", ".mkv", ".mp4", ".m4v", ".avi", ".mxf"), _read_movie))

# Stills a plate may be (OpenImageIO reads them; colour handled by `vfxgen.io.images.read_image`).
PLATE_STILL_SUFFIXES = (".exr", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx", ".cin", ".tga", ".bmp", ".webp")


# --- writers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteSettings:
    """How deliverables are written; each `Writer` names the fields that apply to it (`applies`).

    `shot` and `written` are filled by `write_shot` only: the final shot directory and the files already
    written into it (relative), for deliverables that refer to others (the `.nk` reads the EXRs).
    """

    start_frame: int = 1001
    compression: str = "zip"
    allow_lossy: bool = False
    colorspace: str = "lin_rec709_scene"
    alpha: str = "straight"
    shot: Path | None = None
    written: dict[str, Any] = field(default_factory=dict)


# The settings a user sets per format, with the flag that sets them (for the one-line refusal).
FORMAT_SETTINGS = {
    "compression": "--compression",
    "allow_lossy": "--allow-lossy",
    "colorspace": "--colorspace",
    "alpha": "--alpha",
}


# How a shot's deliverable is read back: "sequence" (frames in a sub-folder) or "movie" (one file) are
# clips `read_clip(SHOT)` may take; None is a sidecar (script, preview, contact sheet), never read as the clip.
READ_AS = ("sequence", "movie", None)


@dataclass(frozen=True)
class Writer:
    """How to write one kind of deliverable, and what a shot does with it afterwards.

    `write(clip, path, name, settings) -> files`: for a `"sequence"` `path` is the directory and `name`
    the frames' name (`name.1001.exr`); for a `"file"` `path` is the file and `name` is None.
    `label` names the format in messages ("EXR"); `applies` the `FORMAT_SETTINGS` it uses; `check`
    validates them before any work; `shot_file` is where a shot keeps it (`{name}` = the shot's name;
    None: not a shot deliverable); `requires` the deliverables a shot must write first; `standalone`:
    `write_clip` (`vfxgen export`) offers it; `implied_by`: file suffixes of `-o` that mean this format.

    The shot layout, so that readers, manifest and help need no list of format names:
    `read_as` (`READ_AS`): how `read_clip(SHOT)` reads it back: sequences before movies, each in
    registration order, the first the manifest lists wins; None: a sidecar. `read_stored(sequence)`: the
    frames as stored, premultiplied scene-linear RGBA with NaN kept, for `vfxgen qc` (a `"sequence"` whose
    codec can keep them; else QC reads through `read_clip`). `stated_fps(path)`: the frame rate the
    delivered file states (the first frame of a sequence), which QC compares with `shot.json`;
    `fps_source` names where QC found it (default the format name). `conventions(settings)`: the entry
    `shot.json` keeps under `conventions[name]`, written when the shot carries the format, or always with
    `conventions_always` (schema vfxgen.shot/1 has always described exr, prores and png). `help`: the few
    words `--format` help shows after the name ("Nuke script"; empty when the name says it).
    """

    name: str
    layout: str
    suffix: str
    label: str
    write: Callable[[Clip, Path, str | None, WriteSettings], list[Path]]
    applies: tuple[str, ...] = ()
    check: Callable[[WriteSettings], None] | None = None
    shot_file: str | None = None
    requires: tuple[str, ...] = ()
    standalone: bool = True
    implied_by: tuple[str, ...] = ()
    read_as: str | None = None
    read_stored: Callable[[FrameSequence], np.ndarray] | None = None
    stated_fps: Callable[[Path], float | None] | None = None
    fps_source: str = ""
    conventions: Callable[[WriteSettings], dict[str, Any]] | None = None
    conventions_always: bool = False
    help: str = ""

    @property
    def rate_source(self) -> str:
        """Where QC says it found this deliverable's frame rate ("exr header", "prores")."""
        return self.fps_source or self.name


_WRITERS: dict[str, Writer] = {}


def register_writer(writer: Writer, *, replace: bool = False) -> Writer:
    """Make `write_clip` and (with a `shot_file`) `write_shot` offer `writer.name`."""
    if writer.layout not in ("sequence", "file"):
        raise ValueError(f"writer layout must be 'sequence' or 'file', got {writer.layout!r}")
    if writer.name in _WRITERS and not replace:
        raise ValueError(f"format {writer.name!r} is already written by a writer; pass replace=True")
    unknown = [s for s in writer.applies if s not in FORMAT_SETTINGS]
    if unknown:
        raise ValueError(f"unknown write setting {unknown[0]!r}; known: {', '.join(FORMAT_SETTINGS)}")
    _check_read_back(writer)
    _WRITERS[writer.name] = writer
    return writer


def _check_read_back(writer: Writer) -> None:
    """A read-back that cannot match the layout is a plugin author's mistake: refuse it at registration,
    not when a shot is read."""
    if writer.read_as not in READ_AS:
        raise ValueError(f"writer read_as must be 'sequence', 'movie' or None, got {writer.read_as!r}")
    if writer.read_as is not None and writer.read_as != {"sequence": "sequence", "file": "movie"}[writer.layout]:
        raise ValueError(f"a {writer.layout!r} writer cannot be read back as a {writer.read_as!r}")
    if writer.read_stored is not None and writer.read_as != "sequence":
        raise ValueError("read_stored reads frames: it needs read_as='sequence'")


def writers(*, shot: bool = False, standalone: bool = False, plugins: bool = True) -> list[Writer]:
    """The registered writers in registration order (`shot=True`: those a shot can carry; `standalone=True`:
    those `write_clip` offers; `plugins=False`: without loading plugins, for import-time constants)."""
    if plugins:
        _load_plugins()
    return [w for w in _WRITERS.values() if (not shot or w.shot_file) and (not standalone or w.standalone)]


def writer_for(fmt: str, *, shot: bool = False) -> Writer:
    """The writer of a format name; `UsageError` listing the formats on offer."""
    _load_plugins()
    writer = _WRITERS.get(fmt.strip().lower())
    offered = writers(shot=shot, standalone=not shot)
    if writer is None or writer not in offered:
        from vfxgen.errors import UsageError

        raise UsageError(f"unknown output format {fmt!r}", f"use one of {', '.join(w.name for w in offered)}")
    return writer


def shot_clip_writers() -> list[Writer]:
    """The shot deliverables `read_clip(SHOT)` may take, in the order it tries them: sequences (every frame
    exact) before movies, each in registration order."""
    shot = writers(shot=True)
    return [w for w in shot if w.read_as == "sequence"] + [w for w in shot if w.read_as == "movie"]


def sequence_folders() -> tuple[str, ...]:
    """The sub-folders a shot keeps its read-back sequences in (`rgba`, `png`): where a shot that lost its
    manifest is searched for frames."""
    folders = (Path(w.shot_file).parent.as_posix() for w in shot_clip_writers() if w.read_as == "sequence")
    return tuple(dict.fromkeys(f for f in folders if f != "."))


def shot_conventions(formats: Sequence[str], settings: WriteSettings) -> dict[str, dict[str, Any]]:
    """`shot.json`'s `conventions`: how to read each deliverable that declares them, in registration order."""
    return {
        w.name: w.conventions(settings)
        for w in writers(shot=True)
        if w.conventions is not None and (w.conventions_always or w.name in formats)
    }


def formats_help(shot: bool) -> str:
    """The formats `--format` offers, from the table (plugins included): `shot=True` the comma list a shot
    takes ("exr, nk (Nuke script), prores, ..."); `shot=False` the one choice `export` takes ("exr, ... or
    contact"). Built when the CLI is imported, before its warning handler: a broken plugin's warning waits
    for the first format lookup, as it would without this."""
    _load_plugins(warn=False)
    offered = writers(shot=shot, standalone=not shot, plugins=False)
    names = [f"{w.name} ({w.help})" if w.help else w.name for w in offered]
    if shot or len(names) < 2:
        return ", ".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _write_exr(clip: Clip, directory: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.exr import write_exr_sequence

    return write_exr_sequence(
        clip,
        directory,
        name or directory.name,
        settings.start_frame,
        settings.compression,
        allow_lossy=settings.allow_lossy,
        colorspace=settings.colorspace,
    )


def _check_exr(settings: WriteSettings) -> None:
    from vfxgen.colorspaces import exr_colorspace
    from vfxgen.io.exr import check_compression

    check_compression(settings.compression, settings.allow_lossy)
    exr_colorspace(settings.colorspace)


def _read_exr_stored(sequence: FrameSequence) -> np.ndarray:
    import numpy as np

    from vfxgen.io.exr import read_raw_rgba

    return np.stack([read_raw_rgba(sequence.path(frame), frame) for frame in sequence.frames])


def _exr_fps(path: Path) -> float | None:
    from vfxgen.io.exr import header_fps, read_exr_header

    return header_fps(read_exr_header(path))


def _exr_conventions(settings: WriteSettings) -> dict[str, Any]:
    from vfxgen.colorspaces import exr_colorspace

    space = exr_colorspace(settings.colorspace)
    return {
        "colorspace": space.interop_id,  # the interop ID in the EXR header, e.g. lin_ap1_scene
        "ocio_name": space.name,  # e.g. ACEScg
        "alpha": "premultiplied",
        "pixel_type": "half",
        "channels": "R,G,B,A",
        "compression": settings.compression,
    }


def _write_png(clip: Clip, directory: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.images import write_png_sequence

    return write_png_sequence(clip, directory, name or directory.name, settings.start_frame)


def _write_prores(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.video import write_prores

    return [write_prores(clip, path, alpha=settings.alpha)]


def _check_prores(settings: WriteSettings) -> None:
    if settings.alpha not in ("straight", "premultiplied"):
        from vfxgen.errors import UsageError

        raise UsageError(f"unknown --alpha {settings.alpha!r}", "use straight or premultiplied")


def _prores_conventions(settings: WriteSettings) -> dict[str, Any]:
    return {"profile": "4444", "alpha": settings.alpha, "matrix": "bt709", "transfer": "srgb-encoded"}


def _png_conventions(settings: WriteSettings) -> dict[str, Any]:
    return {"bit_depth": 16, "alpha": "straight", "colorspace": "srgb_rec709_scene"}


def _movie_fps(path: Path) -> float | None:
    from vfxgen.io.video import stream_frame_rate

    return stream_frame_rate(path)


def _script_fps(path: Path) -> float | None:
    from vfxgen.io.nuke import script_fps

    return script_fps(path)


def _write_webm(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.video import write_webm

    return [write_webm(clip, path)]


def _write_preview(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.video import write_preview

    return [write_preview(clip, path)]


def _write_contact(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.contact import write_contact_sheet

    return [write_contact_sheet(clip, path, start_frame=settings.start_frame)]


def _write_shot_script(clip: Clip, path: Path, name: str | None, settings: WriteSettings) -> list[Path]:
    from vfxgen.io.nuke import write_shot_script

    assert settings.shot is not None, "the shot .nk is written by write_shot"
    shot_name = path.name[: -len(".nk")]
    write_shot_script(
        path.parent, settings.shot, shot_name, settings.written["exr"], clip, settings.start_frame, settings.colorspace
    )
    return [path]


# Shot order is registration order: a deliverable comes after those it `requires`.
register_writer(
    Writer(
        "exr",
        "sequence",
        ".exr",
        "EXR",
        _write_exr,
        ("compression", "allow_lossy", "colorspace"),
        _check_exr,
        shot_file="rgba/{name}.####.exr",
        read_as="sequence",
        read_stored=_read_exr_stored,
        stated_fps=_exr_fps,
        fps_source="exr header",
        conventions=_exr_conventions,
        conventions_always=True,
    )
)
register_writer(
    Writer(
        "nk",
        "file",
        ".nk",
        "Nuke script",
        _write_shot_script,
        ("colorspace",),
        shot_file="{name}.nk",
        requires=("exr",),
        standalone=False,
        stated_fps=_script_fps,
        fps_source="nuke script",
        help="Nuke script",
    )
)
register_writer(
    Writer(
        "prores",
        "file",
        ".mov",
        "ProRes",
        _write_prores,
        ("alpha",),
        _check_prores,
        shot_file="{name}_prores4444.mov",
        implied_by=(".mov",),
        read_as="movie",
        stated_fps=_movie_fps,
        conventions=_prores_conventions,
        conventions_always=True,
    )
)
register_writer(
    Writer(
        "png",
        "sequence",
        ".png",
        "PNG",
        _write_png,
        shot_file="png/{name}.####.png",
        read_as="sequence",
        conventions=_png_conventions,
        conventions_always=True,
    )
)
register_writer(
    Writer(
        "webm",
        "file",
        ".webm",
        "WebM",
        _write_webm,
        shot_file="{name}.webm",
        implied_by=(".webm",),
        read_as="movie",
        stated_fps=_movie_fps,
    )
)
register_writer(
    Writer("preview", "file", ".mp4", "preview", _write_preview, shot_file="preview.mp4", implied_by=(".mp4",))
)
register_writer(Writer("contact", "file", ".png", "contact sheet", _write_contact, shot_file="contact.png"))


# --- plugins ------------------------------------------------------------------------------------

PLUGIN_GROUP = "vfxgen.formats"
_plugins_loaded = False
_plugin_failures: list[str] = []  # not yet told: `formats_help` loads before the CLI can print warnings


def _load_plugins(*, warn: bool = True) -> None:
    """Load the `vfxgen.formats` entry points once (before the first lookup, not at import: a plugin may
    import `vfxgen.io` itself). A plugin that fails is skipped with one `VfxgenWarning` line, given by the
    first lookup that may warn (`warn=False` keeps it for the next)."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        _plugin_failures.extend(_load_entry_points())
    while warn and _plugin_failures:
        import warnings

        from vfxgen.errors import VfxgenWarning

        warnings.warn(_plugin_failures.pop(0), VfxgenWarning, stacklevel=2)


def _load_entry_points() -> list[str]:
    """Import (and call, if callable) every `vfxgen.formats` entry point; the failures, one line each."""
    from importlib.metadata import entry_points

    failures = []
    for point in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = point.load()
            if callable(loaded):
                loaded()
        except Exception as exc:  # noqa: BLE001 - someone else's package must not stop vfxgen
            failures.append(f"format plugin {point.name!r} ({point.value}) was skipped: {exc}")
    return failures
