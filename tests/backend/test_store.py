"""The in-memory store keeps Postgres' foreign-key promises (SQLSTATE 23503)."""

from __future__ import annotations

import copy
import dataclasses
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
    assert (error.status_code, error.code) == (409, "FOREIGN_KEY_VIOLATION")
    assert store.payment_requests.all() == []


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
    return dataclasses.replace(rows[table], **override)


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
    assert store.table(child).get(row.id) is row


def test_nullable_foreign_key_left_empty_is_accepted() -> None:
    store = Store()
    store.insert("customers", customer())
    store.insert("payment_requests", payment(targeted=None))
    assert store.payment_requests.require("p1").targeted_mitra_id is None


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
        store.table(table).delete(row_id)
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
        store.table(table).delete(row_id)
    store.customers.delete("c1")
    assert store.customers.get("c1") is None
    assert store.mitras.all() != []  # the mitra is still referenced (a2, d2) and untouched


def test_deleting_the_last_referencing_child_unblocks_the_parent() -> None:
    store = full_store()
    store.chat_messages.delete("msg1")
    store.chat_sessions.delete("s1")
    store.payment_requests.delete("p1")
    with pytest.raises(ForeignKeyViolation):
        store.mitras.delete("m1")  # auth_sessions.a2 and devices.d2 still point at it
    store.auth_sessions.delete("a2")
    store.devices.delete("d2")
    store.mitras.delete("m1")
    assert store.mitras.all() == []


def test_deleting_a_missing_row_is_not_found() -> None:
    with pytest.raises(NotFound):
        Store().customers.delete("ghost")


def test_update_of_a_foreign_key_column_to_a_missing_parent_raises_and_changes_nothing() -> None:
    store = full_store()
    before = snapshot(store)
    with pytest.raises(ForeignKeyViolation) as caught:
        store.chat_sessions.update("s1", mitra_id="ghost", status=SessionStatus.ENDED)
    assert caught.value.details["column"] == "mitra_id"
    assert snapshot(store) == before


def test_update_of_a_foreign_key_column_to_an_existing_parent_works() -> None:
    store = full_store()
    store.insert("mitras", mitra("m2"))
    row = store.chat_sessions.update("s1", mitra_id="m2")
    assert row.mitra_id == "m2"


def test_update_of_a_foreign_key_column_to_null_works() -> None:
    store = full_store()
    assert store.payment_requests.update("p1", targeted_mitra_id=None).targeted_mitra_id is None


def test_update_of_plain_columns_needs_no_parent_checks() -> None:
    store = full_store()
    row = store.customers.update("c1", display_name="Budi")
    assert store.customers.require("c1") is row
    assert row.display_name == "Budi"


def test_update_of_a_missing_row_is_not_found() -> None:
    with pytest.raises(NotFound, match="customer ghost not found"):
        Store().customers.update("ghost", display_name="x")


def test_require_names_what_was_looked_for() -> None:
    with pytest.raises(NotFound, match="chat_session s0 not found"):
        Store().chat_sessions.require("s0", "chat_session")


def test_get_with_none_id_is_none() -> None:
    assert full_store().customers.get(None) is None


def test_find_and_rows_filter_in_insertion_order() -> None:
    store = full_store()
    store.insert("devices", Device("d3", "fcm-3", "ios", False, T, customer_id="c1"))
    assert [d.id for d in store.devices.find(customer_id="c1")] == ["d1", "d3"]
    assert [d.id for d in store.devices.scan(lambda d: d.notifications_enabled)] == ["d1", "d2"]


def test_dump_is_json_serialisable_and_round_trips_values() -> None:
    store = full_store()
    store.payment_requests.update("p1", metadata={"topic": "karier", "tags": ["a"]})
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
    assert store.customers.require("c1").display_name == "Ayu"


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
    assert store.customers.require("c1").phone == "+62811"


# --- the store is the only write path ------------------------------------------------------


