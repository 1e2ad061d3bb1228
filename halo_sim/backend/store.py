"""In-memory tables that keep Postgres' foreign-key promises.

The Halo team's ``reset-phone`` bug (FK 23503 blocking re-runs until the delete
order was fixed) is exactly the kind of thing a simulator must reproduce, so
inserts and updates check that referenced rows exist, and deleting a row that
is still referenced fails with :class:`~simkit.errors.ForeignKeyViolation`
unless the children were deleted first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from halo_sim.backend.tables import FOREIGN_KEYS, ROW_TYPES
from simkit.errors import ForeignKeyViolation, NotFound, UniqueViolation

Row = TypeVar("Row")


class Store:
    """Tables of rows keyed by id, in insertion order."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {name: {} for name in ROW_TYPES}

    def insert(self, table: str, row: Row) -> Row:
        """Add a row; its id must be new and its foreign keys must point at existing rows."""
        if row.id in self.tables[table]:  # type: ignore[attr-defined]
            raise UniqueViolation(
                f'duplicate key value violates unique constraint "{table}_pkey"',
                sqlstate=UniqueViolation.sqlstate,
                table=table,
            )
        self._check_references(table, dataclasses.asdict(row))  # type: ignore[call-overload]
        self.tables[table][row.id] = row  # type: ignore[attr-defined]
        return row

    def get(self, table: str, row_id: str | None) -> Any:
        """The row with this id, or None."""
        return self.tables[table].get(row_id) if row_id is not None else None

    def require(self, table: str, row_id: str, what: str | None = None) -> Any:
        """The row with this id, or a 404-style error naming what was looked for."""
        row = self.get(table, row_id)
        if row is None:
            raise NotFound(f"{what or table} {row_id} not found")
        return row

    def rows(self, table: str, where: Callable[[Any], bool] | None = None) -> list[Any]:
        """All rows of a table (optionally filtered), oldest first."""
        return [row for row in self.tables[table].values() if where is None or where(row)]

    def find(self, table: str, **equals: Any) -> list[Any]:
        """Rows whose columns equal the given values."""
        return self.rows(table, lambda row: all(getattr(row, k) == v for k, v in equals.items()))

    def update(self, table: str, row_id: str, **changes: Any) -> Any:
        """Change columns of a row; changed foreign keys must point at existing rows."""
        row = self.require(table, row_id)
        self._check_references(table, changes)
        for column, value in changes.items():
            setattr(row, column, value)
        return row

    def delete(self, table: str, row_id: str) -> None:
        """Delete a row that nothing references any more (else SQLSTATE 23503)."""
        self.require(table, row_id)
        for child, column in self._referencing(table, row_id):
            raise ForeignKeyViolation(
                f'update or delete on table "{table}" violates foreign key constraint on table "{child}"',
                sqlstate=ForeignKeyViolation.sqlstate,
                table=table,
                referenced_by=child,
                column=column,
            )
        del self.tables[table][row_id]

    def _referencing(self, table: str, row_id: str) -> Iterator[tuple[str, str]]:
        for child, columns in FOREIGN_KEYS.items():
            for column, parent in columns.items():
                if parent == table and self.find(child, **{column: row_id}):
                    yield child, column

    def _check_references(self, table: str, values: dict[str, Any]) -> None:
        for column, parent in FOREIGN_KEYS.get(table, {}).items():
            value = values.get(column)
            if value is not None and value not in self.tables[parent]:
                raise ForeignKeyViolation(
                    f'insert or update on table "{table}" violates foreign key constraint: '
                    f'{column}={value} is not present in table "{parent}"',
                    sqlstate=ForeignKeyViolation.sqlstate,
                    table=table,
                    column=column,
                )

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every table as JSON-ready rows (for the state dump)."""
        return {name: [dataclasses.asdict(r) for r in rows.values()] for name, rows in self.tables.items()}

    def clear(self) -> None:
        """Empty every table."""
        for rows in self.tables.values():
            rows.clear()
