"""Every frame of ``/ws``, server→client and client→server, as pydantic models.

Each model's ``type`` literal is its discriminator; its docstring's first line
says when it is sent and to whom (the frame table in ``docs/contract.md`` is
generated from it).  Frames are strict: a field the model does not declare is
an error both ways, so the backend cannot send more than the catalogue says
and a client's typo is refused instead of ignored (as for HTTP bodies).

Validators are built on a model's first use (``defer_build``), not at import:
a CLI run that sends a handful of frame types builds those, not the catalogue.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from halo_sim.contract.fields import Clean, Id, Label
from halo_sim.domain.delivery import Channel
from halo_sim.domain.pairing import Mode

Role = Literal["customer", "mitra"]
SessionId = Annotated[str, Field(min_length=1, description="The chat_session the frame is about.")]
SessionRef = Annotated[Id, Field(description="The chat_session the command is about.")]


EndReason = Literal["time_over", "ended_by_customer", "ended_by_mitra"]
WithdrawReason = Literal["pairing_failed", "mitra_offline", "mitra_busy"]
FailCause = Literal["timeout", "all_rejected", "mitra_offline", "mitra_busy"]


class Frame(BaseModel):
    """A JSON object with a ``type``; undeclared fields are errors."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    direction: ClassVar[str]
    type: str = Field(description="What the frame is; each model narrows it to its own literal.")


class ServerFrame(Frame):
    """Sent by the backend over a user's open socket(s)."""

    direction: ClassVar[str] = "server→client"


class ClientFrame(Frame):
    """Sent by an app over its socket: a small command; JSON types as sent, strings a Postgres text column takes."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    direction: ClassVar[str] = "client→server"


# --- nested objects --------------------------------------------------------------------------------


class Party(BaseModel):
    """The other participant of a match, as the app shows it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    id: str = Field(description="The user's id.")
    display_name: str | None = Field(description="The name the app shows (null when the user has none).")


class ChatMessageRow(BaseModel):
    """One stored chat message (the ``chat_messages`` row)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    id: str = Field(description="The message's id.")
    session_id: str = Field(description="The chat_session it belongs to.")
    seq: int = Field(description="1, 2, … within the session: what a reconnecting app resumes after.")
    sender_role: Role = Field(description="Who wrote it.")
    sender_id: str = Field(description="The writer's id.")
    text: str = Field(description="The message text.")
    created_at: float = Field(description="Epoch seconds on the backend's clock.")
    delivered_via: Channel | None = Field(description="How it reached the recipient; null while being delivered.")


# --- server → client: replies to client frames ---------------------------------------------------------


class Connected(ServerFrame):
    """To the opener of a socket, once it is registered: from now on frames reach this app by WS."""

    type: Literal["connected"] = "connected"
    role: Role = Field(description="The authenticated caller's role.")
    id: str = Field(description="The authenticated caller's id.")


class Pong(ServerFrame):
    """To the sender of a ``ping``."""

    type: Literal["pong"] = "pong"


class HeartbeatAck(ServerFrame):
    """To the sender of a ``heartbeat``, after its presence was refreshed."""

    type: Literal["heartbeat_ack"] = "heartbeat_ack"


class MessageAck(ServerFrame):
    """To the sender of a ``chat_message``, once the message is stored and delivered."""

    type: Literal["message_ack"] = "message_ack"
    client_id: str | None = Field(description="The client_id the app sent, echoed (null when it sent none).")
    message: ChatMessageRow = Field(description="The stored message.")
    delivered_via: Channel = Field(description="How the recipient was reached: ws, fcm or none.")
    push_errors: list[str] | None = Field(
        default=None, description="FCM error codes of refused pushes; absent when there were none."
    )


class OfferRejected(ServerFrame):
    """To the mitra that sent ``reject_offer``, once its decline is recorded."""

    type: Literal["offer_rejected"] = "offer_rejected"
    session_id: SessionId


class ErrorFrame(ServerFrame):
    """To the sender of a client frame the backend refused (the HTTP error body, on the socket)."""

    type: Literal["error"] = "error"
    request_type: Any = Field(description="The ``type`` of the refused client frame, as sent (null when absent).")
    error: str = Field(description="The refusal code (see the refusal-code table).")
    message: str = Field(description="What went wrong, for people.")
    problems: list[str] | None = Field(default=None, description="VALIDATION_ERROR: each field that is wrong.")
    state: str | None = Field(default=None, description="ILLEGAL_TRANSITION: the state the machine was in.")
    event: str | None = Field(default=None, description="ILLEGAL_TRANSITION: the event it was asked for.")
    sqlstate: str | None = Field(default=None, description="Store violations: the Postgres SQLSTATE.")
    table: str | None = Field(default=None, description="Store violations: the table written.")
    column: str | None = Field(default=None, description="Store violations: the offending column.")
    referenced_by: str | None = Field(default=None, description="FOREIGN_KEY_VIOLATION on delete: the child table.")


# --- server → client: pairing -----------------------------------------------------------------------


class PairingSearching(ServerFrame):
    """To the customer, when a pairing attempt of a confirmed payment starts (every attempt)."""

    type: Literal["pairing_searching"] = "pairing_searching"
    session_id: SessionId
    mode: Mode = Field(description="blast (every eligible mitra) or targeted (the chosen bestie).")
    payment_request_id: str = Field(description="The payment being paired.")
    status: Literal["searching"] = Field(description="The attempt's status: it has just started.")
    expires_in_s: float = Field(description="Seconds until the attempt times out.")
    attempt: int = Field(description="1 for the first attempt of this payment, 2 for the retry, …")


class PairingOffer(ServerFrame):
    """To each mitra offered the attempt (WS if its app is open, else FCM data): someone wants to chat."""

    type: Literal["pairing_offer"] = "pairing_offer"
    session_id: SessionId
    mode: Mode = Field(description="blast or targeted (only the chosen bestie is offered).")
    customer_name: str = Field(description="The customer's display name, or 'Customer'.")
    duration_minutes: int = Field(description="The paid chat length.")
    topic_sensitivity: str | None = Field(description="The payment's topic sensitivity, if the customer gave one.")
    expires_in_s: float = Field(description="Seconds until the attempt times out.")


class PairingMatched(ServerFrame):
    """To the customer, when a mitra accepted: the chat is active."""

    type: Literal["pairing_matched"] = "pairing_matched"
    session_id: SessionId
    duration_minutes: int = Field(description="The session's length.")
    mitra: Party = Field(description="The mitra who accepted.")
    ends_at: float | None = Field(description="When the session ends (epoch seconds).")
    mode: Mode = Field(description="blast or targeted.")


class OfferAccepted(ServerFrame):
    """To the mitra whose accept won: the chat is active."""

    type: Literal["offer_accepted"] = "offer_accepted"
    session_id: SessionId
    customer: Party = Field(description="The customer of the session.")


class OfferTaken(ServerFrame):
    """To every other mitra offered the attempt, when one mitra's accept won."""

    type: Literal["offer_taken"] = "offer_taken"
    session_id: SessionId


