"""Matchers: ``{$operator: operand}`` mappings that say more about a value than "equals".

Anywhere ``expect`` (or a step's ``match``) compares values, a mapping whose keys
all start with ``$`` is a matcher: ``{count: {$gt: 3}}``, ``{push_errors: {$exists:
false}}``.  Several operators in one mapping must all hold.  Each operator is one
function here, registered with its operand, an example and its docstring in
:data:`MATCHERS`, so the loader validates operands before a run and the docs are
generated from the registry.  Operands that hold expectations (``$each``,
``$not``, ``$contains``...) are compared by the caller's ``diff`` (passed in, so
this module does not import :mod:`~.expect`, which dispatches here).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from halo_sim.scenario.template import TEMPLATE

Problems = list[str]
Diff = Callable[[Any, Any, str], Problems]
Check = Callable[[Any, Any, str, Diff], Problems]  # (operand, actual, path, diff) -> problems
Path_ = tuple[str | int, ...]
SHOWN = 160  # characters of a value shown in a message
# An operand that is itself an expectation, in the JSON Schema of `halo-sim schema` (scaffold.py defines it).
EXPECTATION: Mapping[str, Any] = {"$ref": "#/$defs/expectation"}
TEMPLATED: Mapping[str, Any] = {"type": "string", "pattern": r"\{\{"}


class _Absent:
    """The value of a key the result does not have (only ``$exists``/``$not`` accept it)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Matcher:
    """One operator: its name (``$gt``), what its operand is, a YAML example and its check."""

    name: str
    operand: str
    example: str
    check: Check
    accepts: Callable[[Any], bool]
    absent_ok: bool = False
    schema: Mapping[str, Any] = field(default_factory=lambda: EXPECTATION)  # the operand's JSON Schema

    @property
    def doc(self) -> str:
        """The first paragraph of the check's docstring: what the operator means."""
        return " ".join((self.check.__doc__ or "").split("\n\n")[0].replace("``", "`").split())


MATCHERS: dict[str, Matcher] = {}


def matcher(
    name: str,
    operand: str,
    example: str,
    accepts: Callable[[Any], bool],
    schema: Mapping[str, Any] = EXPECTATION,
    absent_ok: bool = False,
) -> Callable[[Check], Check]:
    """Register a check as operator ``name`` (the docstring is its documentation, ``schema`` its operand's)."""

    def register(check: Check) -> Check:
        MATCHERS[name] = Matcher(name, operand, example, check, accepts, absent_ok, schema)
        return check

    return register


# --- recognising and validating matchers -------------------------------------------------------


def is_matcher(value: Any) -> bool:
    """A non-empty mapping whose keys all start with ``$``."""
    return isinstance(value, Mapping) and bool(value) and all(_dollar(k) for k in value)


def _dollar(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("$")


def problems_in(value: Any, at: Path_ = ()) -> list[tuple[Path_, str]]:
    """Every malformed matcher in an expectation, each with its path (for the loader's file:line)."""
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in problems_in(item, (*at, i))]
    if not isinstance(value, Mapping):
        return []
    found = [(at, f"{_dotted(at)}: {msg}") for msg in spec_problems(value)] if any(map(_dollar, value)) else []
    return found + [p for key, item in value.items() for p in problems_in(item, (*at, str(key)))]


def spec_problems(spec: Mapping[str, Any]) -> Problems:
    """Mixed keys, unknown operators and operands of the wrong kind in one matcher mapping (templates pass)."""
    plain = [str(k) for k in spec if not _dollar(k)]
    if plain:
        dollars = ", ".join(str(k) for k in spec if _dollar(k))
        return [f"mixes matcher keys ({dollars}) with plain keys ({', '.join(plain)}); a matcher has only $ keys"]
    problems: Problems = []
    for name, operand in spec.items():
        known = MATCHERS.get(name)
        if known is None:
            problems.append(f"unknown matcher {name}{_hint(name)}")
        elif not _templated(operand) and not known.accepts(operand):
            problems.append(f"{name} needs {known.operand}, got {_show(operand)}")
    if WHERE in spec and len(spec) == 1 or ITEMS in spec and WHERE not in spec:
        problems.append(f"{WHERE} and {ITEMS} go together ({{{WHERE}: {{...}}, {ITEMS}: [...]}})")
    return problems


def _templated(operand: Any) -> bool:
    return isinstance(operand, str) and TEMPLATE.search(operand) is not None


