"""The in-memory store keeps Postgres' foreign-key promises (SQLSTATE 23503)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from halo_sim.backend.store import Store
from halo_sim.backend.tables import (
    FOREIGN_KEYS,
    ROW_TYPES,
    AuthSession,
    ChatMessage,
    ChatSession,
    Customer,
    CustomerTransaction,
    Device,
    Mitra,
    PaymentRequest,
)
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.errors import ForeignKeyViolation, NotFound, UniqueViolation

T = 1_767_225_600.0


def customer(id: str = "c1") -> Customer:
    return Customer(id, "+62811", "Ayu", False, T)


def mitra(id: str = "m1") -> Mitra:
    return Mitra(id, f"+62{id}", "Rani", "pw")


def payment(id: str = "p1", customer_id: str = "c1", targeted: str | None = None) -> PaymentRequest:
    return PaymentRequest(id, customer_id, "chat", 15000, PaymentStatus.PENDING, T, 15, targeted_mitra_id=targeted)


def session(
    id: str = "s1", customer_id: str = "c1", payment_id: str = "p1", mitra_id: str | None = "m1"
) -> ChatSession:
    return ChatSession(id, customer_id, payment_id, SessionStatus.ACTIVE, 15, T, mitra_id=mitra_id)


def message(id: str = "msg1", session_id: str = "s1") -> ChatMessage:
    return ChatMessage(id, session_id, 1, "customer", "c1", "halo", T)


def full_store() -> Store:
    """A customer and a mitra with one of each child row hanging off them."""
    store = Store()
    store.insert("customers", customer())
    store.insert("mitras", mitra())
    store.insert("payment_requests", payment(targeted="m1"))
    store.insert("chat_sessions", session())
    store.insert("chat_messages", message())
    store.insert("auth_sessions", AuthSession("a1", "tok", "customer", "c1", None, T))
    store.insert("auth_sessions", AuthSession("a2", "tok2", "mitra", None, "m1", T))
    store.insert("customer_transactions", CustomerTransaction("tx1", "c1", "p1", 15000, "payment", T))
    store.insert("devices", Device("d1", "fcm-1", "android", True, T, customer_id="c1"))
    store.insert("devices", Device("d2", "fcm-2", "android", True, T, mitra_id="m1"))
    return store


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    return copy.deepcopy(store.dump())


def test_store_has_one_empty_table_per_row_type() -> None:
    store = Store()
    assert set(store.tables) == set(ROW_TYPES)
    assert all(not rows for rows in store.tables.values())


def test_insert_with_missing_parent_raises_foreign_key_violation_23503() -> None:
    store = Store()
    with pytest.raises(ForeignKeyViolation) as caught:
        store.insert("payment_requests", payment(customer_id="ghost"))
    error = caught.value
    assert error.sqlstate == "23503"
    assert error.details["sqlstate"] == "23503"
    assert error.details["table"] == "payment_requests"
    assert error.details["column"] == "customer_id"
    assert error.status_code == 409
    assert store.rows("payment_requests") == []


# Every declared foreign key, one child row pointing at a missing parent.
FK_CASES = [(child, column, parent) for child, columns in FOREIGN_KEYS.items() for column, parent in columns.items()]


def child_row(table: str, **override: Any) -> Any:
    rows: dict[str, Any] = {
        "auth_sessions": AuthSession("a9", "t", "customer", "c1", None, T),
        "payment_requests": payment("p9"),
        "chat_sessions": session("s9"),
        "chat_messages": message("msg9"),
        "customer_transactions": CustomerTransaction("tx9", "c1", None, 1, "payment", T),
        "devices": Device("d9", "fcm-9", "android", True, T, customer_id="c1", mitra_id="m1"),
    }
    row = rows[table]
    for column, value in override.items():
        setattr(row, column, value)
    return row


@pytest.mark.parametrize(("child", "column", "parent"), FK_CASES, ids=[f"{c}.{col}" for c, col, _ in FK_CASES])
def test_every_foreign_key_is_checked_on_insert(child: str, column: str, parent: str) -> None:
    store = full_store()
    before = snapshot(store)
    with pytest.raises(ForeignKeyViolation) as caught:
        store.insert(child, child_row(child, **{column: "missing"}))
    assert caught.value.details["column"] == column
    assert parent in caught.value.message
    assert snapshot(store) == before


@pytest.mark.parametrize(("child", "column", "parent"), FK_CASES, ids=[f"{c}.{col}" for c, col, _ in FK_CASES])
def test_every_foreign_key_row_inserts_when_parents_exist(child: str, column: str, parent: str) -> None:
    store = full_store()
    row = child_row(child)
    assert store.insert(child, row) is row
    assert store.get(child, row.id) is row


def test_nullable_foreign_key_left_empty_is_accepted() -> None:
    store = Store()
    store.insert("customers", customer())
    store.insert("payment_requests", payment(targeted=None))
    assert store.require("payment_requests", "p1").targeted_mitra_id is None


@pytest.mark.parametrize(
    ("table", "row_id", "referenced_by"),
    [
        ("customers", "c1", None),
        ("mitras", "m1", None),
        ("payment_requests", "p1", "chat_sessions"),
        ("chat_sessions", "s1", "chat_messages"),
    ],
)
def test_deleting_a_referenced_parent_raises_and_changes_nothing(
    table: str, row_id: str, referenced_by: str | None
) -> None:
    store = full_store()
    before = snapshot(store)
    with pytest.raises(ForeignKeyViolation) as caught:
        store.delete(table, row_id)
    error = caught.value
    assert error.sqlstate == error.details["sqlstate"] == "23503"
    assert error.details["table"] == table
    if referenced_by is not None:
        assert error.details["referenced_by"] == referenced_by
    assert f'table "{table}"' in error.message
    assert snapshot(store) == before


def test_deleting_children_first_then_parent_works() -> None:
    store = full_store()
    for table, row_id in [
        ("chat_messages", "msg1"),
        ("chat_sessions", "s1"),
        ("customer_transactions", "tx1"),
        ("payment_requests", "p1"),
        ("auth_sessions", "a1"),
        ("devices", "d1"),
    ]:
        store.delete(table, row_id)
    store.delete("customers", "c1")
    assert store.get("customers", "c1") is None
    assert store.rows("mitras") != []  # the mitra is still referenced (a2, d2) and untouched


def test_deleting_the_last_referencing_child_unblocks_the_parent() -> None:
    store = full_store()
    store.delete("chat_messages", "msg1")
    store.delete("chat_sessions", "s1")
    store.delete("payment_requests", "p1")
    with pytest.raises(ForeignKeyViolation):
        store.delete("mitras", "m1")  # auth_sessions.a2 and devices.d2 still point at it
    store.delete("auth_sessions", "a2")
    store.delete("devices", "d2")
    store.delete("mitras", "m1")
    assert store.rows("mitras") == []


def test_deleting_a_missing_row_is_not_found() -> None:
    with pytest.raises(NotFound):
        Store().delete("customers", "ghost")


def test_update_of_a_foreign_key_column_to_a_missing_parent_raises_and_changes_nothing() -> None:
    store = full_store()
    before = snapshot(store)
    with pytest.raises(ForeignKeyViolation) as caught:
        store.update("chat_sessions", "s1", mitra_id="ghost", status=SessionStatus.ENDED)
    assert caught.value.details["column"] == "mitra_id"
    assert snapshot(store) == before


def test_update_of_a_foreign_key_column_to_an_existing_parent_works() -> None:
    store = full_store()
    store.insert("mitras", mitra("m2"))
    row = store.update("chat_sessions", "s1", mitra_id="m2")
    assert row.mitra_id == "m2"


def test_update_of_a_foreign_key_column_to_null_works() -> None:
    store = full_store()
    assert store.update("payment_requests", "p1", targeted_mitra_id=None).targeted_mitra_id is None


def test_update_of_plain_columns_needs_no_parent_checks() -> None:
    store = full_store()
    row = store.update("customers", "c1", display_name="Budi")
    assert store.require("customers", "c1") is row
    assert row.display_name == "Budi"


def test_update_of_a_missing_row_is_not_found() -> None:
    with pytest.raises(NotFound, match="customers ghost not found"):
        Store().update("customers", "ghost", display_name="x")


def test_require_names_what_was_looked_for() -> None:
    with pytest.raises(NotFound, match="chat_session s0 not found"):
        Store().require("chat_sessions", "s0", "chat_session")


def test_get_with_none_id_is_none() -> None:
    assert full_store().get("customers", None) is None


def test_find_and_rows_filter_in_insertion_order() -> None:
    store = full_store()
    store.insert("devices", Device("d3", "fcm-3", "ios", False, T, customer_id="c1"))
    assert [d.id for d in store.find("devices", customer_id="c1")] == ["d1", "d3"]
    assert [d.id for d in store.rows("devices", lambda d: d.notifications_enabled)] == ["d1", "d2"]


def test_dump_is_json_serialisable_and_round_trips_values() -> None:
    store = full_store()
    store.update("payment_requests", "p1", metadata={"topic": "karier", "tags": ["a"]})
    data = json.loads(json.dumps(store.dump()))
    assert set(data) == set(ROW_TYPES)
    assert data["payment_requests"][0]["status"] == "pending"
    assert data["payment_requests"][0]["metadata"] == {"topic": "karier", "tags": ["a"]}
    assert data["chat_sessions"][0]["status"] == "active"
    assert [m["id"] for m in data["chat_messages"]] == ["msg1"]


def test_dump_is_a_copy_not_a_view() -> None:
    store = full_store()
    dumped = store.dump()
    dumped["customers"][0]["display_name"] = "changed"
    assert store.require("customers", "c1").display_name == "Ayu"


def test_clear_empties_every_table() -> None:
    store = full_store()
    store.clear()
    assert all(not rows for rows in store.tables.values())


def test_inserting_an_existing_id_raises_unique_violation_23505_and_keeps_the_row() -> None:
    store = Store()
    store.insert("customers", customer())
    with pytest.raises(UniqueViolation) as caught:
        store.insert("customers", Customer("c1", "+62899", "Other", False, T))
    assert caught.value.details["sqlstate"] == "23505"
    assert store.require("customers", "c1").phone == "+62811"