class PairingFailed(ServerFrame):
    """To the customer, when an attempt ends without a match (timeout, everyone declined, bestie offline)."""

    type: Literal["pairing_failed"] = "pairing_failed"
    session_id: SessionId
    payment_request_id: str = Field(description="The payment that was being paired.")
    reason: Literal["PAIRING_FAILED", "RETURNING_CHAT_TIMEOUT"] = Field(
        description="What the app shows: PAIRING_FAILED (blast) or RETURNING_CHAT_TIMEOUT (targeted)."
    )
    cause: FailCause = Field(
        description="Why: timeout, all_rejected, or (a targeted wait, at once) mitra_offline / mitra_busy."
    )
    mode: Mode = Field(description="The failed attempt's mode.")
    is_terminal: bool = Field(description="True when the payment can no longer be re-paired.")
    attempt: int = Field(description="The failed attempt's number.")
    max_attempts: int = Field(description="HALO_MAX_PAIRING_ATTEMPTS.")


class OfferWithdrawn(ServerFrame):
    """To a mitra whose offer is gone: the attempt failed, or the mitra went offline or became busy.

    An offer withdrawn from an offline or busy mitra comes back as a new ``pairing_offer``
    once the mitra is available again and the attempt is still searching.
    """

    type: Literal["offer_withdrawn"] = "offer_withdrawn"
    session_id: SessionId
    reason: WithdrawReason = Field(
        description="why: the attempt failed, the mitra went offline, or it won another session"
    )


# --- server → client: the active session ----------------------------------------------------------------


class ChatMessageFrame(ServerFrame):
    """To the other participant of an active session, when a message was written (WS if open, else FCM)."""

    type: Literal["chat_message"] = "chat_message"
    session_id: SessionId
    message: ChatMessageRow = Field(description="The stored message.")


class SessionTick(ServerFrame):
    """To both participants, every second of an active session."""

    type: Literal["session_tick"] = "session_tick"
    session_id: SessionId
    remaining_seconds: int = Field(description="Whole seconds left.")


