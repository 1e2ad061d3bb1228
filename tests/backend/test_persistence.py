"""Saving and restoring the backend's state (``halo-sim serve --state-file``)."""

from __future__ import annotations

import asyncio
import json
import os
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


def _backend() -> ReferenceBackend:
    settings = Settings(env="test", fcm_base_url="http://127.0.0.1:9")
    return ReferenceBackend(settings, Scheduler(VirtualClock()))


def _through_a_file(backend: ReferenceBackend, path: Path) -> ReferenceBackend:
    """Save ``backend`` as a drain would, then restore a fresh backend from the file."""
    persistence.save(path, {"format": persistence.FORMAT, "kind": "drain", "backend": backend.snapshot()})
    saved = persistence.load(path)
    assert saved is not None
    second = _backend()
    second.restore(saved["backend"])
    return second


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
    first = _backend()
    token, payment_id, session_id = asyncio.run(_session_in_progress(first))
    second = _through_a_file(first, tmp_path / "state.json")
    asyncio.run(second.start())
    assert second.auth.authenticate(token).role == "customer"
    assert second.payments.get(payment_id).status is PaymentStatus.CONSUMED
    assert second.pairing.get(session_id).status is SessionStatus.ACTIVE
    fresh_token, _ = second.auth.login_anonymous()
    assert fresh_token != token


def test_ids_after_a_restore_differ_from_those_the_saved_generator_would_give_next(tmp_path: Path) -> None:
    """A checkpoint may predate ids handed out before a crash: replaying its generator would reissue them."""
    first = _backend()
    saved_ids = first.snapshot()
    after_checkpoint = [first.deps.ids.uuid() for _ in range(5)]  # handed out, then the process died
    second = _backend()
    second.restore(json.loads(json.dumps(saved_ids)))
    assert not {second.deps.ids.uuid() for _ in range(5)} & set(after_checkpoint)


def test_restored_active_sessions_still_end_on_time(tmp_path: Path) -> None:
    first = _backend()

    async def run() -> SessionStatus:
        _, _, session_id = await _session_in_progress(first)
        second = _through_a_file(first, tmp_path / "state.json")
        await second.start()
        await second.scheduler.advance(15 * 60 + 1)
        return second.pairing.get(session_id).status

    assert asyncio.run(run()) is SessionStatus.ENDED


def test_without_a_file_there_is_nothing_to_restore(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "absent.json") is None


@pytest.mark.parametrize("content", ["not json", json.dumps({"format": 99}), json.dumps([1, 2])])
def test_an_unusable_state_file_is_refused_with_what_to_do(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(persistence.StateFileError, match="move it away to start fresh"):
        persistence.load(path)


def test_a_state_file_of_format_1_still_loads_as_the_backend_part(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    backend = _backend()
    token, _ = backend.auth.login_anonymous()
    path.write_text(json.dumps({"format": 1, **backend.snapshot()}))
    saved = persistence.load(path)
    assert saved is not None and saved["format"] == persistence.FORMAT and saved["kind"] == "drain"
    second = _backend()
    second.restore(saved["backend"])
    assert second.auth.authenticate(token).role == "customer"


def test_saving_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("previous")
    persistence.save(path, {"format": 2, "kind": "drain", "backend": {"tables": {}, "ids": [3, [1], None]}})
    assert json.loads(path.read_text())["format"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_save_names_the_file_and_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("previous")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(persistence.StateFileError, match=r"state\.json: cannot save the state .*No space left"):
        persistence.save(path, {"format": 2})
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
