"""Template arithmetic: numbers, ISO times and durations, parsed by a small parser (no eval)."""

from __future__ import annotations

from typing import Any

import pytest

from halo_sim.scenario.expression import TemplateError, parse, paths
from halo_sim.scenario.template import UndefinedVariable, paths_in, render, template_problems

VARS: dict[str, Any] = {
    "attempts": 2,
    "price": 25000,
    "rate": 1.5,
    "payment": {"expires_at": "2026-12-01T10:00:00.000Z", "created": 1764583200.0},
    "local": "2026-12-01 17:00:00+07:00",
    "micro": "2026-12-01T10:00:00.123456+00:00",
    "plain": "2026-12-01T10:00",
    "rows": [{"n": 4}, {"n": 6}],
    "name": "kopi",
}


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ attempts + 1 }}", 3),
        ("{{ attempts - 5 }}", -3),
        ("{{ price * 2 }}", 50000),
        ("{{ attempts * rate }}", 3.0),
        ("{{ 1 + 2 * 3 }}", 7),
        ("{{ (1 + 2) * 3 }}", 9),
        ("{{ -attempts + 10 }}", 8),
        ("{{ rows.1.n - rows.0.n }}", 2),
        ("{{ 15m }}", 900),
        ("{{ 1d - 2h }}", 79200),
        ("{{ 30s * 3 }}", 90),
    ],
)
def test_numbers_and_durations(template: str, value: Any) -> None:
    result = render(template, VARS)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ payment.expires_at + 15m }}", "2026-12-01T10:15:00.000Z"),
        ("{{ payment.expires_at - 1d }}", "2026-11-30T10:00:00.000Z"),
        ("{{ 2h + payment.expires_at }}", "2026-12-01T12:00:00.000Z"),
        ("{{ payment.expires_at + -30s }}", "2026-12-01T09:59:30.000Z"),
        ("{{ local + 90s }}", "2026-12-01 17:01:30+07:00"),
        ("{{ micro + 1s }}", "2026-12-01T10:00:01.123456+00:00"),
        ("{{ plain + 1h }}", "2026-12-01T11:00"),
    ],
)
def test_an_iso_time_plus_a_duration_keeps_its_format_and_zone(template: str, value: str) -> None:
    assert render(template, VARS) == value


def test_times_subtract_to_seconds_and_epoch_numbers_take_durations() -> None:
    assert render("{{ payment.expires_at + 15m - payment.expires_at }}", VARS) == 900
    assert render("{{ payment.created + 30s }}", VARS) == 1764583230.0


def test_an_expression_inside_text_is_formatted_into_it() -> None:
    assert render("try {{ attempts + 1 }} until {{ payment.expires_at + 1h }}", VARS) == (
        "try 3 until 2026-12-01T11:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ name + 1 }}", r"cannot compute 'kopi' \+ 1 \(str \+ number\)"),
        ("{{ payment.expires_at + 5 }}", r"\(time \+ number\)"),
        ("{{ payment.expires_at * 2 }}", r"\(time \* number\)"),
        ("{{ -name }}", "cannot negate 'kopi'"),
    ],
)
def test_operands_that_do_not_fit_the_operator_are_named(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(template, VARS)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a +", "expected a value at the end|expected a value after '\\+'"),
        ("(a + 1", "'\\(' is never closed"),
        ("a b", "unexpected 'b'"),
        ("3x", "cannot read '3x'"),
        ("__import__('os')", "cannot read|unexpected"),
        ("a; b", "cannot read ';"),
        ("", "empty template"),
    ],
)
def test_malformed_expressions_say_where_they_stop(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse(source)


def test_names_are_only_ever_looked_up_never_evaluated() -> None:
    with pytest.raises(UndefinedVariable, match="undefined variable '__import__'"):
        render("{{ __import__ }}", VARS)


def test_validation_sees_every_path_of_an_expression_and_every_malformed_one() -> None:
    assert paths(parse("a.b + (c - 1) * -d.0")) == {"a.b", "c", "d.0"}
    assert paths_in({"x": ["{{ payment.expires_at + 15m }} {{ attempts + 1 }}"]}) == {"payment.expires_at", "attempts"}
    assert template_problems({"x": ["{{ a + }}", "{{ ok }}"], "y": "{{ (b }}"}) == [
        "bad template {{ a + }}: expected a value after '+'",
        "bad template {{ (b }}: '(' is never closed",
    ]