def test_stored_rows_are_frozen_so_nothing_changes_them_behind_the_stores_back() -> None:
    store = full_store()
    row = store.chat_sessions.require("s1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = SessionStatus.ENDED  # type: ignore[misc]
    assert store.chat_sessions.require("s1").status is SessionStatus.ACTIVE


def test_update_replaces_the_row_and_keeps_the_old_snapshot_unchanged() -> None:
    store = full_store()
    old = store.chat_sessions.require("s1")
    new = store.chat_sessions.update("s1", status=SessionStatus.ENDED)
    assert (old.status, new.status) == (SessionStatus.ACTIVE, SessionStatus.ENDED)
    assert store.chat_sessions.require("s1") is new


def test_update_of_an_unknown_column_is_refused_and_changes_nothing() -> None:
    store = full_store()
    with pytest.raises(ValueError, match='column colour of relation "customers" does not exist'):
        store.customers.update("c1", colour="red")
    assert snapshot(store) == snapshot(full_store())


# --- unique columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "row", "constraint"),
    [
        ("customers", Customer("c9", "+62811", None, False, T), "customers_phone_key"),
        ("mitras", Mitra("m9", "+62m1", "Other", "pw"), "mitras_phone_key"),
        ("auth_sessions", AuthSession("a9", "tok", "customer", "c1", None, T), "auth_sessions_token_key"),
        ("devices", Device("d9", "fcm-1", "ios", True, T, customer_id="c1"), "devices_fcm_token_key"),
    ],
)
def test_a_second_row_with_a_unique_value_is_23505_and_not_stored(table: str, row: Any, constraint: str) -> None:
    store = full_store()
    with pytest.raises(UniqueViolation, match=constraint) as caught:
        store.insert(table, row)
    assert caught.value.sqlstate == "23505"
    assert store.table(table).get(row.id) is None


def test_an_update_onto_a_taken_unique_value_is_refused_and_the_indexes_stay_true() -> None:
    store = full_store()
    with pytest.raises(UniqueViolation, match="devices_fcm_token_key"):
        store.devices.update("d2", fcm_token="fcm-1")
    assert [d.id for d in store.devices.find(fcm_token="fcm-2")] == ["d2"]
    assert [d.id for d in store.devices.find(fcm_token="fcm-1")] == ["d1"]


def test_nulls_never_collide_in_a_unique_column() -> None:
    store = Store()
    store.insert("customers", Customer("c1", None, None, True, T))
    store.insert("customers", Customer("c2", None, None, True, T))
    assert len(store.customers) == 2


# --- indexes ------------------------------------------------------------------------------------


def test_find_follows_an_update_from_one_index_bucket_to_another() -> None:
    store = full_store()
    store.chat_sessions.update("s1", status=SessionStatus.ENDED)
    assert store.chat_sessions.find(status=SessionStatus.ACTIVE) == []
    assert [s.id for s in store.chat_sessions.find(mitra_id="m1", status=SessionStatus.ENDED)] == ["s1"]
    assert store.chat_sessions.count(mitra_id="m1", status=SessionStatus.ACTIVE) == 0


def test_find_returns_rows_oldest_first_even_after_they_move_between_buckets() -> None:
    store = full_store()
    store.insert("payment_requests", payment("p2"))
    store.payment_requests.update("p1", status=PaymentStatus.EXPIRED)
    store.payment_requests.update("p2", status=PaymentStatus.EXPIRED)
    store.payment_requests.update("p1", status=PaymentStatus.CONFIRMED)
    store.payment_requests.update("p1", status=PaymentStatus.EXPIRED)  # re-enters the bucket after p2
    assert [p.id for p in store.payment_requests.find(status=PaymentStatus.EXPIRED)] == ["p1", "p2"]
    assert store.payment_requests.latest(customer_id="c1").id == "p2"  # type: ignore[union-attr]


def test_deleted_rows_leave_every_index() -> None:
    store = full_store()
    store.chat_messages.delete("msg1")
    assert store.chat_messages.find(session_id="s1") == []
    assert store.chat_messages.count(session_id="s1") == 0


def test_a_lookup_no_index_serves_is_refused_instead_of_scanning() -> None:
    from halo_sim.backend.store import UnindexedLookup

    with pytest.raises(UnindexedLookup, match=r"no index on chat_messages\(text\)"):
        full_store().chat_messages.find(text="halo")


def test_every_lookup_the_services_make_is_served_by_an_index() -> None:
    """Each column set the services look up by has an index (else find() raises at run time)."""
    from halo_sim.backend.tables import indexes_of

    needed = {
        "chat_sessions": [("mitra_id", "status"), ("customer_id",), ("payment_request_id",), ("status",)],
        "chat_messages": [("session_id",)],
        "payment_requests": [("customer_id", "status"), ("status",), ("customer_id",)],
        "devices": [("fcm_token",), ("customer_id",), ("mitra_id",)],
        "auth_sessions": [("token",)],
        "mitras": [("online",), ("phone",)],
        "customers": [("phone",)],
    }
    for table, lookups in needed.items():
        for columns in lookups:
            assert columns in indexes_of(table), f"{table}{columns}"


def test_count_reads_the_bucket_size_without_materialising_rows() -> None:
    store = full_store()
    for i in range(2, 50):
        store.insert("chat_messages", ChatMessage(f"msg{i}", "s1", i, "customer", "c1", "x", T))
    index = store.chat_messages.indexes[("session_id",)]
    assert store.chat_messages.count(session_id="s1") == len(index.ids(("s1",))) == 49
