"""``halo-sim suite``: a thin front over the pytest plugin.

Selection, parallelism (pytest-xdist), JUnit XML and sharding are pytest's; this
command only spells the options, shows live progress and a summary table with
rich, and turns pytest's exit code into ours (0 pass, 1 failure, 2 bad usage or
nothing selected).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# Plugins a scenario item never uses, whose import each pytest process (the controller and every
# worker) would pay when they are installed: faker's, schemathesis' and respx' cost ~0.6 s a process.
LEAN = [
    "-p",
    "no:cacheprovider",
    "-p",
    "no:anyio",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:faker",
    "-p",
    "no:schemathesis",
    "-p",
    "no:respx",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
]
STYLES = {"passed": "green", "failed": "red", "skipped": "yellow", "error": "red"}


class SuiteProgress:
    """A pytest plugin object: advances a rich progress bar and keeps one row per scenario."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.rows: list[tuple[str, str, float, str]] = []
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("scenarios", total=None)

    def pytest_collection_finish(self, session: Any) -> None:
        self.progress.update(self.task, total=len(session.items))
        self.progress.start()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "error" if report.when == "setup" and report.failed else report.outcome
            reason = _reason(report)
            self.rows.append((report.nodeid.split("::")[-1], outcome, report.duration, reason))
            self.progress.advance(self.task)

    def pytest_sessionfinish(self) -> None:
        self.progress.stop()

    def summary(self) -> Table:
        """One row per scenario, failures and skips with their reason."""
        from rich.markup import escape
        from rich.table import Table

        table = Table("scenario", "result", "time", "reason", title="halo-sim suite")
        for name, outcome, seconds, reason in sorted(self.rows, key=lambda r: (r[1] == "passed", r[0])):
            table.add_row(escape(name), f"[{STYLES[outcome]}]{outcome}[/]", f"{seconds:.2f} s", escape(reason))
        return table


def _reason(report: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        return str(report.longrepr).splitlines()[0][:140]
    return ""


def pytest_args(
    paths: list[Path],
    tags: list[str],
    exclude: list[str],
    workers: str,
    junit: Path | None,
    seed: int | None,
    target: str,
    targets: Path | None,
    shard: str | None,
    report_dir: Path,
    coverage: Path | None,
) -> list[str]:
    """The pytest command line the options mean."""
    args = [*(str(p) for p in paths), "-q", "-rN", *LEAN, "--halo-target", target, "--halo-report-dir", str(report_dir)]
    marks = " and ".join(
        filter(None, [f"({' or '.join(tags)})" if tags else "", f"not ({' or '.join(exclude)})" if exclude else ""])
    )
    args += ["-m", marks] if marks else []
    args += ["-n", workers] if workers not in ("0", "1") else ["-p", "no:xdist"]
    args += [f"--junitxml={junit}"] if junit else []
    args += ["--halo-seed", str(seed)] if seed is not None else []
    args += ["--halo-targets", str(targets)] if targets else []
    args += ["--halo-shard", shard] if shard else []
    args += ["--halo-coverage", str(coverage)] if coverage else []
    return args


def suite(
    paths: Annotated[list[Path] | None, typer.Argument(help="Scenario files or folders (default: scenarios/).")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only scenarios with this tag (repeatable).")
    ] = None,
    exclude_tag: Annotated[
        list[str] | None, typer.Option("--exclude-tag", "-x", help="Leave out this tag (repeatable).")
    ] = None,
    workers: Annotated[str, typer.Option("-n", help="Parallel workers (pytest-xdist): a number or 'auto'.")] = "auto",
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    seed: Annotated[int | None, typer.Option(help="One seed for every scenario (default: each its own).")] = None,
    target: Annotated[
        str, typer.Option(envvar="HALO_SIM_TARGET", help="embedded, a URL, or a name from halo-sim.yaml.")
    ] = "embedded",
    targets: Annotated[Path | None, typer.Option(help="Targets file (default: halo-sim.yaml here or above).")] = None,
    shard: Annotated[str | None, typer.Option(help="Run shard K/N of the suite (split across CI machines).")] = None,
    report_dir: Annotated[Path, typer.Option(help="Failed scenarios' reports (steps, transcript, frames).")] = Path(
        ".halo-sim/reports"
    ),
    coverage: Annotated[bool, typer.Option(help="Report which state-machine transitions the suite exercised.")] = False,
) -> None:
    """Run a suite of scenarios in parallel with live progress, a summary and optional JUnit XML."""
    import pytest
    from rich.console import Console

    from halo_sim.scenario.loader import default_scenarios_dir

    console = Console()
    folder = default_scenarios_dir()
    chosen = paths or ([folder] if folder else [])
    if not chosen:
        console.print("[red]no scenarios/ folder here or above; give the paths to run[/]")
        raise typer.Exit(2)
    coverage_file = report_dir / "coverage.json" if coverage else None
    progress = SuiteProgress(console)
    code = pytest.main(
        pytest_args(
            chosen,
            tag or [],
            exclude_tag or [],
            workers,
            junit,
            seed,
            target,
            targets,
            shard,
            report_dir,
            coverage_file,
        ),
        plugins=[progress],
    )
    console.print(progress.summary())
    if coverage_file is not None and coverage_file.exists():
        from halo_sim.coverage import print_report

        print_report(coverage_file, console)
    raise typer.Exit({0: 0, 1: 1}.get(int(code), 2))
