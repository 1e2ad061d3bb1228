"""In-memory tables that keep Postgres' promises: foreign keys, unique columns, indexes.

The Halo team's ``reset-phone`` bug (FK 23503 blocking re-runs until the delete
order was fixed) is exactly the kind of thing a simulator must reproduce, so
inserts and updates check that referenced rows exist, and deleting a row that
is still referenced fails with :class:`~simkit.errors.ForeignKeyViolation`
unless the children were deleted first.

The store is the only write path: rows are frozen, so a change is an
:meth:`Table.update` that re-checks the constraints and moves the row between
index buckets.  Every lookup the services make goes through a declared index
(:data:`~halo_sim.backend.tables.INDEXES`); :meth:`Table.find` refuses a lookup no
index serves, so a whole-table scan on a hot path cannot creep in unnoticed.
Whole-table reads are spelled :meth:`Table.all` and :meth:`Table.scan`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from halo_sim.backend.tables import (
    FOREIGN_KEYS,
    ROW_TYPES,
    UNIQUE,
    AppConfig,
    AuthSession,
    ChatMessage,
    ChatSession,
    Customer,
    CustomerTransaction,
    Device,
    Mitra,
    PaymentRequest,
    indexes_of,
)
from simkit.errors import ForeignKeyViolation, NotFound, UniqueViolation

R = TypeVar("R")
Bucket = dict[str, None]  # row ids in the order they entered the bucket (an ordered set)


class UnindexedLookup(LookupError):
    """A lookup by columns no declared index covers: a programming error, caught by the tests."""


class Index:
    """Row ids by the values of some columns."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.buckets: dict[tuple[Any, ...], Bucket] = {}

    def key(self, row: Any) -> tuple[Any, ...]:
        """The bucket ``row`` belongs in."""
        return tuple(getattr(row, c) for c in self.columns)

    def add(self, row: Any) -> None:
        self.buckets.setdefault(self.key(row), {})[row.id] = None

    def discard(self, row: Any) -> None:
        bucket = self.buckets.get(self.key(row))
        if bucket is not None:
            bucket.pop(row.id, None)
            if not bucket:
                del self.buckets[self.key(row)]

    def ids(self, values: tuple[Any, ...]) -> Bucket:
        """The ids whose columns equal ``values`` (empty when none)."""
        return self.buckets.get(values, {})


class Table(Generic[R]):
    """One table: rows by id, in insertion order, with its indexes and constraints."""

    def __init__(self, store: Store, name: str, row_type: type[R]) -> None:
        self.store = store
        self.name = name
        self.row_type = row_type
        self.columns = frozenset(f.name for f in dataclasses.fields(row_type))  # type: ignore[arg-type]
        self.indexes = {cols: Index(cols) for cols in indexes_of(name)}
        self._rows: dict[str, R] = {}
        self._order: dict[str, int] = {}
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._rows.values()))

    # --- reads -------------------------------------------------------------------

    def get(self, row_id: str | None) -> R | None:
        """The row with this id, or None."""
        return self._rows.get(row_id) if row_id is not None else None

    def require(self, row_id: str, what: str | None = None) -> R:
        """The row with this id, or a 404-style error naming what was looked for."""
        row = self.get(row_id)
        if row is None:
            raise NotFound(f"{what or self.name.rstrip('s')} {row_id} not found")
        return row

    def find(self, **equals: Any) -> list[R]:
        """Rows whose columns equal the given values, oldest first, through an index."""
        index = self._index_for(equals)
        ids = index.ids(tuple(equals[c] for c in index.columns))
        rest = {c: v for c, v in equals.items() if c not in index.columns}
        rows = [self._rows[i] for i in self._ordered(ids)]
        return [r for r in rows if all(getattr(r, c) == v for c, v in rest.items())] if rest else rows

    def find_in(self, column: str, values: Iterable[Any], **equals: Any) -> list[R]:
        """Rows whose ``column`` is one of ``values`` (and whose other columns equal ``equals``)."""
        found = [row for value in values for row in self.find(**{column: value}, **equals)]
        return sorted(found, key=lambda r: self._order[r.id])  # type: ignore[attr-defined]

    def first(self, **equals: Any) -> R | None:
        """The oldest row matching, or None."""
        rows = self.find(**equals)
        return rows[0] if rows else None

    def latest(self, **equals: Any) -> R | None:
        """The newest row matching, or None."""
        rows = self.find(**equals)
        return rows[-1] if rows else None

    def count(self, **equals: Any) -> int:
        """How many rows match; O(1) when an index covers exactly these columns."""
        index = self.indexes.get(tuple(equals))
        if index is not None:
            return len(index.ids(tuple(equals.values())))
        return len(self.find(**equals))

    def all(self) -> list[R]:
        """Every row, oldest first: for dumps and admin views, never for a per-request lookup."""
        return list(self._rows.values())

    def scan(self, where: Callable[[R], bool]) -> list[R]:
        """Rows satisfying ``where``, by a whole-table scan (named so, to be visible where used)."""
        return [row for row in self._rows.values() if where(row)]

    # --- writes ------------------------------------------------------------------

    def insert(self, row: R) -> R:
        """Add a row; its id and unique columns must be new and its foreign keys must point at rows."""
        row_id: str = row.id  # type: ignore[attr-defined]
        if row_id in self._rows:
            raise self._unique_error("pkey", "id", row_id)
        values = {c: getattr(row, c) for c in self.columns}
        self._check_unique(values, row_id)
        self.store.check_references(self.name, values)
        self._rows[row_id] = row
        self._order[row_id] = next(self._counter)
        for index in self.indexes.values():
            index.add(row)
        return row

    def update(self, row_id: str, **changes: Any) -> R:
        """Change columns of a row (a new frozen row replaces it); constraints hold after every change."""
        old = self.require(row_id)
        unknown = set(changes) - self.columns
        if unknown:
            raise ValueError(f'column {sorted(unknown)[0]} of relation "{self.name}" does not exist')
        self._check_unique(changes, row_id)
        self.store.check_references(self.name, changes)
        new = dataclasses.replace(old, **changes)  # type: ignore[type-var]
        for index in self.indexes.values():
            if any(c in changes for c in index.columns):
                index.discard(old)
                index.add(new)
        self._rows[row_id] = new
        return new

    def delete(self, row_id: str) -> None:
        """Delete a row that nothing references any more (else SQLSTATE 23503)."""
        row = self.require(row_id)
        for child, column in self.store.referencing(self.name, row_id):
            raise ForeignKeyViolation(
                f'update or delete on table "{self.name}" violates foreign key constraint on table "{child}"',
                sqlstate=ForeignKeyViolation.sqlstate,
                table=self.name,
                referenced_by=child,
                column=column,
            )
        for index in self.indexes.values():
            index.discard(row)
        del self._rows[row_id]
        del self._order[row_id]

    def clear(self) -> None:
        """Forget every row."""
        self._rows.clear()
        self._order.clear()
        for index in self.indexes.values():
            index.buckets.clear()

    # --- helpers -----------------------------------------------------------------

    def _index_for(self, equals: dict[str, Any]) -> Index:
        usable = [ix for cols, ix in self.indexes.items() if set(cols) <= set(equals)]
        if not usable:
            raise UnindexedLookup(f"no index on {self.name}({', '.join(equals)}); declare one in tables.INDEXES")
        return max(usable, key=lambda ix: len(ix.columns))

    def _ordered(self, ids: Bucket) -> list[str]:
        if len(ids) < 2:
            return list(ids)
        return sorted(ids, key=self._order.__getitem__)

    def _check_unique(self, values: dict[str, Any], row_id: str) -> None:
        for column in UNIQUE.get(self.name, ()):
            value = values.get(column)
            if value is None:
                continue
            holders = self.indexes[(column,)].ids((value,))
            if any(holder != row_id for holder in holders):
                raise self._unique_error(f"{column}_key", column, value)

    def _unique_error(self, constraint: str, column: str, value: Any) -> UniqueViolation:
        return UniqueViolation(
            f'duplicate key value violates unique constraint "{self.name}_{constraint}"',
            sqlstate=UniqueViolation.sqlstate,
            table=self.name,
            column=column,
            detail=f"Key ({column})=({value}) already exists.",
        )


