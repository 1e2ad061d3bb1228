"""Saving and restoring the backend's state (``halo-sim serve --state-file``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from halo_sim.backend import persistence
from halo_sim.backend.config import Settings
from halo_sim.backend.state import ReferenceBackend
from halo_sim.backend.tables import Mitra
from halo_sim.domain.pairing import SessionStatus
from halo_sim.domain.payment import PaymentStatus
from simkit.clock import VirtualClock
from simkit.scheduler import Scheduler


def _backend(state_file: Path) -> ReferenceBackend:
    settings = Settings(env="test", fcm_base_url="http://127.0.0.1:9")
    return ReferenceBackend(settings, Scheduler(VirtualClock()), state_file=state_file)


async def _session_in_progress(backend: ReferenceBackend) -> tuple[str, str, str]:
    token, customer = backend.auth.login_anonymous()
    backend.store.mitras.insert(Mitra("m1", "+62811", "Rani", "pw"))
    await backend.presence.set_online("m1", True)
    payment = await backend.payments.request_payment(customer.id, 15)
    await backend.payments.confirm_payment(payment.id, "test")
    session = backend.pairing.current_session(payment.id)
    assert session is not None
    await backend.pairing.accept("m1", session.id)
    return token, payment.id, session.id


def test_a_restart_keeps_tokens_payments_and_sessions_and_new_ids_do_not_collide(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    first = _backend(state_file)

    async def before_restart() -> tuple[str, str, str]:
        await first.start()
        ids = await _session_in_progress(first)
        await first.close()
        return ids

    token, payment_id, session_id = asyncio.run(before_restart())
    second = _backend(state_file)
    asyncio.run(second.start())
    assert second.auth.authenticate(token).role == "customer"
    assert second.payments.get(payment_id).status is PaymentStatus.CONSUMED
    assert second.pairing.get(session_id).status is SessionStatus.ACTIVE
    fresh_token, _ = second.auth.login_anonymous()
    assert fresh_token != token


def test_restored_active_sessions_still_end_on_time(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    first = _backend(state_file)

    async def run() -> SessionStatus:
        await first.start()
        _, _, session_id = await _session_in_progress(first)
        await first.close()
        second = _backend(state_file)
        await second.start()
        await second.scheduler.advance(15 * 60 + 1)
        return second.pairing.get(session_id).status

    assert asyncio.run(run()) is SessionStatus.ENDED


def test_without_a_file_the_backend_starts_empty(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "absent.json")
    asyncio.run(backend.start())
    assert backend.store.customers.all() == []


@pytest.mark.parametrize("content", ["not json", json.dumps({"format": 99}), json.dumps([1, 2])])
def test_an_unusable_state_file_is_refused_with_what_to_do(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(persistence.StateFileError, match="move it away to start fresh"):
        persistence.load(path)


def test_saving_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    persistence.save(path, {"format": 1, "tables": {}, "ids": [3, [1], None]})
    assert json.loads(path.read_text())["format"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
