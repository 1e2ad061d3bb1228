"""The state and rules of fake FCM: what a send request must look like and where it lands.

Everything here is pure: no sockets, no sleeping, and time only from the
injected :class:`~simkit.clock.Clock`, so the rules are unit-tested directly
and a run under a :class:`~simkit.clock.VirtualClock` is reproducible (the
message ids come from a counter for the same reason).  The HTTP surface in
:mod:`fake_fcm.routes` only translates requests and errors.

A send goes through the same gates, in the same order, as on the real service:
authentication (Google's front end) → project → injected ``fail_next`` fault →
body validation → target (``fail_tokens`` fault, unregistered / unknown token)
→ delivery to the target's inbox (skipped for ``validate_only``).

Bounded memory (``halo-sim serve`` runs for days): the inbox keeps the newest
:data:`INBOX_CAP` messages and the call log the newest :data:`CALLS_CAP` requests, each
a :class:`~simkit.bounded.BoundedLog` whose ``dropped`` count the control plane reports, so a
reader knows the inbox is not the whole history.  Both caps are constructor settings.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fake_fcm.errors import (
    ErrorCode,
    FcmError,
    InvalidArgument,
    SenderIdMismatch,
    Unauthenticated,
    Unregistered,
    error_for_code,
)
from fake_fcm.fields import MESSAGE, REQUEST, TARGETS, expect_object, to_proto_names
from simkit.bounded import BoundedLog
from simkit.clock import Clock, SystemClock, isoformat
from simkit.fakekit import RecordedCall

MAX_MESSAGE_BYTES = 4096
#: Messages the inbox keeps (the newest): a few hours of a busy serve, ~2 KiB each at most 4 KiB.
INBOX_CAP = 5_000
#: Service-API requests ``/_fake/calls`` keeps (the newest): a debugging aid, not state.
CALLS_CAP = 1_000
DRY_RUN_MESSAGE_ID = "fake_message_id"  # what FCM names a message that was only validated
TARGET_FIELDS = TARGETS
DEVICE_TARGETS = frozenset({"token", "fid"})
PRIORITY_TYPE = "type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority"
DURATION_TYPE = "type.googleapis.com/google.protobuf.Duration"
ANDROID_PRIORITIES = frozenset({"normal", "high"})
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google", "gcm")
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")
_TOPIC = re.compile(r"^[a-zA-Z0-9\-_.~%]{1,900}$")


# --- faults -------------------------------------------------------------------


class FailNext(BaseModel):
    """The next ``count`` sends fail with ``error``, then sends behave normally again."""

    model_config = ConfigDict(extra="forbid", strict=True)

    count: int = Field(ge=0)
    error: ErrorCode = "UNAVAILABLE"


class FaultSpec(BaseModel):
    """Injected misbehaviour; strict so that a typo in a scenario fails loudly, not silently.

    ``latency_ms`` delays every send answer (the HTTP layer sleeps); ``fail_next``
    fails the next sends that get past authentication; ``fail_tokens`` maps an
    inbox key (a device token or fid, or ``topic:x`` / ``condition:x``) to the
    errorCode every send to it fails with.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    latency_ms: int = Field(default=0, ge=0, le=120_000)
    fail_next: FailNext | None = None
    fail_tokens: dict[str, ErrorCode] = Field(default_factory=dict)


def parse_fault_spec(spec: Mapping[str, Any]) -> FaultSpec:
    """Validate a fault spec, turning pydantic's report into one readable ValueError."""
    try:
        return FaultSpec.model_validate(dict(spec))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<spec>'}: {e['msg']}" for e in exc.errors())
        known = ", ".join(FaultSpec.model_fields)
        raise ValueError(f"invalid FCM fault spec ({problems}); known faults: {known}") from None


