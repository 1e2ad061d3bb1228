"""Row types of the in-memory tables, named as in the real Postgres schema.

Frozen dataclasses: a stored row cannot be changed behind the store's back, so
every change goes through :meth:`Store.update <halo_sim.backend.store.Table.update>`,
where foreign keys, uniqueness and the indexes are kept true.  List-valued
columns are tuples for the same reason.  The schema below (foreign keys, unique
columns, indexes) is declared once and the store enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    phone: str | None
    display_name: str | None
    is_anonymous: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class Mitra:
    id: str
    phone: str
    display_name: str
    password: str
    online: bool = False
    last_heartbeat_at: float | None = None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthSession:
    id: str
    token: str
    role: str
    customer_id: str | None
    mitra_id: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: str
    customer_id: str
    payment_request_id: str
    status: SessionStatus
    duration_minutes: int
    created_at: float
    mitra_id: str | None = None
    offered_mitra_ids: tuple[str, ...] = ()
    rejected_mitra_ids: tuple[str, ...] = ()
    withdrawn_mitra_ids: tuple[str, ...] = ()
    started_at: float | None = None
    ends_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    mode: str = "blast"
    targeted_mitra_id: str | None = None
    attempt: int = 1
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    session_id: str
    seq: int
    sender_role: str
    sender_id: str
    text: str
    created_at: float
    delivered_via: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerTransaction:
    id: str
    customer_id: str
    payment_request_id: str | None
    amount: int
    kind: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    fcm_token: str
    platform: str
    notifications_enabled: bool
    updated_at: float
    customer_id: str | None = None
    mitra_id: str | None = None


@dataclass(frozen=True, slots=True)
class AppConfig:
    """The control-center-driven configuration the apps read (one row, id ``current``)."""

    id: str
    prices: dict[int, int]
    support_whatsapp: str
    support_telegram: str


ROW_TYPES: dict[str, type[Any]] = {
    "customers": Customer,
    "mitras": Mitra,
    "auth_sessions": AuthSession,
    "payment_requests": PaymentRequest,
    "chat_sessions": ChatSession,
    "chat_messages": ChatMessage,
    "customer_transactions": CustomerTransaction,
    "devices": Device,
    "app_config": AppConfig,
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

# Unique columns (NULLs never collide, as in Postgres); the constraint is named <table>_<column>_key.
UNIQUE: dict[str, tuple[str, ...]] = {
    "customers": ("phone",),
    "mitras": ("phone",),
    "auth_sessions": ("token",),
    "devices": ("fcm_token",),
}

# Every lookup the services make, by column set. Foreign-key columns and unique columns are
# indexed too (added below), so FK checks on delete and uniqueness checks never scan a table.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "mitras": (("online",),),
    "payment_requests": (("status",), ("customer_id", "status"), ("xendit_invoice_id",)),
    "chat_sessions": (("status",), ("mitra_id", "status"), ("customer_id", "status")),
    "chat_messages": (),
    "customer_transactions": (("payment_request_id",),),
}


def indexes_of(table: str) -> tuple[tuple[str, ...], ...]:
    """The declared indexes of ``table`` plus one per foreign-key and unique column."""
    implied = [(column,) for column in (*FOREIGN_KEYS.get(table, {}), *UNIQUE.get(table, ()))]
    declared = INDEXES.get(table, ())
    return tuple(dict.fromkeys((*implied, *declared)))
