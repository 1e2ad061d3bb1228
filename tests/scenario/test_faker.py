"""The run's faker: only the providers casting needs, yet the values of one full ``Faker("id_ID")``."""

from __future__ import annotations

import pytest
from faker import Faker

from halo_sim.scenario.context import SeededFaker, cast_faker


def _full(seed: int) -> Faker:
    faker = Faker("id_ID")
    faker.seed_instance(seed)
    return faker


@pytest.mark.parametrize("seed", [0, 7, 464082748])
def test_casting_draws_the_same_phones_names_and_tokens_as_a_full_faker(seed: int) -> None:
    small, full = cast_faker(seed), _full(seed)
    for _ in range(3):
        assert small.numerify("##########") == full.numerify("##########")
        assert small.first_name() == full.first_name()
        assert small.sha1() == full.sha1()


def test_a_template_naming_another_provider_gets_it_from_the_same_seeded_sequence() -> None:
    small, full = cast_faker(11), _full(11)
    assert not hasattr(small, "city")  # so the template below really reaches the full faker
    templates = SeededFaker(small)
    drawn = [templates.first_name(), templates.city(), templates.sha1(), templates.word(), templates.city()]
    assert drawn == [full.first_name(), full.city(), full.sha1(), full.word(), full.city()]
