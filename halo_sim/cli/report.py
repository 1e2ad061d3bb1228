"""``halo-sim report``: a run's JSON report (say, a CI artifact) drawn as its HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    path: Annotated[Path, typer.Argument(help="A JSON report written by a failed run (--report-dir).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The HTML file (default: the JSON's name with .html).")
    ] = None,
) -> None:
    """Turn a scenario run's JSON report into its self-contained HTML report (diagram, steps, payloads).

    Exit 0 when written; 2 when the file is missing, not JSON or not a scenario report.
    """
    from halo_sim.report.page import load, write

    written = write(load(path), output or path.with_suffix(".html"))
    typer.echo(f"HTML report: {written}")
