"""Subset matching of results and the readable difference."""

from __future__ import annotations

import pytest

from halo_sim.scenario.expect import diff, extract, matches
from simkit.errors import ScenarioError


def test_subset_of_a_mapping_matches() -> None:
    assert diff({"body": {"a": 1}}, {"status": 200, "body": {"a": 1, "b": 2}}) == []


def test_mismatch_reads_as_path_expected_and_got() -> None:
    assert diff({"body": {"delivered_via": "ws"}}, {"body": {"delivered_via": "fcm"}}) == [
        "body.delivered_via: expected 'ws', got 'fcm'"
    ]


def test_missing_key_is_reported_as_missing() -> None:
    assert diff({"a": {"b": 1}}, {"a": {}}) == ["a.b: missing (expected 1)"]


def test_lists_must_have_the_same_length_and_match_item_by_item() -> None:
    assert diff({"m": [{"seq": 1}]}, {"m": [{"seq": 1, "x": 0}]}) == []
    assert diff({"m": [{"seq": 1}]}, {"m": []})[0].startswith("m: expected 1 item(s)")
    assert diff({"m": [{"seq": 1}]}, {"m": [{"seq": 2}]}) == ["m.0.seq: expected 1, got 2"]


def test_where_matches_only_the_items_containing_it_so_other_runs_rows_do_not_count() -> None:
    rows = [{"customer_id": "other", "n": 1}, {"customer_id": "me", "n": 2}, {"customer_id": "other", "n": 3}]
    mine = {"$where": {"customer_id": "me"}, "$items": [{"n": 2}]}
    assert diff({"t": mine}, {"t": rows}) == []
    assert diff({"t": {"$where": {"customer_id": "me"}, "$items": []}}, {"t": rows}) == [
        "t[$where]: expected 0 item(s) [], got [{'customer_id': 'me', 'n': 2}]"
    ]
    assert diff({"t": {"$where": {"customer_id": "nobody"}, "$items": []}}, {"t": rows}) == []


def test_where_without_items_or_on_a_mapping_is_a_readable_mismatch() -> None:
    assert diff({"t": {"$where": {"a": 1}}}, {"t": []}) == [
        "t: $where and $items go together ({$where: {...}, $items: [...]})"
    ]
    assert diff({"t": {"$where": {"a": 1}, "$items": []}}, {"t": {"a": 1}}) == [
        "t: $where filters a list, got {'a': 1}"
    ]


def test_int_and_float_compare_by_value_but_bool_is_not_a_number() -> None:
    assert diff({"a": 1}, {"a": 1.0}) == []
    assert diff({"a": True}, {"a": 1}) == ["a: expected True, got 1"]


def test_matches_none_accepts_anything() -> None:
    assert matches(None, {"anything": 1})


def test_extract_follows_dotted_paths_and_indexes() -> None:
    assert extract({"body": {"messages": [{"id": "m1"}]}}, "body.messages.0.id") == "m1"
    with pytest.raises(ScenarioError):
        extract({"body": {}}, "body.id")
