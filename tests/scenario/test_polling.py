"""The polling helper of the step plugins."""

from __future__ import annotations

import asyncio

from halo_sim.scenario.polling import poll


def test_poll_returns_as_soon_as_the_answer_is_the_awaited_one() -> None:
    answers = iter([1, 2, 3, 4])

    async def ask() -> int:
        return next(answers)

    assert asyncio.run(poll(ask, lambda n: n >= 3, timeout=5, interval=0)) == (True, 3)


def test_poll_gives_up_after_the_timeout_with_the_last_answer() -> None:
    calls = []

    async def ask() -> int:
        calls.append(1)
        return len(calls)

    done, last = asyncio.run(poll(ask, lambda n: False, timeout=0.03, interval=0.01))
    assert done is False and last == len(calls) >= 2
