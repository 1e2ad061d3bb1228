"""The live snapshot the page shows: the backend's tables as QA reads them, the fakes beside them.

One :class:`Desk` per app holds the timeline and knows the backend and its fakes;
:meth:`Desk.snapshot` answers a JSON-ready dict, built on the serving loop (so no request
runs halfway through it) and free of secrets: no bearer token, password, OTP or callback
token is read into it, and FCM device tokens appear shortened (enough to tell two
devices apart, not enough to push to one).  Every list is capped, so a long-running
``serve`` answers in bounded time and size, and the fakes are read from cursors (what is new
since the last tick, see :mod:`.fakes`), so a tick costs what the page shows, not the history.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from starlette.types import Scope

from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import ChatSession, Mitra
from halo_sim.control.fakes import CALLBACKS_WINDOW, INBOX_WINDOW, Fakes, Window
from halo_sim.control.timeline import Timeline, ids_in
from halo_sim.domain.pairing import IN_FLIGHT, SessionStatus, has_live_offer
from simkit.errors import DomainError

ROWS_CAP = 100  # rows per table on the page (the newest)
TIMELINE_SHOWN = 300
PUSHES_PER_TOKEN = 5
TOKEN_SHOWN = 10  # characters of an FCM token the page shows


def short_token(token: str) -> str:
    """An FCM token as the page shows it: its start and its length."""
    return f"{token[:TOKEN_SHOWN]}…({len(token)})" if len(token) > TOKEN_SHOWN else token


def epoch(iso: str | None) -> float:
    """A fake's ISO time as clock seconds (0 when absent or unreadable)."""
    try:
        return datetime.fromisoformat((iso or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Desk:
    """The control center's state: the backend, its fakes and the timeline they feed."""

    def __init__(self, backend: ReferenceBackend) -> None:
        self.backend = backend
        self.timeline = Timeline()
        self.inbox = Window(INBOX_WINDOW)  # the newest pushes, followed from a cursor
        self.callbacks = Window(CALLBACKS_WINDOW)  # the newest callback delivery attempts

    @property
    def fakes(self) -> Fakes:
        """The fakes the stack advertised (read each time: the stack sets them after the app is built)."""
        return Fakes(self.backend.advertised)

    def on_call(self, scope: Scope, status: int) -> None:
        """An HTTP call finished: record what it caused in the backend's logs, then the call itself."""
        self.timeline.backend(self.backend)  # first: a reset call clears what came before, then shows itself
        who = self._caller(scope)
        text = f"{scope['method']} {scope['path']} → {status}" + (f" by {who}" if who else "")
        self.timeline.add(self.backend.deps.now(), "http", text, [who.partition(":")[2], *scope["path"].split("/")])

    def _caller(self, scope: Scope) -> str:
        """``role:id`` of the bearer token's owner, or "" (the token itself is never kept)."""
        header = dict(scope.get("headers") or ()).get(b"authorization", b"").decode("latin-1")
        if not header.lower().startswith("bearer "):
            return ""
        try:
            who = self.backend.auth.authenticate(header[7:].strip())
        except DomainError:
            return ""
        return f"{who.role}:{who.id}"

    async def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, now."""
        shown = _newest(self.backend.store.payment_requests.all())
        fakes = await self.fakes.read([p.xendit_invoice_id for p in shown if p.xendit_invoice_id], *self._windows)
        self.timeline.backend(self.backend)
        self._read_fakes(fakes)
        backend, now = self.backend, self.backend.deps.now()
        return {
            "now": now,
            "virtual_clock": backend.scheduler.is_virtual,
            "fakes": {"xendit": self.fakes.xendit_url is not None, "fcm": self.fakes.fcm_url is not None},
            "stats": backend.control.stats(),
            "config": backend.control.config(),
            "mitras": [self._mitra(m, now) for m in _newest(backend.store.mitras.all())],
            "customers": self._customers(),
            "payments": self._payments(fakes["invoices"]),
            "sessions": self._sessions(now),
            "inbox": self._inbox(list(self.inbox.entries)),
            "callbacks": list(self.callbacks.entries)[::-1],
            "bounds": {"inbox": self.inbox.bound, "callbacks": self.callbacks.bound, "inbox_window": INBOX_WINDOW},
            "faults": fakes["faults"],
            "timeline": self.timeline.newest(TIMELINE_SHOWN, now),
        }

    @property
    def _windows(self) -> tuple[Window, Window]:
        return self.inbox, self.callbacks

    # --- rows -------------------------------------------------------------------------------

    def _mitra(self, mitra: Mitra, now: float) -> dict[str, Any]:
        presence = self.backend.presence
        facts = presence.facts(mitra)
        state = "busy" if facts.busy else "online" if presence.is_online(mitra) else "offline"
        beat = mitra.last_heartbeat_at
        offers = sum(
            1
            for s in self.backend.store.chat_sessions.find_in("status", IN_FLIGHT)
            if has_live_offer(s.offered_mitra_ids, s.rejected_mitra_ids, s.withdrawn_mitra_ids, mitra.id)
        )
        return {
            "id": mitra.id,
            "display_name": mitra.display_name,
            "phone": mitra.phone,
            "state": state,
            "toggle": mitra.online,
            "heartbeat_age_s": None if beat is None else round(now - beat, 1),
            "offers": offers,
            "sockets": self.backend.hub.count(("mitra", mitra.id)),
        }

    def _customers(self) -> list[dict[str, Any]]:
        hub = self.backend.hub
        return [
            {
                "id": c.id,
                "phone": c.phone,
                "display_name": c.display_name,
                "anonymous": c.is_anonymous,
                "sockets": hub.count(("customer", c.id)),
            }
            for c in _newest(self.backend.store.customers.all())
        ]

    def _payments(self, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_id = {inv.get("id"): inv for inv in invoices}
        rows = []
        for p in _newest(self.backend.store.payment_requests.all()):
            invoice = by_id.get(p.xendit_invoice_id)
            rows.append(
                {
                    "id": p.id,
                    "customer_id": p.customer_id,
                    "amount": p.amount,
                    "status": p.status.value,
                    "duration_minutes": p.duration_minutes,
                    "targeted_mitra_id": p.targeted_mitra_id,
                    "confirmed_source": p.confirmed_source,
                    "invoice_id": p.xendit_invoice_id,
                    "invoice_status": invoice.get("status") if invoice else None,
                    "invoice_url": p.xendit_invoice_url,
                }
            )
        return rows

    def _sessions(self, now: float) -> list[dict[str, Any]]:
        deadlines = self._pairing_deadlines()
        return [_session(s, now, deadlines.get(s.id)) for s in _newest(self.backend.store.chat_sessions.all())]

    def _pairing_deadlines(self) -> dict[str, float]:
        """When each attempt in flight times out: the pairing timers, keyed by the session they end."""
        found: dict[str, float] = {}
        for timer in self.backend.scheduler.pending():
            callback = timer.callback
            if timer.name == "pairing_timeout" and isinstance(callback, functools.partial) and callback.args:
                found[str(callback.args[0])] = timer.when
        return found

    def _inbox(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The FCM inbox per token, newest token first, each with its owner and last few pushes
        (``count`` among the newest :data:`~halo_sim.control.fakes.INBOX_WINDOW` pushes)."""
        by_token: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            by_token.setdefault(str(message.get("target", "?")), []).append(message)
        rows = [self._token_row(token, found) for token, found in by_token.items()]
        return sorted(rows, key=lambda r: r["last_at"], reverse=True)[:ROWS_CAP]

    def _token_row(self, token: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "token": short_token(token),
            "owner": self._owner_of(token) or None,
            "count": len(messages),
            "last_at": messages[-1].get("received_at", 0),
            "pushes": [_push(m) for m in messages[-PUSHES_PER_TOKEN:][::-1]],
        }

    # --- the fakes' logs into the timeline ----------------------------------------------------------

    def _read_fakes(self, fakes: dict[str, Any]) -> None:
        for message in fakes["inbox"]:  # only what is new since the last read
            push = _push(message)
            owner = self._owner_of(str(message.get("target", "")))
            text = f"push → {owner or short_token(str(message.get('target', '')))}: {push['title']}"
            self.timeline.add(push["at"], "push", text, [owner.partition(":")[2], *push["refs"]])
        for attempt in fakes["callbacks"]:
            text = (
                f"Xendit callback {attempt.get('status')} for {attempt.get('external_id')}: "
                f"attempt {attempt.get('attempt')} {attempt.get('outcome')} {attempt.get('response_status') or ''}"
            )
            self.timeline.add(epoch(attempt.get("at")), "callback", text.strip(), ids_in(attempt))

    def _owner_of(self, token: str) -> str:
        """``role:id`` of the device registered with ``token``, or "" for a token no device has."""
        device = self.backend.store.devices.first(fcm_token=token)
        if device is None:
            return ""
        return f"customer:{device.customer_id}" if device.customer_id else f"mitra:{device.mitra_id}"


def _newest(rows: list[Any]) -> list[Any]:
    """The newest :data:`ROWS_CAP` rows (insertion order is creation order), newest first."""
    return rows[-ROWS_CAP:][::-1]


def _session(s: ChatSession, now: float, deadline: float | None) -> dict[str, Any]:
    offered, rejected, withdrawn = s.offered_mitra_ids, s.rejected_mitra_ids, s.withdrawn_mitra_ids
    live = [m for m in offered if has_live_offer(offered, rejected, withdrawn, m)] if s.status in IN_FLIGHT else []
    ends = s.ends_at if s.status is SessionStatus.ACTIVE else deadline if s.status in IN_FLIGHT else None
    return {
        "id": s.id,
        "customer_id": s.customer_id,
        "mitra_id": s.mitra_id,
        "payment_request_id": s.payment_request_id,
        "status": s.status.value,
        "mode": s.mode,
        "attempt": s.attempt,
        "offers_out": len(live),
        "time_left_s": None if ends is None else max(0, round(ends - now)),
        "why": s.failure_reason or s.end_reason,
    }


def _push(message: dict[str, Any]) -> dict[str, Any]:
    body = message.get("message") or {}
    note = body.get("notification") or {}
    data = body.get("data") or {}
    title = note.get("title") or data.get("type") or data.get("title") or "(data only)"
    return {
        "at": float(message.get("received_at") or 0),
        "title": str(title),
        "body": str(note.get("body") or data.get("text") or "")[:120],
        "refs": [v for v in data.values() if isinstance(v, str)],
    }
