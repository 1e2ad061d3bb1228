"""The service behind ``/internal/_test/*``: the Halo team's assertion and shortcut hooks.

Each hook goes through the same service code as the real path (force-confirm
confirms through ``PaymentService.confirm_payment`` so the event fires; putting
a mitra online goes through ``PresenceService.set_online`` so the blasts still
searching are offered), so a hook can never disagree with the route it stands in
for.  The routes only parse the body and call one method here.
"""

from __future__ import annotations

import re
from typing import Any

from halo_sim.backend.services.auth import AuthService
from halo_sim.backend.services.chat import ChatService
from halo_sim.backend.services.deps import Deps, Principal, Role
from halo_sim.backend.services.notify import Delivery, Notifier, PushText
from halo_sim.backend.services.pairing import PairingService
from halo_sim.backend.services.payments import PaymentService
from halo_sim.backend.services.presence import PresenceService
from halo_sim.backend.services.webhooks import XenditCallback, XenditWebhook
from halo_sim.backend.tables import ChatMessage, ChatSession, Customer, Mitra, PaymentRequest
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.errors import Conflict, NotFound, ValidationFailed

# Children before parents: the order Postgres' foreign keys demand (the seed's 23503 fix).
RESET_PHONE_ORDER = (
    "chat_messages",
    "chat_sessions",
    "payment_requests",
    "customer_transactions",
    "auth_sessions",
    "devices",
)
DEFAULT_MITRA_PASSWORD = "bestie123"


