"""The event bus: subscribers in order, every event in the history, a failing handler recorded, not fatal."""

from __future__ import annotations

import asyncio
from typing import Any

from halo_sim.backend.events import EventBus


def test_handlers_run_in_subscription_order_with_the_payload() -> None:
    bus = EventBus()
    seen: list[tuple[str, Any]] = []

    async def first(payload: dict[str, Any]) -> None:
        seen.append(("first", payload["id"]))

    async def second(payload: dict[str, Any]) -> None:
        seen.append(("second", payload["id"]))

    bus.subscribe("payment_request.confirmed", first)
    bus.subscribe("payment_request.confirmed", second)
    bus.subscribe("other", second)
    asyncio.run(bus.emit("payment_request.confirmed", {"id": "p1"}))
    assert seen == [("first", "p1"), ("second", "p1")]
    assert bus.history == [{"event": "payment_request.confirmed", "id": "p1"}]


def test_a_failing_handler_is_recorded_and_does_not_stop_the_others_or_the_emitter() -> None:
    """Like an async listener in Node: the error shows in the state dump, the emit goes on."""
    bus = EventBus()
    reached: list[str] = []

    async def broken(payload: dict[str, Any]) -> None:
        raise ValueError("no such session")

    async def after(payload: dict[str, Any]) -> None:
        reached.append(payload["id"])

    bus.subscribe("chat_session.ended", broken)
    bus.subscribe("chat_session.ended", after)
    asyncio.run(bus.emit("chat_session.ended", {"id": "s1"}))
    assert reached == ["s1"]
    assert bus.errors == ["chat_session.ended: ValueError('no such session')"]


def test_an_event_without_subscribers_is_still_in_the_history() -> None:
    bus = EventBus()
    asyncio.run(bus.emit("payment_request.expired", {"payment_request_id": "p2"}))
    assert bus.history == [{"event": "payment_request.expired", "payment_request_id": "p2"}]
    assert bus.errors == []
