"""Showing scenario runs to a person, step by step, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from halo_sim.scenario.report import ScenarioResult, StepRecord
from halo_sim.scenario.snippet import step_yaml

MARKS = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]", "skipped": "[yellow]-[/]"}
VERDICTS = {
    "passed": "[bold green]PASSED[/]",
    "failed": "[bold red]FAILED[/]",
    "error": "[bold red]ERROR[/]",
    "skipped": "[bold yellow]SKIPPED[/]",
}


class ConsoleReporter:
    """Prints each step as it finishes, wrapped at word boundaries; a failure with its file:line and YAML."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step_done(self, result: ScenarioResult, record: StepRecord) -> None:
        phase = "[dim]setup[/] " if record.phase == "setup" else ""
        line = Table.grid(padding=(0, 1, 0, 0))
        line.add_row(
            MARKS[record.status],
            Text.from_markup(
                f"{phase}{escape(record.title)} [dim]{record.seconds * 1000:.0f} ms[/]  {escape(record.summary)}"
            ),
        )
        self.console.print(Padding(line, (0, 0, 0, 2)), highlight=False)
        for detail in record.details:
            self._indented(6 + len(detail) - len(detail.lstrip()), f"[red]{escape(detail.lstrip())}[/]")
        if record.status in ("failed", "error"):
            self._source(result, record)

    def _source(self, result: ScenarioResult, record: StepRecord) -> None:
        """Where the failing step is written, and how (the README's promise)."""
        self._indented(6, f"[bold]at {escape(result.where(record))}[/]")
        for text in step_yaml(result.path, record.line):
            self.console.print(Text(" " * 8 + text, style="cyan"), highlight=False, soft_wrap=True)  # never re-wrapped

    def _indented(self, indent: int, markup: str) -> None:
        """Wrapped at word boundaries to the console's width, continuation lines under the first."""
        self.console.print(Padding(Text.from_markup(markup), (0, 0, 0, indent)), highlight=False)

    def header(self, result_id: str, name: str, target: str) -> None:
        """Before a scenario starts."""
        self.console.print(f"[bold]{escape(result_id)}[/] — {escape(name)} [dim](target: {target})[/]")

    def verdict(self, result: ScenarioResult) -> None:
        """After a scenario ends."""
        reason = f": {escape(result.reason)}" if result.status == "skipped" else ""
        self.console.print(
            f"{VERDICTS[result.status]} {escape(result.id)} in {result.seconds:.2f} s "
            f"[dim](seed {result.seed})[/]{reason}\n"
        )