def merge_faults(current: FaultSpec, patch: Mapping[str, Any]) -> FaultSpec:
    """Apply a spec on top of the current faults: given keys replace, ``fail_tokens`` adds up."""
    update = parse_fault_spec(patch)
    merged = current.model_copy(update={name: getattr(update, name) for name in update.model_fields_set})
    if "fail_tokens" in update.model_fields_set:
        merged.fail_tokens = {**current.fail_tokens, **update.fail_tokens}
    if merged.fail_next is not None and merged.fail_next.count == 0:
        merged.fail_next = None  # "fail the next 0 sends" is no fault at all
    return merged


# --- request validation --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Who a message is for: ``kind`` is token, fid, topic or condition."""

    kind: str
    value: str

    @property
    def key(self) -> str:
        """Inbox key: a device token or fid as is, else ``topic:x`` / ``condition:x``."""
        return self.value if self.kind in DEVICE_TARGETS else f"{self.kind}:{self.value}"


def decode_json(raw: bytes) -> Any:
    """Decode a request body; malformed JSON is FCM's INVALID_ARGUMENT, not a crash."""
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise InvalidArgument(f"Invalid JSON payload received. {exc}") from None


@dataclass(frozen=True)
class SendRequest:
    """A send request that passed validation."""

    message: dict[str, Any]
    target: Target
    validate_only: bool


def parse_request(body: object) -> SendRequest:
    """Check a send request body the way FCM does, or raise INVALID_ARGUMENT naming the field.

    Field names may come in proto (``validate_only``) or JSON (``validateOnly``) spelling;
    the request's ``message`` is the snake_case form the rules and the inbox use.
    """
    request = to_proto_names(body, REQUEST, "")
    if "message" not in request:
        raise InvalidArgument("Request is missing required field 'message'.", "message")
    validate_only = request.get("validate_only", False)
    if not isinstance(validate_only, bool):
        raise _bad_value("validate_only", "TYPE_BOOL", validate_only)
    message = request["message"]
    return SendRequest(message, validate_message(message), validate_only)


def validate_message(message: dict[str, Any]) -> Target:
    """Apply FCM's rules to a ``message`` object (names in either spelling) and return its single target."""
    message = to_proto_names(message, MESSAGE, "message")
    target = target_of(message)
    _check_data(message.get("data"), "message.data")
    _check_notification(message.get("notification"))
    _check_android(message.get("android"))
    _check_size(message)
    return target


def target_of(message: Mapping[str, Any]) -> Target:
    """The one of token / fid / topic / condition a message names (exactly one is allowed)."""
    present = [name for name in TARGET_FIELDS if name in message]
    if not present:
        raise InvalidArgument("Recipient of the message is not set.", "message")
    if len(present) > 1:
        raise InvalidArgument(
            f"Invalid JSON payload received. Oneof field 'target' is already set. Cannot set '{present[1]}'",
            f"message.{present[1]}",
        )
    value = _string(message[present[0]], f"message.{present[0]}", required=True)
    _check_target_value(present[0], value)
    return Target(present[0], value)


def _check_target_value(kind: str, value: str) -> None:
    if kind == "topic" and not _TOPIC.match(value):
        raise InvalidArgument(f"Invalid topic name: {value!r}.", "message.topic")


def _check_data(data: object, field: str) -> None:
    """``data`` is a string→string map and must avoid the keys FCM reserves for itself."""
    if data is None:
        return
    for key, value in _object(data, field).items():
        if key in RESERVED_DATA_KEYS or key.lower().startswith(RESERVED_DATA_PREFIXES):
            raise InvalidArgument(f"Invalid data payload key: {key}", f"{field}[{key}]")
        if not isinstance(value, str):
            raise _bad_value(f"{field}[{key}].value", "TYPE_STRING", value)


def _check_notification(notification: object) -> None:
    if notification is None:
        return
    for name, value in _object(notification, "message.notification").items():
        _string(value, f"message.notification.{name}")


def _check_android(android: object) -> None:
    """Only the android fields clients get wrong in practice: priority, ttl, collapse_key, data."""
    if android is None:
        return
    config = _object(android, "message.android")
    priority = config.get("priority")
    if priority is not None and str(priority).lower() not in ANDROID_PRIORITIES:
        raise _bad_value("message.android.priority", PRIORITY_TYPE, priority)
    ttl = config.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and _DURATION.match(ttl)):
        raise _bad_value("message.android.ttl", DURATION_TYPE, ttl)
    if "collapse_key" in config:
        _string(config["collapse_key"], "message.android.collapse_key")
    _check_data(config.get("data"), "message.android.data")


