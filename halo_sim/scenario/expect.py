"""Matching a step's result against its ``expect`` and reporting the difference.

``expect`` is a *subset*: every key it names must be in the result with an equal
value (mappings recurse; lists must match element by element).  ``{$where: M, $items: [...]}``
matches a list by only its items containing ``M``: on a shared backend a table or log also
holds other runs' rows, and a scenario may speak only about its own.  The difference
comes back as one line per mismatch, with the dotted path, so a failure reads
``body.delivered_via: expected 'ws', got 'fcm'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halo_sim.scenario.matchers import ABSENT, check
from halo_sim.scenario.template import step_into


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every way ``actual`` fails to contain ``expected``; empty when it does."""
    if isinstance(expected, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in expected):
        return check(expected, actual, path, diff)
    if actual is ABSENT:
        return [f"{path}: missing (expected {_show(expected)})"]
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or 'result'}: expected a mapping, got {_show(actual)}"]
        problems: list[str] = []
        for key, want in expected.items():
            problems += diff(want, actual.get(key, ABSENT), f"{path}.{key}" if path else str(key))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} item(s) {_show(expected)}, got {_show(actual)}"]
        pairs = enumerate(zip(expected, actual))
        return [p for i, (w, g) in pairs for p in diff(w, g, f"{path}.{i}")]
    if expected != actual or type(expected) is not type(actual) and not _numbers(expected, actual):
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def matches(expected: Mapping[str, Any] | None, actual: Any) -> bool:
    """True when ``actual`` contains ``expected`` (``None`` matches anything)."""
    return expected is None or not diff(expected, actual)


def extract(result: Mapping[str, Any], path: str) -> Any:
    """A value of a step's result by dotted path (``body.id``, ``frame.session_id``)."""
    value: Any = result
    for part in path.split("."):
        value = step_into(value, part, path)
    return value
