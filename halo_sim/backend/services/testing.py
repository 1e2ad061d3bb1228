"""What the ``/internal/_test/*`` endpoints do beyond calling other services.

These are the assertion and shortcut hooks the Halo team's Maestro flows use;
each one goes through the same service code as the real path (force-confirm
confirms through ``PaymentService.confirm_payment``, so the event fires).
"""

from __future__ import annotations

import re
from typing import Any

from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.tables import ChatSession, Customer, Mitra, PaymentRequest
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.errors import NotFound

# Children before parents: the order Postgres' foreign keys demand (the seed's 23503 fix).
RESET_PHONE_ORDER = (
    "chat_messages",
    "chat_sessions",
    "payment_requests",
    "customer_transactions",
    "auth_sessions",
    "devices",
)


class TestSupport:
    """Cascading deletes and look-ups by phone for the test surface."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def customer_by_phone(self, phone: str) -> Customer:
        """The customer registered with ``phone``."""
        rows = self.deps.store.find("customers", phone=phone)
        if not rows:
            raise NotFound(f"no customer with phone {phone}")
        return rows[0]  # type: ignore[no-any-return]

    def mitra_by_phone(self, phone: str) -> Mitra:
        """The mitra registered with ``phone``."""
        rows = self.deps.store.find("mitras", phone=phone)
        if not rows:
            raise NotFound(f"no mitra with phone {phone}")
        return rows[0]  # type: ignore[no-any-return]

    def reset_phone(self, phone: str) -> dict[str, Any]:
        """Delete a customer and everything hanging off it, children first."""
        rows = self.deps.store.find("customers", phone=phone)
        if not rows:
            return {"phone": phone, "deleted": False, "rows": {}}
        customer = rows[0]
        counts = {table: self._delete_owned(table, customer.id) for table in RESET_PHONE_ORDER}
        self.deps.store.delete("customers", customer.id)
        counts["customers"] = 1
        return {"phone": phone, "deleted": True, "rows": counts}

    def _delete_owned(self, table: str, customer_id: str) -> int:
        if table == "chat_messages":
            session_ids = {s.id for s in self.deps.store.find("chat_sessions", customer_id=customer_id)}
            doomed = self.deps.store.rows(table, lambda m: m.session_id in session_ids)
        else:
            doomed = self.deps.store.find(table, customer_id=customer_id)
        for row in doomed:
            self.deps.store.delete(table, row.id)
        return len(doomed)

    def session_of(self, session_id: str | None, customer_phone: str | None) -> ChatSession:
        """A session by id, or the newest of the customer with ``customer_phone``."""
        if session_id:
            return self.deps.store.require("chat_sessions", session_id, "chat_session")  # type: ignore[no-any-return]
        if not customer_phone:
            raise NotFound("give session_id or customer_phone")
        customer = self.customer_by_phone(customer_phone)
        rows = self.deps.store.find("chat_sessions", customer_id=customer.id)
        if not rows:
            raise NotFound(f"customer {customer_phone} has no chat_session")
        return rows[-1]  # type: ignore[no-any-return]

    def ws_state(self, session: ChatSession) -> dict[str, Any]:
        """Which participants of ``session`` have a socket open (the foreground signal)."""
        customer = Principal("customer", session.customer_id)
        state: dict[str, Any] = {"session_id": session.id, "customer": self._socket_state(customer)}
        state["mitra"] = self._socket_state(Principal("mitra", session.mitra_id)) if session.mitra_id else None
        return state

    def _socket_state(self, user: Principal) -> dict[str, Any]:
        sockets = self.deps.hub.count(user.key)
        return {"id": user.id, "connected": sockets > 0, "sockets": sockets}

    def mitra_ref(self, mitra_id: str | None, mitra_phone: str | None) -> Mitra | None:
        """A mitra by id or phone (None when neither is given)."""
        if mitra_id:
            return self.deps.store.require("mitras", mitra_id, "mitra")  # type: ignore[no-any-return]
        return self.mitra_by_phone(mitra_phone) if mitra_phone else None

    def seed_history(self, customer: Customer, mitra: Mitra, duration_minutes: int, days_ago: float) -> ChatSession:
        """A finished session between ``customer`` and ``mitra`` in the past (for the choice sheet)."""
        started = self.deps.now() - days_ago * 86400
        payment = self.deps.store.insert(
            "payment_requests",
            PaymentRequest(
                id=self.deps.ids.uuid(),
                customer_id=customer.id,
                product="chat",
                amount=0,
                status=PaymentStatus.CONSUMED,
                created_at=started,
                duration_minutes=duration_minutes,
                confirmed_at=started,
                confirmed_source="seed-history-session",
            ),
        )
        return self.deps.store.insert(
            "chat_sessions",
            ChatSession(
                id=self.deps.ids.uuid(),
                customer_id=customer.id,
                payment_request_id=payment.id,
                status=SessionStatus.ENDED,
                duration_minutes=duration_minutes,
                created_at=started,
                mitra_id=mitra.id,
                offered_mitra_ids=[mitra.id],
                started_at=started,
                ends_at=started + duration_minutes * 60,
                ended_at=started + duration_minutes * 60,
                end_reason="time_over",
            ),
        )

    def new_mitra(self, display_name: str, phone: str | None, topics: list[str]) -> Mitra:
        """A mitra made up for a test (phone generated when not given)."""
        row = Mitra(
            id=self.deps.ids.uuid(),
            phone=phone or f"+62819{self.deps.ids.digits(8)}",
            display_name=display_name,
            password="bestie123",
            topics=topics,
        )
        return self.deps.store.insert("mitras", row)


REGEX_SPECIALS = re.compile(r"[.*+?^${}()|\[\]\\]")


def name_pattern(display_name: str) -> str:
    r"""``MITRA_NAME_RE``: the display name as a regex matching it literally (Maestro selectors).

    Escapes exactly what the Node backend's usual ``/[.*+?^${}()|[\]\\]/g`` escapes, so a
    scenario pinning the pattern passes on both; spaces and other characters stay as they are.
    """
    return REGEX_SPECIALS.sub(lambda m: "\\" + m.group(0), display_name)
