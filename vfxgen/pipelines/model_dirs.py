"""Where models live: the bundled default model, a diffusers model directory of any installed backbone
(`vfxgen.backbones`: the family recognises the folder and describes it), a LoRA file.

Everything here is cheap (reads JSON, lists files) so the CLI can reject a wrong `--model` or `--lora`
before any weights are loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from vfxgen.backbones import PICKLE_SUFFIXES, ModelInfo, backbone_for, check_safetensors_dir, read_json  # noqa: F401
from vfxgen.errors import ModelError
from vfxgen.highlights import highlights_from

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "default_model"
BUNDLED_LORA_NAME = "transpixar_lora.safetensors"
#: Optional vfxgen hints in a model directory: how the model wants its prompts (see docs/presets.md).
MODEL_HINTS = "vfxgen.json"


def resolve_model(model: str | os.PathLike | None) -> ModelInfo:
    """Check a model directory (or the bundled default when `model` is None) and describe it."""
    if model is None:
        if not (DEFAULT_MODEL_DIR / "model_index.json").is_file():
            raise ModelError(
                "no --model given and the bundled default model is not installed",
                "pass --model DIR with a diffusers CogVideoX model (e.g. THUDM/CogVideoX-5b downloaded)",
            )
        path = DEFAULT_MODEL_DIR
    else:
        path = Path(model).expanduser()
    if path.exists() and not path.is_dir():
        raise ModelError(
            f"--model {path} is a file, not a model directory",
            "pass the diffusers CogVideoX directory (the one holding model_index.json); a LoRA file goes to --lora",
        )
    if not path.is_dir():
        raise ModelError(f"model directory {path} does not exist", "pass --model DIR of a diffusers CogVideoX model")
    index_file = path / "model_index.json"  # absent: a family's own layout, if one recognises the folder
    index = read_json(index_file, "model_index.json") if index_file.is_file() else None
    backbone = backbone_for(path, index)  # the family that runs it (vfxgen.backbones): its own fields
    lora = path / BUNDLED_LORA_NAME
    hints = read_json(path / MODEL_HINTS, MODEL_HINTS) if (path / MODEL_HINTS).is_file() else {}
    return ModelInfo(
        path=path,
        bundled_lora=lora if lora.is_file() else None,
        prompt_style=str(hints.get("prompt_style", backbone.prompt_style)),
        preset_negative_prompts=bool(hints.get("preset_negative_prompts", True)),
        hints=hints,
        backbone=backbone.name,
        bundled=path == DEFAULT_MODEL_DIR,
        family_fps=backbone.fps,
        highlights=highlights_from(hints.get("highlights"), f"{path}/{MODEL_HINTS}"),
        **backbone.describe(path, index),
    )


WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


def model_weight_hashes(info: ModelInfo) -> dict[str, str]:
    """sha256 of every weight file in a model folder, by path inside it: what shot.json records so a
    delivery can name exactly the weights a shot was made with (`file_sha256` caches them, on disk for large
    files, so a 14B model is hashed once per machine, not once per shot)."""
    files = sorted(p for p in info.path.rglob("*") if p.is_file() and p.suffix.lower() in WEIGHT_SUFFIXES)
    return {p.relative_to(info.path).as_posix(): file_sha256(p) for p in files}


def resolve_lora(lora: str | os.PathLike | None, info: ModelInfo) -> Path:
    """The LoRA to use: `--lora FILE`, else the model directory's bundled one; safetensors only."""
    if lora is None:
        if info.bundled_lora is None:
            from vfxgen.backbones import backbone_named

            hint = backbone_named(info.backbone).lora_hint
            raise ModelError(f"{info.path} has no bundled RGBA weights ({BUNDLED_LORA_NAME})", hint)
        return info.bundled_lora
    path = Path(lora).expanduser()
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelError(
            f"{path} is a pickle weight file",
            "vfxgen loads safetensors only: convert it to .safetensors first",
        )
    if path.suffix.lower() != ".safetensors":
        raise ModelError(f"{path} is not a .safetensors file", "pass the LoRA as a .safetensors file")
    if not path.is_file():
        raise ModelError(f"LoRA file {path} does not exist", "check the --lora path")
    return path


_HASHES: dict[tuple[str, int, int], str] = {}
#: Files at least this large are remembered on disk too (`hash_cache_file`): a farm runs one process per task.
DISK_CACHE_MIN_BYTES = 64 * 2**20


def hash_cache_file() -> Path:
    """`$VFXGEN_CACHE/sha256.json` (default `~/.cache/vfxgen/`): sha256 of large weight files by path, size
    and modification time, so each farm task does not rehash gigabytes of weights."""
    root = os.environ.get("VFXGEN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vfxgen")
    return Path(root) / "sha256.json"


def file_sha256(path: Path, limit: int | None = None) -> str:
    """Content hash for the manifest (so a shot names exactly the weights it was made with).

    Cached by path, size and mtime: in the process (a batch hashes each file once) and, for large files, on
    disk (a 28 GB checkpoint takes minutes; a farm runs many processes). A file changed in place gets a new
    mtime or size and is hashed again."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        stored = _disk_cache().get(key[0]) if stat.st_size >= DISK_CACHE_MIN_BYTES else None
        if isinstance(stored, dict) and (stored.get("size"), stored.get("mtime_ns")) == key[1:]:
            _HASHES[key] = str(stored.get("sha256"))
        else:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            _HASHES[key] = digest.hexdigest()
            if stat.st_size >= DISK_CACHE_MIN_BYTES:
                _remember(key, _HASHES[key])
    return _HASHES[key][:limit] if limit else _HASHES[key]


def _disk_cache() -> dict:
    try:
        data = json.loads(hash_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(key: tuple[str, int, int], digest: str) -> None:
    """Add one hash to the disk cache (write-then-rename); a cache that cannot be written is skipped."""
    from vfxgen.atomic import atomic_path

    cache = hash_cache_file()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        data = _disk_cache()
        data[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": digest}
        with atomic_path(cache, what="hash cache") as tmp:
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    except Exception:  # noqa: BLE001 - a read-only home or a racing writer only costs a rehash next time
        return
