"""``halo-sim diff``: one scenario on the embedded reference and on another target, compared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from halo_sim.scenario.diff import Drift
    from halo_sim.scenario.schema import Scenario

EXIT_DRIFT = 1
EXIT_USAGE = 2
VERDICTS = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def diff(
    scenario: Annotated[str, typer.Argument(help="Scenario id (file name without .yaml) or path.")],
    against: Annotated[
        str,
        typer.Option(
            help="The target compared with the embedded reference: 'embedded', a URL, or a name from the targets file."
        ),
    ],
    targets: Annotated[Path | None, typer.Option(help="Targets file (default: halo-sim.yaml here or above).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for both runs (default: the scenario's own; random on a live target).")
    ] = None,
    scenarios_dir: Annotated[
        Path | None,
        typer.Option("--scenarios-dir", "-d", help="Folder of scenario files (default: the nearest scenarios/)."),
    ] = None,
) -> None:
    """Run a scenario on the embedded reference and on another target; show where they drift.

    Compared: statuses, HTTP status codes, response shapes (fields and JSON types, not values),
    delivered_via, and the WebSocket frame types each actor received.

    Exit 0 no drift, 1 drift, 2 bad usage.
    """
    from rich.console import Console
    from rich.markup import escape

    from halo_sim.scenario.loader import default_scenarios_dir, find_scenario, load_scenario
    from simkit.errors import ScenarioFileError

    console = Console()
    try:
        loaded = load_scenario(find_scenario(scenario, scenarios_dir or default_scenarios_dir()))
    except ScenarioFileError as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    drift = _run(console, loaded, against, targets, seed)
    if drift.empty:
        console.print(
            f"{drift_table(drift).title}\n[green]no drift[/] between embedded and {escape(drift.other.target)}"
        )
        raise typer.Exit(0)
    console.print(drift_table(drift))
    console.print(f"[red]{len(drift)} finding(s)[/] — {escape(drift.other.target)} drifts from the reference")
    raise typer.Exit(EXIT_DRIFT)


def _run(console: Console, scenario: Scenario, against: str, targets: Path | None, seed: int | None) -> Drift:
    import asyncio

    from rich.markup import escape

    from halo_sim.scenario.diff import differential
    from halo_sim.targets.resolve import open_target
    from simkit.errors import HaloSimError

    try:
        other = open_target(against, targets)
    except HaloSimError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        reference = open_target("embedded")
        try:
            return asyncio.run(differential(scenario, reference, other, seed))
        finally:
            reference.close()
    finally:
        other.close()


def drift_table(drift: Drift) -> Table:
    """The findings, one row each, under both runs' verdicts."""
    from rich.markup import escape
    from rich.table import Table

    ours, theirs = drift.reference, drift.other
    title = (
        f"{ours.id} (seed {ours.seed}): embedded [{VERDICTS[ours.status]}]{ours.status}[/] · "
        f"{escape(theirs.target)} [{VERDICTS[theirs.status]}]{theirs.status}[/]"
    )
    table = Table(title=title)
    for header in ("kind", "where", "embedded (reference)", escape(theirs.target)):
        table.add_column(header, overflow="fold")
    for finding in drift:
        table.add_row(finding.kind, escape(finding.where), escape(finding.reference), escape(finding.other))
    return table