def _check_size(message: Mapping[str, Any]) -> None:
    """FCM refuses payloads over 4 KiB; measured here on the compact JSON of the whole message."""
    size = len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise InvalidArgument(f"Message is too big ({size} bytes > {MAX_MESSAGE_BYTES}).", "message")


_object = expect_object


def _string(value: object, field: str, required: bool = False) -> str:
    if not isinstance(value, str):
        raise _bad_value(field, "TYPE_STRING", value)
    if required and not value:
        raise InvalidArgument(f"Invalid value at '{field}': must not be empty.", field)
    return value


def _bad_value(field: str, type_name: str, value: object) -> InvalidArgument:
    return InvalidArgument(f"Invalid value at '{field}' ({type_name}), {json.dumps(value)}", field)


# --- the backend ---------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A message FCM accepted, as it sits in its target's inbox."""

    name: str
    project: str
    target: str
    kind: str
    message: dict[str, Any]
    received_at: float

    @property
    def seq(self) -> int:
        """The message's number (the end of its name): readers ask for messages after one they saw."""
        return int(self.name.rsplit("/", 1)[-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with the receive time also in the ISO format the Halo backend uses."""
        return {**asdict(self), "seq": self.seq, "received_at_iso": isoformat(self.received_at)}


class FcmBackend:
    """A stateful, in-memory FCM project (or several): implements :class:`simkit.fakekit.FakeService`.

    ``project_id`` restricts sends to one project (others get SENDER_ID_MISMATCH);
    ``expected_bearer`` requires that exact OAuth bearer (None accepts any non-empty
    one); ``strict_tokens`` answers UNREGISTERED for device tokens never passed to
    :meth:`register`, as the real service does for unknown tokens, where by default
    any token is accepted (a client under test rarely knows how to register one).
    ``inbox_cap`` and ``calls_cap`` bound the inbox and the call log (the newest are kept).
    These are configuration and survive :meth:`reset`; the rest is per-run state.
    """

    def __init__(
        self,
        *,
        project_id: str | None = None,
        expected_bearer: str | None = None,
        strict_tokens: bool = False,
        clock: Clock | None = None,
        inbox_cap: int = INBOX_CAP,
        calls_cap: int = CALLS_CAP,
    ) -> None:
        self.project_id = project_id
        self.expected_bearer = expected_bearer
        self.strict_tokens = strict_tokens
        self.clock: Clock = clock or SystemClock()
        self.calls: BoundedLog[RecordedCall] = BoundedLog(calls_cap)
        self._lock = threading.RLock()  # the server thread and the test thread share this object
        self._deliveries: BoundedLog[Delivery] = BoundedLog(inbox_cap)
        self._unregistered: set[str] = set()
        self._registered: set[str] = set()
        self._faults = FaultSpec()
        self._sequence = 0
        self._generation = 0  # counts resets: a reader's cursor from before one means nothing after it
        self._counters: Counter[str] = Counter()

    # --- FakeService ---

    def now(self) -> float:
        """Current time of the injected clock (also stamps recorded calls)."""
        return self.clock.now()

    def reset(self) -> None:
        """Forget every message, token, fault, counter and call; keep the configuration."""
        with self._lock:
            self.calls.clear()
            self.calls.dropped = 0
            self._deliveries.clear()
            self._deliveries.dropped = 0
            self._unregistered.clear()
            self._registered.clear()
            self._faults = FaultSpec()
            self._sequence = 0
            self._generation += 1
            self._counters.clear()

    def state(self) -> dict[str, Any]:
        """Everything the fake knows, as JSON-serialisable data (for ``GET /_fake/state``)."""
        with self._lock:
            return {
                "config": {
                    "project_id": self.project_id,
                    "bearer_required": self.expected_bearer is not None,
                    "strict_tokens": self.strict_tokens,
                },
                "inbox": self._inbox_by_target(),
                "unregistered_tokens": sorted(self._unregistered),
                "registered_tokens": sorted(self._registered),
                "faults": self.faults(),
                "counters": self._counter_snapshot(),
                "bounds": {"inbox": self._deliveries.describe(), "calls": self.calls.describe()},
            }

    def faults(self) -> dict[str, Any]:
        """The faults in force, in the same shape :meth:`set_faults` accepts."""
        with self._lock:
            return self._faults.model_dump()

    def set_faults(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Merge ``spec`` into the faults in force; a bad spec raises ValueError and changes nothing."""
        with self._lock:
            self._faults = merge_faults(self._faults, spec)
            return self.faults()

    def clear_faults(self) -> None:
        """Back to a well-behaved FCM."""
        with self._lock:
            self._faults = FaultSpec()

    # --- saving and restoring (``halo-sim serve --state-file``) ---

    def snapshot(self) -> dict[str, Any]:
        """The per-run state as JSON-ready data: inbox, token registrations, faults and the message counter.

        Configuration is not included: the process that restores decides it again.  The inbox is
        saved as kept (at most its cap), with the count of messages the bound dropped before.
        """
        with self._lock:
            return {
                "deliveries": [asdict(d) for d in self._deliveries.newest()],
                "deliveries_dropped": self._deliveries.describe()["dropped"],
                "registered": sorted(self._registered),
                "unregistered": sorted(self._unregistered),
                "faults": self._faults.model_dump(),
                "sequence": self._sequence,
                "counters": dict(self._counters),
            }

    def restore(self, data: Mapping[str, Any], skip: int = 0) -> None:
        """Continue from a :meth:`snapshot`; message names go on from the saved counter plus ``skip``.

        ``skip`` > 0 is for a snapshot that may be older than the last message handed out (a
        periodic checkpoint before a crash): names issued after it must not be issued again.
        """
        with self._lock:
            saved = [Delivery(**d) for d in data.get("deliveries", [])]
            cap = self._deliveries.cap
            self._deliveries = BoundedLog(cap)  # a file from before the bound may hold more: the newest stay
            self._deliveries[:] = saved[-cap:]
            self._deliveries.dropped = int(data.get("deliveries_dropped", 0)) + max(0, len(saved) - cap)
            self._registered = set(data.get("registered", []))
            self._unregistered = set(data.get("unregistered", []))
            self._faults = FaultSpec.model_validate(data.get("faults", {}))
            self._sequence = int(data.get("sequence", 0)) + skip
            self._counters = Counter(data.get("counters", {}))

    # --- the FCM API ---

    def send(self, project: str, authorization_header: str | None, body: object) -> dict[str, str]:
        """``POST /v1/projects/{project}/messages:send`` with an already decoded JSON body."""
        return self._send(project, authorization_header, lambda: body)

    def send_json(self, project: str, authorization_header: str | None, raw: bytes) -> dict[str, str]:
        """Like :meth:`send` with the raw body, so bad JSON is judged after authentication, as by Google."""
        return self._send(project, authorization_header, lambda: decode_json(raw))

    def _send(self, project: str, authorization_header: str | None, load: Callable[[], object]) -> dict[str, str]:
        with self._lock:
            try:
                return self._gates(project, authorization_header, load)
            except FcmError as exc:
                self._counters[f"error:{exc.error_code or exc.status}"] += 1
                raise

    def _gates(self, project: str, authorization_header: str | None, load: Callable[[], object]) -> dict[str, str]:
        self._authenticate(authorization_header)
        self._check_project(project)
        self._consume_fail_next()
        request = parse_request(load())
        self._check_target(request.target)
        if request.validate_only:
            self._counters["validate_only"] += 1
            return {"name": f"projects/{project}/messages/{DRY_RUN_MESSAGE_ID}"}
        return {"name": self._deliver(project, request.target, request.message).name}

    def _authenticate(self, header: str | None) -> None:
        scheme, _, bearer = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise Unauthenticated(missing=True)
        if self.expected_bearer is not None and bearer.strip() != self.expected_bearer:
            raise Unauthenticated(missing=False)

    def _check_project(self, project: str) -> None:
        if self.project_id is not None and project != self.project_id:
            raise SenderIdMismatch(f"SenderId mismatch: this fake serves project {self.project_id!r}, not {project!r}")

    def _consume_fail_next(self) -> None:
        fail = self._faults.fail_next
        if fail is None or fail.count <= 0:
            return
        fail.count -= 1
        if fail.count == 0:
            self._faults.fail_next = None
        raise error_for_code(fail.error)

    def _check_target(self, target: Target) -> None:
        if (code := self._faults.fail_tokens.get(target.key)) is not None:
            raise error_for_code(code)
        if target.kind not in DEVICE_TARGETS:
            return
        if target.value in self._unregistered or (self.strict_tokens and target.value not in self._registered):
            raise Unregistered()

    def _deliver(self, project: str, target: Target, message: dict[str, Any]) -> Delivery:
        self._sequence += 1
        name = f"projects/{project}/messages/{self._sequence:016d}"
        delivery = Delivery(name, project, target.key, target.kind, copy.deepcopy(message), self.now())
        self._deliveries.append(delivery)
        self._counters["sent"] += 1
        return delivery

    # --- tokens ---

    def unregister(self, token: str) -> None:
        """The app behind ``token`` (or fid) was uninstalled: sends to it now fail with UNREGISTERED."""
        with self._lock:
            self._registered.discard(token)
            self._unregistered.add(token)

    def register(self, token: str) -> None:
        """Undo :meth:`unregister`; also makes the token known when ``strict_tokens`` is on."""
        with self._lock:
            self._unregistered.discard(token)
            self._registered.add(token)

    # --- inbox ---

    def inbox(
        self, target: str | None = None, after: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Kept messages in arrival order: all of them, or those for one inbox key; with ``after``,
        only those numbered above it, and with ``limit`` only the newest ``limit``.

        Read from the newest backwards, so a reader that asks for what is new since its last read
        (the control center, each tick) costs what is new, not the whole inbox.
        """
        with self._lock:
            found: list[Delivery] = []
            for delivery in islice(reversed(self._deliveries), self._deliveries.cap):
                if (after is not None and delivery.seq <= after) or (limit is not None and len(found) >= limit):
                    break
                if target is None or delivery.target == target:
                    found.append(delivery)
            return [d.to_dict() for d in reversed(found)]

    def inbox_page(
        self, target: str | None = None, after: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """:meth:`inbox` with ``last_seq`` (the newest message's number: the next read's ``after``),
        ``generation`` (changes on reset, when numbering starts again) and the inbox's ``bound``
        (``kept``, ``cap``, ``dropped``), all read at one instant."""
        with self._lock:
            return {
                "messages": self.inbox(target, after, limit),
                "last_seq": self._sequence,
                "generation": self._generation,
                "bound": self._deliveries.describe(),
            }

    def clear_inbox(self, target: str | None = None) -> int:
        """Empty every inbox, or one; return how many messages were dropped."""
        with self._lock:
            kept = [d for d in self._deliveries if target is not None and d.target != target]
            dropped = len(self._deliveries) - len(kept)
            self._deliveries[:] = kept
            return dropped

    def latency_seconds(self) -> float:
        """The injected latency the HTTP layer must wait before answering a send."""
        with self._lock:
            return self._faults.latency_ms / 1000

    def _inbox_by_target(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for delivery in self._deliveries:
            grouped.setdefault(delivery.target, []).append(delivery.to_dict())
        return grouped

    def _counter_snapshot(self) -> dict[str, Any]:
        errors = {k.removeprefix("error:"): v for k, v in sorted(self._counters.items()) if k.startswith("error:")}
        return {
            "sent": self._counters["sent"],
            "validate_only": self._counters["validate_only"],
            "errors": errors,
            "calls": len(self.calls),
        }
