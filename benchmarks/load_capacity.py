"""Load capacity (issue 14): how many concurrent customers + mitras one ``halo-sim serve`` holds within the
SLOs of ``load/default.yaml`` on this machine, with one and with two local Locust workers, and what gives first.

    python benchmarks/load_capacity.py [--steps 100,200,400,800,1200,1600,2400,3200] [--step-seconds 40]
                                       [--workers 1,2] [--quick]

Each step starts a fresh ``halo-sim serve`` (its own process, loopback) and runs
``halo-sim load default --target URL --users N/2,N/2 --master --expect-workers W`` with W ``--worker``
processes (as two machines would, on one).  Per step: the verdict (the run's exit code and the SLOs it
broke), p50 / p95 of Halo's latencies from Locust's CSV, and the CPU of the server and of the generator
(CPU seconds of each process from the load's start to its stop, in % of one core: a Python process
cannot use more than one, so a process near 100 % is the limit).  The anchor is the lightest step of the
same sweep: its p95 and the ratio of each step's p95 to it.  Steps stop growing at the first broken
step; at that step the first limit is named: the server (serve near a core), the generator (a worker
near a core), the machine (all cores busy), or neither (latency without a saturated process).
"""

from __future__ import annotations

import csv
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _harness as h
import psutil

METRICS = {
    "offer": ("HALO", "pairing: confirmed→offer"),
    "match": ("HALO", "pairing: offer→match"),
    "ws": ("HALO", "delivery: sent→WS"),
    "fcm": ("HALO", "delivery: sent→FCM"),
    "ack": ("WS", "chat_message→ack"),
}
SATURATED = 90.0  # % of one core: the 90th percentile of a process's one-second samples
RAMP_S = 10.0  # every step reaches its users in this many seconds
LOAD = [*h.CLI, "load", "default"]


class Sampler:
    """CPU of named processes from the load's start to its stop (as the master prints them): the mean, and
    the 90th percentile of one-second samples (a process pinned at a core for a tenth of the run shows it)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.marks: list[tuple[float, dict[str, float]]] = []
        self.seconds: dict[str, list[float]] = {name: [] for name in pids}
        self.done = threading.Event()

    def snapshot(self) -> tuple[float, dict[str, float]]:
        return time.monotonic(), {name: self._cpu(p) for name, p in self.procs.items()}

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
            return float(times.user + times.system)
        except psutil.Error:
            return 0.0

    def _every_second(self) -> None:
        last = self.snapshot()
        while not self.done.wait(1.0):
            now = self.snapshot()
            for name in self.procs:
                self.seconds[name].append((now[1][name] - last[1][name]) / (now[0] - last[0]) * 100)
            last = now

    def percent(self) -> dict[str, float]:
        """Mean % of one core each process used between the start and the stop."""
        if len(self.marks) < 2:
            return {name: 0.0 for name in self.procs}
        (t0, c0), (t1, c1) = self.marks[:2]
        return {name: (c1[name] - c0[name]) / (t1 - t0) * 100 for name in self.procs}

    def peak(self) -> dict[str, float]:
        """90th percentile of the one-second samples."""
        return {n: sorted(v)[int(len(v) * 0.9)] if v else 0.0 for n, v in self.seconds.items()}

    def follow(self, output: Any) -> str:
        """Read the master's output to its end, sampling from its ``load:`` start line to its stop line."""
        lines = []
        for line in output:
            lines.append(line)
            if line.startswith("load: "):
                self.marks.append(self.snapshot())
                if len(self.marks) == 1:
                    threading.Thread(target=self._every_second, daemon=True).start()
                else:
                    self.done.set()
        self.done.set()
        return "".join(lines)


@dataclass
class Step:
    users: int
    workers: int
    code: int
    broken: list[str]
    latencies: dict[str, tuple[float, float, int]]
    cpu: dict[str, float]
    peak: dict[str, float]

    @property
    def ok(self) -> bool:
        return self.code == 0


