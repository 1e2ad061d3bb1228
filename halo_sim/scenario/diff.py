"""Differential runs: one scenario on a reference target and on another, compared.

:func:`differential` runs the scenario on both targets with the same seed and
reports *drift*, the ways the other target answers differently from the
reference — not values (ids, timestamps, names differ legitimately), but:

* the overall status (one passed, the other failed) and the status of every step
  present in both runs (by phase and index); when one run was skipped (its target
  lacks a capability the scenario needs) that is the only finding;
* the HTTP exchanges of both transcripts, keyed by method and path with ids
  normalised (``/api/customer/payments/{id}``, relative to the target's backend,
  fake FCM or fake Xendit URL): the n-th exchange of a key on one side is set
  against the n-th of the same key on the other — status code, response body
  *shape* (field set and JSON types, recursively; a list by the shape of its
  first item) and every ``delivered_via`` value in the body; exchanges only one
  side made are findings too;
* the WebSocket frames each actor received: their types, in order, and any
  ``delivered_via`` in them.

Left out: the runner's clean-up after the last step (a live target is tidied
with more calls than the embedded one) and the bodies of the simulator's
whole-state dumps (``test.state``, ``test.connections``: rows and socket keys,
which on a shared live backend are other people's data) and of fake Xendit's delivery
log (``xendit.expect_callback``: every run's callbacks, sent by our fake, not the target).

Consecutive identical GETs (the polling of ``fcm.expect_push`` or
``xendit.expect_callback``, whose number depends on timing) count as one, the
last.  When several exchanges of one key carry the same answers in another order
(the branches of a ``parallel`` step racing), that is not drift.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from halo_sim.scenario.report import ScenarioResult
from halo_sim.scenario.runner import default_seed, run_scenario
from halo_sim.scenario.schema import Scenario
from halo_sim.targets.base import Target
from halo_sim.targets.routes import DEFAULT_ROUTES, Route

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HEX = re.compile(r"[0-9a-fA-F]{8,}")
NUMBER = re.compile(r"(\+|%2[bB])?\d{4,}")
OPAQUE = re.compile(r"[A-Za-z0-9_\-]{16,}")
ID_IN_KEY = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}")

# What the runner's clean-up calls after the last step (on a live target more than on the embedded one).
TIDY_ACTIONS = ("test.reset_phone", "mitra.get_profile", "mitra.end_session", "mitra.go_offline")
# The simulator's whole-state dumps: their fields are rows and socket keys, data rather than contract.
DUMP_ACTIONS = ("test.state", "test.connections")
# Fake Xendit's whole delivery log: what our fake sent, for every run that shares it, not the target's contract.
FAKE_LOGS = frozenset({"GET /_fake/callbacks"})


@dataclass(frozen=True)
class Finding:
    """One difference: what kind, where, and what each target did there."""

    kind: str  # status | step | exchange | http_status | body_shape | delivered_via | ws_frames
    where: str
    reference: str
    other: str


@dataclass
class Drift:
    """Every finding of a differential run, with both results."""

    reference: ScenarioResult
    other: ScenarioResult
    findings: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the other target behaved like the reference."""
        return not self.findings

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)


async def differential(scenario: Scenario, reference: Target, other: Target, seed: int | None = None) -> Drift:
    """Run ``scenario`` on ``reference`` then on ``other`` (same seed) and compare the two runs.

    Without ``seed`` both use the scenario's default for ``other`` (random on a live
    target, so two testers on one staging backend do not collide).
    """
    seed = default_seed(scenario, other) if seed is None else seed
    ours = await run_scenario(scenario, reference, seed=seed)
    theirs = await run_scenario(scenario, other, seed=seed)
    return Drift(ours, theirs, compare(ours, theirs, reference, other))


def compare(
    reference: ScenarioResult,
    other: ScenarioResult,
    reference_target: Target | None = None,
    other_target: Target | None = None,
) -> list[Finding]:
    """The findings between two results (targets, when given, make exchange paths base-relative)."""
    findings: list[Finding] = []
    if reference.status != other.status:
        findings.append(
            Finding(
                "status", "scenario", _status(reference.status, reference.reason), _status(other.status, other.reason)
            )
        )
        if "skipped" in (reference.status, other.status):
            return findings  # a target lacking a capability ran nothing comparable: the reason is the finding
    findings += _steps(reference, other)
    findings += _exchanges(
        _compared(reference.transcript, reference_target),
        _compared(other.transcript, other_target),
        reference.status,
        other.status,
    )
    findings += _frames(reference.frames, other.frames)
    return findings


def _status(status: str, reason: str) -> str:
    return f"{status}: {reason[:200]}" if reason and status != "passed" else status


