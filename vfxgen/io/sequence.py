"""Frame sequences as explicit data: a directory, a name, a padding and a list of frame numbers.

Every reader and writer goes through `FrameSequence` so no module formats frame names by hand
(OpenTimelineIO's lesson): `shot.1001.exr` is `FrameSequence(dir, "shot.", ".exr", 4, [1001, ...])`.

Patterns a user may type (the conventions of Nuke, OIIO and printf):

- `shot.####.exr`   one `#` per digit (`##` = 2 digits); a single `#` means "any padding".
- `shot.%04d.exr`   printf; `%d` means "any padding".
- `shot.@@@@.exr`   OIIO style, one `@` per digit; a single `@` means "any padding".
- `...:1001-1010`   an explicit inclusive frame range (or `:1001` for one frame) after the pattern.
- a directory       that holds exactly one frame sequence.

"Any padding" is detected from the files on disk, because that is the only place it is known.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from vfxgen.errors import InputError, UsageError

ANY_PADDING: int | None = None  # `padding` value of a parsed pattern whose padding comes from disk

# `#...#`, `@...@` or `%0Nd` / `%d`: the frame-number token of a pattern.
_TOKEN = re.compile(r"#+|@+|%(0?\d+)?d")
# A trailing explicit range: `:1001-1010` or `:1001` (negative numbers are caught by the parser below).
_RANGE_SUFFIX = re.compile(r"^(?P<pattern>.*[^:]):(?P<range>-?\d+(?:-+\d+)?)$")
# A numbered file inside a directory: prefix, digits, extension (`shot_v2.0001.exr` -> `shot_v2.`).
#: A numbered frame file, `name.1001.exr` -> prefix `name.`, digits `1001`, suffix `.exr`: the one definition
#: every reader and writer of sequences uses.
NUMBERED_FILE = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\.[^.]+)$")


def frame_file_regex(name: str, suffix: str) -> re.Pattern[str]:
    """The frames vfxgen writes for a sequence named `name` with `suffix`: `name.<digits><suffix>`."""
    return re.compile(re.escape(f"{name}.") + r"\d+" + re.escape(suffix))


_MAX_LISTED_RUNS = 8


@dataclass(frozen=True)
class FrameSequence:
    """Frames `{prefix}{frame:0{padding}d}{suffix}` in `directory`; prefix keeps its dot (`"shot."`)."""

    directory: Path
    prefix: str
    suffix: str
    padding: int
    frames: list[int]

    def path(self, frame: int) -> Path:
        """The file of one frame (the frame need not be in `frames`)."""
        return self.directory / f"{self.prefix}{frame:0{self.padding}d}{self.suffix}"

    def paths(self) -> list[Path]:
        """The files of all frames, in frame order as listed."""
        return [self.path(frame) for frame in self.frames]

    @property
    def pattern(self) -> str:
        """The sequence as a `#` pattern (`/dir/shot.####.exr`), for messages and manifests."""
        return str(self.directory / f"{self.prefix}{'#' * self.padding}{self.suffix}")

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def __len__(self) -> int:
        return len(self.frames)

    def __str__(self) -> str:
        span = f"{self.first}-{self.last}" if self.frames else "empty"
        return f"{self.pattern}:{span}"


class ParsedPattern(NamedTuple):
    """A pattern split into parts; `padding` is None when it must be detected from disk."""

    directory: Path
    prefix: str
    suffix: str
    padding: int | None
    frame_range: tuple[int, int] | None


# --- frame lists -------------------------------------------------------------------------------
def format_frames(frames: Iterable[int], max_runs: int = _MAX_LISTED_RUNS) -> str:
    """Compact frame list for messages: `[1003, 1004, 1005, 1010]` -> `"1003-1005, 1010"`."""
    runs: list[tuple[int, int]] = []
    for frame in sorted(set(frames)):
        if runs and frame == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs[:max_runs])
    if len(runs) > max_runs:
        rest = sum(b - a + 1 for a, b in runs[max_runs:])
        text += f", ... ({rest} more)"
    return text


def parse_frame_range(text: str) -> tuple[int, int]:
    """`"1001-1010"` -> `(1001, 1010)`; `"1001"` -> `(1001, 1001)`. Checked like `check_frame_range`."""
    match = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", text)
    if not match:
        raise InputError(f"cannot read frame range {text!r}", "write it as FIRST-LAST, e.g. 1001-1049, or one frame")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    return check_frame_range((first, last))


def check_frame_range(frame_range: Sequence[int]) -> tuple[int, int]:
    """Validate an inclusive `(first, last)` range: two non-negative integers, first <= last."""
    if len(frame_range) != 2:
        raise InputError(f"a frame range needs (first, last), got {tuple(frame_range)}", "give two frames")
    first, last = (int(f) for f in frame_range)
    if first < 0 or last < 0:
        raise InputError(f"negative frame in range {first}-{last}", "frame numbers start at 0; use e.g. 1001-1049")
    if first > last:
        raise InputError(f"reversed frame range {first}-{last}", f"write it first-last: {last}-{first}")
    return first, last


# --- patterns ----------------------------------------------------------------------------------
def parse_pattern(pattern: str | os.PathLike[str]) -> ParsedPattern:
    """Split `dir/shot.####.exr[:1001-1010]` into directory, prefix, suffix, padding and range.

    Only the file name may hold the frame token, and exactly one; a single `#`/`@` or `%d` gives
    `padding=None` (detect from disk).
    """
    text, frame_range = _split_range(os.fspath(pattern))
    directory, name = os.path.split(text)
    tokens = list(_TOKEN.finditer(name))
    if len(tokens) != 1:
        what = "no frame token" if not tokens else f"{len(tokens)} frame tokens"
        raise InputError(
            f"sequence pattern {text!r} has {what}",
            "name the frames like shot.####.exr, shot.%04d.exr or shot.@@@@.exr",
        )
    token = tokens[0]
    return ParsedPattern(
        Path(directory or "."), name[: token.start()], name[token.end() :], _token_padding(token), frame_range
    )


def _split_range(text: str) -> tuple[str, tuple[int, int] | None]:
    """`shot.####.exr:1001-1010` -> (`shot.####.exr`, (1001, 1010)); also after a directory."""
    match = _RANGE_SUFFIX.match(text)
    if not match:
        return text, None
    head = match.group("pattern")
    if not (_TOKEN.search(os.path.basename(head)) or os.path.isdir(head)):
        return text, None
    return head, parse_frame_range(match.group("range"))


def _token_padding(token: re.Match[str]) -> int | None:
    text = token.group(0)
    if text.startswith("%"):
        width = token.group(1)
        return int(width) if width and int(width) > 1 else ANY_PADDING
    return len(text) if len(text) > 1 else ANY_PADDING


def is_pattern(text: str | os.PathLike[str]) -> bool:
    """True if the file name holds a frame token (`####`, `%04d`, `@@@@`), with or without a range."""
    head, _ = _split_range(os.fspath(text))
    return bool(_TOKEN.search(os.path.basename(head)))


# --- finding sequences on disk -----------------------------------------------------------------
def find_sequence(
    pattern: str | os.PathLike[str],
    frame_range: tuple[int, int] | None = None,
    *,
    extensions: Sequence[str] | None = None,
) -> FrameSequence:
    """The frames on disk that match `pattern` (or the one sequence in a directory).

    With a range (argument or `:first-last` suffix) every frame in it must exist; without one the
    frames found must be contiguous. A missing frame is an error that lists them all, compactly:
    a clip with a hole would play back wrong, and the user should learn it before the render farm does.
    `extensions` (e.g. `(".exr",)`) restricts which files a directory scan considers.
    """
    text = os.fspath(pattern)
    head, head_range = _split_range(text)
    if os.path.isdir(head) and not _TOKEN.search(os.path.basename(head)):
        parsed = _single_sequence_in(Path(head), extensions)._replace(frame_range=head_range)
    else:
        parsed = parse_pattern(text)
    frame_range = _merge_ranges(text, parsed.frame_range, frame_range)
    found = _scan(parsed)
    if not found:
        raise InputError(f"no frames match {text}", _nearby_hint(parsed))
    padding = _detect_padding(found, parsed)
    frames = sorted(found.values())
    if frame_range is None:
        wanted = list(range(frames[0], frames[-1] + 1))
    else:
        wanted = list(range(frame_range[0], frame_range[1] + 1))
    sequence = FrameSequence(parsed.directory, parsed.prefix, parsed.suffix, padding, wanted)
    missing = sorted(set(wanted) - set(frames))
    if missing:
        span = f"{wanted[0]}-{wanted[-1]}"
        raise InputError(
            f"{sequence.pattern}: missing frames {format_frames(missing)} (of {span})",
            "render or copy the missing frames, or choose a range that exists"
            + ("" if frame_range else f"; on disk: {format_frames(frames)}"),
        )
    return sequence


def _merge_ranges(
    text: str, from_pattern: tuple[int, int] | None, from_argument: tuple[int, int] | None
) -> tuple[int, int] | None:
    if from_argument is not None:
        from_argument = check_frame_range(from_argument)
    if from_pattern and from_argument and from_pattern != from_argument:
        raise UsageError(
            f"{text} names frames {from_pattern[0]}-{from_pattern[1]} but the frame range asks for "
            f"{from_argument[0]}-{from_argument[1]}",
            "give the range in one place only",
        )
    return from_pattern or from_argument


def _scan(parsed: ParsedPattern) -> dict[str, int]:
    """Frame-number strings on disk -> frame numbers, for files that match prefix and suffix."""
    try:
        names = os.listdir(parsed.directory)
    except FileNotFoundError:
        raise InputError(f"directory {parsed.directory} does not exist", "check the path") from None
    except OSError as exc:
        raise InputError(f"cannot list {parsed.directory}: {exc.strerror}", "check permissions") from None
    regex = re.compile(re.escape(parsed.prefix) + r"(\d+)" + re.escape(parsed.suffix))
    found = {}
    for name in names:
        match = regex.fullmatch(name)
        if match and not name.startswith("."):
            found[match.group(1)] = int(match.group(1))
    if parsed.padding is not None:  # `####` accepts 0042 and, past the padding, 10000
        other = sorted((s for s, f in found.items() if s != f"{f:0{parsed.padding}d}"), key=len)
        if other and len(other) < len(found):  # shot.1.exr beside shot.0002.exr: reading some drops frames
            examples = ", ".join(parsed.prefix + s + parsed.suffix for s in other[:3])
            raise InputError(
                f"frames in {parsed.directory} mix paddings: {examples} are not {parsed.padding}-digit",
                "rename them to one padding (e.g. shot.0001.exr), or move the others away",
            )
        found = {s: f for s, f in found.items() if s == f"{f:0{parsed.padding}d}"}  # none: "no frames match"
    return found


def _detect_padding(found: dict[str, int], parsed: ParsedPattern) -> int:
    """One padding that spells every frame string found, else an error naming the mix."""
    if parsed.padding is not None:
        return parsed.padding
    zero_padded = {len(s) for s in found if len(s) > 1 and s.startswith("0")}
    candidates = zero_padded or {min(len(s) for s in found)}
    if len(candidates) == 1:
        padding = candidates.pop()
        if all(s == f"{f:0{padding}d}" for s, f in found.items()):
            return padding
    examples = ", ".join(parsed.prefix + s + parsed.suffix for s in sorted(found, key=len)[:3])
    raise InputError(
        f"frames in {parsed.directory} mix paddings ({examples})",
        "rename them to one padding or give the padding explicitly, e.g. shot.####.exr",
    )


def _single_sequence_in(directory: Path, extensions: Sequence[str] | None) -> ParsedPattern:
    """The one numbered sequence in `directory`; an error if there are none or several."""
    allowed = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions or ()}
    groups: dict[tuple[str, str], int] = {}
    for name in os.listdir(directory):
        match = NUMBERED_FILE.fullmatch(name)
        if not match or name.startswith("."):
            continue
        if allowed and match.group("suffix").lower() not in allowed:
            continue
        key = (match.group("prefix"), match.group("suffix"))
        groups[key] = groups.get(key, 0) + 1
    if len(groups) == 1:
        prefix, suffix = next(iter(groups))
        return ParsedPattern(directory, prefix, suffix, ANY_PADDING, None)
    kinds = f" {'/'.join(sorted(allowed))}" if allowed else ""
    if not groups:
        raise InputError(f"no{kinds} frame sequence in directory {directory}", "give a pattern like shot.####.exr")
    listed = ", ".join(f"{p}#{s}" for p, s in sorted(groups)[:4])
    raise InputError(
        f"directory {directory} holds {len(groups)} sequences ({listed})",
        "give the one you mean as a pattern, e.g. dir/shot.####.exr",
    )


def _nearby_hint(parsed: ParsedPattern) -> str:
    """Say what *is* there, so a typo in the name or extension is obvious."""
    try:
        names = sorted(n for n in os.listdir(parsed.directory) if NUMBERED_FILE.fullmatch(n))
    except OSError:
        return "check the path"
    if not names:
        return f"{parsed.directory} holds no numbered frames; check the path"
    groups = sorted({f"{m['prefix']}#{m['suffix']}" for n in names if (m := NUMBERED_FILE.fullmatch(n))})
    pad = "" if parsed.padding is None else f" with {parsed.padding}-digit padding"
    return f"looked for {parsed.prefix}#{parsed.suffix}{pad}; found {', '.join(groups[:4])}"


# --- output ------------------------------------------------------------------------------------
def output_padding(start_frame: int, count: int) -> int:
    """Digits for frame numbers of a written sequence: 4 (`shot.1001.exr`), or enough for the last frame."""
    return max(4, len(str(start_frame + max(count, 1) - 1)))


def sequence_for_output(
    directory: str | os.PathLike[str],
    name: str,
    suffix: str,
    start_frame: int,
    count: int,
    padding: int | None = None,
) -> FrameSequence:
    """The frames a writer will create: `{name}.{frame:0{padding}d}{suffix}` from `start_frame` on.

    The padding (default `output_padding`: 4, or more when the last frame needs it) is the same for every
    frame, so `--start-frame 9998` never mixes `out.9999.exr` with `out.10000.exr`.
    """
    if not name or os.sep in name or (os.altsep and os.altsep in name):
        raise UsageError(f"invalid sequence name {name!r}", "use a plain file name such as 'shot'")
    if start_frame < 0:
        raise UsageError(f"start frame must be >= 0, got {start_frame}", "use e.g. --start-frame 1001")
    if count < 1:
        raise UsageError(f"a sequence needs at least one frame, got {count}", "give a clip with frames")
    padding = output_padding(start_frame, count) if padding is None else padding
    if padding < len(str(start_frame + count - 1)):
        raise UsageError(
            f"padding {padding} cannot spell frame {start_frame + count - 1}", "use a smaller --start-frame"
        )
    suffix = suffix if suffix.startswith(".") else "." + suffix
    frames = list(range(start_frame, start_frame + count))
    return FrameSequence(Path(directory), f"{name}.", suffix, padding, frames)


def pattern_for_frame(path: str | os.PathLike[str]) -> Path | None:
    """`dir/elem.1001.exr` -> `dir/elem.####.exr` (one `#` per digit of the name); None when the name is not
    `NAME.DIGITS.EXT`."""
    path = Path(path)
    parts = path.name.rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return path.with_name(f"{parts[0]}.{'#' * len(parts[1])}.{parts[2]}")


def exr_pattern_in(directory: str | os.PathLike[str]) -> str | None:
    """`dir/rgba/elem.####.exr` for the first numbered EXR in `directory` or its `rgba/` (a shot without its
    manifest, a render folder); None when there is none. Cheap: lists names, opens nothing."""
    directory = Path(directory)
    for candidate in (directory, directory / "rgba"):
        names = sorted(n for n in os.listdir(candidate) if n.lower().endswith(".exr")) if candidate.is_dir() else []
        if names:
            pattern = pattern_for_frame(candidate / names[0])
            return str(pattern) if pattern is not None else None
    return None