def fresh_serve() -> h.Process:
    """A serve on free ports (its fakes take the next two: another process may hold one; try again)."""
    for attempt in range(5):
        try:
            return h.start_serve()
        except RuntimeError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def run_step(users: int, workers: int, seconds: float, out: Path) -> Step:
    serve = fresh_serve()
    port = h.free_port()
    half = f"{users // 2},{users - users // 2}"
    common = [
        "--target",
        serve.urls["backend"],
        "--users",
        half,
        "--duration",
        str(seconds),
        "--master-port",
        str(port),
    ]
    env = h.child_env()
    master = subprocess.Popen(
        [*LOAD, *common, "--master", "--expect-workers", str(workers), "--csv", str(out / f"s{users}w{workers}")],
        cwd=h.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    generators = [
        subprocess.Popen(
            [*LOAD, *common, "--worker"], cwd=h.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        for _ in range(workers)
    ]
    pids = {"serve": serve.pid, "master": master.pid, **{f"worker{i + 1}": g.pid for i, g in enumerate(generators)}}
    sampler = Sampler(pids)
    output = sampler.follow(master.stdout)
    master.wait(timeout=60)
    for g in generators:
        g.wait(timeout=60)
    serve.stop()
    broken = re.findall(r"SLO BROKEN\s+(.*)", output) + re.findall(r"invariant violated: (.*)", output)
    if broken:
        broken += re.findall(r"(refusals: .*)", output)  # which codes, when something broke
    if master.returncode not in (0, 1):
        broken.append(f"the run failed (exit {master.returncode}): {output.strip().splitlines()[-1:]}")
    latencies = _latencies(out / f"s{users}w{workers}_stats.csv")
    return Step(users, workers, master.returncode, broken, latencies, sampler.percent(), sampler.peak())


def _latencies(path: Path) -> dict[str, tuple[float, float, int]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}
    found = {}
    for label, key in METRICS.items():
        row = rows.get(key)
        if row and int(row["Request Count"]):
            found[label] = (float(row["50%"]), float(row["95%"]), int(row["Request Count"]))
    return found


def first_limit(step: Step) -> str:
    """What gave first at a broken step: a process pinned at a core (p90 of its one-second samples)."""
    workers = {k: v for k, v in step.peak.items() if k.startswith("worker")}
    busiest = max(workers, key=lambda k: workers[k])
    cores = psutil.cpu_count() or 1
    both = f"serve {step.cpu['serve']:.0f} % mean / {step.peak['serve']:.0f} % p90, {busiest} "
    both += f"{step.cpu[busiest]:.0f} % / {workers[busiest]:.0f} % of a core"
    if step.peak["serve"] >= SATURATED and workers[busiest] >= SATURATED:
        return f"both: server and generator pinned, the {cores} cores are full ({both})"
    if step.peak["serve"] >= SATURATED:
        return f"the server ({both})"
    if workers[busiest] >= SATURATED:
        return f"the generator ({both})"
    if sum(step.cpu.values()) >= SATURATED * cores:
        return f"the machine: {sum(step.cpu.values()):.0f} % of {cores} cores ({both})"
    return f"no process saturated ({both}): latency"


def describe(step: Step, anchor: Step | None) -> str:
    lat = "  ".join(
        f"{k} {p50:.0f}/{p95:.0f} ms"
        + (f" ({p95 / anchor.latencies[k][1]:.1f}x)" if anchor and anchor.latencies.get(k, (0, 0))[1] else "")
        for k, (p50, p95, _) in step.latencies.items()
    )
    cpu = "  ".join(f"{k} {v:.0f}% (p90 {step.peak[k]:.0f}%)" for k, v in step.cpu.items())
    verdict = "SLOs met" if step.ok else "BROKEN: " + "; ".join(step.broken)
    who = f"{step.users:>4} users ({step.users // 2} customers + {step.users - step.users // 2} mitras)"
    return f"{who}, {step.workers} worker(s): {verdict}\n        p50/p95 {lat}\n        CPU {cpu}"


def sweep(steps: list[int], workers: int, seconds: float, out: Path) -> list[Step]:
    done: list[Step] = []
    for users in steps:
        h.log(f"{users} users on {workers} worker(s) for {seconds:g} s")
        step = run_step(users, workers, seconds, out)
        done.append(step)
        print("  " + describe(step, done[0]), flush=True)
        if not step.ok:
            print(f"  first limit at {users} users: {first_limit(step)}", flush=True)
            break
    return done


def main() -> None:
    parser = h.arguments(__doc__, runs=1, budget=900)
    parser.add_argument(
        "--steps", default="100,200,400,800,1200,1600,2400,3200", help="total users per step (half customers)"
    )
    parser.add_argument("--step-seconds", type=float, default=40.0)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    steps = [10, 20] if args.quick else [int(n) for n in args.steps.split(",")]
    seconds = 10.0 if args.quick else args.step_seconds
    results: dict[int, list[Step]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            results[workers] = sweep(steps, workers, seconds, Path(tmp))
    summary(results)


def summary(results: dict[int, list[Step]]) -> None:
    import os

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n### load capacity ({os.cpu_count()} cores, load average {load}, {time.strftime('%Y-%m-%d %H:%M')})\n")
    columns = ["workers", "users (customers + mitras)", "SLOs", "confirmed→offer p50/p95 ms", "offer→match p95 ms"]
    columns += ["WS delivery p95 ms", "serve CPU mean / p90", "busiest worker CPU mean / p90"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for workers, steps in results.items():
        for s in steps:
            offer = s.latencies.get("offer", (0, 0, 0))
            worker = max((v, k) for k, v in s.cpu.items() if k.startswith("worker"))[1]
            print(
                f"| {workers} | {s.users} | {'met' if s.ok else 'broken'} | {offer[0]:.0f}/{offer[1]:.0f} | "
                f"{s.latencies.get('match', (0, 0, 0))[1]:.0f} | {s.latencies.get('ws', (0, 0, 0))[1]:.0f} | "
                f"{s.cpu['serve']:.0f} / {s.peak['serve']:.0f} % | {s.cpu[worker]:.0f} / {s.peak[worker]:.0f} % |"
            )
    for workers, steps in results.items():
        held = [s.users for s in steps if s.ok]
        broken = next((s for s in steps if not s.ok), None)
        limit = first_limit(broken) if broken else "not reached"
        print(f"\n{workers} worker(s): held {max(held) if held else 0} users within the SLOs; first limit: {limit}")


if __name__ == "__main__":
    main()
