"""`vfxgen qc SHOT`: the checks a stock-element library applies to a delivered element.

vfxgen qc shots/fireball
vfxgen qc shots/fireball/rgba/fireball.####.exr --json > qc.json
vfxgen qc shots/fireball --threshold noise_area=0.05 --threshold border_alpha=0.2 --strict

Prints a table (or JSON with --json) on stdout: matte empty/full, alpha noise in the background, colour
outside the matte (emission where alpha is 0, RGB > alpha, NaN/inf), dark/bright edge halo, element
touching the frame border, first/last frame, RGB/alpha flow alignment, frame count/rate/size against
shot.json. Exit 0 when nothing failed, 9 when a check failed (with --strict: also on warnings), so a
farm can gate a delivery on it. Thresholds and their defaults: `vfxgen.qc.Thresholds`, docs/nuke-after-effects.md.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vfxgen.cli import options as opt
from vfxgen.errors import QCFailedError, UsageError


def _format_number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def render_table(report) -> str:
    """The report as aligned plain-text columns (stable: tests and farm logs read it)."""
    rows = [("check", "status", "value", "limit", "detail")]
    for c in report.checks:
        rows.append((c.name, c.status.upper(), _format_number(c.value), _format_number(c.limit), c.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"qc {report.source}: {report.frames} frames {report.width}x{report.height} at {report.fps:g} fps"]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    verdict = "FAILED: " + ", ".join(c.name for c in report.failures) if report.failed else "passed"
    lines.append(f"result: {verdict}")
    return "\n".join(lines)


def _parse_thresholds(items: list[str] | None) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--threshold {item!r} is not NAME=VALUE", "e.g. --threshold noise_area=0.05")
        parsed[name.strip()] = value.strip()
    return parsed


def qc(
    src: Annotated[
        str,
        typer.Argument(metavar="SHOT", help="Shot directory, EXR sequence (shot.####.exr) or movie with alpha."),
    ],
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", metavar="NAME=VALUE", help="Override a limit, e.g. noise_area=0.05 (repeatable)."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 9).")] = False,
    flow: Annotated[bool, typer.Option("--flow/--no-flow", help="Run the RGB/alpha flow check (eval-flow).")] = True,
    json_out: opt.JsonOut = False,
) -> None:
    """Check a delivered RGBA element (matte, noise, black, size, framing, halo, flow, manifest); exit 9 on a fail.

    \b
    Examples:
      vfxgen qc shots/fireball
      vfxgen qc shots/fireball --json > qc.json
      vfxgen qc shots/smoke --threshold black_area=0.25 --strict
    """
    from vfxgen.qc import qc_source

    report = qc_source(src, overrides=_parse_thresholds(threshold), flow=flow, strict=strict)
    typer.echo(json.dumps(report.to_dict()) if json_out else render_table(report))
    if report.failed:
        names = ", ".join(c.name for c in report.failures)
        raise QCFailedError(
            f"{src} failed QC: {names}",
            ("see the JSON report on stdout" if json_out else "see the report above")
            + "; fix the element or override a limit with --threshold NAME=VALUE",
        )
