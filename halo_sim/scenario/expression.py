"""The little language inside ``{{ … }}``: paths, numbers, durations and ``+ - *``.

Scenarios need a deadline 15 minutes after a payment's expiry, the next attempt
number, a clock advance of half an hour — not a programming language.  So a
template holds one expression of: dotted paths (``payment.expires_at``,
``results.0.body``), numbers (``1``, ``2.5``), duration literals (``30s``,
``15m``, ``2h``, ``1d``), ``+``/``-``/``*``, unary minus and parentheses.
Parsed by a tokenizer and a recursive-descent parser (never ``eval``), so a
bad expression is a validation error before the run, with the text it choked on.

What the operators do, by operand kind:

* number ``+ - *`` number → number (an int stays an int);
* ISO-8601 time ``±`` duration → an ISO time in the same format and time zone;
* time ``-`` time → seconds between them (a number);
* number ``±`` duration → number (the number counts as epoch seconds, as the backend's timestamps);
* duration ``±`` duration, duration ``*`` number → duration; a duration alone renders as its seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from simkit.errors import ScenarioError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TOKEN = re.compile(
    r"\s*(?:(?P<duration>\d+(?:\.\d+)?[smhd])(?![\w.])"
    r"|(?P<number>\d+(?:\.\d+)?)(?![\w.])"
    r"|(?P<path>[A-Za-z_]\w*(?:\.(?:-?\d+|\w+))*)"
    r"|(?P<op>[-+*()]))"
)
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
Lookup = Callable[[str], Any]


class TemplateError(ScenarioError):
    """A ``{{ … }}`` expression that cannot be parsed, or whose operands do not fit its operator."""


@dataclass(frozen=True)
class Duration:
    """A duration literal's value: kept apart from numbers so ``time + 15m`` knows what it adds."""

    seconds: float


@dataclass(frozen=True)
class Literal:
    value: int | float | Duration


@dataclass(frozen=True)
class Path:
    path: str


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Literal | Path | Negate | Binary


@lru_cache(maxsize=1024)
def parse(source: str) -> Node:
    """The tree of one expression (the text between ``{{`` and ``}}``); :class:`TemplateError` if malformed."""
    tokens = _tokenize(source)
    node, rest = _sum(tokens, source)
    if rest:
        raise TemplateError(f"bad template {{{{{source}}}}}: unexpected {rest[0][1]!r}")
    return node


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    at = 0
    while source[at:].strip():
        match = TOKEN.match(source, at)
        if match is None or match.end() == at:
            raise TemplateError(f"bad template {{{{{source}}}}}: cannot read {source[at:].strip()!r}")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        at = match.end()
    if not tokens:
        raise TemplateError("empty template {{ }}: name a variable or an expression")
    return tokens


Tokens = list[tuple[str, str]]


def _sum(tokens: Tokens, source: str) -> tuple[Node, Tokens]:
    node, tokens = _product(tokens, source)
    while tokens and tokens[0][1] in "+-":
        op = tokens[0][1]
        right, tokens = _product(tokens[1:], source, after=op)
        node = Binary(op, node, right)
    return node, tokens


def _product(tokens: Tokens, source: str, after: str = "") -> tuple[Node, Tokens]:
    node, tokens = _unary(tokens, source, after)
    while tokens and tokens[0][1] == "*":
        right, tokens = _unary(tokens[1:], source, "*")
        node = Binary("*", node, right)
    return node, tokens


