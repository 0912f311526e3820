"""`vfxgen eval-flow SRC`: how well the alpha moves with the colour (paper supplement Sec. 9).

vfxgen eval-flow shot/rgba/shot.####.exr
vfxgen eval-flow shot/ --json > flow.json
vfxgen eval-flow rgb.mp4 --alpha-video alpha.mp4 --plot flow.png     # a TransPixar release output pair

Lower is better: 0 means the matte's optical flow equals the colour's everywhere. The number is printed
on stdout (or JSON with --json) so farm scripts can collect it; timing goes to stderr.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from vfxgen.cli.console import log, progress_bar
from vfxgen.errors import OutputError


def eval_flow(
    src: Annotated[
        str,
        typer.Argument(
            metavar="SRC",
            help="RGBA clip: image sequence (shot.####.exr), shot directory or movie (ProRes 4444, WebM).",
        ),
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print the full result as JSON on stdout.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", metavar="FILE", help="Also write a PNG plot of the per-pair values.")
    ] = None,
    alpha_video: Annotated[
        Path | None,
        typer.Option(
            "--alpha-video",
            metavar="FILE",
            help="Separate alpha movie (TransPixar release style: SRC holds the colour).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Threads for optical flow (default: all available CPUs)."),
    ] = None,
) -> None:
    """RGB vs alpha optical-flow difference (Farneback), mean over frame pairs; lower is better aligned.

    \b
    Examples:
      vfxgen eval-flow shots/fireball
      vfxgen eval-flow rgb.mp4 --alpha-video alpha.mp4 --json
    """
    from vfxgen.flow import default_workers, flow_difference, plot_flow
    from vfxgen.io import read_clip

    if plot is not None and not plot.parent.is_dir():  # fail before the slow part, not after it
        raise OutputError(f"cannot write the plot {plot}: folder {plot.parent} does not exist", "create it first")
    clip = read_clip(src, alpha_video=alpha_video)
    pairs = clip.num_frames - 1
    threads = min(workers or default_workers(), max(pairs, 1))
    start = time.perf_counter()
    with progress_bar("optical flow", total=max(pairs, 0)) as advance:
        report = flow_difference(clip, workers=threads, progress=advance)
    elapsed = max(time.perf_counter() - start, 1e-9)
    log(
        f"eval-flow: {report.pairs} pairs at {report.width}x{report.height} in {elapsed:.2f} s "
        f"({report.pairs / elapsed:.1f} pairs/s, {threads} threads)"
    )
    if plot is not None:
        log(f"wrote {plot_flow(report, plot)}")

    if json_out:
        result = {**report.to_dict(), "source": str(src)}
        if plot is not None:
            result["plot"] = str(plot)
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"flow difference: {report.mean:.4f} ({report.pairs} pairs, {report.width}x{report.height})")