def _hint(name: str) -> str:
    close = difflib.get_close_matches(name, list(MATCHERS), n=2)
    if close:
        return f"; did you mean {' or '.join(close)}?"
    return f" (known: {', '.join(MATCHERS)})"


def _dotted(at: Path_) -> str:
    return ".".join(str(p) for p in at) or "value"


def _is_type(value: Any) -> bool:
    return isinstance(value, str) and value in TYPES


def _is_text_or_list(value: Any) -> bool:
    return isinstance(value, (str, list))


# --- applying a matcher ------------------------------------------------------------------------


def check(spec: Mapping[str, Any], actual: Any, path: str, diff: Diff) -> Problems:
    """Every operator of ``spec`` that ``actual`` fails (all must hold); ``actual`` may be :data:`ABSENT`."""
    where = path or "value"
    malformed = spec_problems(spec)
    if malformed:
        return [f"{where}: {m}" for m in malformed]
    if WHERE in spec:
        return _where(spec, actual, path, diff)
    return _apply(spec, actual, where, diff)


def _apply(spec: Mapping[str, Any], actual: Any, where: str, diff: Diff) -> Problems:
    problems: Problems = []
    for name, operand in spec.items():
        op = MATCHERS[name]
        if actual is ABSENT and not op.absent_ok:
            problems.append(f"{where}: missing (expected {name} {_show(operand)})")
        else:
            problems += op.check(operand, actual, where, diff)
    return problems


def _where(spec: Mapping[str, Any], actual: Any, path: str, diff: Diff) -> Problems:
    """``$where`` filters a list; the other operators judge the items it kept."""
    if not isinstance(actual, list):
        return [f"{path or 'value'}: {WHERE} filters a list, got {_show(actual)}"]
    kept = [item for item in actual if not diff(spec[WHERE], item, "")]
    rest = {k: v for k, v in spec.items() if k != WHERE}
    return _apply(rest, kept, f"{path}[{WHERE}]", diff)


def failed(name: str, operand: Any, actual: Any, path: str, why: str = "") -> Problems:
    """The standard mismatch line: ``body.count: $gt 3 failed: got 2``."""
    return [f"{path}: {name} {_show(operand)} failed: got {_show(actual)}{f' ({why})' if why else ''}"]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _kind(value: Any) -> str:
    return {bool: "a bool", int: "an int", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "a mapping" if isinstance(value, Mapping) else "null" if value is None else type(value).__name__
    )


# --- operand kinds -----------------------------------------------------------------------------