def _steps(reference: ScenarioResult, other: ScenarioResult) -> Iterator[Finding]:
    theirs = {(s.phase, s.index): s for s in other.steps}
    for step in reference.steps:
        twin = theirs.get((step.phase, step.index))
        if twin is not None and twin.status != step.status:
            label = f"setup step {step.index + 1}" if step.phase == "setup" else f"step {step.index + 1}"
            yield Finding(
                "step",
                f"{label} '{step.title}'",
                _status(step.status, step.summary),
                _status(twin.status, twin.summary),
            )


# --- HTTP exchanges -------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange reduced to what is compared."""

    key: str  # "GET /api/customer/payments/{id}"
    status: int
    shape: Any
    delivered_via: tuple[tuple[str, Any], ...]

    @property
    def signature(self) -> str:
        return repr((self.status, self.shape, self.delivered_via))


def normalise_path(path: str) -> str:
    """A path with its ids (UUIDs, hex ids, long numbers, phones, opaque tokens) as ``{id}``."""
    return "/".join("{id}" if _is_id(segment) else segment for segment in path.split("/"))


def _is_id(segment: str) -> bool:
    if segment.startswith("{") and segment.endswith("}"):
        return True  # a route table's placeholder
    if UUID.fullmatch(segment) or NUMBER.fullmatch(segment):
        return True
    has_digit = any(c.isdigit() for c in segment)
    return has_digit and bool(HEX.fullmatch(segment) or OPAQUE.fullmatch(segment))


def _relative(url: str, target: Target | None) -> str:
    bases = [b for b in ((target.base_url, target.fcm_url, target.xendit_url) if target else ()) if b]
    for base in sorted(bases, key=len, reverse=True):
        if url.startswith(base.rstrip("/") + "/"):
            return urlsplit(url[len(base.rstrip("/")) :]).path
    return urlsplit(url).path


def exchanges(transcript: Iterable[dict[str, Any]], target: Target | None = None) -> list[Exchange]:
    """The HTTP exchanges of a transcript, in order, consecutive identical GETs (polling) counted once."""
    found: list[Exchange] = []
    for entry in transcript:
        if entry.get("kind") != "http":
            continue
        method = str(entry.get("method", "")).upper()
        key = f"{method} {normalise_path(_relative(str(entry.get('url', '')), target))}"
        body = entry.get("response")
        exchange = Exchange(key, int(entry.get("status", 0)), shape(body), tuple(delivered_via(body)))
        if found and method == "GET" and found[-1].key == key:
            found[-1] = exchange
        else:
            found.append(exchange)
    return found


def _route_keys(target: Target | None, actions: Iterable[str]) -> set[str]:
    routes: dict[str, Route] = target.routes if target is not None else dict(DEFAULT_ROUTES)
    return {f"{routes[a].method} {normalise_path(routes[a].path)}" for a in actions if a in routes}


def _compared(transcript: Iterable[dict[str, Any]], target: Target | None) -> list[Exchange]:
    """The exchanges worth comparing: without the runner's trailing clean-up, dumps without their body."""
    found = exchanges(transcript, target)
    tidy = _route_keys(target, TIDY_ACTIONS)
    while found and found[-1].key in tidy:
        found.pop()
    dumps = _route_keys(target, DUMP_ACTIONS) | FAKE_LOGS
    return [Exchange(e.key, e.status, "dump", ()) if e.key in dumps else e for e in found]


def shape(value: Any) -> Any:
    """The JSON shape of a value: objects by field, lists by their first item, scalars by type name.

    Ids inside field names (``"mitra:<uuid>": 1``, a map keyed by id) become ``{id}``.
    """
    if isinstance(value, dict):
        fields: dict[str, Any] = {}
        for name, item in sorted(value.items(), key=lambda kv: str(kv[0])):
            fields.setdefault(ID_IN_KEY.sub("{id}", str(name)), shape(item))
        return fields
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def describe(value: Any) -> str:
    """A shape as people read it: ``object``, ``array of object``, ``string``."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return f"array of {describe(value[0])}" if value else "array (empty)"
    return str(value)


def shape_differences(ours: Any, theirs: Any, path: str = "body") -> Iterator[tuple[str, str, str]]:
    """``(field path, reference type, other type)`` wherever two shapes differ; an empty list matches any list."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for name in sorted(set(ours) | set(theirs)):
            where = f"{path}.{name}"
            if name not in theirs:
                yield where, describe(ours[name]), "absent"
            elif name not in ours:
                yield where, "absent", describe(theirs[name])
            else:
                yield from shape_differences(ours[name], theirs[name], where)
    elif isinstance(ours, list) and isinstance(theirs, list):
        if ours and theirs:
            yield from shape_differences(ours[0], theirs[0], f"{path}[0]")
    elif ours != theirs:
        yield path, describe(ours), describe(theirs)


