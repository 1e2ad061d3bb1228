"""Templating of step arguments."""

from __future__ import annotations

import pytest

from halo_sim.scenario.template import UndefinedVariable, names_in, render


def test_whole_string_template_keeps_the_value_type() -> None:
    assert render("{{ amount }}", {"amount": 25000}) == 25000


def test_embedded_template_is_formatted_into_the_string() -> None:
    assert render("Rp {{ amount }}!", {"amount": 25000}) == "Rp 25000!"


def test_dotted_paths_reach_into_mappings_and_lists() -> None:
    variables = {"customer": {"phone": "+62811"}, "rows": [{"id": "a"}, {"id": "b"}]}
    assert render({"p": "{{ customer.phone }}", "last": ["{{ rows.1.id }}"]}, variables) == {
        "p": "+62811",
        "last": ["b"],
    }


def test_callables_are_called_so_faker_methods_work() -> None:
    class Fake:
        def word(self) -> str:
            return "kopi"

    assert render("{{ faker.word }}", {"faker": Fake()}) == "kopi"


def test_undefined_variable_names_the_ones_that_exist() -> None:
    with pytest.raises(UndefinedVariable, match=r"'payment_id'.*defined: customer"):
        render("{{ payment_id }}", {"customer": {}})


def test_missing_field_names_the_path() -> None:
    with pytest.raises(UndefinedVariable, match="customer.token: no 'token'"):
        render("{{ customer.token }}", {"customer": {"phone": "x"}})


def test_names_in_finds_root_names_recursively() -> None:
    assert names_in({"a": ["{{ x.y }} and {{ z }}"], "b": 3}) == {"x", "z"}
