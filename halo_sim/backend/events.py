"""The in-process event bus (the Node backend's EventEmitter).

``payment.service`` emits ``payment_request.confirmed`` and the pairing
subscriber starts the blast: the payment code never imports the pairing code.
Handlers run in subscription order; a failing handler is logged and recorded
(visible in the state dump) but does not stop the others or the emitter, as
with an async listener in Node.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from simkit.bounded import BoundedLog

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
#: Events and handler errors kept for the state dump (the newest; a long-running serve stays bounded).
HISTORY_CAP = 1000
ERRORS_CAP = 200


class EventBus:
    """Named events with async subscribers."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.history: BoundedLog[dict[str, Any]] = BoundedLog(HISTORY_CAP)
        self.errors: BoundedLog[str] = BoundedLog(ERRORS_CAP)

    def subscribe(self, event: str, handler: Handler) -> None:
        """Call ``handler(payload)`` on every ``event``."""
        self._handlers[event].append(handler)

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Deliver ``payload`` to every subscriber of ``event``."""
        self.history.append({"event": event, **payload})
        for handler in list(self._handlers[event]):
            try:
                await handler(payload)
            except Exception as exc:  # recorded, never swallowed silently
                log.exception("handler of %s failed", event)
                self.errors.append(f"{event}: {exc!r}")