def _unary(tokens: Tokens, source: str, after: str) -> tuple[Node, Tokens]:
    if not tokens:
        where = f"after {after!r}" if after else "at the end"
        raise TemplateError(f"bad template {{{{{source}}}}}: expected a value {where}")
    kind, text = tokens[0]
    if text == "-":
        operand, rest = _unary(tokens[1:], source, "-")
        return Negate(operand), rest
    if text == "(":
        node, rest = _sum(tokens[1:], source)
        if not rest or rest[0][1] != ")":
            raise TemplateError(f"bad template {{{{{source}}}}}: '(' is never closed")
        return node, rest[1:]
    if kind == "path":
        return Path(text), tokens[1:]
    if kind in ("number", "duration"):
        return Literal(_number(text) if kind == "number" else Duration(_number(text[:-1]) * UNITS[text[-1]])), tokens[
            1:
        ]
    raise TemplateError(f"bad template {{{{{source}}}}}: unexpected {text!r}")


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def paths(node: Node) -> set[str]:
    """The dotted paths an expression reads (for the check of variables before a run)."""
    if isinstance(node, Path):
        return {node.path}
    if isinstance(node, Negate):
        return paths(node.operand)
    if isinstance(node, Binary):
        return paths(node.left) | paths(node.right)
    return set()


def evaluate(node: Node, lookup: Lookup) -> Any:
    """The value of an expression; a duration comes out as its seconds."""
    value = _value(node, lookup)
    return _whole(value.seconds) if isinstance(value, Duration) else value


def _value(node: Node, lookup: Lookup) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return lookup(node.path)
    if isinstance(node, Negate):
        return _negate(_value(node.operand, lookup))
    return _apply(node.op, _value(node.left, lookup), _value(node.right, lookup))


def _apply(op: str, left: Any, right: Any) -> Any:
    kinds = (_kind(left), _kind(right))
    rule = RULES.get((op, *kinds))
    if rule is None:
        raise TemplateError(f"cannot compute {_show(left)} {op} {_show(right)} ({kinds[0]} {op} {kinds[1]})")
    return rule(left, right)


def _negate(value: Any) -> Any:
    if isinstance(value, Duration):
        return Duration(-value.seconds)
    if _kind(value) == "number":
        return -value
    raise TemplateError(f"cannot negate {_show(value)} ({_kind(value)})")


def _kind(value: Any) -> str:
    if isinstance(value, Duration):
        return "duration"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    if isinstance(value, str) and ISO_TIME.fullmatch(value):
        return "time"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, Duration):
        return f"{_whole(value.seconds)}s"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def shift(text: str, seconds: float) -> str:
    """An ISO time ``seconds`` later, written as the original was (``Z`` or offset, fraction digits, separator)."""
    moment = datetime.fromisoformat(text) + timedelta(seconds=seconds)
    spec = _precision(ISO_TIME.fullmatch(text))
    shown = moment.isoformat(sep=text[10], timespec=spec)
    return shown[:-6] + "Z" if text.endswith("Z") and shown.endswith("+00:00") else shown


def _precision(match: re.Match[str] | None) -> str:
    if match is None or match.group("seconds") is None:
        return "minutes"
    fraction = match.group("fraction")
    return "seconds" if fraction is None else "milliseconds" if len(fraction) == 4 else "microseconds"


def _seconds_between(later: str, earlier: str) -> int | float:
    return _whole((datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds())


RULES: dict[tuple[str, str, str], Callable[[Any, Any], Any]] = {
    ("+", "number", "number"): lambda a, b: a + b,
    ("-", "number", "number"): lambda a, b: a - b,
    ("*", "number", "number"): lambda a, b: a * b,
    ("+", "duration", "duration"): lambda a, b: Duration(a.seconds + b.seconds),
    ("-", "duration", "duration"): lambda a, b: Duration(a.seconds - b.seconds),
    ("-", "number", "duration"): lambda a, b: a - b.seconds,
    ("+", "number", "duration"): lambda a, b: a + b.seconds,
    ("+", "duration", "number"): lambda a, b: a.seconds + b,
    ("*", "duration", "number"): lambda a, b: Duration(a.seconds * b),
    ("*", "number", "duration"): lambda a, b: Duration(a * b.seconds),
    ("+", "time", "duration"): lambda a, b: shift(a, b.seconds),
    ("+", "duration", "time"): lambda a, b: shift(b, a.seconds),
    ("-", "time", "duration"): lambda a, b: shift(a, -b.seconds),
    ("-", "time", "time"): _seconds_between,
}
