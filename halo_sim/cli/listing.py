"""``halo-sim list`` output: ids whole, always (people copy them into ``halo-sim scenario ID``).

A terminal gets a table whose id column never wraps nor shortens (the name wraps
instead); a pipe gets plain tab-separated rows; ``--json`` gets one array.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from simkit.errors import ScenarioFileError


@dataclass(frozen=True)
class Row:
    """One scenario file as listed; ``problem`` is set (and the rest empty) when it does not load."""

    id: str
    tags: list[str]
    steps: int | None
    name: str
    path: str
    problem: str = ""


def listing(folder: Path) -> list[Row]:
    """Every scenario file of ``folder``, loaded (or with its first problem)."""
    from halo_sim.scenario.loader import discover, load_scenario

    rows = []
    for path in discover(folder):
        try:
            s = load_scenario(path)
            rows.append(Row(s.id, list(s.tags), len(s.steps), s.name, str(path)))
        except ScenarioFileError as exc:
            rows.append(Row(path.stem, [], None, "", str(path), f"invalid: {exc.problems[0][1]}"))
    return rows


def print_rows(rows: list[Row], folder: Path, as_json: bool) -> None:
    """JSON, a table (terminal) or tab-separated rows (pipe)."""
    if as_json:
        sys.stdout.write(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n")
    elif sys.stdout.isatty():
        console = Console(highlight=False)
        console.print(table(rows, str(folder)) if fits(rows, console.width) else stacked(rows))
    else:
        sys.stdout.writelines(plain(r) + "\n" for r in rows)


def plain(row: Row) -> str:
    """``id<TAB>tags<TAB>steps<TAB>name`` (tags comma-separated; a broken file says why in the name)."""
    return "\t".join([row.id, ",".join(row.tags), "" if row.steps is None else str(row.steps), row.name or row.problem])


NAME_MIN = 30  # below this the name column would wrap every word: a narrow terminal gets the stacked form


def fits(rows: list[Row], width: int) -> bool:
    """Whether the table leaves the name column room to be read, with every id whole."""
    return max((len(r.id) for r in rows), default=2) + 7 + NAME_MIN + 10 <= width


def _described(row: Row) -> str:
    if row.problem:
        return f"[red]{escape(row.problem)}[/]"
    tags = f"\n[dim]{escape(', '.join(row.tags))}[/]" if row.tags else ""
    return escape(row.name) + tags


def table(rows: list[Row], title: str) -> Table:
    """The terminal view: the id column is as wide as the longest id; the name (tags below it) wraps."""
    grid = Table(title=escape(title))
    grid.add_column("id", no_wrap=True, min_width=max((len(r.id) for r in rows), default=2))
    grid.add_column("steps", justify="right", no_wrap=True)
    grid.add_column("name and tags")
    for r in rows:
        grid.add_row(escape(r.id), "" if r.steps is None else str(r.steps), _described(r))
    return grid


def stacked(rows: list[Row]) -> Group:
    """The narrow-terminal view: each id whole on its own line, the rest wrapped and indented below it."""
    parts: list[Padding] = []
    for r in rows:
        steps = f" [dim]({r.steps} steps)[/]" if r.steps is not None else ""
        parts.append(Padding(f"[bold]{escape(r.id)}[/]{steps}", (0, 0, 0, 0)))
        parts.append(Padding(_described(r), (0, 0, 0, 2)))
    return Group(*parts)
