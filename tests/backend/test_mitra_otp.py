"""Mitra OTP login (service level, virtual clock): the customer OTP's rules on a challenge of its own."""

from __future__ import annotations

import asyncio

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import Mitra
from simkit.clock import VirtualClock
from simkit.errors import DomainError, TooManyRequests, Unauthorized, ValidationFailed
from simkit.scheduler import Scheduler

PHONE = "+6281234500077"


def backend(**settings: object) -> ReferenceBackend:
    ref = ReferenceBackend(
        Settings(env="test", fcm_base_url="http://127.0.0.1:9", **settings),  # type: ignore[arg-type]
        Scheduler(VirtualClock()),
    )
    ref.store.mitras.insert(Mitra(id="mitra-0", phone=PHONE, display_name="Rani", password="pw"))
    return ref


def refusal(call: object, *args: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def code_for(ref: ReferenceBackend, phone: str = PHONE) -> str:
    ref.auth.request_otp(phone, role="mitra")
    return ref.auth.read_otp(phone, "mitra").code


def test_the_right_code_logs_the_mitra_in() -> None:
    ref = backend()
    token, mitra = ref.auth.verify_mitra_otp(PHONE, code_for(ref))
    who = ref.auth.authenticate(token)
    assert (who.role, who.id, mitra.id) == ("mitra", "mitra-0", "mitra-0")


def test_a_code_works_only_once() -> None:
    ref = backend()
    code = code_for(ref)
    ref.auth.verify_mitra_otp(PHONE, code)
    assert refusal(ref.auth.verify_mitra_otp, PHONE, code).code == "OTP_EXPIRED"


def test_a_code_expires_after_five_minutes() -> None:
    ref = backend()
    code = code_for(ref)
    asyncio.run(ref.scheduler.advance(301))
    refused = refusal(ref.auth.verify_mitra_otp, PHONE, code)
    assert (type(refused), refused.code) == (ValidationFailed, "OTP_EXPIRED")


def test_wrong_codes_block_the_phone_even_for_the_right_code() -> None:
    ref = backend(otp_max_attempts=3)
    code = code_for(ref)
    misses = [refusal(ref.auth.verify_mitra_otp, PHONE, "x") for _ in range(3)]
    assert [(type(m), m.code) for m in misses] == [(Unauthorized, "OTP_INVALID")] * 2 + [
        (TooManyRequests, "OTP_BLOCKED")
    ]
    assert misses[0].details["attempts_left"] == 2
    assert refusal(ref.auth.verify_mitra_otp, PHONE, code).code == "OTP_BLOCKED"
    assert refusal(ref.auth.request_otp, PHONE, "local", "mitra").code == "OTP_BLOCKED"


def test_requests_per_phone_are_rate_limited() -> None:
    ref = backend(otp_phone_request_limit=2)
    code_for(ref)
    code_for(ref)
    refused = refusal(ref.auth.request_otp, PHONE, "local", "mitra")
    assert (refused.code, refused.details["retry_after_s"]) == ("RATE_LIMITED", 60)


def test_a_customer_code_never_logs_the_mitra_in_nor_the_other_way_round() -> None:
    ref = backend()
    ref.auth.request_otp(PHONE)  # the customer app of the same phone
    customer_code = ref.auth.read_otp(PHONE).code
    assert refusal(ref.auth.verify_mitra_otp, PHONE, customer_code).code == "OTP_EXPIRED"
    mitra_code = code_for(ref)
    ref.auth.forget_otp(PHONE)  # reset-phone forgets the customer's code only
    assert ref.auth.read_otp(PHONE, "mitra").code == mitra_code
    assert refusal(ref.auth.verify_otp, PHONE, mitra_code).code == "OTP_EXPIRED"


def test_an_unknown_phone_gets_a_code_but_no_login_and_no_mitra() -> None:
    ref = backend()
    stranger = "+6281234500099"
    refused = refusal(ref.auth.verify_mitra_otp, stranger, code_for(ref, stranger))
    assert (refused.status_code, refused.code) == (401, "INVALID_CREDENTIALS")
    assert ref.store.mitras.first(phone=stranger) is None
    assert ref.store.auth_sessions.all() == []
