"""A list that keeps only its newest entries: the logs a long-running ``serve`` keeps.

A plain list (so ``== []``, slicing and JSON work as before) whose :meth:`append` drops the
oldest entries past ``cap``; ``dropped`` counts what was let go, so a dump can say the log is
not the whole history.  Trimming happens in batches, so an append stays O(1) amortised.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class BoundedLog(list[T]):
    """The newest ``cap`` entries (``cap`` ≥ 1)."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = max(1, cap)
        self.dropped = 0

    def append(self, item: T) -> None:
        super().append(item)
        if len(self) >= 2 * self.cap:
            excess = len(self) - self.cap
            del self[:excess]
            self.dropped += excess

    def newest(self) -> list[T]:
        """At most ``cap`` entries, oldest first (the list may briefly hold up to twice that)."""
        return list(self[-self.cap :])

    def describe(self) -> dict[str, Any]:
        """The log's bound and what fell off it, for the state dump."""
        return {
            "kept": min(len(self), self.cap),
            "cap": self.cap,
            "dropped": self.dropped + max(0, len(self) - self.cap),
        }

    @property
    def total(self) -> int:
        """Entries ever appended, kept or dropped (until the owner empties the log): a reader's cursor."""
        return len(self) + self.dropped

    def after(self, position: int, limit: int) -> list[T]:
        """The entries appended after the first ``position`` (a :attr:`total` read before), at most the
        newest ``limit`` of them: O(what is returned), so a reader polling for news pays for news only."""
        start = max(position - self.dropped, len(self) - min(limit, self.cap), 0)
        return list(self[start:])
