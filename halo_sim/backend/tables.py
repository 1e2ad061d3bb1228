"""Row types of the in-memory tables, named as in the real Postgres schema.

Plain dataclasses: the store keeps them, services mutate them through the store
and the domain's state machines, and the state dump serialises them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus


@dataclass
class Customer:
    id: str
    phone: str | None
    display_name: str | None
    is_anonymous: bool
    created_at: float


@dataclass
class Mitra:
    id: str
    phone: str
    display_name: str
    password: str
    online: bool = False
    last_heartbeat_at: float | None = None
    topics: list[str] = field(default_factory=list)


@dataclass
class AuthSession:
    id: str
    token: str
    role: str
    customer_id: str | None
    mitra_id: str | None
    created_at: float


@dataclass
class PaymentRequest:
    id: str
    customer_id: str
    product: str
    amount: int
    status: PaymentStatus
    created_at: float
    duration_minutes: int
    metadata: dict[str, Any] = field(default_factory=dict)
    targeted_mitra_id: str | None = None
    topic_sensitivity: str | None = None
    confirmed_at: float | None = None
    confirmed_source: str | None = None
    expires_at: float | None = None
    xendit_invoice_id: str | None = None
    xendit_invoice_url: str | None = None


@dataclass
class ChatSession:
    id: str
    customer_id: str
    payment_request_id: str
    status: SessionStatus
    duration_minutes: int
    created_at: float
    mitra_id: str | None = None
    offered_mitra_ids: list[str] = field(default_factory=list)
    rejected_mitra_ids: list[str] = field(default_factory=list)
    started_at: float | None = None
    ends_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    mode: str = "blast"
    targeted_mitra_id: str | None = None
    attempt: int = 1
    end_reason: str | None = None


@dataclass
class ChatMessage:
    id: str
    session_id: str
    seq: int
    sender_role: str
    sender_id: str
    text: str
    created_at: float
    delivered_via: str | None = None


@dataclass
class CustomerTransaction:
    id: str
    customer_id: str
    payment_request_id: str | None
    amount: int
    kind: str
    created_at: float


@dataclass
class Device:
    id: str
    fcm_token: str
    platform: str
    notifications_enabled: bool
    updated_at: float
    customer_id: str | None = None
    mitra_id: str | None = None


ROW_TYPES: dict[str, type] = {
    "customers": Customer,
    "mitras": Mitra,
    "auth_sessions": AuthSession,
    "payment_requests": PaymentRequest,
    "chat_sessions": ChatSession,
    "chat_messages": ChatMessage,
    "customer_transactions": CustomerTransaction,
    "devices": Device,
}

# child table -> {column: parent table}; deleting a parent still referenced fails (SQLSTATE 23503).
FOREIGN_KEYS: dict[str, dict[str, str]] = {
    "auth_sessions": {"customer_id": "customers", "mitra_id": "mitras"},
    "payment_requests": {"customer_id": "customers", "targeted_mitra_id": "mitras"},
    "chat_sessions": {
        "customer_id": "customers",
        "mitra_id": "mitras",
        "payment_request_id": "payment_requests",
        "targeted_mitra_id": "mitras",
    },
    "chat_messages": {"session_id": "chat_sessions"},
    "customer_transactions": {"customer_id": "customers"},
    "devices": {"customer_id": "customers", "mitra_id": "mitras"},
}
