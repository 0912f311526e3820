"""`vfxgen formats`: the format table, both directions, as this installation has it (plugins included).

A pipeline TD who installed a format plugin (`vfxgen.formats` entry point) sees here whether it loaded and
what `export -o` / `--format` will accept; `--json` gives the same to a script.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer


def format_rows() -> list[dict]:
    """One row per format: what it reads and writes, by which suffixes, where a shot keeps it."""
    from vfxgen.io.registry import readers, writers

    rows = []
    for writer in writers(shot=True) + [w for w in writers(standalone=True) if not w.shot_file]:
        rows.append(
            {
                "format": writer.name,
                "direction": "write",
                "kind": writer.layout,
                "suffixes": [writer.suffix],
                "in_shot": writer.shot_file,
                "export": writer.standalone,
                "settings": list(writer.applies),
                "label": writer.label,
            }
        )
    for reader in readers():
        rows.append(
            {
                "format": reader.name,
                "direction": "read",
                "kind": reader.kind,
                "suffixes": list(reader.suffixes),
                "in_shot": None,
                "export": False,
                "settings": [],
                "label": reader.name,
            }
        )
    return rows


def formats(
    json_out: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """List the formats vfxgen reads and writes (built in and from installed plugins).

    \b
    Examples:
      vfxgen formats
      vfxgen formats --json
    """
    rows = format_rows()
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    lines = [("format", "dir", "kind", "suffixes", "in a shot", "settings")]
    for row in rows:
        where = row["in_shot"] or ("-" if row["direction"] == "read" else "(export only)")
        if row["direction"] == "write" and not row["export"]:
            where += " (shots only)"
        lines.append(
            (
                row["format"],
                row["direction"],
                row["kind"],
                " ".join(row["suffixes"]),
                where,
                ",".join(row["settings"]) or "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    if sys.stdout is not None and sys.stdout.isatty():  # None: stdout closed (>&-)
        typer.echo(
            "\nadd one: vfxgen.io.register_writer / register_reader, or a package with a vfxgen.formats entry point"
        )