class TestSupport:
    """Cascading deletes, look-ups by phone and the shortcuts of the test surface."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(
        self,
        deps: Deps,
        auth: AuthService,
        payments: PaymentService,
        pairing: PairingService,
        presence: PresenceService,
        chat: ChatService,
        notifier: Notifier,
        webhook: XenditWebhook,
    ) -> None:
        self.deps = deps
        self.auth = auth
        self.payments = payments
        self.pairing = pairing
        self.presence = presence
        self.chat = chat
        self.notifier = notifier
        self.webhook = webhook

    # --- look-ups ----------------------------------------------------------------------

    def customer_by_phone(self, phone: str) -> Customer:
        """The customer registered with ``phone``."""
        row = self.deps.store.customers.first(phone=phone)
        if row is None:
            raise NotFound(f"no customer with phone {phone}", code="CUSTOMER_NOT_FOUND")
        return row

    def mitra_by_phone(self, phone: str) -> Mitra:
        """The mitra registered with ``phone``."""
        row = self.deps.store.mitras.first(phone=phone)
        if row is None:
            raise NotFound(f"no mitra with phone {phone}", code="MITRA_NOT_FOUND")
        return row

    def mitra_ref(self, mitra_id: str | None, mitra_phone: str | None) -> Mitra | None:
        """A mitra by id or phone (None when neither is given)."""
        if mitra_id:
            return self.deps.store.mitras.require(mitra_id, "mitra")
        return self.mitra_by_phone(mitra_phone) if mitra_phone else None

    def named_mitra(self, mitra_id: str | None, mitra_phone: str | None) -> Mitra:
        """A mitra by id or phone; one of them is required."""
        mitra = self.mitra_ref(mitra_id, mitra_phone)
        if mitra is None:
            raise ValidationFailed("give mitra_id or mitra_phone")
        return mitra

    def session_of(self, session_id: str | None, customer_phone: str | None) -> ChatSession:
        """A session by id, or the newest of the customer with ``customer_phone``."""
        if session_id:
            return self.deps.store.chat_sessions.require(session_id, "chat_session")
        if not customer_phone:
            raise ValidationFailed("give session_id or customer_phone")
        customer = self.customer_by_phone(customer_phone)
        row = self.deps.store.chat_sessions.latest(customer_id=customer.id)
        if row is None:
            raise NotFound(f"customer {customer_phone} has no chat_session")
        return row

    def payment_of(self, payment_id: str | None, phone: str | None) -> PaymentRequest:
        """By id, or the newest pending payment of the customer with ``phone``."""
        if payment_id is not None:
            return self.payments.get(payment_id)
        if phone is None:
            raise ValidationFailed("give payment_request_id or phone")
        return self.payments.latest_for_customer(self.customer_by_phone(phone).id, PaymentStatus.PENDING)

    # --- reset-phone ----------------------------------------------------------------------

    def reset_phone(self, phone: str) -> dict[str, Any]:
        """Delete a customer and everything hanging off it, children first; its OTP state goes too."""
        self.auth.forget_otp(phone)
        customer = self.deps.store.customers.first(phone=phone)
        if customer is None:
            return {"phone": phone, "deleted": False, "rows": {}}
        counts = {table: self._delete_owned(table, customer.id) for table in RESET_PHONE_ORDER}
        self.deps.store.customers.delete(customer.id)
        counts["customers"] = 1
        return {"phone": phone, "deleted": True, "rows": counts}

    def _delete_owned(self, table: str, customer_id: str) -> int:
        store = self.deps.store
        if table == "chat_messages":
            sessions = store.chat_sessions.find(customer_id=customer_id)
            doomed: list[Any] = [m for s in sessions for m in store.chat_messages.find(session_id=s.id)]
        else:
            doomed = store.table(table).find(customer_id=customer_id)
        for row in doomed:
            store.table(table).delete(row.id)
        return len(doomed)

    # --- payments -----------------------------------------------------------------------------

    async def mark_paid(self, payment: PaymentRequest) -> dict[str, Any]:
        """What a PAID callback from Xendit does, through the same webhook handler (no token needed here)."""
        callback = XenditCallback(
            id=payment.xendit_invoice_id or f"test-invoice-{payment.id}", external_id=payment.id, status="PAID"
        )
        outcome = await self.webhook.handle(callback, source="test")
        return {**outcome, "payment": self.payments.get(payment.id)}

    async def force_timeout(self, payment_id: str | None, phone: str | None) -> ChatSession:
        """The payment's (or the customer's newest) attempt in flight fails now, as its timer would."""
        if payment_id:
            session = self.pairing.in_flight_of_payment(payment_id)
        elif phone:
            session = self.pairing.latest_in_flight(self.customer_by_phone(phone).id)
        else:
            raise ValidationFailed("give payment_request_id or phone")
        return await self.pairing.force_timeout(session)

    # --- mitras ---------------------------------------------------------------------------------

    async def accept_latest_pending(self, mitra_id: str | None) -> ChatSession:
        """The newest offer pending acceptance, accepted by ``mitra_id`` or the first mitra holding it."""
        session = self.pairing.latest_pending_offer(mitra_id)
        return await self.pairing.accept(mitra_id or self.pairing.first_offered(session), session.id)

    async def force_other_mitra_online(self, excluded: Mitra | None) -> Mitra:
        """Some free mitra other than ``excluded`` comes online (a bestie baru for the blast)."""
        free = [
            m
            for m in self.deps.store.mitras.all()
            if (excluded is None or m.id != excluded.id) and not self.presence.facts(m).busy
        ]
        free.sort(key=self.presence.is_online)  # an offline one first: the point is one more online
        if not free:
            raise NotFound("no other free mitra exists; seed one with seed-mitra", code="NO_OTHER_MITRA")
        return await self.presence.set_online(free[0].id, True)

    async def all_mitras_online(self) -> list[str]:
        """Every mitra goes online (each offered the blasts still searching)."""
        return [(await self.presence.set_online(m.id, True)).id for m in self.deps.store.mitras.all()]

    def seed_mitra(
        self, phone: str, display_name: str, password: str, topics: list[str], mitra_id: str | None
    ) -> tuple[Mitra, bool]:
        """Create a mitra, or update the one with this phone (idempotent); True when created."""
        existing = self.deps.store.mitras.first(phone=phone)
        if existing is not None:
            changes = {"display_name": display_name, "password": password, "topics": tuple(topics)}
            return self.deps.store.mitras.update(existing.id, **changes), False
        row = Mitra(
            id=mitra_id or self.deps.ids.uuid(),
            phone=phone,
            display_name=display_name,
            password=password,
            topics=tuple(topics),
        )
        return self.deps.store.mitras.insert(row), True

    # --- history -----------------------------------------------------------------------------------

    def seed_history_session(
        self,
        customer_phone: str,
        mitra_phone: str | None,
        display_name: str | None,
        topics: list[str] | None,
        duration_minutes: int,
        days_ago: float,
    ) -> dict[str, Any]:
        """A past session with a bestie; every given field is honoured, for a new or an existing mitra."""
        customer = self.customer_by_phone(customer_phone)
        mitra = self._history_mitra(mitra_phone, display_name, topics)
        session = self._seed_history(customer, mitra, duration_minutes, days_ago)
        return {
            "session_id": session.id,
            "mitra_id": mitra.id,
            "mitra_phone": mitra.phone,
            "MITRA_NAME": mitra.display_name,
            "MITRA_NAME_RE": name_pattern(mitra.display_name),
        }

    def _history_mitra(self, phone: str | None, display_name: str | None, topics: list[str] | None) -> Mitra:
        existing = self.deps.store.mitras.first(phone=phone) if phone else None
        if existing is None:
            row = Mitra(
                id=self.deps.ids.uuid(),
                phone=phone or f"+62819{self.deps.ids.digits(8)}",
                display_name=display_name or "Bestie Lama",
                password=DEFAULT_MITRA_PASSWORD,
                topics=tuple(topics or ()),
            )
            return self.deps.store.mitras.insert(row)
        changes = {"display_name": display_name, "topics": None if topics is None else tuple(topics)}
        return self.deps.store.mitras.update(existing.id, **{k: v for k, v in changes.items() if v is not None})

    def _seed_history(self, customer: Customer, mitra: Mitra, duration_minutes: int, days_ago: float) -> ChatSession:
        started = self.deps.now() - days_ago * 86400
        payment = self.deps.store.payment_requests.insert(
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
            )
        )
        ended = started + duration_minutes * 60
        return self.deps.store.chat_sessions.insert(
            ChatSession(
                id=self.deps.ids.uuid(),
                customer_id=customer.id,
                payment_request_id=payment.id,
                status=SessionStatus.ENDED,
                duration_minutes=duration_minutes,
                created_at=started,
                mitra_id=mitra.id,
                offered_mitra_ids=(mitra.id,),
                started_at=started,
                ends_at=ended,
                ended_at=ended,
                end_reason="time_over",
            )
        )

    # --- chat and sockets ----------------------------------------------------------------------------

    async def send_as(
        self, role: Role, session_id: str | None, customer_phone: str | None, text: str
    ) -> tuple[ChatMessage, Delivery]:
        """A message from one participant, through the chat service (so ``delivered_via`` is the real one)."""
        session = self.session_of(session_id, customer_phone)
        sender_id = session.customer_id if role == "customer" else session.mitra_id
        if sender_id is None:
            raise Conflict(f"session {session.id} has no {role} yet", code="NO_MITRA_YET")
        return await self.chat.send(session.id, Principal(role, sender_id), text)

    async def raw_push(
        self, session_id: str | None, customer_phone: str | None, to: Role, title: str, body: str
    ) -> Delivery:
        """A raw FCM dispatch to a participant, whatever its socket state."""
        session = self.session_of(session_id, customer_phone)
        user_id = session.customer_id if to == "customer" else session.mitra_id
        if user_id is None:
            raise Conflict(f"session {session.id} has no {to} yet", code="NO_MITRA_YET")
        frame = {"type": "chat_message", "session_id": session.id, "text": body}
        return await self.notifier.push(Principal(to, user_id), frame, PushText(title, body))

    def ws_state(self, session: ChatSession) -> dict[str, Any]:
        """Which participants of ``session`` have a socket open (the foreground signal)."""
        customer = Principal("customer", session.customer_id)
        state: dict[str, Any] = {"session_id": session.id, "customer": self._socket_state(customer)}
        state["mitra"] = self._socket_state(Principal("mitra", session.mitra_id)) if session.mitra_id else None
        return state

    def _socket_state(self, user: Principal) -> dict[str, Any]:
        sockets = self.deps.hub.count(user.key)
        return {"id": user.id, "connected": sockets > 0, "sockets": sockets}


REGEX_SPECIALS = re.compile(r"[.*+?^${}()|\[\]\\]")


def name_pattern(display_name: str) -> str:
    r"""``MITRA_NAME_RE``: the display name as a regex matching it literally (Maestro selectors).

    Escapes exactly what the Node backend's usual ``/[.*+?^${}()|[\]\\]/g`` escapes, so a
    scenario pinning the pattern passes on both; spaces and other characters stay as they are.
    """
    return REGEX_SPECIALS.sub(lambda m: "\\" + m.group(0), display_name)
