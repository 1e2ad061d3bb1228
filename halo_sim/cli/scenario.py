"""``halo-sim scenario``, ``list`` and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
from halo_sim.cli.failure import Refused
from simkit.errors import HaloSimError, ScenarioFileError

EXIT_FAILED = 1
EXIT_USAGE = 2

ScenariosDir = Annotated[
    Path | None,
    typer.Option("--scenarios-dir", "-d", help="Folder of scenario files (default: the nearest scenarios/)."),
]


def _folder(given: Path | None) -> Path | None:
    from halo_sim.scenario.loader import default_scenarios_dir

    return given or default_scenarios_dir()


def run(
    refs: Annotated[list[str], typer.Argument(help="Scenario ids (file names without .yaml) or paths.")],
    target: Annotated[
        str, typer.Option(help="Where to run: 'embedded' (reference backend + fakes in-process).")
    ] = "embedded",
    seed: Annotated[int | None, typer.Option(help="Seed for faker data and ids (default: the scenario's own).")] = None,
    scenarios_dir: ScenariosDir = None,
    report_dir: Annotated[
        Path, typer.Option(help="Where a failed run's report (steps, transcript, frames) is written.")
    ] = Path(".halo-sim/reports"),
    allow_skips: Annotated[
        bool, typer.Option(help="Exit 0 even when every scenario skipped (nothing was verified).")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Write each run's HTML report (sequence diagram, steps, payloads): a .html file for one "
            "scenario, else a folder of <id>.html."
        ),
    ] = None,
) -> None:
    """Run scenarios step by step.

    Exit 0 when all pass, 1 when one fails or every one skipped (unless --allow-skips),
    2 on bad usage, a bad file or a target that cannot be used.
    """
    from rich.console import Console
    from rich.markup import escape

    from halo_sim.scenario.loader import find_scenario, load_scenario

    console = Console()
    try:
        scenarios = [load_scenario(find_scenario(ref, _folder(scenarios_dir))) for ref in refs]
    except ScenarioFileError as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    results = _run_all(console, scenarios, target, seed)
    failed = [r for r in results if r.status in ("failed", "error")]
    for result in failed:
        console.print(f"[dim]report: {result.write(report_dir)}[/]")
    if html is not None:
        for result in results:
            console.print(f"[dim]HTML report: {_html(result, html, len(results))}[/]", highlight=False)
    if not failed and all(r.status == "skipped" for r in results) and not allow_skips:
        console.print(
            "[bold red]every scenario skipped:[/] nothing was verified; pass --allow-skips to accept it",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(EXIT_FAILED if failed else 0)


def _html(result: Any, html: Path, runs: int) -> Path:
    """Write one run's HTML report: to ``html`` itself when it names a file and this is the only run."""
    from halo_sim.report.page import write

    single = runs == 1 and html.suffix in (".html", ".htm")
    return write(result.data(), html if single else html / f"{result.id}.html")


def _run_all(console: Console, scenarios: list, target_name: str, seed: int | None) -> list:  # type: ignore[type-arg]
    import asyncio

    from halo_sim.cli.console import ConsoleReporter
    from halo_sim.scenario.runner import run_scenario
    from halo_sim.targets.preflight import preflight
    from halo_sim.targets.resolve import open_target

    target = open_target(target_name)  # a refusal is one line (the root group's), exit 2
    try:
        preflight(target)
    except HaloSimError:
        target.close(wait=False)
        raise
    reporter = ConsoleReporter(console)
    results = []
    try:
        for scenario in scenarios:
            reporter.header(scenario.id, scenario.name, target.name)
            result = asyncio.run(run_scenario(scenario, target, reporter, seed))
            reporter.verdict(result)
            results.append(result)
    finally:
        target.close(wait=False)  # the command exits right after
    return results


def list_scenarios(
    scenarios_dir: ScenariosDir = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array: id, tags, steps, name, path, problem.")
    ] = False,
) -> None:
    """List the scenarios of the folder: id, tags, number of steps, name (ids are never shortened).

    A table on a terminal; tab-separated rows when piped (for grep and cut); ``--json`` for scripts.
    """
    from halo_sim.cli.listing import listing, print_rows

    folder = _folder(scenarios_dir)
    if folder is None:
        raise Refused("no scenarios/ folder here or above; give --scenarios-dir")
    rows = listing(folder)
    print_rows(rows, folder, as_json)
    raise typer.Exit(EXIT_USAGE if any(r.problem for r in rows) else 0)


def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: the scenarios/ folder).")
    ] = None,
) -> None:
    """Check scenario files without running them; every problem with file and line. Exit 2 if any."""
    from rich.console import Console
    from rich.markup import escape

    from halo_sim.scenario.loader import discover, load_scenario

    console = Console()
    folder = _folder(None)
    files = [f for p in (paths or ([folder] if folder else [])) for f in (discover(p) if p.is_dir() else [p])]
    problems = 0
    for file in files:
        try:
            load_scenario(file)
            console.print(f"[green]✓[/] {escape(str(file))}", highlight=False, soft_wrap=True)
        except ScenarioFileError as exc:
            problems += len(exc.problems)
            console.print(f"[red]✗ {escape(str(exc))}[/]", highlight=False, soft_wrap=True)  # file:line stays whole
    console.print(f"{len(files)} file(s), {problems} problem(s)")
    raise typer.Exit(EXIT_USAGE if problems or not files else 0)
