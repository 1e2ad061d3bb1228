"""Correctness under load, checked once at the end through the target's state dump.

Three promises Halo makes whatever the load: a payment buys one chat (confirmed once, paired
once), a mitra talks to one customer at a time, and a message the backend acknowledged is
stored.  A target without ``state_dump`` cannot be checked; the report says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import httpx

from halo_sim.targets.base import Target

Rows = list[dict[str, Any]]


def fetch_state(target: Target) -> dict[str, Any]:
    """The whole state (``GET /internal/_test/state``), with the target's test token."""
    route = target.routes["test.state"]
    answer = httpx.get(target.base_url + route.path, headers=target.test_headers(), timeout=30)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


def violations(state: dict[str, Any], acked: Iterable[str]) -> list[str]:
    """Every broken invariant, one line each (empty: all held)."""
    tables = state["tables"]
    return [
        *confirmed_twice(tables["customer_transactions"], tables["chat_sessions"]),
        *double_booked(tables["chat_sessions"], float(state["now"])),
        *unstored(tables["chat_messages"], acked),
    ]


def confirmed_twice(transactions: Rows, sessions: Rows) -> list[str]:
    """A payment booked twice, or paired to two chats that started."""
    booked = Counter(t["payment_request_id"] for t in transactions if t["kind"] == "payment")
    started = Counter(s["payment_request_id"] for s in sessions if s.get("started_at") is not None)
    return [f"payment {p} confirmed {n} times" for p, n in booked.items() if n > 1] + [
        f"payment {p} started {n} chats" for p, n in started.items() if n > 1
    ]


def double_booked(sessions: Rows, now: float) -> list[str]:
    """A mitra whose chats overlap in time."""
    by_mitra: dict[str, Rows] = defaultdict(list)
    for row in sessions:
        if row.get("mitra_id") and row.get("started_at") is not None:
            by_mitra[row["mitra_id"]].append(row)
    found = []
    for mitra, rows in by_mitra.items():
        rows.sort(key=lambda r: r["started_at"])
        for before, after in zip(rows, rows[1:]):
            if after["started_at"] < (before.get("ended_at") or now):
                found.append(f"mitra {mitra} in sessions {before['id']} and {after['id']} at once")
    return found


def unstored(messages: Rows, acked: Iterable[str]) -> list[str]:
    """Acknowledged messages the store does not have."""
    stored = {m["id"] for m in messages}
    missing = sorted(set(acked) - stored)
    return [f"{len(missing)} acknowledged message(s) not stored, e.g. {missing[:3]}"] if missing else []