class SessionWarning(ServerFrame):
    """To both participants, once, when HALO_SESSION_WARNING_S seconds are left."""

    type: Literal["session_warning"] = "session_warning"
    session_id: SessionId
    remaining_seconds: int = Field(description="Whole seconds left (HALO_SESSION_WARNING_S).")


class SessionEnded(ServerFrame):
    """To both participants, when the session ends (time over, or a participant's goodbye)."""

    type: Literal["session_ended"] = "session_ended"
    session_id: SessionId
    reason: EndReason = Field(description="Why it ended.")


# --- client → server ---------------------------------------------------------------------------------------


class PingCommand(ClientFrame):
    """Any app, to check the socket; answered with ``pong``."""

    type: Literal["ping"] = "ping"


class HeartbeatCommand(ClientFrame):
    """A mitra's app, to stay online (same as POST /api/mitra/heartbeat); answered with ``heartbeat_ack``."""

    type: Literal["heartbeat"] = "heartbeat"


class ChatMessageCommand(ClientFrame):
    """A participant of an active session writes; answered with ``message_ack`` (or ``error``)."""

    type: Literal["chat_message"] = "chat_message"
    session_id: SessionRef
    text: Annotated[str, Field(min_length=1, max_length=4000), Clean] = Field(
        description="The message (1–4000 characters)."
    )
    client_id: Label | None = Field(default=None, description="The app's own id for the message, echoed in the ack.")


class AcceptOfferCommand(ClientFrame):
    """A mitra accepts an offer; the winner gets ``offer_accepted``, a refusal comes back as ``error``."""

    type: Literal["accept_offer"] = "accept_offer"
    session_id: SessionRef


class RejectOfferCommand(ClientFrame):
    """A mitra declines an offer; answered with ``offer_rejected`` (or ``error``)."""

    type: Literal["reject_offer"] = "reject_offer"
    session_id: SessionRef


# --- registries: the unions are the lists (a frame is declared by adding its model there) ---------------


def type_of(model: type[Frame]) -> str:
    """The ``type`` literal of a frame model."""
    return str(model.model_fields["type"].default)


AnyClientFrame = Annotated[
    PingCommand | HeartbeatCommand | ChatMessageCommand | AcceptOfferCommand | RejectOfferCommand,
    Field(discriminator="type"),
]
AnyServerFrame = Annotated[
    Connected
    | Pong
    | HeartbeatAck
    | MessageAck
    | OfferRejected
    | ErrorFrame
    | PairingSearching
    | PairingOffer
    | PairingMatched
    | OfferAccepted
    | OfferTaken
    | PairingFailed
    | OfferWithdrawn
    | ChatMessageFrame
    | SessionTick
    | SessionWarning
    | SessionEnded,
    Field(discriminator="type"),
]


@cache
def _client_adapter() -> TypeAdapter[AnyClientFrame]:
    """Built on first parse, not at import: a process that never parses a frame never pays for the union."""
    return TypeAdapter(AnyClientFrame)


@cache
def _server_adapter() -> TypeAdapter[AnyServerFrame]:
    """Built on first parse (the contract tests' check of the backend's frames)."""
    return TypeAdapter(AnyServerFrame)


def _members(union: Any) -> tuple[Any, ...]:
    """The models of an ``Annotated[A | B | …, discriminator]``, in declaration order."""
    return get_args(get_args(union)[0])


SERVER_FRAMES: dict[str, type[ServerFrame]] = {type_of(m): m for m in _members(AnyServerFrame)}
CLIENT_FRAMES: dict[str, type[ClientFrame]] = {type_of(m): m for m in _members(AnyClientFrame)}


def build(frame: ServerFrame) -> dict[str, Any]:
    """The JSON object a server frame goes out as: ``type`` first, optional fields never set left out.

    The backend builds every frame it sends through its model, so a frame can only carry the
    fields the catalogue declares, with their types (validated when the model is made).
    """
    return {"type": frame.type, **frame.model_dump(mode="json", exclude_unset=True, exclude={"type"})}


def parse_client_frame(raw: Any) -> ClientFrame:
    """One client frame, or :class:`pydantic.ValidationError` naming every problem (unknown type included)."""
    frame: ClientFrame = _client_adapter().validate_python(raw)
    return frame


def parse_server_frame(raw: Any) -> ServerFrame:
    """One server frame, or :class:`pydantic.ValidationError` (what the contract tests check the backend with)."""
    frame: ServerFrame = _server_adapter().validate_python(raw)
    return frame
