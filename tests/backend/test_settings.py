"""``GET/PUT /internal/_test/settings``: the catalogued settings, validated as a whole, taking effect at once.

Over HTTP on the module's Stack (reset before each test), and on the services of a bare
:class:`ReferenceBackend` for the rules each setting drives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import Mitra
from halo_sim.contract.settings import SETTINGS
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.errors import DomainError, ValidationFailed
from simkit.scheduler import Scheduler

pytestmark = pytest.mark.usefixtures("fresh")

URL = "/internal/_test/settings"
DEFAULTS = Settings()


def _put(api: httpx.Client, body: Any) -> httpx.Response:
    return api.put(URL, json=body)


# --- the route ----------------------------------------------------------------------------------------


def test_get_answers_every_catalogued_setting_with_the_values_in_use(api: httpx.Client) -> None:
    now = api.get(URL).json()
    assert set(now) == set(SETTINGS)
    assert now["max_pairing_attempts"] == DEFAULTS.max_pairing_attempts
    assert now["support_whatsapp"] == DEFAULTS.support_whatsapp
    assert now["prices"] == [{"duration_minutes": d, "amount": a} for d, a in sorted(DEFAULTS.prices.items())]


def test_put_changes_the_settings_given_and_the_apps_config_follows(api: httpx.Client) -> None:
    answer = _put(
        api,
        {
            "pairing_timeout_s": 45,
            "support_telegram": "tg://resolve?domain=cs",
            "prices": [{"duration_minutes": 10, "amount": 9000}],
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["pairing_timeout_s"] == 45 and answer.json()["max_pairing_attempts"] == 3
    config = api.get("/api/config").json()
    assert config["pairing_timeout_s"] == 45
    assert config["support"]["telegram"] == "tg://resolve?domain=cs"
    assert config["prices"] == [{"duration_minutes": 10, "amount": 9000}]


@pytest.mark.parametrize(
    "body",
    [
        {"max_pairing_attempts": 1, "max_paring_attempts": 1},
        {"HALO_MAX_PAIRING_ATTEMPTS": 1},
        {"test_token": "mine"},  # a start-up setting that is not in the catalogue
    ],
)
def test_an_unknown_setting_is_refused_and_nothing_changes(api: httpx.Client, body: dict[str, Any]) -> None:
    before = api.get(URL).json()
    answer = _put(api, body)
    assert answer.status_code == 400 and answer.json()["error"] == "UNKNOWN_SETTING"
    assert answer.json()["known"] == sorted(SETTINGS)
    assert api.get(URL).json() == before


@pytest.mark.parametrize(
    "body",
    [
        {"max_pairing_attempts": "1"},
        {"max_pairing_attempts": True},
        {"max_pairing_attempts": 1.5},
        {"max_pairing_attempts": 0},
        {"max_pairing_attempts": None},
        {"pairing_timeout_s": -1},
        {"support_whatsapp": "javascript:alert(1)"},
        {"support_telegram": "tg://x\u0000"},
        {"prices": []},
        {"prices": [{"duration_minutes": 15}]},
        {"heartbeat_timeout_s": 30, "session_warning_s": -5},  # one bad value: the good one is not applied either
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(api: httpx.Client, body: dict[str, Any]) -> None:
    before = api.get(URL).json()
    answer = _put(api, body)
    assert answer.status_code == 400 and answer.json()["error"] == "INVALID_SETTING", answer.text
    assert answer.json()["problems"]
    assert api.get(URL).json() == before


def test_a_body_that_is_not_an_object_is_a_validation_error(api: httpx.Client) -> None:
    answer = _put(api, [1, 2])
    assert answer.status_code == 400 and answer.json()["error"] == "VALIDATION_ERROR"


def test_a_reset_puts_the_start_up_settings_back(api: httpx.Client) -> None:
    before = api.get(URL).json()
    assert _put(api, {"max_pairing_attempts": 1, "support_whatsapp": "https://wa.me/1"}).status_code == 200
    api.post("/internal/_test/reset", json={}).raise_for_status()
    assert api.get(URL).json() == before


def test_discovery_names_the_settings_capability(api: httpx.Client) -> None:
    assert "settings" in api.get("/internal/_test/discovery").json()["capabilities"]


# --- each setting drives its service ----------------------------------------------------------------------


class Socket:
    async def send_text(self, data: str) -> None:
        return None


def _backend() -> ReferenceBackend:
    return ReferenceBackend(Settings(env="test", fcm_base_url="http://127.0.0.1:9"), Scheduler(VirtualClock()))


def test_max_pairing_attempts_makes_the_first_failed_blast_terminal() -> None:
    ref = _backend()
    ref.tuning.update({"max_pairing_attempts": 1})
    _, customer = ref.auth.login_anonymous()

    async def fail_once() -> PaymentStatus:
        payment = await ref.payments.request_payment(customer.id, 15)
        await ref.payments.confirm_payment(payment.id, "test")
        await ref.scheduler.advance(DEFAULTS.pairing_timeout_s)
        return ref.payments.get(payment.id).status

    assert asyncio.run(fail_once()) is PaymentStatus.FAILED_PAIRING


def test_a_short_pairing_timeout_fails_a_blast_sooner() -> None:
    ref = _backend()
    ref.tuning.update({"pairing_timeout_s": 10})
    _, customer = ref.auth.login_anonymous()

    async def wait(seconds: float) -> str:
        payment = await ref.payments.request_payment(customer.id, 15)
        await ref.payments.confirm_payment(payment.id, "test")
        await ref.scheduler.advance(seconds)
        return ref.pairing.attempts(payment.id)[-1].status.value

    assert asyncio.run(wait(10)) == "failed"


def test_a_short_heartbeat_timeout_lapses_a_mitra_sooner() -> None:
    ref = _backend()
    ref.store.insert("mitras", Mitra(id="m-1", phone="+628110007701", display_name="Rani", password="pw"))
    asyncio.run(ref.presence.set_online("m-1", True))
    ref.tuning.update({"heartbeat_timeout_s": 5})
    asyncio.run(ref.scheduler.advance(6))
    assert ref.presence.is_online(ref.store.mitras.require("m-1", "mitra")) is False


def test_otp_max_attempts_blocks_sooner() -> None:
    ref = _backend()
    ref.tuning.update({"otp_max_attempts": 1})
    ref.auth.request_otp("+6281234500077")
    with pytest.raises(DomainError) as caught:
        ref.auth.verify_otp("+6281234500077", "not-the-code")
    assert caught.value.code == "OTP_BLOCKED"


def test_the_start_up_settings_stay_what_a_reset_goes_back_to() -> None:
    ref = _backend()
    ref.tuning.update({"session_warning_s": 5})
    assert ref.deps.settings.session_warning_s == 5 and ref.settings.session_warning_s == DEFAULTS.session_warning_s
    ref.reset()
    assert ref.tuning.current()["session_warning_s"] == DEFAULTS.session_warning_s


def test_the_service_refuses_before_applying_anything() -> None:
    ref = _backend()
    with pytest.raises(ValidationFailed):
        ref.tuning.update({"support_whatsapp": "https://wa.me/2", "payment_expiry_s": "soon"})
    assert ref.tuning.current()["support_whatsapp"] == DEFAULTS.support_whatsapp
