"""One load run on Locust used as a library: a local, master or worker runner over the profile's users.

``run`` returns the exit code: 0 every SLO met and every invariant held, 1 otherwise (a worker
returns 0 once its master lets it go).  Headless runs write Locust's CSV and HTML when asked
and print a summary of Halo's latencies; ``web`` serves Locust's UI with its live charts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import gevent
from locust import User
from locust.env import Environment
from locust.runners import STATE_STOPPED
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history

from halo_sim.load import invariants, metrics, report, users
from halo_sim.load.profile import LoadProfile
from halo_sim.load.slo import evaluate
from halo_sim.targets.base import Target
from simkit.errors import TargetError

ACKED_MESSAGE = "halo_acked"
WORKER_WAIT_S = 60.0


@dataclass
class Options:
    """How to run: the role in a distributed run, the outputs, the web UI."""

    role: str = "local"  # local | master | worker
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    expect_workers: int = 1
    csv_prefix: str | None = None
    html: Path | None = None
    web_port: int | None = None
    acked_elsewhere: set[str] = field(default_factory=set)


class Targets:
    """The target of this process: given, or (on a worker) read from the host its master sends."""

    def __init__(self, target: Target | None) -> None:
        self.target = target

    def __call__(self, environment: Any) -> Target:
        if self.target is None:
            from halo_sim.targets.profiles import url_target

            self.target = url_target(str(environment.host))
        return self.target


def run(profile: LoadProfile, target: Target | None, options: Options) -> int:
    """Run the profile; the exit code."""
    _more_sockets()
    classes: list[type[User]] = [users.user_class(profile, Targets(target))]
    env = Environment(user_classes=classes, host=target.base_url if target else None, events=None)
    listen: Any = env.events.test_stopping.add_listener  # on every runner, before it stops the users
    listen(metrics.STOPPING)
    if options.role == "worker":
        return _work(env, options)
    runner: Any = (
        env.create_master_runner(options.master_host, options.master_port)
        if options.role == "master"
        else env.create_local_runner()
    )
    if options.role == "master":
        runner.register_message(ACKED_MESSAGE, lambda environment, msg, **_: options.acked_elsewhere.update(msg.data))
        _await_workers(runner, options.expect_workers)
    return _drive(env, runner, profile, target, options)


def _more_sockets() -> None:
    """Each user holds a socket and HTTP connections: the soft descriptor limit (often 1,024) up to the hard one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _work(env: Environment, options: Options) -> int:
    runner = env.create_worker_runner(options.master_host, options.master_port)
    flush: Any = env.events.test_stop.add_listener  # the acked ids reach the master before this worker's "stopped"
    flush(lambda **_: runner.send_message(ACKED_MESSAGE, cast(Any, sorted(users.ACKED))))
    runner.greenlet.join()
    return 0


def _await_workers(runner: Any, count: int) -> None:
    deadline = time.monotonic() + WORKER_WAIT_S
    while len(runner.clients.ready) < count:
        if time.monotonic() > deadline:
            runner.quit()
            raise TargetError(f"only {len(runner.clients.ready)} of {count} worker(s) connected in {WORKER_WAIT_S:g} s")
        gevent.sleep(0.1)


def _drive(env: Environment, runner: Any, profile: LoadProfile, target: Target | None, options: Options) -> int:
    gevent.spawn(stats_history, runner)
    writer = StatsCSVFileWriter(env, PERCENTILES_TO_REPORT, options.csv_prefix, False) if options.csv_prefix else None
    writing = gevent.spawn(writer.stats_writer) if writer is not None else None
    if options.web_port is not None:
        import sys

        del sys.argv[1:]  # Locust's UI parses the command line as its own on each page; ours is already read
        env.create_web_ui("127.0.0.1", options.web_port)
        url = f"http://127.0.0.1:{options.web_port}"
        print(f"Locust web UI: {url}  (live charts; the run stops after {profile.duration_s:g} s)")
    total = profile.users.customer + profile.users.mitra
    print(f"load: {total} users at {profile.spawn_rate:g}/s for {profile.duration_s:g} s", flush=True)
    runner.start(total, spawn_rate=profile.spawn_rate)
    try:
        gevent.sleep(profile.duration_s)
    except KeyboardInterrupt:
        pass
    print("load: stopping", flush=True)
    runner.stop()
    while runner.state != STATE_STOPPED:
        gevent.sleep(0.1)
    gevent.sleep(0.5)  # the last samples a worker reported with its stop
    code = _judge(env, profile, target, options)
    if writer is not None and writing is not None:
        gevent.sleep(1.2)  # one more pass of the CSV writer with the final figures
        writing.kill()
        writer.close_files()
    if options.html is not None:
        from locust.html import get_html_report

        html: str = cast(Any, get_html_report)(env, show_download_link=False)
        options.html.write_text(html, encoding="utf-8")
    runner.quit()
    return code


def _judge(env: Environment, profile: LoadProfile, target: Target | None, options: Options) -> int:
    verdicts = evaluate(profile.slo, env.stats)
    acked = users.ACKED | options.acked_elsewhere
    broken = _invariants(target, acked)
    report.summary(env.stats, verdicts, broken, len(acked))
    return 0 if all(v.ok for v in verdicts) and not broken else 1


def _invariants(target: Target | None, acked: set[str]) -> list[str] | None:
    """Violations, or None when the target has no state dump to check them on."""
    if target is None or not target.has("state_dump"):
        return None
    return invariants.violations(invariants.fetch_state(target), acked)
