"""BoundedLog keeps the newest entries of a long-running server's logs."""

from __future__ import annotations

from simkit.bounded import BoundedLog


def test_it_keeps_the_newest_cap_entries_and_counts_the_dropped() -> None:
    log: BoundedLog[int] = BoundedLog(3)
    for i in range(10):
        log.append(i)
    assert log.newest() == [7, 8, 9]
    assert log.describe() == {"kept": 3, "cap": 3, "dropped": 7}


def test_it_is_still_a_list_for_the_code_and_tests_that_compare_it() -> None:
    log: BoundedLog[str] = BoundedLog(5)
    assert log == []
    log.append("a")
    assert log == ["a"] and log[-1] == "a"


def test_memory_stays_bounded_by_twice_the_cap() -> None:
    log: BoundedLog[int] = BoundedLog(100)
    for i in range(100_000):
        log.append(i)
        assert len(log) < 200


def test_a_reader_asks_for_what_came_after_the_total_it_saw() -> None:
    log: BoundedLog[int] = BoundedLog(3)
    for i in range(5):
        log.append(i)
    seen = log.total
    assert seen == 5
    for i in range(5, 9):
        log.append(i)
    assert log.after(seen, 10) == [6, 7, 8]  # 5 was dropped by the bound: only the kept news
    assert log.after(7, 10) == [7, 8]
    assert log.after(seen, 1) == [8]
    assert log.after(log.total, 10) == []
