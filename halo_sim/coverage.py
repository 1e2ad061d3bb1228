"""State-machine transition coverage: which declared transitions a run exercised.

A :class:`TransitionRecorder` registers itself as an observer of the payment and
chat-session machines (:data:`~halo_sim.domain.payment.PAYMENT`,
:data:`~halo_sim.domain.pairing.SESSION`) and counts every
``(machine, from, event, to)`` it sees; :func:`report` sets the counts against
the declared tables (every transition with its count, the never-exercised ones,
the states never entered) and :func:`render` shows that as a rich table.

**Only in-process backends are covered.**  The machines are module-level objects,
so the recorder sees the transitions of every reference backend running in the
*same process*: true for the embedded target, whose stack runs on threads of the
test process (a pytest worker, a CLI run).  A live target (a URL, a deployment of
the targets file, a ``halo-sim serve`` in another process) changes state in its
own process, so a run against it records nothing.  Under pytest-xdist each worker
records its own transitions; the pytest plugin's ``--halo-coverage FILE`` writes
one file per worker and merges them on the controller (:func:`session_finished`).

Observers are called from the stack's server thread while the recorder is read
and stopped from the test's thread, hence the lock.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from halo_sim.domain.machine import StateMachine
from halo_sim.domain.pairing import SESSION
from halo_sim.domain.payment import PAYMENT

Transition = tuple[str, str, str, str]  # (machine, from, event, to)
Counts = Mapping[Transition, int]

MACHINES: tuple[StateMachine[Any, Any], ...] = (PAYMENT, SESSION)
FORMAT_VERSION = 1


class TransitionRecorder:
    """Counts the transitions of :data:`MACHINES` between :meth:`start` and :meth:`stop` (or as a ``with``)."""

    def __init__(self, machines: Iterable[StateMachine[Any, Any]] = MACHINES) -> None:
        self.machines = tuple(machines)
        self._counts: Counter[Transition] = Counter()
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> TransitionRecorder:
        """Register as an observer of every machine (once)."""
        if not self._started:
            for machine in self.machines:
                machine.observers.append(self.observe)
            self._started = True
        return self

    def stop(self) -> None:
        """Stop observing; the counts stay readable.  Safe to call twice."""
        if self._started:
            for machine in self.machines:
                if self.observe in machine.observers:
                    machine.observers.remove(self.observe)
            self._started = False

    def observe(self, machine: str, source: str, event: str, target: str) -> None:
        """The observer callback (any thread)."""
        with self._lock:
            self._counts[(machine, source, event, target)] += 1

    def counts(self) -> dict[Transition, int]:
        """A snapshot of the counts so far."""
        with self._lock:
            return dict(self._counts)

    def __enter__(self) -> TransitionRecorder:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _value(member: Any) -> str:
    return str(member.value) if isinstance(member, StrEnum) else str(member)


def report(counts: Counts, machines: Iterable[StateMachine[Any, Any]] = MACHINES) -> dict[str, Any]:
    """Counts set against the declared tables, per machine.

    ``transitions`` lists every declared transition with its count, ``never_exercised``
    the ones counted zero times, ``states_never_entered`` the states no counted
    transition led to.  Initial states (``pending``, ``searching``: no declared
    transition leads to them, a row is created in them) are left out of that list,
    since creation is not a transition the recorder can see.  Counted transitions
    that are not declared (a machine changed under an old file) are listed under
    ``undeclared``.
    """
    result: dict[str, Any] = {}
    known = {m.name for m in machines}
    for machine in machines:
        declared = [(_value(s), _value(e), _value(t)) for (s, e), t in machine.transitions.items()]
        rows = [
            {"from": s, "event": e, "to": t, "count": counts.get((machine.name, s, e, t), 0)} for s, e, t in declared
        ]
        enum = type(next(iter(machine.transitions))[0]) if machine.transitions else None
        states = [_value(m) for m in enum] if enum is not None else []
        targets = {t for _, _, t in declared}
        entered = {r["to"] for r in rows if r["count"]}
        undeclared = sorted(
            f"{s} --{e}--> {t}"
            for (name, s, e, t), n in counts.items()
            if name == machine.name and n and (s, e, t) not in declared
        )
        result[machine.name] = {
            "transitions": rows,
            "exercised": sum(1 for r in rows if r["count"]),
            "declared": len(rows),
            "never_exercised": [{k: r[k] for k in ("from", "event", "to")} for r in rows if not r["count"]],
            "states_never_entered": [s for s in states if s in targets and s not in entered],
            "undeclared": undeclared,
        }
    unknown = sorted({name for (name, *_), n in counts.items() if n and name not in known})
    return {"machines": result, "unknown_machines": unknown}


def render(data: Mapping[str, Any]) -> Table:
    """The report as one rich table: every declared transition, never-exercised ones in red."""
    machines: Mapping[str, Any] = data["machines"]
    parts = [f"{name} {m['exercised']}/{m['declared']}" for name, m in machines.items()]
    table = Table(
        "machine", "from", "event", "to", "count", title=f"state-machine transition coverage ({', '.join(parts)})"
    )
    notes: list[str] = []
    for name, machine in machines.items():
        for row in machine["transitions"]:
            style = "" if row["count"] else "red"
            table.add_row(
                escape(name),
                row["from"],
                row["event"],
                row["to"],
                str(row["count"]) if row["count"] else "never",
                style=style,
            )
        if machine["states_never_entered"]:
            notes.append(f"{name}: never entered {', '.join(machine['states_never_entered'])}")
        if machine["undeclared"]:
            notes.append(f"{name}: undeclared {', '.join(machine['undeclared'])}")
    table.caption = escape("; ".join(notes)) if notes else "every state entered"
    return table


# --- files --------------------------------------------------------------------


def to_json(counts: Counts) -> dict[str, Any]:
    """Counts (and their report, for people reading the file) as a JSON document."""
    rows = [
        {"machine": m, "from": s, "event": e, "to": t, "count": n} for (m, s, e, t), n in sorted(counts.items()) if n
    ]
    return {"version": FORMAT_VERSION, "transitions": rows, "report": report(counts)}


def write(path: Path, counts: Counts) -> Path:
    """Write counts to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(counts), indent=2), encoding="utf-8")
    return path


