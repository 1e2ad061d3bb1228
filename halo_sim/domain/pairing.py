"""Chat-session pairing: the session state machine and the blast's accept race.

::

    searching ──offer──▶ pending_acceptance ──accept──▶ active ──end──▶ ended
        │                       │
        └─────timeout───────────┴──timeout / all_rejected──▶ failed

A blast offers one session to several mitras at once.  The first accept wins;
every later accept is told the offer is taken.  The decision is a pure function
of the session's recorded offers, so "atomic" simply means the service applies
it before yielding to the event loop.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from halo_sim.domain.machine import StateMachine


class SessionStatus(StrEnum):
    """States of a chat_session."""

    SEARCHING = "searching"
    PENDING_ACCEPTANCE = "pending_acceptance"
    ACTIVE = "active"
    ENDED = "ended"
    FAILED = "failed"


class SessionEvent(StrEnum):
    """What can happen to a chat_session."""

    OFFER = "offer"
    ACCEPT = "accept"
    TIMEOUT = "timeout"
    ALL_REJECTED = "all_rejected"
    END = "end"


SESSION = StateMachine[SessionStatus, SessionEvent](
    "chat_session",
    {
        (SessionStatus.SEARCHING, SessionEvent.OFFER): SessionStatus.PENDING_ACCEPTANCE,
        (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.OFFER): SessionStatus.PENDING_ACCEPTANCE,
        (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.ACCEPT): SessionStatus.ACTIVE,
        (SessionStatus.SEARCHING, SessionEvent.TIMEOUT): SessionStatus.FAILED,
        (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.TIMEOUT): SessionStatus.FAILED,
        (SessionStatus.PENDING_ACCEPTANCE, SessionEvent.ALL_REJECTED): SessionStatus.FAILED,
        (SessionStatus.ACTIVE, SessionEvent.END): SessionStatus.ENDED,
    },
)

IN_FLIGHT = frozenset({SessionStatus.SEARCHING, SessionStatus.PENDING_ACCEPTANCE})


class Mode(StrEnum):
    """Who an attempt is offered to: every eligible mitra, or the one bestie the customer chose."""

    BLAST = "blast"
    TARGETED = "targeted"


# What the apps are told when an attempt fails: the blast's PAIRING_FAILED, or the targeted
# wait's RETURNING_CHAT_TIMEOUT (the real backend's expireTargetedPairingRequest path).
FAILURE_REASONS = {Mode.BLAST: "PAIRING_FAILED", Mode.TARGETED: "RETURNING_CHAT_TIMEOUT"}


def is_terminal(mode: Mode, failed_attempts: int, max_attempts: int, payment_usable: bool) -> bool:
    """Whether a failed attempt ends pairing for this payment ("Option A" of the seed).

    A payment that can no longer be used always ends it.  Otherwise a blast failure is
    retryable until ``max_attempts`` attempts have failed; a targeted failure never is
    terminal by itself, because the customer still chooses "cari bestie lain".
    """
    if not payment_usable:
        return True
    return mode is Mode.BLAST and failed_attempts >= max_attempts


class AcceptOutcome(StrEnum):
    """The answer to one mitra's accept."""

    WON = "won"
    TAKEN = "offer_taken"
    NOT_OFFERED = "not_offered"
    CLOSED = "closed"
    BUSY = "mitra_busy"
    WITHDRAWN = "offer_withdrawn"


def has_live_offer(
    offered: Collection[str], rejected: Collection[str], withdrawn: Collection[str], mitra_id: str
) -> bool:
    """The mitra holds an offer it may still answer: made, not declined, not withdrawn."""
    return mitra_id in offered and mitra_id not in rejected and mitra_id not in withdrawn


def judge_accept(
    status: SessionStatus,
    offered: Collection[str],
    rejected: Collection[str],
    mitra_id: str,
    mitra_busy: bool = False,
    withdrawn: Collection[str] = (),
) -> AcceptOutcome:
    """Decide one accept against the session as it is now (a mitra in a session cannot take another).

    An offer withdrawn because the mitra went offline or became busy cannot be accepted
    until it is made again.
    """
    if mitra_id not in offered or mitra_id in rejected:
        return AcceptOutcome.NOT_OFFERED
    if mitra_id in withdrawn and status in IN_FLIGHT:
        return AcceptOutcome.WITHDRAWN
    if mitra_busy and status is SessionStatus.PENDING_ACCEPTANCE:
        return AcceptOutcome.BUSY
    if status is SessionStatus.PENDING_ACCEPTANCE:
        return AcceptOutcome.WON
    if status in (SessionStatus.ACTIVE, SessionStatus.ENDED):
        return AcceptOutcome.TAKEN
    return AcceptOutcome.CLOSED


def all_rejected(offered: Collection[str], rejected: Collection[str]) -> bool:
    """True once every mitra the session was offered to has said no."""
    return bool(offered) and set(offered) <= set(rejected)


def judge_reject(status: SessionStatus, offered: Collection[str], mitra_id: str) -> AcceptOutcome:
    """Decide one decline: only an offered mitra, and only while the session still searches.

    A mitra that lost the race cannot decline (or otherwise touch) the winner's session.
    ``WON`` here means the decline is accepted.
    """
    if mitra_id not in offered:
        return AcceptOutcome.NOT_OFFERED
    if status in (SessionStatus.ACTIVE, SessionStatus.ENDED):
        return AcceptOutcome.TAKEN
    if status not in IN_FLIGHT:
        return AcceptOutcome.CLOSED
    return AcceptOutcome.WON
