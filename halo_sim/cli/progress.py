"""The suite's live progress and its summary: a pytest plugin object the ``suite`` command registers.

The bar is refreshed by hand as each scenario's report arrives (on the controller,
also under pytest-xdist, whose workers collect: their count sets the total).  It
never refreshes from a thread of its own, because pytest captures the output while
a scenario runs and a background refresh would be written into that capture.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

import pytest
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

STYLES = {"passed": "green", "failed": "red", "skipped": "yellow", "error": "red"}


class SuiteProgress:
    """Advances a rich progress bar and keeps one row per scenario (name, outcome, seconds, reason)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: list[tuple[str, str, float, str]] = []
        self.causes: list[tuple[str, str]] = []  # (outcome, cause) of each scenario that did not pass
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.progress.add_task("scenarios", total=None)

    @property
    def done(self) -> int:
        """Scenarios finished so far."""
        return int(self.progress.tasks[0].completed)

    @property
    def total(self) -> int | None:
        """Scenarios selected (None until collection is known)."""
        total = self.progress.tasks[0].total
        return None if total is None else int(total)

    def _begin(self, count: int) -> None:
        if self.total is None:
            self.progress.reset(self.task, total=count)
            self.progress.start()
            self.progress.refresh()

    def pytest_collection_finish(self, session: Any) -> None:
        self._begin(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._begin(len(ids))  # every worker collects the same selection; the first one sets the total

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = "error" if report.when == "setup" and report.failed else report.outcome
            reason = reason_of(report)
            self.rows.append((report.nodeid.split("::")[-1], outcome, report.duration, reason))
            if outcome != "passed":
                self.causes.append((outcome, str(dict(report.user_properties).get("cause") or reason)))
            self.progress.advance(self.task)
            self.progress.refresh()

    def pytest_sessionfinish(self) -> None:
        self.progress.stop()

    @property
    def outcomes(self) -> Counter[str]:
        """How many scenarios ended each way."""
        return Counter(outcome for _, outcome, _, _ in self.rows)

    def all_skipped(self) -> bool:
        """Scenarios ran and every one of them skipped: nothing was verified."""
        return bool(self.rows) and all(outcome == "skipped" for _, outcome, _, _ in self.rows)

    def summary(self) -> Group:
        """One row per scenario, failures first; then the skips grouped by reason, with a count each."""
        table = Table("scenario", "result", "time", "reason", title="halo-sim suite")
        table.columns[0].no_wrap = True
        for name, outcome, seconds, reason in sorted(self.rows, key=lambda r: (r[1] == "passed", r[0])):
            table.add_row(escape(name), f"[{STYLES[outcome]}]{outcome}[/]", f"{seconds:.2f} s", escape(reason))
        return Group(table, *self.grouped())

    def grouped(self) -> list[Text]:
        """``skipped N: reason`` per distinct skip reason, and ``failed N: cause`` for a cause several share.

        Twenty scenarios skipped for one missing capability, or failing because the
        target went down, read as one line each instead of twenty rows to compare.
        """
        counts = Counter(self.causes)
        return [
            Text(f"{outcome} {count}: {cause}", style=STYLES[outcome])
            for (outcome, cause), count in counts.most_common()
            if outcome == "skipped" or count > 1
        ]


def reason_of(report: Any) -> str:
    """A report's one-line reason: the skip message, or the failing step's headline."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        given = dict(report.user_properties).get("reason")
        return str(given) if given else str(report.longrepr).splitlines()[0]
    return ""


def pinned_console(file: TextIO) -> Console:
    """A console bound to today's stdout (pytest swaps ``sys.stdout`` while it captures)."""
    return Console(file=file)
