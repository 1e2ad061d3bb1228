"""The settings catalogue names start-up settings of the backend, with types their defaults fit."""

from __future__ import annotations

from halo_sim.backend.config import Settings
from halo_sim.contract.settings import CONFIG_SETTINGS, SETTINGS, TunableSettings


def test_every_catalogued_setting_is_a_backend_setting_with_a_description() -> None:
    assert set(SETTINGS) <= set(Settings.model_fields)
    assert all(SETTINGS.values())


def test_the_backends_defaults_are_valid_catalogue_values() -> None:
    defaults = Settings().model_dump()
    values = {name: defaults[name] for name in SETTINGS if name not in CONFIG_SETTINGS}
    values["prices"] = [{"duration_minutes": d, "amount": a} for d, a in defaults["prices"].items()]
    values |= {name: defaults[name] for name in CONFIG_SETTINGS if name != "prices"}
    assert TunableSettings.model_validate(values).changes().keys() == SETTINGS.keys()


def test_secrets_and_wiring_are_not_tunable() -> None:
    wiring = {"test_token", "xendit_callback_token", "xendit_secret_key", "env", "seed", "fcm_base_url"}
    assert not wiring & set(SETTINGS)
