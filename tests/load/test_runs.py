"""Short headless load runs on Locust against a ``halo-sim serve`` the command starts itself.

Bounded users and seconds; the SLOs judged are the profiles' own (generous on purpose: the
tests check that the machinery measures and judges, the benchmark measures capacity).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.load.conftest import CLI, ROOT, RUN_TIMEOUT_S, LoadRun

HALO_METRICS = {
    "pairing: confirmed→offer",
    "pairing: offer→match",
    "delivery: sent→WS",
    "delivery: sent→FCM",
}


def _rows(prefix: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return {(row["Type"], row["Name"]): row for row in csv.DictReader(f)}


def test_a_smoke_run_meets_its_slos_and_invariants_and_writes_the_metrics(halo_load: LoadRun, tmp_path: Path) -> None:
    done = halo_load("smoke", "--duration", "6", "--csv", str(tmp_path / "run"), "--html", str(tmp_path / "run.html"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
    held = re.search(r"invariants: held .* (\d+) acknowledged messages stored", done.stdout)
    assert held and int(held.group(1)) > 0, done.stdout
    rows = _rows(tmp_path / "run")
    for name in HALO_METRICS:
        assert int(rows[("HALO", name)]["Request Count"]) > 0, name
    assert int(rows[("WS", "chat_message→ack")]["Request Count"]) > 0
    assert int(rows[("POST", "customer.request_payment")]["Request Count"]) > 0
    assert "pairing: confirmed" in (tmp_path / "run.html").read_text()  # the HTML escapes the arrow


def test_an_impossible_slo_fails_the_run_and_is_named(halo_load: LoadRun, tmp_path: Path) -> None:
    profile = (ROOT / "load" / "smoke.yaml").read_text()
    profile = profile.replace("accept_delay_s: {min: 0.0, max: 0.05}", "accept_delay_s: {min: 0.2, max: 0.25}")
    profile = profile.split("slo:")[0] + "slo:\n  - {metric: pairing.match, p95_ms: 1}\n"
    (tmp_path / "impossible.yaml").write_text(profile)
    done = halo_load(str(tmp_path / "impossible.yaml"), "--duration", "4")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SLO BROKEN  pairing.match p95_ms" in done.stdout


def test_a_bad_profile_is_one_line_and_exit_2(halo_load: LoadRun, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: x\nusers: {customer: 1, mitra: -1}\n")
    done = halo_load(str(tmp_path / "bad.yaml"))
    assert done.returncode == 2
    assert f"{tmp_path / 'bad.yaml'}:2: users.mitra" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_target_is_one_line_and_exit_2(halo_load: LoadRun, free_port: int) -> None:
    done = halo_load("smoke", "--target", f"http://127.0.0.1:{free_port}")
    assert done.returncode == 2
    assert "unreachable" in done.stderr and "Traceback" not in done.stderr


def test_a_master_and_two_workers_on_loopback_complete_a_run(tmp_path: Path, free_port: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = ["smoke", "--duration", "6", "--master-port", str(free_port)]
    master = subprocess.Popen(
        [*CLI, *common, "--master", "--expect-workers", "2", "--csv", str(tmp_path / "dist")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    workers = [
        subprocess.Popen(
            [*CLI, *common, "--worker"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        for _ in range(2)
    ]
    out, _ = master.communicate(timeout=RUN_TIMEOUT_S)
    codes = [w.wait(timeout=RUN_TIMEOUT_S) for w in workers]
    assert master.returncode == 0, out
    assert codes == [0, 0]
    held = re.search(r"invariants: held .* (\d+) acknowledged messages stored", out)
    assert held and int(held.group(1)) > 0, out  # the workers' acknowledged ids reached the master
    rows = _rows(tmp_path / "dist")
    assert int(rows[("HALO", "pairing: confirmed→offer")]["Request Count"]) > 0


def test_the_root_cli_never_imports_locust_or_gevent() -> None:
    """Importing Locust monkey-patches the process; only ``halo-sim load`` may do it, when it runs."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import halo_sim.cli.app"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "halo_sim.cli.load" in modules
    patched = {m for m in modules if m.split(".")[0] in ("locust", "gevent", "websocket")}
    assert patched | {m for m in modules if m.startswith("halo_sim.load")} == set()


def test_the_web_ui_shows_the_halo_metrics_live(free_port: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(
        [*CLI, "smoke", "--duration", "8", "--web", str(free_port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    seen: set[str] = set()
    while run.poll() is None and "pairing: confirmed→offer" not in seen:
        try:
            stats = httpx.get(f"http://127.0.0.1:{free_port}/stats/requests", timeout=2).json()
            seen = {row["name"] for row in stats["stats"]}
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    out, _ = run.communicate(timeout=RUN_TIMEOUT_S)
    assert "pairing: confirmed→offer" in seen, out  # while the run went, in Locust's own UI
    assert run.returncode == 0, out


@pytest.mark.parametrize("payment", ["force_confirm", "webhook"])
def test_every_payment_path_pairs(halo_load: LoadRun, tmp_path: Path, payment: str) -> None:
    """``auto`` pays on fake Xendit's checkout (the smoke run); the other two paths pair customers too."""
    profile = (ROOT / "load" / "smoke.yaml").read_text().replace("customer:\n", f"customer:\n  payment: {payment}\n")
    (tmp_path / f"{payment}.yaml").write_text(profile)
    done = halo_load(str(tmp_path / f"{payment}.yaml"), "--duration", "4", "--csv", str(tmp_path / "run"))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(tmp_path / "run")
    assert int(rows[("HALO", "pairing: confirmed→offer")]["Request Count"]) > 0
    via_webhook = ("POST", "xendit.webhook") in rows
    assert via_webhook == (payment == "webhook")
    assert (("POST", "test.force_confirm_payment") in rows) == (payment == "force_confirm")


def test_a_target_profile_without_seed_mitra_uses_its_pool_of_test_mitras(tmp_path: Path) -> None:
    """A named target (halo-sim.yaml) that cannot create mitras: the mitra users log in as its test mitras."""
    from halo_sim.load.serve import ServeProcess

    server = ServeProcess()
    try:
        found = httpx.get(f"{server.url}/internal/_test/discovery", timeout=10).json()
        (tmp_path / "halo-sim.yaml").write_text(
            "targets:\n  pool:\n"
            f"    base_url: {server.url}\n    fcm_url: {found['fcm_url']}\n"
            "    capabilities: [test_endpoints, state_dump]\n"
            "    mitras:\n"
            '      - {phone: "+6281100000001", password: bestie123}\n'
            '      - {phone: "+6281100000002", password: bestie123}\n'
        )
        profile = (
            (ROOT / "load" / "smoke.yaml").read_text().replace("{customer: 4, mitra: 4}", "{customer: 2, mitra: 2}")
        )
        (tmp_path / "pool.yaml").write_text(profile)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [*CLI, str(tmp_path / "pool.yaml"), "--target", "pool", "--duration", "4", "--csv", str(tmp_path / "r")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        rows = _rows(tmp_path / "r")
        assert ("POST", "test.seed_mitra") not in rows  # no mitra was created
        assert int(rows[("POST", "mitra.login")]["Request Count"]) == 2
        assert int(rows[("HALO", "pairing: offer→match")]["Request Count"]) > 0
    finally:
        server.stop()
