"""Nuke scripts (`.nk`) beside a delivery, so a compositor opens one file.

    shot_script(...)      a Read of the shot's EXR sequence (the script sits in the shot directory)
    comp_script(...)      the element's Read merged `over` a Read of the plate (what `vfxgen composite` did)
    write_nuke_script()   write one atomically;  script_fps(path)  the Root's fps (for `vfxgen qc`)

Syntax: the `.nk` text format Nuke has saved since Nuke 6 (Tcl-like: `Class { knob value ... }`, nodes on
an execution stack, `inputs N` popping N of them), with the colour knobs of Nuke 14.0 and later (OCIO v2
colour management): Root `colorManagement OCIO` with Nuke's built-in CG config, Read `colorspace` set to the
config's name of the EXR's space (`Linear Rec.709 (sRGB)`, `ACEScg`; the same names in OCIO's CG and studio
configs and in a facility's `$OCIO`, which Nuke prefers when set). Knob values are Tcl-quoted: `[`, `]`,
`$`, `{`, `}`, `"` and `\\` escaped inside double quotes, so a path is never evaluated as an expression.

Paths: files inside the script's directory are written relative to it and the Root's project directory is
`[python {nuke.script_directory()}]`, so a shot directory can move; other files (a plate elsewhere) are
absolute. Stacking for the comp: the plate's Read is pushed first (input 0: B), the element's second
(input 1: A), then `Merge2 { inputs 2 operation over }`: A over B.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from vfxgen.atomic import atomic_path

__all__ = ["NukeRead", "comp_script", "script_fps", "shot_script", "write_nuke_script"]

NUKE_VERSION = "14.0 v1"
#: Nuke 14+'s built-in OCIO config (ACES 1.3 CG config); `$OCIO` takes precedence in Nuke when set.
NUKE_OCIO_CONFIG = "fn-nuke_cg-config-v1.0.0_aces-v1.3_ocio-v2.1"
PROJECT_DIRECTORY = "[python {nuke.script_directory()}]"
#: vfxgen's --fit policy -> Nuke Reformat `resize` type.
REFORMAT_RESIZE = {"stretch": "distort", "fit": "fit", "fill": "fill", "center": "none"}


@dataclass(frozen=True)
class NukeRead:
    """One Read node: `file` a still or a `####` pattern; `first`/`last` for sequences and movies."""

    file: str
    colorspace: str
    name: str
    width: int
    height: int
    first: int | None = None
    last: int | None = None
    premultiplied: bool = False


def tcl_quote(value: str) -> str:
    """A knob value as Nuke writes it: bare when safe, else double-quoted with Tcl specials escaped."""
    if value and re.fullmatch(r"[A-Za-z0-9_./:#%@+\-]+", value):
        return value
    return '"' + re.sub(r'([\\"\[\]${}])', r"\\\1", value) + '"'


def _format(width: int, height: int) -> str:
    return f"{width} {height} 0 0 {width} {height} 1 vfxgen_{width}x{height}"


def _fps(fps: float) -> str:
    """The rate as the EXR header and ProRes carry it: 23.976 -> 24000/1001 = 23.97602398."""
    from vfxgen.framerate import frame_rate

    return f"{float(frame_rate(fps)):.10g}"


def _node(cls: str, knobs: list[tuple[str, str]]) -> str:
    lines = [f"{cls} {{"] + [f" {name} {value}" for name, value in knobs] + ["}"]
    return "\n".join(lines)


def _read(read: NukeRead, xpos: int, ypos: int) -> str:
    knobs = [("inputs", "0"), ("file_type", read.file.rsplit(".", 1)[-1].lower()), ("file", tcl_quote(read.file))]
    knobs.append(("format", tcl_quote(_format(read.width, read.height))))
    if read.first is not None and read.last is not None:
        knobs += [("first", str(read.first)), ("last", str(read.last))]
        knobs += [("origfirst", str(read.first)), ("origlast", str(read.last)), ("origset", "true")]
    knobs += [("colorspace", tcl_quote(read.colorspace))]
    if read.premultiplied:
        knobs.append(("premultiplied", "true"))
    knobs += [("name", read.name), ("xpos", str(xpos)), ("ypos", str(ypos))]
    return _node("Read", knobs)


def _root(first: int, last: int, fps: float, width: int, height: int, relative: bool, script: str) -> str:
    knobs = [("inputs", "0"), ("name", tcl_quote(script))]  # Nuke renames the Root to the path it opened
    if relative:
        knobs.append(("project_directory", tcl_quote(PROJECT_DIRECTORY)))
    knobs += [
        ("frame", str(first)),
        ("first_frame", str(first)),
        ("last_frame", str(last)),
        ("lock_range", "true"),
        ("fps", _fps(fps)),
        ("format", tcl_quote(_format(width, height))),
        ("colorManagement", "OCIO"),
        ("OCIO_config", NUKE_OCIO_CONFIG),
    ]
    return _node("Root", knobs)


def _header(comment: str) -> str:
    return f"#! nuke -nx\n# {comment}\nversion {NUKE_VERSION}"


def path_for_script(file: Path, script_dir: Path) -> tuple[str, bool]:
    """`file` as the script should name it: relative (POSIX) when inside `script_dir`, else absolute."""
    file, script_dir = Path(os.path.abspath(file)), Path(os.path.abspath(script_dir))
    if script_dir == file.parent or script_dir in file.parents:
        return file.relative_to(script_dir).as_posix(), True
    return file.as_posix(), False


def shot_script(
    *,
    name: str,
    pattern: str,
    first: int,
    last: int,
    fps: float,
    width: int,
    height: int,
    colorspace: str,
    script: str = "",
) -> str:
    """The `.nk` written into a shot: Root (range, fps, format, OCIO) and a Read of `pattern` (relative)."""
    read = NukeRead(pattern, colorspace, f"Read_{_identifier(name)}", width, height, first, last, True)
    parts = [
        _header(f"vfxgen shot {name}: premultiplied scene-linear EXR in {colorspace}"),
        _root(first, last, fps, width, height, relative=True, script=script or f"{name}.nk"),
        _read(read, 0, 0),
        _node("Viewer", [("frame_range", f"{first}-{last}"), ("fps", _fps(fps)), ("name", "Viewer1")]),
    ]
    return "\n".join(parts) + "\n"


def comp_script(
    *,
    element: NukeRead,
    plate: NukeRead,
    fps: float,
    first: int,
    last: int,
    script: Path,
    fit: str = "error",
    relative: bool = False,
) -> str:
    """Element over plate at the plate's resolution: Read plate (B, input 0), Read element [-> Reformat to the
    plate's format] (A, input 1), Merge2 over."""
    nodes = [_read(plate, 0, -120), _read(element, 200, -120)]
    if fit in REFORMAT_RESIZE:
        nodes.append(
            _node(
                "Reformat",
                [
                    ("format", tcl_quote(_format(plate.width, plate.height))),
                    ("resize", REFORMAT_RESIZE[fit]),
                    ("black_outside", "true"),
                    ("name", "Reformat_element"),
                    ("xpos", "200"),
                    ("ypos", "-40"),
                ],
            )
        )
    merge = [("inputs", "2"), ("operation", "over"), ("name", "Merge_over"), ("label", '"A: element, B: plate"')]
    nodes.append(_node("Merge2", [*merge, ("xpos", "0"), ("ypos", "40")]))
    nodes.append(_node("Viewer", [("frame_range", f"{first}-{last}"), ("fps", _fps(fps)), ("name", "Viewer1")]))
    parts = [
        _header(f"vfxgen composite: {element.name} over {plate.name}"),
        _root(first, last, fps, plate.width, plate.height, relative=relative, script=Path(script).as_posix()),
        *nodes,
    ]
    return "\n".join(parts) + "\n"


