"""The chat delivery contract: WS in the foreground, FCM in the background.

The Halo apps close their chat socket when paused and reopen it on resume, so an
open socket *is* the foreground signal.  Without one, a push-capable device
(an FCM token with notifications enabled at OS level) gets an FCM message;
with neither, the message is only stored and fetched when the app resumes.
The message itself is always stored before this decision is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """How a message reached (or did not reach) its recipient: ``delivered_via``."""

    WS = "ws"
    FCM = "fcm"
    NONE = "none"


@dataclass(frozen=True)
class RecipientReach:
    """What the backend knows about how to reach a recipient right now."""

    socket_open: bool
    push_tokens: tuple[str, ...]


def choose_channel(reach: RecipientReach) -> Channel:
    """The channel the delivery contract prescribes for this recipient."""
    if reach.socket_open:
        return Channel.WS
    if reach.push_tokens:
        return Channel.FCM
    return Channel.NONE
