"""Asking a server again until it says yes: the one polling loop of the step plugins.

Push inboxes, callback logs and the server's socket list are state behind HTTP,
with no event to wait on; a step asks every ``interval`` until the answer is
what it waits for or ``timeout`` passes, and gets the last answer either way
(so a failure can show what was there instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
INTERVAL_S = 0.01


async def poll(
    ask: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float, interval: float = INTERVAL_S
) -> tuple[bool, T]:
    """``(True, answer)`` as soon as ``done(answer)``, else ``(False, last answer)`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await ask()
        if done(answer):
            return True, answer
        if loop.time() >= deadline:
            return False, answer
        await asyncio.sleep(interval)
