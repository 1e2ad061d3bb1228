"""Wall-time figures of the scenario suite (run by hand; never a timed assert in tests).

    python benchmarks/scenarios.py [--runs 5]

Prints medians of several runs for: one scenario as a whole `halo-sim scenario` process (CLI
start-up included); every scenario of scenarios/ run in-process against one embedded target (the
per-scenario cost once servers are up); and `halo-sim suite` at -n 1 and -n 2.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)


def in_process_suite() -> tuple[int, float, float]:
    from halo_sim.scenario.loader import discover, load_scenario
    from halo_sim.scenario.runner import run_scenario
    from halo_sim.targets.embedded import start_embedded

    started = time.perf_counter()
    target = start_embedded()
    startup = time.perf_counter() - started
    scenarios = [load_scenario(p) for p in discover(ROOT / "scenarios")]
    began = time.perf_counter()
    for scenario in scenarios:
        result = asyncio.run(run_scenario(scenario, target))
        assert result.status == "passed", (scenario.id, result.failure_text())
    total = time.perf_counter() - began
    target.close()
    return len(scenarios), startup, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cli = shutil.which("halo-sim") or str(Path(sys.executable).with_name("halo-sim"))
    one = median_seconds(lambda: run([cli, "scenario", "ts-customer-05-01"]), runs)
    count, startup, total = in_process_suite()
    n1 = median_seconds(lambda: run([cli, "suite", "-n", "1"]), max(1, runs // 2))
    n2 = median_seconds(lambda: run([cli, "suite", "-n", "2"]), max(1, runs // 2))
    print(f"one scenario, whole CLI process (ts-customer-05-01): {one:.2f} s (median of {runs})")
    print(f"embedded stack start-up: {startup * 1000:.0f} ms")
    print(f"{count} scenarios in-process, sequential: {total:.2f} s ({total / count * 1000:.0f} ms per scenario)")
    print(f"halo-sim suite -n 1: {n1:.2f} s   -n 2: {n2:.2f} s (whole process: pytest, workers, stacks)")
    print(f"start-up overhead of a suite run (wall minus in-process scenario time): {n1 - total:.2f} s")


if __name__ == "__main__":
    main()