def load(path: Path) -> dict[Transition, int]:
    """The counts of a file written by :func:`write`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    counts: Counter[Transition] = Counter()
    for row in data.get("transitions", []):
        counts[(row["machine"], row["from"], row["event"], row["to"])] += int(row["count"])
    return dict(counts)


def merge(paths: Iterable[Path]) -> dict[Transition, int]:
    """The summed counts of several files."""
    total: Counter[Transition] = Counter()
    for path in paths:
        total.update(load(path))
    return dict(total)


def print_report(path: Path, console: Console) -> None:
    """Print the coverage table of a counts file (what ``halo-sim suite --coverage`` shows)."""
    console.print(render(report(load(path))))


# --- the pytest plugin's --halo-coverage ------------------------------------------


def worker_files(path: Path) -> list[Path]:
    """The per-worker files ``FILE.<workerid>.json`` next to ``FILE``."""
    return sorted(path.parent.glob(f"{path.name}.*.json"))


def session_started(path: Path, worker: str | None) -> TransitionRecorder:
    """Start recording; the controller (``worker`` None) first removes stale worker files of an earlier run."""
    if worker is None:
        for stale in worker_files(path):
            stale.unlink(missing_ok=True)
    return TransitionRecorder().start()


def session_finished(recorder: TransitionRecorder, path: Path, worker: str | None) -> Path:
    """Stop recording and write: a worker its ``FILE.<worker>.json``; the controller ``FILE``, merged.

    The controller's own counts (a run without xdist records everything there) are
    summed with every worker file, which are then removed.
    """
    recorder.stop()
    if worker is not None:
        return write(path.with_name(f"{path.name}.{worker}.json"), recorder.counts())
    parts = worker_files(path)
    total: Counter[Transition] = Counter(recorder.counts())
    total.update(merge(parts))
    write(path, total)
    for part in parts:
        part.unlink(missing_ok=True)
    return path
