"""Showing scenario runs to a person, step by step, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from halo_sim.scenario.report import ScenarioResult, StepRecord

MARKS = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]", "skipped": "[yellow]-[/]"}
VERDICTS = {
    "passed": "[bold green]PASSED[/]",
    "failed": "[bold red]FAILED[/]",
    "error": "[bold red]ERROR[/]",
    "skipped": "[bold yellow]SKIPPED[/]",
}


class ConsoleReporter:
    """Prints each step as it finishes; failures with their details."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step_done(self, result: ScenarioResult, record: StepRecord) -> None:
        phase = "[dim]setup[/] " if record.phase == "setup" else ""
        self.console.print(
            f"  {MARKS[record.status]} {phase}{escape(record.title)} "
            f"[dim]{record.seconds * 1000:.0f} ms[/]  {escape(record.summary[:110])}",
            highlight=False,
            soft_wrap=True,
        )
        for line in record.details:
            self.console.print(f"      [red]{escape(line)}[/]", highlight=False, soft_wrap=True)

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
