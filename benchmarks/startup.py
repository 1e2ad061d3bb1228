"""CLI start-up (issue 9): one scenario as a whole `halo-sim` process, and where its imports go.

    python benchmarks/startup.py [--scenario ts-customer-05-01] [--runs 5] [--quick]

The wall time of ``halo-sim scenario ID`` (the console script, start-up, embedded stack, scenario, exit)
against ``python -c pass`` on the same interpreter; then the same command under ``python -X importtime``:
the total import time (the sum of the top-level imports' cumulative times), the top-level imports that
cost most, and the self time summed per top-level package (which distributions the time goes to).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import _harness as h

ENTRY = "from halo_sim.cli.app import main; main()"


def wall(cmd: list[str]) -> float:
    """Seconds for ``cmd`` to run to its exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(cmd, cwd=h.ROOT, env=h.child_env(), check=True, capture_output=True)
    return time.perf_counter() - started


def import_rows(args: list[str]) -> list[tuple[int, int, int, str]]:
    """``(depth, self µs, cumulative µs, module)`` of every import the command makes."""
    cmd = [sys.executable, "-X", "importtime", *args]
    run = subprocess.run(cmd, cwd=h.ROOT, env=h.child_env(), check=True, capture_output=True, text=True)
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((depth, int(own), int(cumulative), name.strip()))
    return rows


def total_s(rows: list[tuple[int, int, int, str]]) -> float:
    """Seconds spent importing: the top-level imports' cumulative times."""
    return sum(cumulative for depth, _, cumulative, _ in rows if depth == 0) / 1e6


def summary(rows: list[tuple[int, int, int, str]], top: int = 12) -> str:
    """The costliest top-level imports, and self time per top-level package."""
    heads = sorted((r for r in rows if r[0] == 0), key=lambda r: -r[2])[:top]
    packages: Counter[str] = Counter()
    for _, own, _, name in rows:
        packages[name.split(".")[0]] += own
    lines = ["  top-level imports by cumulative time:"]
    lines += [f"    {cumulative / 1000:7.1f} ms  {name}" for _, _, cumulative, name in heads]
    lines.append("  self time per top-level package:")
    lines += [f"    {own / 1000:7.1f} ms  {name}" for name, own in packages.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = h.arguments(__doc__, runs=5)
    parser.add_argument("--scenario", default="ts-customer-05-01")
    args = parser.parse_args()
    runs = 3 if args.quick else max(3, args.runs)
    cli = shutil.which("halo-sim") or str(Path(sys.executable).with_name("halo-sim"))
    scenario = [cli, "scenario", args.scenario]
    table = h.Table("CLI start-up")
    anchor = [wall([sys.executable, "-c", "pass"]) for _ in range(runs)]
    mine = [wall(scenario) for _ in range(runs)]
    table.add(
        h.Row(f"one scenario as a whole CLI process (halo-sim scenario {args.scenario})", mine, "s", anchor, False)
    )
    imports = [import_rows(["-c", ENTRY, "scenario", args.scenario]) for _ in range(runs)]
    totals = [total_s(rows) for rows in imports]
    bare = [total_s(import_rows(["-c", "pass"])) for _ in range(runs)]
    share = sorted(totals)[len(totals) // 2] / sorted(mine)[len(mine) // 2] * 100
    label = "imports of that process (python -X importtime, anchor: python -c pass)"
    table.add(h.Row(label, totals, "s", bare, False, f"{share:.0f} % of the median wall time"))
    print(summary(imports[-1]))
    table.print()


if __name__ == "__main__":
    main()
