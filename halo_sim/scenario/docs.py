"""The reference tables of ``docs/scenarios.md``, generated from the engine's registries.

``python -m halo_sim.scenario.docs`` rewrites the text between marker comments
(``<!-- steps:begin -->`` … ``<!-- steps:end -->`` and likewise ``actions``,
``frames``, ``codes``, ``matchers``) and leaves the prose alone; ``--check`` only
says whether the file is current (``tests/scenario/test_docs.py`` runs it).  So an
author reads, in one page, every step type with its arguments and result shape,
every semantic action, every WebSocket frame a step can wait for and every refusal
code a body can carry — and none of it can drift from the code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from halo_sim.contract import docs as contract_docs
from halo_sim.scenario.steps import REGISTRY, StepType
from halo_sim.targets.routes import DEFAULT_ROUTES

DOC = Path("docs") / "scenarios.md"  # run from the checkout's root
COMMAND = "python -m halo_sim.scenario.docs"
RESULT_PREFIX = "Result:"


def step_title(entry: StepType) -> str:
    """How a scenario spells the step: ``<actor>.expect_frame``, ``fcm.expect_push``, ``parallel``."""
    if entry.scope in ("http", "parallel") or not entry.name:
        return entry.scope
    who = "<actor>" if entry.scope == "actor" else entry.scope
    return f"{who}.{entry.name}"


def docstring_parts(entry: StepType) -> tuple[str, str]:
    """(what the step does, its ``Result:`` line) from the runner's docstring."""
    lines = [line.strip() for line in (inspect.getdoc(entry.run) or "").splitlines()]
    summary = lines[0] if lines else ""
    result = next((line.removeprefix(RESULT_PREFIX).strip() for line in lines if line.startswith(RESULT_PREFIX)), "")
    return summary, result


def missing_results() -> list[str]:
    """Step types whose runner does not document its result (a test keeps this empty)."""
    return [step_title(entry) for entry in REGISTRY.values() if not docstring_parts(entry)[1]]


def argument(name: str, info: FieldInfo) -> str:
    """``name: type`` with its default, or ``name: type`` in bold when required."""
    shown = f"`{name}`: {contract_docs.type_name(info.annotation)}"
    if info.is_required():
        return f"**{shown}**"
    default = info.get_default(call_default_factory=True)
    return shown if default in (None, {}, []) else f"{shown} = {default!r}"


def arguments(entry: StepType) -> str:
    fields = entry.args.model_fields
    return ", ".join(argument(name, info) for name, info in fields.items()) or "—"


def _roles(entry: StepType) -> str:
    return "" if entry.scope != "actor" or len(entry.roles) > 1 else f" ({next(iter(entry.roles))} only)"


def step_table() -> str:
    """Every registered step type: how to write it, arguments (required in bold), what it does, its result."""
    rows = ["| step | arguments | what it does | result |", "|---|---|---|---|"]
    for entry in sorted(REGISTRY.values(), key=step_title):
        summary, result = docstring_parts(entry)
        cells = [f"`{step_title(entry)}`{_roles(entry)}", arguments(entry), summary, result or "—"]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def action_table() -> str:
    """Every key of the default route table: the HTTP call it makes, whose credentials, what it needs."""
    rows = ["| action | request | credentials | needs |", "|---|---|---|---|"]
    for key, route in sorted(DEFAULT_ROUTES.items()):
        sent = f" + {route.fixed}" if route.fixed else ""
        rows.append(
            f"| `{key}` | `{route.method} {route.path}`{_cell(sent)} | {route.auth} | {route.capability or '—'} |"
        )
    return "\n".join(rows)


def matcher_table() -> str:
    """Every ``$`` operator of ``expect`` (from :mod:`halo_sim.scenario.matchers`, when present)."""
    try:
        from halo_sim.scenario import matchers
    except ImportError:
        return "_(no matchers registered)_"
    registry: dict[str, Any] = getattr(matchers, "MATCHERS", {})
    rows = ["| operator | meaning | example |", "|---|---|---|"]
    for name, entry in registry.items():
        meaning = getattr(entry, "doc", "") or (inspect.getdoc(entry) or "").splitlines()[0]
        example = getattr(entry, "example", "")
        rows.append(f"| `{name}` | {_cell(meaning)} | `{_cell(example)}` |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("``", "`")


SECTIONS: contract_docs.Sections = {
    "steps": step_table,
    "actions": action_table,
    "matchers": matcher_table,
    "frames": contract_docs.frame_table,
    "codes": contract_docs.code_table,
}


def is_current(path: Path = DOC) -> bool:
    """True when ``path`` holds the tables the registries generate now."""
    return contract_docs.is_current(path, SECTIONS)


def main(argv: list[str]) -> int:
    """``[--check] [PATH]``: rewrite (or only check) the generated tables of the scenario docs."""
    return contract_docs.main(argv, DOC, SECTIONS, COMMAND)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