def _anything(_: Any) -> bool:
    return True


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_true(value: Any) -> bool:
    return value is True


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_regex(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _is_length(value: Any) -> bool:
    return is_matcher(value) or isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_comparable(value: Any) -> bool:
    return _number(value) or isinstance(value, (str, date))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- the operators -----------------------------------------------------------------------------

WHERE, ITEMS = "$where", "$items"
BOOL: Mapping[str, Any] = {"type": "boolean"}
TEXT: Mapping[str, Any] = {"type": "string"}
ORDERED: Mapping[str, Any] = {"type": ["number", "string"]}
LIST: Mapping[str, Any] = {"type": "array", "items": EXPECTATION}
LENGTH: Mapping[str, Any] = {"anyOf": [{"type": "integer", "minimum": 0}, EXPECTATION, TEMPLATED]}


@matcher("$exists", "true or false", "{body: {push_errors: {$exists: false}}}", _is_bool, BOOL, absent_ok=True)
def exists(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """The key is present (any value, null included) or, with ``false``, absent."""
    if operand and actual is ABSENT:
        return [f"{path}: missing (expected present, $exists: true)"]
    if not operand and actual is not ABSENT:
        return [f"{path}: expected absent ($exists: false), got {_show(actual)}"]
    return []


@matcher("$any", "true", "{body: {session_id: {$any: true}}}", _is_true, {"const": True})
def any_value(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Anything, as long as the key is present (null included)."""
    return []


@matcher("$ne", "a value", "{body: {status: {$ne: expired}}}", _anything)
def not_equal(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Not equal to the value (compared as ``expect`` compares: ``1`` equals ``1.0``, ``true`` is not ``1``)."""
    return failed("$ne", operand, actual, path) if not diff(operand, actual, path) else []


@matcher("$gt", "a number, date-time or string", "{body: {count: {$gt: 3}}}", _is_comparable, ORDERED)
def greater(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Greater than: numbers by value, ISO-8601 date-times with a zone as instants, other strings as text."""
    return _compare("$gt", operand, actual, path, lambda a, b: a > b)


@matcher("$gte", "a number, date-time or string", "{body: {seq: {$gte: 1}}}", _is_comparable, ORDERED)
def greater_or_equal(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Greater than or equal (compared as ``$gt`` compares)."""
    return _compare("$gte", operand, actual, path, lambda a, b: a >= b)


@matcher("$lt", "a number, date-time or string", "{body: {amount: {$lt: 100000}}}", _is_comparable, ORDERED)
def less(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Less than (compared as ``$gt`` compares)."""
    return _compare("$lt", operand, actual, path, lambda a, b: a < b)


@matcher(
    "$lte",
    "a number, date-time or string",
    "{body: {created_at: {$lte: 2030-01-01T00:00:00Z}}}",
    _is_comparable,
    ORDERED,
)
def less_or_equal(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Less than or equal (compared as ``$gt`` compares)."""
    return _compare("$lte", operand, actual, path, lambda a, b: a <= b)


def _compare(name: str, operand: Any, actual: Any, path: str, holds: Callable[[Any, Any], bool]) -> Problems:
    got, want = _orderable(actual), _orderable(operand)
    if got[0] != want[0]:
        why = f"{_label(got[0], actual)}, which does not compare with {_label(want[0], operand)}"
        zoned = "; date-times compare only with date-times that have a zone (Z, +07:00)"
        return failed(name, operand, actual, path, why + (zoned if "instant" in (got[0], want[0]) else ""))
    return [] if holds(got[1], want[1]) else failed(name, operand, actual, path)


def _label(kind: str, value: Any) -> str:
    return {"instant": "a date-time", "text": "a string"}.get(kind, _kind(value))


def _orderable(value: Any) -> tuple[str, Any]:
    """(kind, value) to compare by: numbers, instants (zone-aware date-times) or text."""
    if _number(value):
        return "number", value
    instant = value if isinstance(value, datetime) else _instant(value)
    if instant is not None and instant.tzinfo is not None:
        return "instant", instant
    if isinstance(value, (str, date)):
        return "text", value if isinstance(value, str) else value.isoformat()
    return type(value).__name__, value


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not DATETIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


DATETIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@matcher("$matches", "a regular expression", "{body: {id: {$matches: '^pr_'}}}", _is_regex, TEXT)
def matches_regex(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """A string in which the regular expression is found (``re.search``: anchor it with ``^…$`` for all of it)."""
    if not isinstance(actual, str):
        return failed("$matches", operand, actual, path, f"{_kind(actual)}, not a string")
    return [] if re.search(operand, actual) else failed("$matches", operand, actual, path)


@matcher("$startswith", "a string", "{body: {checkout_url: {$startswith: 'http'}}}", _is_str, TEXT)
def starts_with(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """A string starting with the given text."""
    if not isinstance(actual, str):
        return failed("$startswith", operand, actual, path, f"{_kind(actual)}, not a string")
    return [] if actual.startswith(operand) else failed("$startswith", operand, actual, path)


TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _number,
    "bool": _is_bool,
    "null": lambda v: v is None,
    "list": _is_list,
    "mapping": lambda v: isinstance(v, Mapping),
    "datetime": lambda v: _instant(v) is not None,
    "uuid": lambda v: isinstance(v, str) and UUID.fullmatch(v) is not None,
}


@matcher(
    "$type",
    f"one of {', '.join(TYPES)}",
    "{body: {id: {$type: uuid}, paid_at: {$type: datetime}}}",
    _is_type,
    {"enum": list(TYPES)},
)
def of_type(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Of a JSON type: ``string``, ``int`` (not a bool), ``number``, ``bool``, ``null``, ``list``, ``mapping``;
    ``datetime`` is an ISO-8601 date-time string, ``uuid`` a UUID string."""
    return [] if TYPES[operand](actual) else failed("$type", operand, actual, path, _kind(actual))


@matcher("$in", "a list of values", "{body: {status: {$in: [paid, settled]}}}", _is_list, LIST)
def one_of(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """One of the listed values (each compared as ``expect`` compares, so matchers may be among them)."""
    return [] if any(not diff(option, actual, path) for option in operand) else failed("$in", operand, actual, path)


@matcher("$len", "a non-negative integer or a matcher", "{body: {messages: {$len: {$gte: 2}}}}", _is_length, LENGTH)
def length(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """The length of a string, list or mapping is the number (or matches the matcher)."""
    if not isinstance(actual, (str, list, Mapping)):
        return failed("$len", operand, actual, path, f"{_kind(actual)}, which has no length")
    if not diff(operand, len(actual), f"{path}.$len"):
        return []
    return failed("$len", operand, actual, path, f"length {len(actual)}")


@matcher("$each", "an expectation", "{body: {messages: {$each: {sender_role: mitra}}}}", _anything)
def each(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Every item of a list matches (a subset mapping, a value or a matcher); an empty list passes."""
    if not isinstance(actual, list):
        return failed("$each", operand, actual, path, f"{_kind(actual)}, not a list")
    problems = [f"{p} ($each)" for i, item in enumerate(actual) for p in diff(operand, item, f"{path}.{i}")]
    return problems[:5] + ([f"{path}: ... and {len(problems) - 5} more"] if len(problems) > 5 else [])


@matcher("$not", "an expectation", "{frame: {message: {$not: {text: secret}}}}", _anything, absent_ok=True)
def negation(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """The value does not match (a value, subset mapping or matcher); ``$not: {$exists: true}`` is absence."""
    return [] if diff(operand, actual, path) else failed("$not", operand, actual, path, "it matches")


@matcher(
    "$contains",
    "a list of expectations, or a string",
    "{body: {tags: {$contains: [vip]}}}",
    _is_text_or_list,
    {"anyOf": [TEXT, LIST]},
)
def contains(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """A list has, for each expectation, a distinct item matching it (any order, others allowed);
    on a string, the text is a substring."""
    if isinstance(operand, str):
        return _substring(operand, actual, path)
    if not isinstance(actual, list):
        return failed("$contains", operand, actual, path, f"{_kind(actual)}, not a list")
    unmatched = _unassigned(operand, actual, diff)
    if not unmatched:
        return []
    return [f"{path}: $contains failed: no (distinct) item for {_show(unmatched)} in {_show(actual)}"]


def _substring(operand: Any, actual: Any, path: str) -> Problems:
    if not isinstance(actual, str):
        return failed("$contains", operand, actual, path, f"{_kind(actual)}, not a string")
    return [] if str(operand) in actual else failed("$contains", operand, actual, path)


@matcher(
    "$contains_only", "a list of expectations", "{body: {roles: {$contains_only: [customer, mitra]}}}", _is_list, LIST
)
def contains_only(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """A list of exactly these items in any order: each expectation matches its own item, none left over."""
    if not isinstance(actual, list):
        return failed("$contains_only", operand, actual, path, f"{_kind(actual)}, not a list")
    unmatched = _unassigned(operand, actual, diff)
    if not unmatched and len(operand) == len(actual):
        return []
    extra = len(actual) - len(operand) + len(unmatched)
    why = f"no item for {_show(unmatched)}; " if unmatched else ""
    return [f"{path}: $contains_only failed: {why}{extra} item(s) left over in {_show(actual)}"]


def _unassigned(patterns: list[Any], items: list[Any], diff: Diff) -> list[Any]:
    """The patterns left without an item by a maximum one-to-one matching (Kuhn's augmenting paths)."""
    fits = [[j for j, item in enumerate(items) if not diff(p, item, "")] for p in patterns]
    owner: dict[int, int] = {}
    for i in range(len(patterns)):
        _augment(i, fits, owner, set())
    placed = set(owner.values())
    return [p for i, p in enumerate(patterns) if i not in placed]


def _augment(i: int, fits: list[list[int]], owner: dict[int, int], seen: set[int]) -> bool:
    for j in fits[i]:
        if j not in seen:
            seen.add(j)
            if j not in owner or _augment(owner[j], fits, owner, seen):
                owner[j] = i
                return True
    return False


@matcher(
    WHERE,
    "a subset mapping, with $items (or other operators) beside it",
    '{body: {tables: {payment_requests: {$where: {customer_id: "{{ customer.id }}"}, $items: []}}}}',
    _anything,
)
def where(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Filters a list to the items containing the mapping; the operators beside it judge those
    (``{$where: {customer_id: "{{ customer.id }}"}, $items: []}``: none of this customer's)."""
    return []  # the filtering is done by check() before the other operators run


@matcher(
    ITEMS,
    "an expectation (a list, or a matcher)",
    "{body: {rows: {$where: {kind: paid}, $items: {$len: 1}}}}",
    _anything,
)
def items(operand: Any, actual: Any, path: str, diff: Diff) -> Problems:
    """Beside ``$where``: the kept items match it (a list item by item, or a matcher such as ``{$len: 1}``)."""
    return diff(operand, actual, path)
