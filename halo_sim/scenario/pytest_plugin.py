"""The pytest plugin: every ``scenarios/*.yaml`` is one pytest item (as Tavern does it).

So selection (``-k``), markers (a scenario's tags: ``-m fcm``), parallelism
(``-n auto`` with pytest-xdist) and JUnit XML (``--junitxml``) are pytest's.  One
embedded target is started per worker process and reset before each scenario.
Options: ``--halo-target`` (or ``HALO_SIM_TARGET``), ``--halo-seed``,
``--halo-report-dir`` (a failed scenario's JSON report), ``--halo-html-dir`` (every
scenario's HTML report and an ``index.html`` of them).
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.schema import Scenario
from simkit.errors import HaloSimError, ScenarioFileError

TARGET_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("halo-sim", "halo-sim scenarios")
    group.addoption(
        "--halo-target",
        default=os.environ.get("HALO_SIM_TARGET", "embedded"),
        help="where scenarios run (default: embedded; env HALO_SIM_TARGET)",
    )
    group.addoption(
        "--halo-targets",
        default=os.environ.get("HALO_SIM_TARGETS"),
        help="targets file (default: halo-sim.yaml here or above; env HALO_SIM_TARGETS)",
    )
    group.addoption("--halo-seed", type=int, default=None, help="seed for every scenario (default: each one's own)")
    group.addoption("--halo-report-dir", default=None, help="write a JSON report of each failed scenario here")
    group.addoption(
        "--halo-html-dir", default=None, help="write each scenario's HTML report here, with an index.html of them"
    )
    group.addoption(
        "--halo-shard",
        default=None,
        metavar="K/N",
        help="run only shard K of N (every scenario lands in exactly one shard)",
    )
    group.addoption(
        "--halo-coverage",
        default=None,
        metavar="FILE",
        help="write the state-machine transitions the session exercised (JSON; embedded target only)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Scenario files are the YAML files of a folder named ``scenarios``."""
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "scenarios":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 ≤ K ≤ N; anything else is a usage error naming the expected form."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--halo-shard {text!r}: expected K/N, e.g. 2/4") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--halo-shard {text!r}: K must be between 1 and N")
    return k, n


def check_options(target: str, targets_file: str | None, shard: str | None) -> None:
    """Refuse bad option values before anything is collected or started, each as one :class:`pytest.UsageError`.

    A bad shard or an unknown, half-configured or unreachable target would otherwise
    fail every scenario with the same traceback (or, on xdist workers, crash as an
    INTERNALERROR); ``halo-sim suite`` calls this too and prints the message as its one line.
    """
    if shard:
        parse_shard(shard)
    if target == "embedded":
        return
    from halo_sim.targets.preflight import preflight
    from halo_sim.targets.resolve import open_target

    try:
        preflight(open_target(target, Path(targets_file) if targets_file else None))
    except HaloSimError as exc:
        raise pytest.UsageError(str(exc)) from None


def shard_of(nodeid: str, shards: int) -> int:
    """The 1-based shard of a test: a stable hash, so every machine computes the same split."""
    return zlib.crc32(nodeid.encode()) % shards + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    option = config.getoption("halo_shard")
    if not option:
        return
    k, n = parse_shard(option)
    keep = [i for i in items if shard_of(i.nodeid, n) == k]
    dropped = [i for i in items if shard_of(i.nodeid, n) != k]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class ScenarioFile(pytest.File):
    """One scenario file: a bad one is a collection error naming file and line."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioFileError as exc:
            raise self.CollectError(str(exc)) from None
        item = ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)
        for tag in scenario.tags:
            self.config.addinivalue_line("markers", f"{tag}: halo-sim scenario tag")
            item.add_marker(tag)
        yield item


class ScenarioFailed(Exception):
    """A scenario did not pass; carries the result for the failure report."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ScenarioItem(pytest.Item):
    """One scenario run against the session's target."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from halo_sim.scenario.runner import run_scenario

        result = asyncio.run(run_scenario(self.scenario, _target(self.config), seed=self.config.getoption("halo_seed")))
        self.user_properties.append(("seed", result.seed))
        html = self.config.getoption("halo_html_dir")
        if html:
            from halo_sim.report.page import write

            write(result.data(), Path(html) / f"{result.id}.html")
            self.user_properties.append(("html", f"{result.id}.html"))
        if result.status != "passed":
            self.user_properties.append(("reason", result.headline()))  # the suite summary's one line
            self.user_properties.append(("cause", result.reason))  # what the summary groups by
        if result.status == "skipped":
            pytest.skip(result.reason)
        if result.status != "passed":
            folder = self.config.getoption("halo_report_dir")
            if folder:
                result.write(Path(folder))
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            result = excinfo.value.result
            steps = [f"  {s.status:>7} {s.phase:<7} {s.title}" for s in result.steps]
            return "\n".join([result.failure_text(), "", f"steps (seed {result.seed}):", *steps])
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.scenario.id}"


def _target(config: pytest.Config) -> Any:
    if TARGET_KEY not in config.stash:
        from halo_sim.targets.resolve import open_target

        targets_file = config.getoption("halo_targets")
        config.stash[TARGET_KEY] = open_target(
            config.getoption("halo_target"), Path(targets_file) if targets_file else None
        )
    return config.stash[TARGET_KEY]


COVERAGE_KEY = pytest.StashKey[Any]()


def _coverage_worker(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)  # set by pytest-xdist on its workers only
    return str(workerinput["workerid"]) if workerinput else None


def pytest_configure(config: pytest.Config) -> None:
    """Option values checked once (by the controller, not each xdist worker); ``--halo-coverage`` recording."""
    if _coverage_worker(config) is None:
        check_options(config.getoption("halo_target"), config.getoption("halo_targets"), config.getoption("halo_shard"))
        if config.getoption("halo_html_dir", None):
            config.pluginmanager.register(HtmlIndex(Path(config.getoption("halo_html_dir"))), "halo-sim-html-index")
    if config.getoption("halo_coverage", None):
        from halo_sim.coverage import session_started

        path = Path(config.getoption("halo_coverage")).absolute()
        config.stash[COVERAGE_KEY] = (path, session_started(path, _coverage_worker(config)))


class HtmlIndex:
    """On the controller (or a plain run): each scenario's outcome, then ``index.html`` linking their pages.

    xdist hands the workers' reports (with their user properties) to the controller, so one
    index covers every worker.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if ".yaml::" not in report.nodeid and ".yml::" not in report.nodeid:
            return  # not a scenario item
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            said = dict(report.user_properties)
            self.rows.append(
                {
                    "id": report.nodeid.rsplit("::", 1)[-1],
                    "status": report.outcome,
                    "seconds": report.duration,
                    "reason": said.get("reason", ""),
                    "file": said.get("html"),
                }
            )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from halo_sim.report.page import render_index

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "index.html").write_text(render_index(self.rows), encoding="utf-8")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each xdist worker writes ``FILE.<id>.json``; the controller (or a plain run) merges them into FILE."""
    recording = session.config.stash.get(COVERAGE_KEY, None)
    if recording is not None:
        from halo_sim.coverage import session_finished

        session_finished(recording[1], recording[0], _coverage_worker(session.config))


def pytest_unconfigure(config: pytest.Config) -> None:
    target = config.stash.get(TARGET_KEY, None)
    if target is not None:
        target.close()