def _identifier(text: str) -> str:
    """A Nuke node name: letters, digits, underscores, not starting with a digit."""
    cleaned = re.sub(r"\W", "_", text) or "element"
    return cleaned if not cleaned[0].isdigit() else "_" + cleaned


def write_nuke_script(path: str | os.PathLike[str], text: str) -> Path:
    """Write the script atomically (temporary sibling + rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def script_fps(path: str | os.PathLike[str]) -> float | None:
    """The Root node's `fps` knob of a `.nk` (None if absent): what `vfxgen qc` compares with shot.json."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    root = re.search(r"^Root \{\n(.*?)^\}", text, re.S | re.M)
    match = re.search(r"^ fps ([0-9.eE+-]+)$", root.group(1), re.M) if root else None
    return float(match.group(1)) if match else None


def write_shot_script(
    directory: Path, final: Path, name: str, exr_files: list[str], clip, start_frame: int, colorspace: str
) -> str:
    """Write `{name}.nk` into the shot being built in `directory` (it will live at `final`); returns its name."""
    from vfxgen.colorspaces import colorspace as lookup
    from vfxgen.io.sequence import pattern_for_frame

    pattern = pattern_for_frame(exr_files[0]).as_posix()  # `name.01001.exr`: padding grows past frame 9999
    script = f"{name}.nk"
    text = shot_script(
        name=name,
        pattern=pattern,
        first=start_frame,
        last=start_frame + clip.num_frames - 1,
        fps=clip.fps,
        width=clip.width,
        height=clip.height,
        colorspace=lookup(colorspace).name,
        script=(Path(os.path.abspath(final)) / script).as_posix(),
    )
    write_nuke_script(Path(directory) / script, text)
    return script


