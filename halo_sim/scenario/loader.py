"""Reading scenario files: YAML → validated :class:`~.schema.Scenario`, errors with lines.

Everything that can be checked without running is checked here: YAML syntax,
the schema, that every step names a real actor and action, that a step's
arguments fit its plugin, that route placeholders are given, that templates
only use variables defined earlier (by ``save``) or always present, that
frame steps name frames and fields of the contract's frame catalogue, and that
matchers in ``expect`` and ``match`` are known operators with fitting operands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from halo_sim.contract.settings import SETTINGS
from halo_sim.scenario.frame_check import frame_problems
from halo_sim.scenario.matchers import problems_in
from halo_sim.scenario.resolve import UnknownStep, resolve
from halo_sim.scenario.schema import Scenario, Step
from halo_sim.scenario.template import TEMPLATE, paths_in
from halo_sim.scenario.variables import ALWAYS_DEFINED, unknown_variables
from halo_sim.targets.routes import DEFAULT_ROUTES
from simkit.errors import ScenarioFileError
from simkit.yamlsrc import Located, load_located

# Steps that need the actor's socket, hence its app open.
FRAME_STEPS = ("expect_frame", "expect_frames", "expect_no_frame", "send_frame")
Problem = tuple[int | None, str]


def load_scenario(path: Path) -> Scenario:
    """Load and fully validate one scenario file, or raise :class:`ScenarioFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    located = _parse(path, text)
    scenario = _validate(path, located)
    problems = _check_steps(scenario, located)
    if problems:
        raise ScenarioFileError(str(path), problems[0][0], problems[0][1], problems[1:])
    return scenario


def _parse(path: Path, text: str) -> Located:
    try:
        located = load_located(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioFileError(
            str(path), mark.line + 1 if mark else None, f"not valid YAML: {exc.problem or exc}"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(str(path), None, f"not valid YAML: {exc}") from None
    if not isinstance(located.data, dict):
        raise ScenarioFileError(str(path), 1, "expected a mapping with name, actors and steps at the top level")
    return located


def _validate(path: Path, located: Located) -> Scenario:
    data: dict[str, Any] = dict(located.data)
    steps = data.get("steps")
    if isinstance(steps, list):
        data["steps"] = [_with_line(s, located.line_of(("steps", i))) for i, s in enumerate(steps)]
    try:
        return Scenario.model_validate({**data, "id": path.stem, "path": str(path)})
    except ValidationError as exc:
        problems = [_pydantic_problem(err, located) for err in exc.errors()]
        raise ScenarioFileError(str(path), problems[0][0], problems[0][1], problems[1:]) from None


def _with_line(raw: Any, line: int | None) -> Any:
    if isinstance(raw, str):
        return {"action": raw, "line": line}
    if isinstance(raw, dict) and "line" not in raw:
        return {**raw, "line": line}
    return raw


def _pydantic_problem(err: Any, located: Located) -> Problem:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
    where = ".".join(str(p) for p in loc) or "scenario"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden" and loc[:1] == ("settings",):
        message = f"unknown setting (known: {', '.join(SETTINGS)})"
    elif err["type"] == "extra_forbidden":
        message = "unknown key (not part of the scenario format)"
    elif err["type"] == "missing":
        message = "required key is missing"
    return located.line_of(loc), f"{where}: {message}"


def _check_steps(scenario: Scenario, located: Located) -> list[Problem]:
    defined = set(ALWAYS_DEFINED) | set(scenario.actors)
    foreground = {name for name, spec in scenario.actors.items() if spec.foreground}
    problems: list[Problem] = []
    for index, step in enumerate(scenario.steps):
        problems += _check_step(scenario, step, index, defined, located)
        problems += _unreachable_waits(scenario, step, index, foreground)
        problems += _frame_problems(step, index, located)
        problems += _matcher_problems(step, f"steps.{index} ({step.action})", ("steps", index), located)
        defined |= set(step.save)
    return problems


def _matcher_problems(step: Step, label: str, at: tuple[str | int, ...], located: Located) -> list[Problem]:
    """Malformed matchers in ``expect`` and in a ``match`` argument (and in ``parallel`` branches), each at its line."""
    sources = [(("expect",), step.expect), ((step.action, "match"), step.args.get("match"))]
    found = [
        (located.line_of((*at, *path)) or step.line, f"{label}: {message}")
        for base, value in sources
        for path, message in problems_in(value, base)
    ]
    raw = step.args.get("steps") if step.action == "parallel" else None
    for number, item in enumerate(raw if isinstance(raw, list) else []):
        branch = _branch(item)
        if branch is not None:
            where = f"{label}: branch {number} ({branch.action})"
            found += _matcher_problems(branch, where, (*at, step.action, "steps", number), located)
    return found


def _frame_problems(step: Step, index: int, located: Located) -> list[Problem]:
    """Frame types and fields checked against the contract's frame catalogue, each at its own line."""
    return [
        (located.line_of(("steps", index, *path)) or step.line, f"steps.{index} ({step.action}): {message}")
        for path, message in frame_problems(step)
    ]


def _unreachable_waits(scenario: Scenario, step: Step, index: int, foreground: set[str]) -> list[Problem]:
    """Frame steps of an actor whose app has no socket at that point ("unreachable wait").

    ``foreground`` (the actors whose app is open before ``step``) is updated for the next step:
    ``foreground``/``resume`` open the app, ``background`` closes it.  The branches of a
    ``parallel`` step are checked with the state before it; a branch that opens an app counts
    afterwards (one that closes it does not, to never report a wait that can be reached).
    """
    branches = [step]
    if step.action == "parallel":
        raw = step.args.get("steps")
        branches = [b for b in (_branch(r) for r in (raw if isinstance(raw, list) else [])) if b is not None]
    problems: list[Problem] = []
    for branch in branches:
        who, what = branch.who, branch.what
        if who in scenario.actors and what in FRAME_STEPS and who not in foreground:
            problems.append(
                (
                    branch.line or step.line,
                    f"steps.{index} ({branch.action}): {who}'s app is in the background here (no socket): "
                    f"add {who}.foreground before it",
                )
            )
    for branch in branches:
        if branch.who in scenario.actors and branch.what in ("foreground", "resume"):
            foreground.add(branch.who)
        elif branch is step and step.who in scenario.actors and step.what == "background":
            foreground.discard(step.who)
    return problems


def _branch(raw: Any) -> Step | None:
    try:
        return Step.model_validate(raw)
    except ValidationError:  # reported by the argument check of the parallel step
        return None


def _check_step(scenario: Scenario, step: Step, index: int, defined: set[str], located: Located) -> list[Problem]:
    where = f"steps.{index} ({step.action})"
    try:
        resolved = resolve(step, scenario)
    except UnknownStep as exc:
        return [(step.line, f"{where}: {exc}")]
    saved = defined - set(scenario.actors)
    found = unknown_variables(paths_in([step.args, step.expect]), scenario.actors, saved)
    problems: list[Problem] = [(step.line, f"{where}: {message}") for message in found]
    if resolved.plugin is not None:
        problems += _check_args(step, index, resolved.plugin.args, located)
        if step.action == "parallel" and not problems:
            problems += _check_branches(scenario, step, index, defined, located)
    else:
        route = DEFAULT_ROUTES[resolved.route_key or ""]
        missing = [p for p in route.placeholders() if p not in step.args]
        if missing:
            problems.append((step.line, f"{where}: missing argument(s) {missing} for {route.method} {route.path}"))
    return problems


def _check_branches(scenario: Scenario, step: Step, index: int, defined: set[str], located: Located) -> list[Problem]:
    """Each branch of a ``parallel`` step is checked like a step of its own (at the parent's line)."""
    branches = [Step.model_validate(raw) for raw in step.args.get("steps", [])]
    found = [p for branch in branches for p in _check_step(scenario, branch, index, defined, located)]
    return [(line or step.line, message) for line, message in found]


def _check_args(step: Step, index: int, model: type, located: Located) -> list[Problem]:
    try:
        model.model_validate(step.args)  # type: ignore[attr-defined]
    except ValidationError as exc:
        return [_arg_problem(step, index, err, located) for err in exc.errors() if not _templated(step, err)]
    return []


def _templated(step: Step, err: Any) -> bool:
    """Type errors on a templated argument are judged at run time, when the value is known."""
    value = step.args.get(str(err["loc"][0])) if err["loc"] else None
    return isinstance(value, str) and TEMPLATE.search(value) is not None and err["type"] != "extra_forbidden"


def _arg_problem(step: Step, index: int, err: Any, located: Located) -> Problem:
    arg = ".".join(str(p) for p in err["loc"])
    line = located.line_of(("steps", index, step.action, *err["loc"])) or step.line
    kind = {"extra_forbidden": "unknown argument", "missing": "required argument is missing"}.get(
        err["type"], err["msg"]
    )
    return line, f"steps.{index} ({step.action}): {arg}: {kind}"


def discover(folder: Path) -> list[Path]:
    """Scenario files of a folder, sorted by id."""
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def default_scenarios_dir(start: Path | None = None) -> Path | None:
    """``scenarios/`` of the nearest enclosing checkout (or the current folder's)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "scenarios").is_dir():
            return folder / "scenarios"
    return None


def find_scenario(ref: str, folder: Path | None) -> Path:
    """A scenario by path or by id (file name without ``.yaml``) in ``folder``."""
    direct = Path(ref)
    if direct.suffix in (".yaml", ".yml") or direct.is_file():
        return direct
    if folder is not None:
        for suffix in (".yaml", ".yml"):
            if (folder / f"{ref}{suffix}").is_file():
                return folder / f"{ref}{suffix}"
    if folder is None:
        raise ScenarioFileError(
            ref,
            None,
            "no scenarios/ folder here or in any parent folder; "
            "run from a halo-sim checkout, pass --scenarios-dir, or give a file path",
        )
    known = ", ".join(p.stem for p in discover(folder))
    raise ScenarioFileError(ref, None, f"no scenario with this id or path in {folder} (known: {known})")
