"""State-machine transition coverage: the recorder, the report, merged files and ``--halo-coverage``."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from halo_sim.coverage import TransitionRecorder, load, merge, print_report, render, report, write
from halo_sim.domain.pairing import SESSION
from halo_sim.domain.payment import PAYMENT
from halo_sim.scenario.loader import load_scenario
from halo_sim.scenario.runner import run_scenario
from halo_sim.targets.embedded import EmbeddedTarget, start_embedded

LEAN = ("-p", "no:anyio", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")
PAY, CHAT = "payment_request", "chat_session"


@pytest.fixture(scope="module")
def target() -> Iterator[EmbeddedTarget]:
    embedded = start_embedded()
    yield embedded
    embedded.close()


@pytest.fixture(scope="module")
def delivery_run_counts(target: EmbeddedTarget, scenarios_dir: Path) -> dict[tuple[str, str, str, str], int]:
    with TransitionRecorder() as recorder:
        result = asyncio.run(run_scenario(load_scenario(scenarios_dir / "ts-customer-05-01.yaml"), target))
    assert result.status == "passed", result.failure_text()
    return recorder.counts()


def test_the_recorder_counts_the_transitions_of_an_embedded_run(
    delivery_run_counts: dict[tuple[str, str, str, str], int],
) -> None:
    counts = delivery_run_counts
    assert counts[(PAY, "pending", "confirm", "confirmed")] == 1
    assert counts[(PAY, "confirmed", "consume", "consumed")] == 1
    assert counts[(CHAT, "searching", "offer", "pending_acceptance")] == 1
    assert counts[(CHAT, "pending_acceptance", "accept", "active")] == 1
    assert (PAY, "pending", "expire", "expired") not in counts


def test_a_stopped_recorder_is_no_longer_an_observer_and_records_nothing_more() -> None:
    recorder = TransitionRecorder().start()
    assert recorder.observe in PAYMENT.observers and recorder.observe in SESSION.observers
    recorder.stop()
    recorder.stop()  # twice is harmless
    assert recorder.observe not in PAYMENT.observers and recorder.observe not in SESSION.observers
    from halo_sim.domain.payment import PaymentEvent, PaymentStatus

    PAYMENT.next(PaymentStatus.PENDING, PaymentEvent.CONFIRM)
    assert recorder.counts() == {}


def test_observer_calls_from_many_threads_are_all_counted() -> None:
    recorder = TransitionRecorder(machines=())

    def hammer() -> None:
        for _ in range(5000):
            recorder.observe(PAY, "a", "b", "c")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.counts() == {(PAY, "a", "b", "c"): 40000}


def test_the_report_lists_every_declared_transition_the_never_exercised_ones_and_states_never_entered(
    delivery_run_counts: dict[tuple[str, str, str, str], int],
) -> None:
    data = report(delivery_run_counts)
    payment = data["machines"][PAY]
    assert payment["declared"] == len(PAYMENT.transitions)
    assert {"from": "pending", "event": "confirm", "to": "confirmed", "count": 1} in payment["transitions"]
    assert {"from": "pending", "event": "expire", "to": "expired"} in payment["never_exercised"]
    assert {"from": "confirmed", "event": "fail_pairing", "to": "failed_pairing"} in payment["never_exercised"]
    assert "expired" in payment["states_never_entered"] and "failed_pairing" in payment["states_never_entered"]
    assert "pending" not in payment["states_never_entered"]  # initial: entered by creation, not a transition
    session = data["machines"][CHAT]
    assert {"from": "searching", "event": "timeout", "to": "failed"} in session["never_exercised"]
    assert "active" not in session["states_never_entered"]


def test_the_rendered_table_shows_counts_and_never_for_unexercised_transitions(
    delivery_run_counts: dict[tuple[str, str, str, str], int],
) -> None:
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(render(report(delivery_run_counts)))
    text = console.export_text()
    assert "payment_request" in text and "chat_session" in text
    assert "never" in text and "expire" in text
    assert "never entered" in text


def test_merging_two_files_sums_their_counts(tmp_path: Path) -> None:
    one = write(tmp_path / "a.json", {(PAY, "pending", "confirm", "confirmed"): 2, (CHAT, "active", "end", "ended"): 1})
    two = write(
        tmp_path / "b.json", {(PAY, "pending", "confirm", "confirmed"): 3, (PAY, "pending", "expire", "expired"): 1}
    )
    assert merge([one, two]) == {
        (PAY, "pending", "confirm", "confirmed"): 5,
        (CHAT, "active", "end", "ended"): 1,
        (PAY, "pending", "expire", "expired"): 1,
    }


def test_print_report_shows_the_table_of_a_coverage_file(tmp_path: Path) -> None:
    path = write(tmp_path / "coverage.json", {(PAY, "pending", "expire", "expired"): 4})
    console = Console(record=True, width=160, file=io.StringIO())
    print_report(path, console)
    row = next(line for line in console.export_text().splitlines() if "expire " in line)
    assert "pending" in row and "│ 4 " in row


def _scenarios(pytester: pytest.Pytester, scenarios_dir: Path, *ids: str) -> None:
    folder = pytester.path / "scenarios"
    folder.mkdir(exist_ok=True)
    for scenario_id in ids:
        shutil.copy(scenarios_dir / f"{scenario_id}.yaml", folder / f"{scenario_id}.yaml")


def test_the_halo_coverage_option_writes_the_transitions_of_the_session(
    pytester: pytest.Pytester, scenarios_dir: Path
) -> None:
    _scenarios(pytester, scenarios_dir, "ts-customer-05-01")
    file = pytester.path / "out" / "coverage.json"
    result = pytester.runpytest(*LEAN, "-p", "no:xdist", "--halo-coverage", str(file), "scenarios")
    result.assert_outcomes(passed=1)
    counts = load(file)
    assert counts[(PAY, "pending", "confirm", "confirmed")] == 1
    assert counts[(CHAT, "pending_acceptance", "accept", "active")] == 1
    assert json.loads(file.read_text())["report"]["machines"][PAY]["never_exercised"]
    assert not [o for o in PAYMENT.observers if isinstance(getattr(o, "__self__", None), TransitionRecorder)]


def test_under_xdist_each_worker_writes_its_file_and_the_controller_merges_them(
    pytester: pytest.Pytester, scenarios_dir: Path
) -> None:
    _scenarios(pytester, scenarios_dir, "ts-customer-05-01", "ts-customer-05-02", "04_payment_expired")
    file = pytester.path / "coverage.json"
    (pytester.path / "coverage.json.gw9.json").write_text(
        json.dumps(
            {"transitions": [{"machine": PAY, "from": "expired", "event": "confirm", "to": "confirmed", "count": 99}]}
        )
    )  # a stale run's
    result = pytester.runpytest(*LEAN, "-n", "2", "--halo-coverage", str(file), "scenarios")
    result.assert_outcomes(passed=3)
    counts = load(file)
    assert counts[(PAY, "pending", "confirm", "confirmed")] >= 2  # from both delivery scenarios, whichever worker
    assert counts[(PAY, "pending", "expire", "expired")] >= 1
    assert (PAY, "expired", "confirm", "confirmed") not in counts
    assert list(pytester.path.glob("coverage.json.*.json")) == []
