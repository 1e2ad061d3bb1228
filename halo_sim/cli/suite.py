"""``halo-sim suite``: a thin front over the pytest plugin.

Selection, parallelism (pytest-xdist), JUnit XML and sharding are pytest's; this
command only spells the options, shows live progress and a summary table with
rich, refuses what cannot work before pytest starts (a bad path, tag, shard or
target: one line), and turns pytest's exit code into ours (0 pass, 1 failure or
everything skipped, 2 bad usage or nothing selected).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from halo_sim.cli.failure import Refused, refuse
from simkit.errors import ScenarioFileError

if TYPE_CHECKING:
    from rich.console import Console

    from halo_sim.cli.progress import SuiteProgress

if TYPE_CHECKING:
    from rich.console import Console

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
EXIT_SKIPPED = 1


def scenario_files(paths: list[Path]) -> list[Path]:
    """The files the plugin collects: YAML files of a folder named ``scenarios``; a bad path is refused."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise Refused(f"no such file or folder: {path}; give scenario files or folders (default: scenarios/)")
        candidates = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        found += [f for f in candidates if f.suffix in (".yaml", ".yml") and f.parent.name == "scenarios"]
    if not found:
        shown = ", ".join(str(p) for p in paths)
        raise Refused(f"no scenario files in {shown}: scenarios are the .yaml files of a folder named scenarios/")
    return found


def known_tags(files: list[Path]) -> set[str]:
    """Every tag the files carry (a broken file is left to the run, which reports it with its line)."""
    from halo_sim.scenario.loader import load_scenario

    tags: set[str] = set()
    for file in files:
        try:
            tags |= set(load_scenario(file).tags)
        except ScenarioFileError:
            continue
    return tags


def preflight(paths: list[Path], tags: list[str], target: str, targets: Path | None, shard: str | None) -> None:
    """Everything that would make the run pointless, refused before pytest starts (one line each)."""
    import pytest

    from halo_sim.scenario.pytest_plugin import check_options

    known = known_tags(scenario_files(paths))
    unknown = sorted(set(tags) - known)
    if unknown:
        raise Refused(
            f"unknown tag {unknown[0]!r}: no selected scenario has it (known: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        check_options(target, str(targets) if targets else None, shard)
    except pytest.UsageError as exc:
        raise Refused(str(exc)) from None


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
    html: Path | None = None,
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
    args += ["--halo-html-dir", str(html)] if html else []
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
    allow_skips: Annotated[
        bool, typer.Option(help="Exit 0 even when every selected scenario skipped (nothing was verified).")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(help="Write every scenario's HTML report into this folder, with an index.html of them."),
    ] = None,
) -> None:
    """Run a suite of scenarios in parallel with live progress, a summary and optional JUnit XML.

    Exit 0 when all pass, 1 when one fails or when every one skipped (unless --allow-skips),
    2 on bad usage (a bad path, tag, shard or target: one line saying so) or nothing selected.
    """
    import pytest

    from halo_sim.cli.progress import SuiteProgress, pinned_console
    from halo_sim.scenario.loader import default_scenarios_dir

    console = pinned_console(sys.stdout)
    folder = default_scenarios_dir()
    chosen = paths or ([folder] if folder else [])
    if not chosen:
        raise Refused("no scenarios/ folder here or above; give the scenario files or folders to run")
    preflight(chosen, tag or [], target, targets, shard)
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
            html,
        ),
        plugins=[progress],
    )
    console.print(progress.summary())
    if html is not None and (html / "index.html").exists():
        console.print(f"[dim]HTML reports: {html / 'index.html'}[/]", highlight=False)
    if coverage_file is not None and coverage_file.exists():
        from halo_sim.coverage import print_report

        print_report(coverage_file, console)
    raise typer.Exit(_exit_code(int(code), progress, console, allow_skips))


def _exit_code(code: int, progress: SuiteProgress, console: Console, allow_skips: bool) -> int:
    """pytest's exit code as ours; a run that only skipped fails unless skips are allowed."""
    import pytest

    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise refuse("nothing selected: no scenario matches these tags, exclusions and shard")
    if code == 0 and progress.all_skipped() and not allow_skips:
        console.print(
            f"[bold red]every selected scenario skipped ({len(progress.rows)}):[/] nothing was verified; "
            "fix the causes above, or pass --allow-skips to accept it",
            highlight=False,
        )
        return EXIT_SKIPPED
    return {0: 0, 1: 1}.get(code, 2)
