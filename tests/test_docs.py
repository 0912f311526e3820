"""The docs stay true: generated CLI reference and exit-code table up to date, no broken relative links."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Linked from README.md but written by someone else; until they exist a missing file is not an error.
# Every other link target must exist (remove a name from here once its page is in the repository).
NOT_YET_WRITTEN = {"docs/default-model.md", "docs/performance.md"}

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> str:
    """Markdown without fenced code blocks and inline code (links there are examples, not links)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _anchors(path: Path) -> set[str]:
    """GitHub-style anchors of every heading in a Markdown file (duplicates get -1, -2, ...)."""
    seen: dict[str, int] = {}
    anchors = set()
    for title in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # [text](link) -> text
        slug = "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c in "-_")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> list[str]:
    text = _prose(path.read_text(encoding="utf-8"))
    return _LINK.findall(text) + _REF_DEF.findall(text)


def test_cli_reference_is_up_to_date():
    gen = _generator()
    expected = gen.render_cli_md()
    current = gen.CLI_MD.read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is out of date: run `python scripts/gen_cli_docs.py`"


def test_cli_reference_covers_every_command():
    gen = _generator()
    paths = gen.command_paths()
    names = {" ".join(p) for p in paths}
    for group in ("presets", "train", "dataset"):  # groups with sub-commands are walked too
        assert group in names and any(n.startswith(f"{group} ") for n in names), names
    text = gen.CLI_MD.read_text(encoding="utf-8")
    for path in paths:
        assert f"## {' '.join(('vfxgen', *path))}\n" in text


def _block(gen, name: str) -> str:
    path, _ = gen.BLOCKS[name]
    text = path.read_text(encoding="utf-8")
    begin, end = gen.markers(name)
    return text[text.index(begin) : text.index(end)]


@pytest.mark.parametrize("name", ["exit-codes", "builtin-presets"])
def test_generated_tables_are_up_to_date(name):
    gen = _generator()
    path, render = gen.BLOCKS[name]
    assert _block(gen, name).split("\n", 1)[1].rstrip("\n") == render(), (
        f"{path.relative_to(ROOT)}: the {name} table is stale: run `python scripts/gen_cli_docs.py`"
    )


def test_farm_exit_code_table_matches_exit_codes():
    from vfxgen.errors import EXIT_CODES

    rows = re.findall(r"^\| (\d+) \| (.+?) \|", _block(_generator(), "exit-codes"), re.M)
    assert {int(code): meaning for code, meaning in rows} == EXIT_CODES


def test_presets_table_lists_every_builtin():
    names = re.findall(r"^\| `([a-z0-9_-]+)` \|", _block(_generator(), "builtin-presets"), re.M)
    assert names == sorted(p.stem for p in (ROOT / "presets").glob("*.toml"))


def test_generator_check_mode_passes():
    assert _generator().main(["--check"]) == 0


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path):
    broken = []
    for target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        relative = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else str(resolved)
        if not resolved.exists():
            if relative not in NOT_YET_WRITTEN:
                broken.append(f"{target} (no file {relative})")
            continue
        if fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(f"{target} (no heading #{fragment} in {relative})")
    assert not broken, f"{path.relative_to(ROOT)}: broken links: {broken}"