def comp_script_path(target) -> Path:
    """Where `vfxgen composite` puts its script for an output target: `comp.mov` -> `comp.nk`, a sequence
    directory `comp/` -> `comp.nk` beside it, a pattern `dir/comp.####.png` -> `dir/comp.nk`. Two outputs
    of one name in one folder (`comp/` and `comp.mp4`) share the script name: the second needs --overwrite."""
    if target.layout == "pattern":
        return Path(target.path) / f"{target.name}.nk"
    if target.layout == "directory":
        return Path(target.path).parent / f"{Path(target.path).name}.nk"
    return Path(target.path).with_suffix(".nk")


def check_comp_script_free(target, overwrite: bool) -> None:
    """Refuse, before any work, to replace an existing script without `overwrite`."""
    from vfxgen.errors import OutputExistsError

    path = comp_script_path(target)
    if path.is_dir():
        from vfxgen.errors import OutputError

        raise OutputError(f"{path} is a folder, not the composite's script", "choose another -o, or --no-nk")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists", "pass --overwrite to replace it, or --no-nk")


def element_exr_sequence(fg: str):
    """The EXR `FrameSequence` a composite's element was read from, or None (movies, PNG: no script)."""
    from vfxgen.io.sequence import find_sequence, is_pattern

    text = os.fspath(fg)
    path = Path(text)
    try:
        if is_pattern(text):
            return find_sequence(text) if text.lower().endswith(".exr") else None
        if path.is_dir():
            from vfxgen.io.sequence import exr_pattern_in

            manifest = path / "shot.json"
            if manifest.is_file():
                from vfxgen.io.manifest import listed_exr_pattern, read_manifest

                listed = listed_exr_pattern(path, read_manifest(path))
                if listed is not None:
                    return find_sequence(listed)
            pattern = exr_pattern_in(path)
            return find_sequence(pattern) if pattern else None
    except Exception:  # noqa: BLE001 - no script is better than a failed composite
        return None
    return None


def write_comp_script(
    fg: str,
    plate: str,
    target,
    element,
    *,
    fit: str = "error",
    plate_colorspace: str | None = None,
    overwrite: bool = False,
    plate_size: tuple[int, int] | None = None,
) -> Path | None:
    """Write the composite's Nuke script (element Read over plate Read); None when the element is no EXR."""
    from vfxgen.colorspaces import colorspace as lookup
    from vfxgen.io.exr import read_exr_header
    from vfxgen.io.sequence import find_sequence, is_pattern

    sequence = element_exr_sequence(fg)
    if sequence is None:
        return None
    script = comp_script_path(target)
    check_comp_script_free(target, overwrite)
    script_dir = script.parent
    header = read_exr_header(sequence.path(sequence.frames[0]))
    element_space = lookup(header.get("colorspace") or "lin_rec709_scene").name
    first, last = sequence.frames[0], sequence.frames[-1]
    element_file, element_rel = path_for_script(
        sequence.directory / f"{sequence.prefix}{'#' * sequence.padding}{sequence.suffix}", script_dir
    )
    read_element = NukeRead(
        element_file, element_space, "Read_element", element.width, element.height, first, last, True
    )

    plate_text = os.fspath(plate)
    if is_pattern(plate_text):
        plate_seq = find_sequence(plate_text)
        plate_path = plate_seq.directory / f"{plate_seq.prefix}{'#' * plate_seq.padding}{plate_seq.suffix}"
        plate_range = (plate_seq.frames[0], plate_seq.frames[-1])
    else:
        plate_path, plate_range = Path(plate_text), None
    suffix = plate_path.suffix.lower()
    if plate_colorspace is not None:
        plate_space = lookup(plate_colorspace).name
    elif suffix == ".exr":
        plate_space = lookup("lin_rec709_scene").name
    else:
        plate_space = lookup("srgb_rec709_scene").name
    from vfxgen.io.registry import suffixes_read

    if suffix in suffixes_read("movie"):
        plate_range = (1, element.num_frames)
    plate_file, plate_rel = path_for_script(plate_path, script_dir)
    plate_w, plate_h = _image_size(plate_seq.path(plate_seq.frames[0]) if is_pattern(plate_text) else plate_path)
    if plate_size is not None:  # (width, height) as the composite read it: movies have no header size here
        plate_w, plate_h = plate_size
    plate_w, plate_h = plate_w or element.width, plate_h or element.height
    read_plate = NukeRead(plate_file, plate_space, "Read_plate", plate_w, plate_h, *(plate_range or (None, None)))
    text = comp_script(
        element=read_element,
        plate=read_plate,
        fps=element.fps,
        first=first,
        last=last,
        script=Path(os.path.abspath(script)),
        fit=fit,
        relative=element_rel or plate_rel,
    )
    return write_nuke_script(script, text)


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file from its header; (0, 0) when OIIO cannot open it (a movie)."""
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        oiio.geterror()
        return 0, 0
    spec = inp.spec()
    inp.close()
    return spec.full_width, spec.full_height
