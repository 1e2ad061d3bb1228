"""What a tick of the control center reads from the fakes: only what is new since the last read (from a
cursor), never the fakes' whole history; each push and callback enters the timeline once; a reset fake
starts the page's windows again; and the page says what the fakes dropped."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from halo_sim.control.fakes import Window
from halo_sim.stack import Stack

if TYPE_CHECKING:
    from conftest import World


def push(stack: Stack, token: str, title: str) -> None:
    message = {"message": {"token": token, "notification": {"title": title}}}
    url = stack.urls()["fake_fcm"] + "/v1/projects/halo/messages:send"
    httpx.post(url, json=message, headers={"Authorization": "Bearer x"}, trust_env=False).raise_for_status()


def test_each_push_enters_the_timeline_once_however_many_ticks_read_it(world: World, stack: Stack) -> None:
    world.snapshot()
    push(stack, "reading-token-0123456789", "sekali saja")
    for _ in range(3):
        timeline = world.snapshot()["timeline"]
    assert [e["kind"] for e in timeline if "sekali saja" in e["text"]] == ["push"]


def test_a_reset_fake_starts_the_pages_inbox_again(world: World, stack: Stack) -> None:
    for n in range(3):
        push(stack, f"before-reset-token-{n:04d}", "lama")
    assert len(world.snapshot()["inbox"]) == 3
    httpx.post(stack.urls()["fake_fcm"] + "/_fake/reset", trust_env=False).raise_for_status()
    for n in range(5):  # numbering starts again and passes the page's old cursor: the generation tells
        push(stack, f"after-reset-token-{n:04d}", "baru")
    assert [row["token"][:10] for row in world.snapshot()["inbox"]] == ["after-rese"] * 5


def test_the_page_says_what_the_fakes_dropped(world: World, stack: Stack) -> None:
    stack.fcm._deliveries.dropped = 1234  # as if the inbox had overflowed its cap
    push(stack, "dropped-token-0123456789", "x")
    snap = world.snapshot()
    assert snap["bounds"]["inbox"]["dropped"] == 1234
    assert "dropped 1234 older" in world.api.get("/control").text


# --- the window: a cursor over one fake's log ------------------------------------------------------------


class Log:
    """A fake's log as the window reads it: entries numbered from 1, a generation, and the reads asked."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.generation = 0
        self.asked: list[int] = []

    def add(self, count: int) -> None:
        start = len(self.entries)
        self.entries += [{"n": start + i + 1} for i in range(count)]

    async def fetch(self, after: int, limit: int = 5) -> tuple[object, int, list[tuple[int, dict[str, Any]]]]:
        self.asked.append(after)
        newer = [(e["n"], e) for e in self.entries if e["n"] > after][-limit:]
        return self.generation, len(self.entries), newer


def follow(window: Window, log: Log) -> list[int]:
    return [e["n"] for e in asyncio.run(window.follow(log.fetch))]


def test_a_window_asks_only_for_what_is_new_and_keeps_the_newest() -> None:
    window, log = Window(5), Log()
    log.add(100)
    assert follow(window, log) == [96, 97, 98, 99, 100]  # a long history: only the newest come back
    log.add(2)
    assert follow(window, log) == [101, 102]
    assert follow(window, log) == []
    assert log.asked == [0, 100, 102]  # each read starts where the last one ended
    assert [e["n"] for e in window.entries] == [98, 99, 100, 101, 102]


def test_a_window_starts_again_on_a_new_generation_or_a_cursor_that_ran_back() -> None:
    window, log = Window(5), Log()
    log.add(3)
    follow(window, log)
    log.entries, log.generation = [], 1
    log.add(4)
    assert follow(window, log) == [1, 2, 3, 4]
    log.entries = []
    log.add(1)  # same generation, fewer entries than the cursor: also a new life
    assert follow(window, log) == [1]
    assert [e["n"] for e in window.entries] == [1]


def test_two_reads_at_once_never_take_an_entry_twice() -> None:
    window, log = Window(10), Log()
    log.add(3)

    async def both() -> list[list[dict[str, Any]]]:
        return list(await asyncio.gather(window.follow(log.fetch), window.follow(log.fetch)))

    first, second = asyncio.run(both())
    assert len(first) + len(second) == 3 and len(window.entries) == 3


@pytest.mark.parametrize("size", [1, 50])
def test_a_window_never_holds_more_than_its_size(size: int) -> None:
    window, log = Window(size), Log()
    for _ in range(20):
        log.add(7)
        follow(window, log)
    assert len(window.entries) == size
