"""The terminal summary of a run: Halo's latencies (p50/p95/p99), refusals by code, SLOs, invariants.

Locust's own tables (every HTTP route) go to its CSV and HTML; this is what Halo's team reads first.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from halo_sim.load.metrics import ENTRIES, LATENCIES, REFUSAL
from halo_sim.load.slo import Verdict


def summary(stats: Any, verdicts: list[Verdict], broken: list[str] | None, acked: int) -> None:
    """Print the four parts; the exit code is decided by the caller from the same facts."""
    console = Console(soft_wrap=True)
    console.print(latency_table(stats))
    console.print(_refusals(stats))
    for verdict in verdicts:
        console.print(
            f"SLO {'[green]met[/]' if verdict.ok else '[red]BROKEN[/]'}  {verdict.describe()}", highlight=False
        )
    if broken is None:
        console.print("invariants: not checked (the target has no state dump)")
    elif broken:
        for line in broken:
            console.print(f"[red]invariant violated:[/] {line}", highlight=False)
    else:
        console.print(
            f"invariants: [green]held[/] (payments confirmed once, one session per mitra, "
            f"{acked} acknowledged messages stored)",
            highlight=False,
        )
    lost = stats.entries.get((ENTRIES["messages.lost"].name, "HALO"))
    console.print(f"lost messages: {lost.num_failures if lost is not None else 0}", highlight=False)


def latency_table(stats: Any) -> Table:
    table = Table(title="Halo latencies (ms)")
    for column in ("metric", "count", "fails", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for metric in LATENCIES:
        entry = stats.entries.get((ENTRIES[metric].name, ENTRIES[metric].request_type))
        if entry is None or not entry.num_requests:
            table.add_row(f"{ENTRIES[metric].name}", "0", "0", "-", "-", "-", "-")
            continue
        cuts = [f"{entry.get_response_time_percentile(p):.0f}" for p in (0.5, 0.95, 0.99)]
        table.add_row(
            ENTRIES[metric].name,
            str(entry.num_requests),
            str(entry.num_failures),
            *cuts,
            f"{entry.max_response_time:.0f}",
        )
    return table


def _refusals(stats: Any) -> str:
    found = sorted(
        (name, e.num_requests, e.num_failures) for (name, kind), e in stats.entries.items() if kind == REFUSAL
    )
    if not found:
        return "refusals: none"
    return "refusals: " + ", ".join(f"{code} {n}{' (expected)' if not fails else ''}" for code, n, fails in found)
