"""Mitra presence: who is really online and who may receive a blast.

A mitra is online only while it says so *and* its heartbeats keep coming; a mitra
whose phone died mid-shift drops out after ``heartbeat_timeout`` seconds without
anybody having to notice.  Computing this from the last heartbeat and the
clock (rather than flipping a flag from a timer) keeps it pure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PresenceFacts:
    """The facts about one mitra that presence rules look at."""

    mitra_id: str
    online: bool
    last_heartbeat_at: float | None
    busy: bool


def is_online(facts: PresenceFacts, now: float, heartbeat_timeout: float) -> bool:
    """Online flag set and a heartbeat seen within the timeout."""
    if not facts.online or facts.last_heartbeat_at is None:
        return False
    return now - facts.last_heartbeat_at <= heartbeat_timeout


def eligible_for_blast(mitras: list[PresenceFacts], now: float, heartbeat_timeout: float) -> list[str]:
    """Ids of the mitras a blast may go to: online, heartbeat fresh, not in a session."""
    return [m.mitra_id for m in mitras if is_online(m, now, heartbeat_timeout) and not m.busy]
