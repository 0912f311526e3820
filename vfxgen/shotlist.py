"""Shot lists for batch and farm jobs: prompt files, TOML/JSON shot lists, seed wedges, shards.

Pure data handling (no model, no I/O beyond reading the list), so a pipeline TD can build the same job
list in Python that `vfxgen generate --prompts FILE --seeds 1-8 --shard 2/4` builds.

Precedence for a setting: the shot-list entry, then the command-line option, then the preset, then
vfxgen's default.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vfxgen.errors import InputError, UsageError
from vfxgen.request import shot_list_keys

#: Keys a shot-list entry may set, with their types: its name and prompt, and the settings
#: `vfxgen.request.SETTINGS` lets a shot list set.
SHOT_KEYS: dict[str, type | tuple[type, ...]] = {"name": str, "prompt": str, **shot_list_keys()}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class ShotSpec:
    """One entry of a shot list before presets and model defaults are applied."""

    name: str
    prompt: str | None = None
    preset: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def slug(index: int, prompt: str) -> str:
    """`0001_burning_fireball`: sortable, filesystem-safe, recognisable."""
    text = "".join(c if c.isalnum() else "_" for c in prompt.lower())
    text = "_".join(part for part in text.split("_") if part)[:48] or "shot"
    return f"{index + 1:04d}_{text}"


def check_shot_name(name: str, source: str = "the shot list") -> str:
    """Shot names become directory names under the output root: no paths, no `..`, nothing hidden."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", "..") or ".." in name:
        raise InputError(
            f"shot name {name!r} in {source} is not a plain directory name",
            "use letters, digits, '.', '_' and '-' only (no '/', '..' or absolute paths)",
        )
    return name


def read_shot_list(path: str | os.PathLike) -> list[ShotSpec]:
    """`.txt` (one prompt per line, `#` comments), `.toml` (`[[shot]]` tables) or `.json` (a list, or
    `{"shots": [...]}`). Parsed as data, never executed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"shot list {path} does not exist", "check the --prompts path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a directory, not a shot list", "pass a .txt, .toml or .json file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read shot list {path}: {exc}", "pass a UTF-8 text file") from exc
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            entries = tomllib.loads(text).get("shot", [])
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"shot list {path} is not valid TOML: {exc}", "fix the file ([[shot]] tables)") from exc
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"shot list {path} is not valid JSON: {exc}", "fix the file") from exc
        entries = data.get("shots", []) if isinstance(data, dict) else data
    else:
        prompts = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        entries = [{"prompt": p} for p in prompts]
    if not isinstance(entries, list) or not entries:
        raise InputError(f"shot list {path} has no shots", "one prompt per line, or [[shot]] entries with a prompt")
    specs = [_spec(entry, i, path) for i, entry in enumerate(entries)]
    names = [s.name for s in specs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise InputError(f"shot name {duplicate!r} appears twice in {path}", "give every shot its own name")
    return specs


def _spec(entry: Any, index: int, path: Path) -> ShotSpec:
    where = f"{path} shot {index + 1}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not a table", "write each shot as a table with a prompt")
    for key, value in entry.items():
        if key not in SHOT_KEYS:
            raise InputError(f"{where} has an unknown key {key!r}", f"use {', '.join(SHOT_KEYS)}")
        wanted = SHOT_KEYS[key]
        if not isinstance(value, wanted) or (isinstance(value, bool) and wanted is not bool):
            raise InputError(f"{where}: {key} has the wrong type ({type(value).__name__})", "check the value")
    if "prompt" not in entry and "preset" not in entry:
        raise InputError(f"{where} has neither a prompt nor a preset", 'add prompt = "..."')
    name = check_shot_name(entry["name"], str(path)) if "name" in entry else slug(index, entry.get("prompt", ""))
    settings = {k: v for k, v in entry.items() if k not in ("name", "prompt", "preset")}
    return ShotSpec(name=name, prompt=entry.get("prompt"), preset=entry.get("preset"), settings=settings)


def parse_seeds(text: str) -> list[int]:
    """`"1-8"`, `"1,3,7"` or `"1-4,10"` -> seeds in order, each once."""
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            if "-" in part[1:]:
                first, last = (int(x) for x in part.split("-", 1))
                if last < first:
                    raise UsageError(f"seed range {part} runs backwards", f"write it as {last}-{first}")
                if last - first >= 10_000:
                    raise UsageError(f"seed range {part} makes {last - first + 1} shots", "use a range below 10,000")
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
    except ValueError as exc:
        raise UsageError(f"cannot read --seeds {text!r}", "use e.g. --seeds 1-8 or --seeds 1,5,9") from exc
    if not seeds or any(s < 0 for s in seeds):
        raise UsageError(f"--seeds {text!r} gives no valid seeds", "seeds are non-negative integers, e.g. 1-8")
    return list(dict.fromkeys(seeds))


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/4"` -> (2, 4): this task is shard 2 of 4 (1-based, as a farm task index usually reads)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise UsageError(f"cannot read --shard {text!r}", "use I/N with 1 <= I <= N, e.g. --shard 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text} is out of range", "use I/N with 1 <= I <= N, e.g. --shard 1/4")
    return index, count


def shard_from_environment() -> tuple[int, int] | None:
    """Under `accelerate launch` / `torchrun` (RANK, WORLD_SIZE set), each process takes its own shard."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        return None
    return (rank + 1, world) if world > 1 else None


def take_shard(items: list, index: int, count: int) -> list:
    """Round-robin: shard I of N takes items I-1, I-1+N, ...; N shards cover the list exactly once."""
    return items[index - 1 :: count]
