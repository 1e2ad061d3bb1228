"""OTP attempts (service level, virtual clock): a fresh code does not wipe the wrong-attempt count."""

from __future__ import annotations

import pytest

from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from simkit.clock import VirtualClock
from simkit.errors import TooManyRequests, Unauthorized
from simkit.scheduler import Scheduler

PHONE = "+6281234500042"


def backend(max_attempts: int = 3) -> ReferenceBackend:
    settings = Settings(env="test", fcm_base_url="http://127.0.0.1:9", otp_max_attempts=max_attempts)
    return ReferenceBackend(settings, Scheduler(VirtualClock()))


def miss(ref: ReferenceBackend) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        ref.auth.verify_otp(PHONE, "not-the-code")
    assert caught.value.code == "OTP_INVALID"
    return caught.value


def test_requesting_a_new_code_keeps_the_wrong_attempts_so_far() -> None:
    """Otherwise guessing is unlimited: two misses, a new code, two misses, a new code..."""
    ref = backend(max_attempts=3)
    ref.auth.request_otp(PHONE)
    assert [miss(ref).details["attempts_left"] for _ in range(2)] == [2, 1]
    ref.auth.request_otp(PHONE)
    with pytest.raises(TooManyRequests) as caught:
        ref.auth.verify_otp(PHONE, "not-the-code")
    assert caught.value.code == "OTP_BLOCKED"
    right = ref.auth.read_otp(PHONE).code
    with pytest.raises(TooManyRequests):
        ref.auth.verify_otp(PHONE, right)


def test_a_right_code_after_a_miss_logs_in() -> None:
    ref = backend(max_attempts=3)
    ref.auth.request_otp(PHONE)
    miss(ref)
    token, customer = ref.auth.verify_otp(PHONE, ref.auth.read_otp(PHONE).code)
    assert ref.auth.authenticate(token).id == customer.id
