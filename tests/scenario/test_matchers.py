"""Matchers in ``expect``: each operator passes and fails (with its message), nested use, the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from halo_sim.scenario.expect import diff, matches
from halo_sim.scenario.matchers import MATCHERS, is_matcher, problems_in
from halo_sim.scenario.scaffold import json_schema

ROWS = [{"a": 1}, {"a": 1, "b": 2}]

# (expect, actual that passes, actual that fails, the failure's message)
CASES: list[tuple[str, Any, Any, Any, list[str]]] = [
    ("$exists", {"x": {"$exists": True}}, {"x": None}, {}, ["x: missing (expected present, $exists: true)"]),
    (
        "$exists",
        {"push_errors": {"$exists": False}},
        {},
        {"push_errors": ["x"]},
        ["push_errors: expected absent ($exists: false), got ['x']"],
    ),
    ("$any", {"x": {"$any": True}}, {"x": None}, {}, ["x: missing (expected $any True)"]),
    ("$ne", {"x": {"$ne": "expired"}}, {"x": "paid"}, {"x": "expired"}, ["x: $ne 'expired' failed: got 'expired'"]),
    ("$gt", {"count": {"$gt": 3}}, {"count": 4}, {"count": 3}, ["count: $gt 3 failed: got 3"]),
    ("$gte", {"count": {"$gte": 3}}, {"count": 3}, {"count": 2.5}, ["count: $gte 3 failed: got 2.5"]),
    ("$lt", {"count": {"$lt": 3}}, {"count": 2}, {"count": 3}, ["count: $lt 3 failed: got 3"]),
    ("$lte", {"count": {"$lte": 3}}, {"count": 3}, {"count": 4}, ["count: $lte 3 failed: got 4"]),
    (
        "$matches",
        {"id": {"$matches": "^pr_[0-9]+$"}},
        {"id": "pr_12"},
        {"id": "pr_x"},
        ["id: $matches '^pr_[0-9]+$' failed: got 'pr_x'"],
    ),
    (
        "$startswith",
        {"url": {"$startswith": "https://"}},
        {"url": "https://x"},
        {"url": "http://x"},
        ["url: $startswith 'https://' failed: got 'http://x'"],
    ),
    ("$type", {"n": {"$type": "int"}}, {"n": 3}, {"n": True}, ["n: $type 'int' failed: got True (a bool)"]),
    (
        "$in",
        {"s": {"$in": ["paid", "settled"]}},
        {"s": "settled"},
        {"s": "expired"},
        ["s: $in ['paid', 'settled'] failed: got 'expired'"],
    ),
    ("$len", {"m": {"$len": 2}}, {"m": [1, 2]}, {"m": [1]}, ["m: $len 2 failed: got [1] (length 1)"]),
    (
        "$len",
        {"m": {"$len": {"$gte": 2}}},
        {"m": "ab"},
        {"m": {"k": 1}},
        ["m: $len {'$gte': 2} failed: got {'k': 1} (length 1)"],
    ),
    (
        "$contains",
        {"t": {"$contains": [{"k": 2}, 1]}},
        {"t": [1, {"k": 2, "z": 0}, 3]},
        {"t": [1, {"k": 3}]},
        ["t: $contains failed: no (distinct) item for [{'k': 2}] in [1, {'k': 3}]"],
    ),
    (
        "$contains",
        {"s": {"$contains": "lo k"}},
        {"s": "Halo kak"},
        {"s": "Halo"},
        ["s: $contains 'lo k' failed: got 'Halo'"],
    ),
    (
        "$contains_only",
        {"t": {"$contains_only": [{"a": 1, "b": 2}, {"a": 1}]}},
        {"t": ROWS},
        {"t": [*ROWS, {"a": 1}]},
        ["t: $contains_only failed: 1 item(s) left over in [{'a': 1}, {'a': 1, 'b': 2}, {'a': 1}]"],
    ),
    (
        "$each",
        {"m": {"$each": {"role": "mitra"}}},
        {"m": [{"role": "mitra", "n": 1}, {"role": "mitra"}]},
        {"m": [{"role": "mitra"}, {"role": "customer"}]},
        ["m.1.role: expected 'mitra', got 'customer' ($each)"],
    ),
    ("$not", {"x": {"$not": {"$gt": 3}}}, {"x": 3}, {"x": 4}, ["x: $not {'$gt': 3} failed: got 4 (it matches)"]),
    (
        "$where",
        {"t": {"$where": {"c": "me"}, "$items": {"$len": 1}}},
        {"t": [{"c": "me"}, {"c": "other"}]},
        {"t": [{"c": "me"}, {"c": "me"}]},
        ["t[$where]: $len 1 failed: got [{'c': 'me'}, {'c': 'me'}] (length 2)"],
    ),
]


@pytest.mark.parametrize(("name", "expect", "good", "bad", "message"), CASES, ids=[c[0] for c in CASES])
def test_each_operator_passes_and_fails_with_a_message_naming_it(
    name: str, expect: Any, good: Any, bad: Any, message: list[str]
) -> None:
    assert diff(expect, good) == []
    assert diff(expect, bad) == message


def test_every_registered_operator_has_a_case_so_none_can_always_pass() -> None:
    assert set(MATCHERS) - {"$items"} == {c[0] for c in CASES}


def test_contains_only_assigns_items_one_to_one_not_greedily() -> None:
    """The first pattern {a: 1} would greedily take {a: 1, b: 2}, leaving {a: 1, b: 2} without an item."""
    assert diff({"$contains_only": [{"a": 1}, {"a": 1, "b": 2}]}, [{"a": 1, "b": 2}, {"a": 1}]) == []
    assert diff({"$contains": [{"a": 1}, {"a": 1, "b": 2}]}, [{"a": 1, "b": 2}, {"a": 1}]) == []
    assert diff({"$contains": [{"a": 1}, {"a": 1}]}, [{"a": 1}]) != []  # each item counts once
    assert diff({"$contains_only": [1, 2]}, [2]) == [
        "value: $contains_only failed: no item for [1]; 0 item(s) left over in [2]"
    ]


def test_several_operators_must_all_hold() -> None:
    spec = {"$type": "string", "$len": 3, "$startswith": "a"}
    assert diff(spec, "abc") == []
    assert diff({"x": spec}, {"x": "abcd"}) == ["x: $len 3 failed: got 'abcd' (length 4)"]
    assert diff({"x": spec}, {"x": "bcd"}) == ["x: $startswith 'a' failed: got 'bcd'"]


def test_comparisons_take_zone_aware_date_times_as_instants_and_other_strings_as_text() -> None:
    earlier, later = "2026-01-01T00:00:00+07:00", "2025-12-31T18:00:00Z"  # 17:00Z and 18:00Z
    assert diff({"$gt": earlier}, later) == [] and diff({"$lt": earlier}, later) != []
    assert diff({"$gt": "b"}, "a") == ["value: $gt 'b' failed: got 'a'"]  # as text: "a" < "b"
    yaml_instant = yaml.safe_load("t: 2026-01-01T00:00:00Z")["t"]  # YAML makes an unquoted one a datetime
    assert diff({"$gte": yaml_instant}, "2026-01-01T07:00:00+07:00") == []
    assert diff({"$gt": 3}, "4") == ["value: $gt 3 failed: got '4' (a string, which does not compare with an int)"]
    assert diff({"$gt": 3}, True) != []  # a bool is not a number
    naive = diff({"$lt": later}, "2026-01-01T00:00:00")
    assert naive[0].endswith(
        "(a string, which does not compare with a date-time; date-times compare only with "
        "date-times that have a zone (Z, +07:00))"
    )


def test_matches_on_a_non_string_fails_with_its_type() -> None:
    assert diff({"$matches": "1"}, 1) == ["value: $matches '1' failed: got 1 (an int, not a string)"]
    assert diff({"$matches": "b"}, "abc") == []  # re.search, not a whole match


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("string", "x", 1),
        ("int", 1, 1.5),
        ("number", 1.5, "1"),
        ("bool", False, 0),
        ("null", None, 0),
        ("list", [], {}),
        ("mapping", {}, []),
        ("datetime", "2026-12-01T10:20:35.5+00:00", "2026-12-01"),
        ("uuid", "0b5c6a9e-3f1e-4c4e-9d7a-2b1f0c9e8d7a", "0b5c6a9e3f1e4c4e9d7a2b1f0c9e8d7a"),
    ],
)
def test_type_names(kind: str, good: Any, bad: Any) -> None:
    assert diff({"$type": kind}, good) == []
    assert diff({"$type": kind}, bad) != []


def test_exists_false_and_not_are_the_only_operators_that_accept_an_absent_key() -> None:
    assert diff({"x": {"$not": {"$exists": True}}}, {}) == []
    assert diff({"x": {"$ne": 1}}, {}) == ["x: missing (expected $ne 1)"]
    assert diff({"x": {"$exists": False}}, {"x": None}) == ["x: expected absent ($exists: false), got None"]


def test_each_passes_on_an_empty_list_and_fails_on_a_non_list() -> None:
    assert diff({"$each": {"$gt": 0}}, []) == []
    assert diff({"$each": {"$gt": 0}}, {"a": 1}) == [
        "value: $each {'$gt': 0} failed: got {'a': 1} (a mapping, not a list)"
    ]


def test_matchers_nest_inside_frames_lists_and_each_other() -> None:
    frame = {"type": "chat_message", "message": {"text": "Halo kak", "seq": 4, "attachments": []}}
    expect = {"message": {"text": {"$contains": "Halo"}, "seq": {"$gt": 0}, "attachments": {"$len": 0}}}
    assert matches(expect, frame)
    rows = [{"id": "a", "tags": ["x"]}, {"id": "b", "tags": []}]
    assert diff([{"id": {"$in": ["a", "b"]}}, {"tags": {"$not": {"$contains": ["x"]}}}], rows) == []
    assert diff({"$each": {"tags": {"$len": {"$lte": 0}}}}, rows) == [
        "value.0.tags: $len {'$lte': 0} failed: got ['x'] (length 1) ($each)"
    ]


def test_a_malformed_matcher_met_at_run_time_is_a_mismatch_not_a_crash() -> None:
    """Operands rendered from templates are only known at run time."""
    assert diff({"x": {"$len": "3"}}, {"x": "abc"}) == ["x: $len needs a non-negative integer or a matcher, got '3'"]
    assert diff({"x": {"$matches": "("}}, {"x": "("}) == ["x: $matches needs a regular expression, got '('"]
    assert diff({"x": {"$gt": 1, "y": 2}}, {"x": 2})[0].startswith("x: mixes matcher keys ($gt) with plain keys (y)")


# --- validation before a run ---------------------------------------------------------------------


def test_problems_name_the_path_of_unknown_operators_mixed_keys_and_bad_operands() -> None:
    expect = {
        "body": {
            "a": {"$gtt": 1},
            "b": [{"$len": -1}],
            "c": {"$matches": "[", "$type": "text"},
            "d": {"$gt": 1, "e": 2},
            "f": {"$each": {"$exists": "yes"}},
            "g": {"$where": {"k": 1}},
        }
    }
    assert problems_in(expect, ("expect",)) == [
        (("expect", "body", "a"), "expect.body.a: unknown matcher $gtt; did you mean $gt or $gte?"),
        (("expect", "body", "b", 0), "expect.body.b.0: $len needs a non-negative integer or a matcher, got -1"),
        (("expect", "body", "c"), "expect.body.c: $matches needs a regular expression, got '['"),
        (("expect", "body", "c"), f"expect.body.c: $type needs {MATCHERS['$type'].operand}, got 'text'"),
        (
            ("expect", "body", "d"),
            "expect.body.d: mixes matcher keys ($gt) with plain keys (e); a matcher has only $ keys",
        ),
        (("expect", "body", "f", "$each"), "expect.body.f.$each: $exists needs true or false, got 'yes'"),
        (("expect", "body", "g"), "expect.body.g: $where and $items go together ({$where: {...}, $items: [...]})"),
    ]


def test_templated_operands_are_judged_at_run_time() -> None:
    assert problems_in({"x": {"$len": "{{ n }}", "$matches": "{{ pattern }}"}}) == []


def test_is_matcher_needs_every_key_to_start_with_a_dollar() -> None:
    assert is_matcher({"$gt": 1}) and not is_matcher({}) and not is_matcher({"$gt": 1, "a": 2})


# --- the registry the docs are generated from, and the JSON Schema -------------------------------


@pytest.mark.parametrize("name", list(MATCHERS))
def test_every_operator_documents_itself_with_an_example_that_validates(name: str) -> None:
    entry = MATCHERS[name]
    assert entry.name == name and entry.doc and entry.operand
    example = yaml.safe_load(entry.example)
    assert name in repr(example) and problems_in(example) == []


def test_the_json_schema_describes_matchers_in_expect() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    assert set(schema["$defs"]["matcher"]["properties"]) == set(MATCHERS)
    validator = jsonschema.Draft202012Validator(schema)

    def errors(expect: Any) -> list[Any]:
        scenario = {"name": "x", "steps": [{"c.get_profile": None, "expect": expect}]}
        return list(validator.iter_errors(scenario))

    assert errors({"body": {"n": {"$gt": 1}, "e": {"$exists": False}, "l": {"$contains": [{"k": {"$len": 1}}]}}}) == []
    assert errors({"body": {"n": {"$gtt": 1}}})
    assert errors({"body": {"n": {"$type": "text"}}})


def test_the_docs_list_every_operator_and_their_example_validates() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text(encoding="utf-8")
    section = text.split("## Matchers", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{name}" in section for name in MATCHERS)
    example = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    assert [p for step in example for p in problems_in(step["expect"])] == []
    assert sum(is_matcher(v) for step in example for v in step["expect"]["body"].values()) >= 2


def test_every_repository_scenario_fits_the_json_schema_with_its_matchers(scenarios_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    for path in sorted(scenarios_dir.glob("*.yaml")):
        found = [f"{list(e.path)}: {e.message[:120]}" for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert found == [], path.name
