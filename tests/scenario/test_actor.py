"""Frame consumption by an actor's waits: only the matched frame is taken, in any order of awaiting."""

from __future__ import annotations

import asyncio
from typing import Any

from halo_sim.scenario.actor import Actor, Pattern, assign
from halo_sim.scenario.schema import ActorSpec


def _actor(*frames: dict[str, Any]) -> Actor:
    actor = Actor("mitra", ActorSpec(role="mitra"), "+628100", "Rani", "tok")
    for frame in frames:
        actor.receive(frame)
    return actor


OFFER = {"type": "pairing_offer", "session_id": "s1"}
WITHDRAWN = {"type": "offer_withdrawn", "session_id": "s2", "reason": "mitra_busy"}
ACCEPTED = {"type": "offer_accepted", "session_id": "s1"}


def test_a_wait_consumes_only_the_frame_it_matched_so_an_earlier_one_is_still_there() -> None:
    actor = _actor(OFFER, WITHDRAWN)

    async def later_first() -> tuple[Any, Any]:
        return await actor.wait_frame("offer_withdrawn", None, 0), await actor.wait_frame("pairing_offer", None, 0)

    assert asyncio.run(later_first()) == (WITHDRAWN, OFFER)
    assert actor.consumed == {0, 1} and actor.unconsumed() == []


def test_a_consumed_frame_is_not_matched_twice() -> None:
    actor = _actor(OFFER)

    async def twice() -> tuple[Any, Any]:
        return await actor.wait_frame("pairing_offer", None, 0), await actor.wait_frame("pairing_offer", None, 0.01)

    assert asyncio.run(twice()) == (OFFER, None)


def test_a_wait_takes_the_oldest_matching_frame() -> None:
    second = {**OFFER, "session_id": "s9"}
    actor = _actor(OFFER, second)
    assert asyncio.run(actor.wait_frame("pairing_offer", None, 0)) is OFFER
    assert actor.unconsumed() == [second]


def test_a_wait_is_woken_by_a_frame_arriving_later() -> None:
    actor = _actor()

    async def arrive_then_wait() -> Any:
        asyncio.get_running_loop().call_later(0.01, actor.receive, OFFER)
        return await actor.wait_frame("pairing_offer", {"session_id": "s1"}, 5)

    assert asyncio.run(arrive_then_wait()) == OFFER
    assert len(actor.arrived_at) == 1


def test_any_order_gives_the_frames_in_the_order_of_the_patterns_and_consumes_them() -> None:
    actor = _actor(ACCEPTED, {"type": "session_tick"}, WITHDRAWN)
    patterns = [Pattern("offer_withdrawn", {"reason": "mitra_busy"}), Pattern("offer_accepted")]
    assert asyncio.run(actor.wait_any_order(patterns, 0)) == [WITHDRAWN, ACCEPTED]
    assert actor.unconsumed() == [{"type": "session_tick"}]


def test_any_order_consumes_nothing_when_one_pattern_has_no_frame() -> None:
    actor = _actor(ACCEPTED)
    assert asyncio.run(actor.wait_any_order([Pattern("offer_accepted"), Pattern("offer_withdrawn")], 0.01)) is None
    assert actor.consumed == set()


def test_a_general_pattern_does_not_steal_the_only_frame_a_specific_one_fits() -> None:
    specific = {"type": "pairing_offer", "session_id": "s2"}
    actor = _actor(specific, OFFER)
    patterns = [Pattern("pairing_offer"), Pattern("pairing_offer", {"session_id": "s2"})]
    assert asyncio.run(actor.wait_any_order(patterns, 0)) == [OFFER, specific]


def test_assign_needs_a_distinct_frame_per_pattern() -> None:
    assert assign([[0], [0]]) is None
    assert assign([[0, 1], [0]]) == [1, 0]
    assert assign([[3, 5], [3, 5]]) == [3, 5]


def test_count_waits_for_that_many_and_takes_none_when_fewer_came() -> None:
    actor = _actor(OFFER)
    assert asyncio.run(actor.wait_count(Pattern("pairing_offer"), 2, 0.01)) == []
    assert actor.consumed == set()
    actor.receive({**OFFER, "session_id": "s2"})
    assert [f["session_id"] for f in asyncio.run(actor.wait_count(Pattern("pairing_offer"), 2, 0))] == ["s1", "s2"]


def test_first_arrival_sees_an_older_unconsumed_frame_but_not_a_consumed_one() -> None:
    actor = _actor(OFFER)
    assert asyncio.run(actor.first_arrival(Pattern("pairing_offer"), 0)) == OFFER
    assert actor.consumed == set()  # looking is not consuming
    asyncio.run(actor.wait_frame("pairing_offer", None, 0))
    assert asyncio.run(actor.first_arrival(Pattern("pairing_offer"), 0.01)) is None