def delivered_via(value: Any, path: str = "body") -> Iterator[tuple[str, Any]]:
    """Every ``delivered_via`` in a body, with its path."""
    if isinstance(value, dict):
        for name, item in value.items():
            where = f"{path}.{name}"
            if name == "delivered_via":
                yield where, item
            else:
                yield from delivered_via(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from delivered_via(item, f"{path}[{index}]")


def _exchanges(
    ours: list[Exchange], theirs: list[Exchange], our_status: str = "passed", their_status: str = "passed"
) -> Iterator[Finding]:
    """Exchange by exchange; what a run that stopped early (failed, error, skipped) never made is one finding."""
    only_ours: list[str] = []
    only_theirs: list[str] = []
    for finding in _paired(ours, theirs):
        if finding.kind == "exchange" and finding.other == "not made" and their_status != "passed":
            only_ours.append(finding.where)
        elif finding.kind == "exchange" and finding.reference == "not made" and our_status != "passed":
            only_theirs.append(finding.where)
        else:
            yield finding
    if only_ours:
        yield Finding(
            "exchange",
            f"{len(only_ours)} exchange(s) the other run, {their_status}, never made",
            _listed(only_ours),
            "not made",
        )
    if only_theirs:
        yield Finding(
            "exchange",
            f"{len(only_theirs)} exchange(s) the reference run, {our_status}, never made",
            "not made",
            _listed(only_theirs),
        )


def _listed(wheres: list[str], limit: int = 6) -> str:
    return "; ".join(wheres[:limit]) + (f"; … ({len(wheres) - limit} more)" if len(wheres) > limit else "")


def _paired(ours: list[Exchange], theirs: list[Exchange]) -> Iterator[Finding]:
    by_key_ours, by_key_theirs = _by_key(ours), _by_key(theirs)
    for key in list(by_key_ours) + [k for k in by_key_theirs if k not in by_key_ours]:
        mine, yours = by_key_ours.get(key, []), by_key_theirs.get(key, [])
        if Counter(e.signature for e in mine) == Counter(e.signature for e in yours):
            continue  # the same answers (perhaps in another order: parallel branches racing)
        for number, (a, b) in enumerate(zip(mine, yours), start=1):
            where = f"{key} #{number}"
            if a.status != b.status:
                yield Finding("http_status", where, str(a.status), str(b.status))
            for field_path, ref, other in shape_differences(a.shape, b.shape):
                yield Finding("body_shape", f"{where} {field_path}", ref, other)
            yield from _deliveries(where, a.delivered_via, b.delivered_via)
        for number in range(len(yours) + 1, len(mine) + 1):
            yield Finding("exchange", f"{key} #{number}", f"HTTP {mine[number - 1].status}", "not made")
        for number in range(len(mine) + 1, len(yours) + 1):
            yield Finding("exchange", f"{key} #{number}", "not made", f"HTTP {yours[number - 1].status}")


def _by_key(found: list[Exchange]) -> dict[str, list[Exchange]]:
    grouped: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in found:
        grouped[exchange.key].append(exchange)
    return grouped


def _deliveries(where: str, ours: Iterable[tuple[str, Any]], theirs: Iterable[tuple[str, Any]]) -> Iterator[Finding]:
    mine, yours = dict(ours), dict(theirs)
    for path in list(mine) + [p for p in yours if p not in mine]:
        if mine.get(path, _ABSENT) != yours.get(path, _ABSENT):
            yield Finding(
                "delivered_via", f"{where} {path}", str(mine.get(path, "absent")), str(yours.get(path, "absent"))
            )


_ABSENT = object()


# --- WebSocket frames ------------------------------------------------------------


def _frames(ours: dict[str, list[dict[str, Any]]], theirs: dict[str, list[dict[str, Any]]]) -> Iterator[Finding]:
    for actor in list(ours) + [a for a in theirs if a not in ours]:
        mine, yours = ours.get(actor, []), theirs.get(actor, [])
        a, b = [str(f.get("type")) for f in mine], [str(f.get("type")) for f in yours]
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            yield Finding("ws_frames", f"ws {actor} frames from #{first + 1}", _types(a[first:]), _types(b[first:]))
            continue
        for number, (x, y) in enumerate(zip(mine, yours), start=1):
            yield from _deliveries(
                f"ws {actor} frame #{number} ({a[number - 1]})", delivered_via(x, "frame"), delivered_via(y, "frame")
            )


def _types(types: list[str], limit: int = 8) -> str:
    shown = ", ".join(types[:limit]) + (f", … ({len(types) - limit} more)" if len(types) > limit else "")
    return shown or "none"