class Store:
    """The tables of one reference backend, typed, each reachable as an attribute."""

    def __init__(self) -> None:
        self.customers = Table(self, "customers", Customer)
        self.mitras = Table(self, "mitras", Mitra)
        self.auth_sessions = Table(self, "auth_sessions", AuthSession)
        self.payment_requests = Table(self, "payment_requests", PaymentRequest)
        self.chat_sessions = Table(self, "chat_sessions", ChatSession)
        self.chat_messages = Table(self, "chat_messages", ChatMessage)
        self.customer_transactions = Table(self, "customer_transactions", CustomerTransaction)
        self.devices = Table(self, "devices", Device)
        self.app_config = Table(self, "app_config", AppConfig)
        self.tables: dict[str, Table[Any]] = {name: getattr(self, name) for name in ROW_TYPES}

    def table(self, name: str) -> Table[Any]:
        """A table by its SQL name (for code generic over tables: dumps, restores, cascades)."""
        return self.tables[name]

    def insert(self, table: str, row: R) -> R:
        """``INSERT`` into the table named ``table``."""
        return self.tables[table].insert(row)  # type: ignore[no-any-return]

    def referencing(self, table: str, row_id: str) -> Iterator[tuple[str, str]]:
        """(child table, column) pairs whose rows still point at ``table``'s row ``row_id``."""
        for child, columns in FOREIGN_KEYS.items():
            for column, parent in columns.items():
                if parent == table and self.tables[child].count(**{column: row_id}):
                    yield child, column

    def check_references(self, table: str, values: dict[str, Any]) -> None:
        """Every foreign key among ``values`` points at an existing parent row."""
        for column, parent in FOREIGN_KEYS.get(table, {}).items():
            value = values.get(column)
            if value is not None and self.tables[parent].get(value) is None:
                raise ForeignKeyViolation(
                    f'insert or update on table "{table}" violates foreign key constraint: '
                    f'{column}={value} is not present in table "{parent}"',
                    sqlstate=ForeignKeyViolation.sqlstate,
                    table=table,
                    column=column,
                )

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every table as JSON-ready rows (for the state dump and the state file)."""
        return {name: [dataclasses.asdict(r) for r in table.all()] for name, table in self.tables.items()}

    def clear(self) -> None:
        """Empty every table."""
        for table in self.tables.values():
            table.clear()
