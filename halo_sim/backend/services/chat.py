"""Chat messages: stored first, then delivered by the delivery contract."""

from __future__ import annotations

import dataclasses
from typing import Any

from halo_sim.backend.services.deps import Deps, Principal
from halo_sim.backend.services.notify import Delivery, Notifier, PushText
from halo_sim.backend.services.pairing import PairingService
from halo_sim.backend.tables import ChatMessage, ChatSession
from halo_sim.contract.frames import ChatMessageFrame, ChatMessageRow, build
from halo_sim.domain.pairing import IN_FLIGHT, SessionStatus
from simkit.errors import Conflict, ValidationFailed

SESSION_ENDED = "Sesi sudah berakhir"
SESSION_NOT_STARTED = "Sesi belum dimulai"


class ChatService:
    """Sends and lists the messages of a chat session."""

    def __init__(self, deps: Deps, pairing: PairingService, notifier: Notifier) -> None:
        self.deps = deps
        self.pairing = pairing
        self.notifier = notifier

    async def send(self, session_id: str, sender: Principal, text: str) -> tuple[ChatMessage, Delivery]:
        """Store the message, then deliver it to the other participant."""
        session = self.pairing.participant_of(session_id, sender)
        self._ensure_open(session)
        if not text.strip():
            raise ValidationFailed("text must not be empty")
        message = self.deps.store.chat_messages.insert(
            ChatMessage(
                id=self.deps.ids.uuid(),
                session_id=session.id,
                seq=self._next_seq(session.id),
                sender_role=sender.role,
                sender_id=sender.id,
                text=text,
                created_at=self.deps.now(),
            ),
        )
        frame = build(ChatMessageFrame(session_id=session.id, message=ChatMessageRow(**dataclasses.asdict(message))))
        delivery = await self.notifier.deliver(
            self._other(session, sender), frame, PushText(self._sender_name(sender), text)
        )
        message = self.deps.store.chat_messages.update(message.id, delivered_via=delivery.channel.value)
        return message, delivery

    def _ensure_open(self, session: ChatSession) -> None:
        if session.status in IN_FLIGHT:  # still searching: the chat has not begun, it has not ended either
            raise Conflict(SESSION_NOT_STARTED, code="SESSION_NOT_STARTED")
        over = session.ends_at is not None and self.deps.now() >= session.ends_at
        if session.status is not SessionStatus.ACTIVE or over:
            raise Conflict(SESSION_ENDED, code="SESSION_ENDED")

    def _next_seq(self, session_id: str) -> int:
        return self.deps.store.chat_messages.count(session_id=session_id) + 1  # O(1): the index's bucket size

    @staticmethod
    def _other(session: ChatSession, sender: Principal) -> Principal:
        if sender.role == "customer":
            return Principal("mitra", session.mitra_id or "")
        return Principal("customer", session.customer_id)

    def _sender_name(self, sender: Principal) -> str:
        row = self.deps.store.table(f"{sender.role}s").require(sender.id)
        return str(row.display_name or "Halo")

    async def end_early(self, session_id: str, user: Principal) -> ChatSession:
        """A participant says goodbye and ends the session before its time is over."""
        return await self.pairing.timer.end_by(self.pairing.participant_of(session_id, user), user)

    def messages(self, session_id: str, reader: Principal, after_seq: int = 0) -> list[dict[str, Any]]:
        """Messages after ``after_seq``: what a reconnecting app fetches to catch up."""
        session = self.pairing.participant_of(session_id, reader)
        rows = self.deps.store.chat_messages.find(session_id=session.id)
        return [dataclasses.asdict(m) for m in rows if m.seq > after_seq]
