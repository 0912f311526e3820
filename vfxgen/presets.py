"""VFX element presets: a prompt template plus generation defaults and look hints, stored as TOML.

Why TOML files and not Python: a preset is data a compositor edits and a TD copies to a shared folder
(`$VFXGEN_PRESETS`) for a whole show; TOML is read with `tomllib` and never executed, so a preset
folder on a network share cannot run code on a farm node. Every file is validated strictly (unknown
keys, wrong types, a prompt without `{subject}`), because a typo such as `step = 20` that silently
fell back to a default would waste a night of renders.

Schema (one file `NAME.toml`, NAME = `[a-z0-9][a-z0-9_-]*` and equal to the `name` key)::

    name = "fire"                      # required, str, equal to the file name stem
    description = "..."                # required, str, one line for `vfxgen presets list`
    prompt = "a {subject} of ..."      # required, str, must contain `{subject}`; other braces are literal
    default_subject = "fireball"       # required, str, used when no subject is given
    negative = "..."                   # optional, str, negative prompt (default "")

    [defaults]                         # optional table; each key optional; explicit CLI options win
    frames = 49                        # int, 4k + 1 (CogVideoX)
    fps = 8                            # number > 0
    guidance = 6.0                     # number >= 0
    steps = 50                         # int >= 1
    seed = 42                          # int >= 0
    clear_black = true                 # bool: clear the alpha where the colour is black (light, splashes)
    key_black = 0.005                  # number >= 0: clear_black's key clears at or below this luminance
    key_white = 0.1                    # number > key_black: ... and keeps the model's alpha from this one

    [look]                             # optional, free-form hints for people and downstream tools;
    colors = ["#ff6a00", "#ffd34d"]    # known keys are type-checked: colors = list of "#rrggbb",
    softness = 0.4                     # softness / glow = number in [0, 1], blend = "over" | "plus" |
    glow = 0.8                         # "screen", motion = str; other keys may hold a str, number,
    blend = "plus"                     # bool or a list of those.
    motion = "rising, flickering"

Search order for a name: the given `search_dirs` (CLI `--presets-dir`), then `$VFXGEN_PRESETS`
(os.pathsep-separated), then the presets shipped with vfxgen; the first `NAME.toml` found wins, so a
user preset overrides a built-in of the same name.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from vfxgen.errors import InputError, UsageError
from vfxgen.request import preset_keys

ENV_VAR = "VFXGEN_PRESETS"

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_LINE_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")

_REQUIRED = ("name", "description", "prompt", "default_subject")
_TOP_KEYS = (*_REQUIRED, "negative", "caption", "defaults", "look", "qc")
#: Settings a preset may default; the value is the type after normalisation.
#: Settings a preset's `[defaults]` may set -> their type (declared in `vfxgen.request.SETTINGS`).
DEFAULT_KEYS: dict[str, Any] = preset_keys()
_BLENDS = ("over", "plus", "screen")


@dataclass
class Preset:
    """One validated preset. `defaults` only holds keys the file sets; `source` is where it came from."""

    name: str
    description: str
    prompt: str
    default_subject: str
    negative: str = ""
    caption: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    look: dict[str, Any] = field(default_factory=dict)
    qc: dict[str, float] = field(default_factory=dict)  # QC limits this element relaxes (`vfxgen.qc.Thresholds`)
    source: str = ""
    builtin: bool = False

    def prompt_for(self, subject: str | None, style: str = "full") -> str:
        """The prompt for a model's prompt style (its vfxgen.json `prompt_style`).

        `full` (CogVideoX: long descriptive prompts) renders the `prompt` template with the subject.
        `transparent` (Wan-Alpha) renders it too, says the background is transparent instead of black, and
        ends in "Realistic style.", as Wan-Alpha's training captions do.
        `caption` is for models trained on short element captions (the bundled demo model), which a long
        template pushes off what they learnt: the subject you typed is sent as it is (your words, no
        template), and without one the preset's `caption` (a short element name), else its default subject."""
        if style == "caption":
            return (subject or "").strip() or self.caption or self.default_subject
        if style == "transparent":  # Wan-Alpha's training prompts: the background is said to be transparent
            text = re.sub(r",?\s*isolated on (a )?black( background)?", "", self.render_prompt(subject), flags=re.I)
            text = text.strip().rstrip(".")
            return f"The background of this video is transparent. {text[:1].upper()}{text[1:]}. Realistic style."
        return self.render_prompt(subject)

    def render_prompt(self, subject: str | None = None) -> str:
        """The prompt with `{subject}` filled in (the preset's default subject when none is given).

        Plain substitution, not `str.format`, so braces elsewhere in a prompt stay literal and a
        subject containing braces cannot break rendering.
        """
        text = (subject or "").strip() or self.default_subject
        return self.prompt.replace("{subject}", text)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings as the file defines them, plus `source` and `builtin`."""
        return {
            "name": self.name,
            "description": self.description,
            "prompt": self.prompt,
            "default_subject": self.default_subject,
            "negative": self.negative,
            "caption": self.caption,
            "defaults": dict(self.defaults),
            "look": dict(self.look),
            "qc": dict(self.qc),
            "source": self.source,
            "builtin": self.builtin,
        }


# --- where presets live ------------------------------------------------------------------------


def builtin_dir() -> Traversable:
    """The presets shipped with vfxgen (package `vfxgen.builtin_presets`, the repo's `presets/`).

    Falls back to the repository folder when vfxgen runs from a source checkout that was never
    installed (the package mapping only exists once pip has installed the project).
    """
    from importlib.resources import files

    try:
        return files("vfxgen.builtin_presets")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "presets"


def search_path(search_dirs: Iterable[str | os.PathLike[str]] | None = None) -> list[Traversable]:
    """Folders searched for presets, highest priority first: `search_dirs`, `$VFXGEN_PRESETS`, built-ins.

    A folder that does not exist is an error rather than skipped: a mistyped `--presets-dir` or a
    share missing on one farm node would otherwise silently render with different prompts.
    """
    dirs: list[Traversable] = []
    for entry in search_dirs or ():
        path = Path(entry).expanduser()
        if not path.is_dir():
            raise InputError(f"presets folder {path} does not exist", "check --presets-dir")
        dirs.append(path)
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if not entry.strip():
            continue
        path = Path(entry.strip()).expanduser()
        if not path.is_dir():
            raise InputError(
                f"presets folder {path} (from ${ENV_VAR}) does not exist",
                f"fix or unset ${ENV_VAR}",
            )
        dirs.append(path)
    dirs.append(builtin_dir())
    return dirs


def _toml_files(folder: Traversable) -> dict[str, Traversable]:
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return {}
    # Not `is_file()`: a broken link or a symlink loop named x.toml must show up as broken, not vanish.
    return {e.name[: -len(".toml")]: e for e in entries if e.name.endswith(".toml") and not e.is_dir()}


def preset_names(search_dirs: Iterable[str | os.PathLike[str]] | None = None) -> list[str]:
    """Names of all presets on the search path (from file names; nothing is parsed)."""
    names: set[str] = set()
    for folder in search_path(search_dirs):
        names.update(n for n in _toml_files(folder) if _NAME_RE.match(n))
    return sorted(names)


# --- loading and validation ----------------------------------------------------------------------


def _looks_like_path(value: str | os.PathLike[str]) -> bool:
    if isinstance(value, os.PathLike):
        return True
    return value.endswith(".toml") or "/" in value or os.sep in value


def load_preset(
    name_or_path: str | os.PathLike[str], search_dirs: Iterable[str | os.PathLike[str]] | None = None
) -> Preset:
    """Load a preset by name (search path, see module docstring) or from a `.toml` file path."""
    if _looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise InputError(f"preset file {path} does not exist", "check the path")
        return _load_file(path, expected_name=None, builtin=False)

    name = str(name_or_path)
    if not _NAME_RE.match(name):
        raise UsageError(
            f"invalid preset name {name!r}",
            "names use lower-case letters, digits, '_' and '-' (or give a path to a .toml file)",
        )
    dirs = search_path(search_dirs)
    for index, folder in enumerate(dirs):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return _load_file(candidate, expected_name=name, builtin=index == len(dirs) - 1)
    available = preset_names(search_dirs)
    raise UsageError(
        f"unknown preset {name!r}; available: {', '.join(available) or 'none'}",
        f"run `vfxgen presets list`, or add {name}.toml to --presets-dir or ${ENV_VAR}",
    )


def list_presets(search_dirs: Iterable[str | os.PathLike[str]] | None = None) -> list[Preset]:
    """Every preset on the search path, sorted by name; a user preset hides a built-in of the same name.

    Any broken file raises `InputError`: a listing that skipped it would hide the problem until render.
    """
    dirs = search_path(search_dirs)
    chosen: dict[str, tuple[Traversable, bool]] = {}
    for index, folder in enumerate(dirs):
        for name, file in _toml_files(folder).items():
            chosen.setdefault(name, (file, index == len(dirs) - 1))
    return [_load_file(f, expected_name=n, builtin=b) for n, (f, b) in sorted(chosen.items())]


def _load_file(file: Traversable, expected_name: str | None, builtin: bool) -> Preset:
    label = str(file)
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"preset {label} is not UTF-8 text", "save it as UTF-8") from exc
    except OSError as exc:
        raise InputError(f"cannot read preset {label}: {exc.strerror or exc}", "check the file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _LINE_RE.search(message)
        if where:
            reason = message[: where.start()]
            raise InputError(
                f"preset {label} has a TOML syntax error at line {where[1]}, column {where[2]}: {reason}",
                "fix that line (https://toml.io)",
            ) from exc
        raise InputError(f"preset {label} is not valid TOML: {message}", "fix the syntax") from exc
    return _validate(data, text, label, expected_name, builtin)


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """Best-effort line number of `key = ...` in `[table]` (None: top level), for error messages."""
    current: str | None = None
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header[1]
        elif current == table and key_re.match(line):
            return number
    return None


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _validate(data: dict[str, Any], text: str, label: str, expected_name: str | None, builtin: bool) -> Preset:
    def bad(key: str, problem: str, hint: str, table: str | None = None) -> InputError:
        line = _line_of(text, table, key)
        dotted = f"{table}.{key}" if table else key
        at = f" (line {line})" if line else ""
        return InputError(f"preset {label}: key '{dotted}'{at} {problem}", hint)

    def want_str(key: str, value: Any, table: str | None = None) -> str:
        if not isinstance(value, str):
            raise bad(key, f"must be a string, got {_type_name(value)} {value!r}", "quote the value", table)
        return value

    for key in data:
        if key not in _TOP_KEYS:
            raise bad(key, "is not a preset setting", f"allowed keys: {', '.join(_TOP_KEYS)}")
    for key in _REQUIRED:
        if key not in data:
            raise InputError(f"preset {label}: required key '{key}' is missing", f'add {key} = "..."')

    name = want_str("name", data["name"])
    if not _NAME_RE.match(name):
        raise bad("name", f"{name!r} is not a valid preset name", "use lower-case letters, digits, '_', '-'")
    if expected_name is not None and name != expected_name:
        raise bad(
            "name",
            f"is {name!r} but the file is {expected_name}.toml",
            f'rename the file or set name = "{expected_name}"',
        )
    prompt = want_str("prompt", data["prompt"])
    if "{subject}" not in prompt:
        raise bad("prompt", "has no {subject} placeholder", "add {subject} where the element's subject goes")
    default_subject = want_str("default_subject", data["default_subject"])
    if not default_subject.strip():
        raise bad("default_subject", "is empty", 'give a default subject, e.g. "fireball"')

    return Preset(
        name=name,
        description=want_str("description", data["description"]),
        prompt=prompt,
        default_subject=default_subject.strip(),
        negative=want_str("negative", data.get("negative", "")),
        caption=want_str("caption", data.get("caption", "")).strip(),
        defaults=_validate_defaults(data.get("defaults", {}), bad),
        look=_validate_look(data.get("look", {}), bad),
        qc=_validate_qc(data.get("qc", {}), bad),
        source=label,
        builtin=builtin,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _validate_defaults(table: Any, bad: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise bad("defaults", f"must be a table, got {_type_name(table)}", "write it as a [defaults] table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in DEFAULT_KEYS:
            raise bad(key, "is not a default setting", f"allowed: {', '.join(DEFAULT_KEYS)}", "defaults")
        if DEFAULT_KEYS[key] is bool:
            if not isinstance(value, bool):
                raise bad(key, f"must be true or false, got {_type_name(value)} {value!r}", "write true or false",
                          "defaults")
            out[key] = value
            continue
        if DEFAULT_KEYS[key] is int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad(
                    key, f"must be an integer, got {_type_name(value)} {value!r}", "write a whole number", "defaults"
                )
        elif not _is_number(value):
            raise bad(key, f"must be a number, got {_type_name(value)} {value!r}", "write a number", "defaults")
        if key == "frames" and (value < 1 or (value - 1) % 4):
            raise bad(key, f"must be 4k + 1 (CogVideoX), got {value}", "use e.g. 25, 49 or 81", "defaults")
        if key == "steps" and value < 1:
            raise bad(key, f"must be at least 1, got {value}", "use e.g. 50", "defaults")
        if key in ("seed", "guidance") and value < 0:
            raise bad(key, f"must not be negative, got {value}", "use a value >= 0", "defaults")
        if key == "fps" and value <= 0:
            raise bad(key, f"must be positive, got {value}", "use e.g. 8", "defaults")
        if key in ("key_black", "key_white") and not 0 <= value < math.inf:
            raise bad(key, f"must be a luminance >= 0, got {value}", "use e.g. 0.005 and 0.1", "defaults")
        out[key] = value if DEFAULT_KEYS[key] is int else float(value)
    if out.get("key_black", 0.0) >= out.get("key_white", math.inf):
        raise bad("key_black", f"must be below key_white ({out['key_white']:g}), got {out['key_black']:g}",
                  "use e.g. key_black = 0.005 and key_white = 0.1", "defaults")
    return out


def model_preset_defaults(hints: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    """A model's own tuning of presets: its vfxgen.json `preset_defaults` table, `{preset: {setting: value}}`
    with the settings a preset's `[defaults]` may hold, checked the same way.

    Why: a preset's sampling is tuned for CogVideoX-5B; another model (the small demo, a fine-tune) can have
    its own sweet spot for an element (the demo's smoke turns bluish white above guidance ~3), and that
    knowledge belongs with the model, not in every show's copy of the preset. A bad table is one line naming
    the model's vfxgen.json.
    """
    table = hints.get("preset_defaults", {})

    def bad(key: str, problem: str, hint: str, inner: str | None = None) -> InputError:
        dotted = ".".join(part for part in ("preset_defaults", inner, key) if part)
        return InputError(f"{model}/vfxgen.json: key '{dotted}' {problem}", hint)

    if not isinstance(table, dict):
        raise bad("", f"must be an object, got {_type_name(table)}", 'write {"smoke": {"guidance": 2.5}}')
    out: dict[str, dict[str, Any]] = {}
    for name, values in table.items():
        if not isinstance(values, dict):
            raise bad(name, f"must be an object, got {_type_name(values)}", 'write {"guidance": 2.5}')
        out[name] = _validate_defaults(values, lambda key, problem, hint, _t=None, n=name: bad(key, problem, hint, n))
    return out


def _validate_qc(table: Any, bad: Any) -> dict[str, float]:
    """`[qc]`: limits of `vfxgen qc` this element relaxes (dark smoke: `black_area = 0.25`); recorded in the
    shot's shot.json, which `vfxgen qc` reads back."""
    from dataclasses import fields

    from vfxgen.qc import Thresholds

    if not isinstance(table, dict):
        raise bad("qc", f"must be a table, got {_type_name(table)}", "write it as a [qc] table")
    known = [f.name for f in fields(Thresholds)]
    out: dict[str, float] = {}
    for key, value in table.items():
        if key not in known:
            raise bad(key, "is not a QC limit", f"allowed: {', '.join(known)}", "qc")
        if not _is_number(value) or value < 0:
            raise bad(key, f"must be a number >= 0, got {_type_name(value)} {value!r}", "write a number", "qc")
        out[key] = float(value)
    return out


def _validate_look(table: Any, bad: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise bad("look", f"must be a table, got {_type_name(table)}", "write it as a [look] table")

    def scalar(value: Any) -> bool:
        return isinstance(value, str | bool) or _is_number(value)

    for key, value in table.items():
        if key == "colors":
            if not (isinstance(value, list) and all(isinstance(c, str) and _COLOR_RE.match(c) for c in value)):
                raise bad(
                    key, f'must be a list of "#rrggbb" strings, got {value!r}', 'e.g. colors = ["#ff6a00"]', "look"
                )
        elif key in ("softness", "glow"):
            if not _is_number(value) or not 0 <= value <= 1:
                raise bad(key, f"must be a number in [0, 1], got {value!r}", "e.g. 0.5", "look")
        elif key == "blend":
            if value not in _BLENDS:
                raise bad(
                    key,
                    f"must be one of {', '.join(_BLENDS)}, got {value!r}",
                    "plus for light, over for smoke and dust",
                    "look",
                )
        elif key == "motion":
            if not isinstance(value, str):
                raise bad(key, f"must be a string, got {_type_name(value)}", "describe it in words", "look")
        elif not (scalar(value) or (isinstance(value, list) and all(scalar(v) for v in value))):
            raise bad(
                key,
                f"must be a string, number, boolean or a list of those, got {_type_name(value)}",
                "flatten it",
                "look",
            )
    return dict(table)


# --- merging with command-line options ---------------------------------------------------------


def describe(preset: Preset) -> list[tuple[str, str]]:
    """(label, value) rows that show a preset to a person, in file order (used by `presets show`)."""
    rows = [
        ("name", preset.name),
        ("source", preset.source + (" (built-in)" if preset.builtin else "")),
        ("description", preset.description),
        ("prompt", preset.prompt),
        ("default_subject", preset.default_subject),
        ("example", preset.render_prompt(None)),
        ("negative", preset.negative),
    ]
    rows += [(f"defaults.{k}", _fmt(v)) for k, v in preset.defaults.items()]
    rows += [(f"look.{k}", _fmt(v)) for k, v in preset.look.items()]
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = [
    "DEFAULT_KEYS",
    "model_preset_defaults",
    "ENV_VAR",
    "Preset",
    "builtin_dir",
    "describe",
    "list_presets",
    "load_preset",
    "preset_names",
    "search_path",
]
