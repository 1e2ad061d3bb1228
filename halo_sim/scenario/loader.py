"""Reading scenario files: YAML → validated :class:`~.schema.Scenario`, errors with lines.

Everything that can be checked without running is checked here: YAML syntax,
the schema, that every step names a real actor and action, that a step's
arguments fit its plugin, that route placeholders are given, that templates
only use variables defined earlier (by ``save``) or always present and are
well-formed expressions, that frame steps name frames and fields of the
contract's frame catalogue, and that matchers in ``expect`` and ``match`` are
known operators with fitting operands.  The steps nested in ``parallel`` and
``repeat`` are checked like top-level ones, each at its own line; a step whose
actor is a template (``"{{ winner }}.send_message"``) is checked as every actor
the variable can name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from halo_sim.contract.settings import SETTINGS
from halo_sim.scenario.frame_check import frame_problems
from halo_sim.scenario.matchers import problems_in
from halo_sim.scenario.resolve import UnknownStep, as_actor, dynamic_who, resolve
from halo_sim.scenario.schema import Scenario, Step
from halo_sim.scenario.steps.repeat import INDEX
from halo_sim.scenario.template import TEMPLATE, paths_in, template_problems
from halo_sim.scenario.variables import ALWAYS_DEFINED, unknown_variables
from halo_sim.targets.routes import DEFAULT_ROUTES
from simkit.errors import ScenarioFileError
from simkit.yamlsrc import Located, load_located

# Steps that need the actor's socket, hence its app open.
FRAME_STEPS = ("expect_frame", "expect_frames", "expect_no_frame", "send_frame")
Problem = tuple[int | None, str]
At = tuple[str | int, ...]  # where a step sits in the YAML: ("steps", 3) or ("steps", 3, "repeat", "steps", 0)
NESTING = ("parallel", "repeat")
RACE_KEYS = ("winner_actor", "loser_actors")  # results of a parallel step that name actors


@dataclass
class Known:
    """What the steps before one make available to its templates."""

    names: set[str]
    racers: dict[str, frozenset[str]] = field(default_factory=dict)  # saved from a race: the actors it can name

    def inside(self, step: Step) -> Known:
        """What the steps nested in ``step`` see (a ``repeat`` adds ``{{ i }}``)."""
        extra = {INDEX} if step.action == "repeat" else set()
        return Known(self.names | extra, dict(self.racers))


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
    known = Known(set(ALWAYS_DEFINED) | set(scenario.actors))
    foreground = {name for name, spec in scenario.actors.items() if spec.foreground}
    problems: list[Problem] = []
    for index, step in enumerate(scenario.steps):
        problems += _check_step(scenario, step, index, known, located, ("steps", index))
        problems += _unreachable_waits(scenario, step, index, Scope(foreground, known), located, ("steps", index))
        problems += _frame_problems(step, index, located, ("steps", index))
        problems += _matcher_problems(step, f"steps.{index} ({step.action})", ("steps", index), located)
        _learn(scenario, step, known, located, ("steps", index))
    return problems


def _matcher_problems(step: Step, label: str, at: tuple[str | int, ...], located: Located) -> list[Problem]:
    """Malformed matchers in ``expect`` and in a ``match`` argument (and in ``parallel`` branches), each at its line."""
    sources = [(("expect",), step.expect), ((step.action, "match"), step.args.get("match"))]
    found = [
        (located.line_of((*at, *path)) or step.line, f"{label}: {message}")
        for base, value in sources
        for path, message in problems_in(value, base)
    ]
    raw = step.args.get("steps") if step.action in NESTING else None
    for number, item in enumerate(raw if isinstance(raw, list) else []):
        branch = _branch(item)
        if branch is not None:
            where = f"{label}: branch {number} ({branch.action})"
            found += _matcher_problems(branch, where, (*at, step.action, "steps", number), located)
    return found


def _learn(scenario: Scenario, step: Step, known: Known, located: Located, at: At) -> None:
    """What ``step`` defines for the steps after it: its saves (a repeat's inner ones too), and which
    actors a name saved from a race's ``winner_actor``/``loser_actors`` can be."""
    if step.action == "repeat":
        for inner, inner_at in _nested(step, located, at):
            _learn(scenario, inner, known, located, inner_at)
    known.names |= set(step.save)
    for name, path in step.save.items():
        if step.action == "parallel" and path.split(".")[0] in RACE_KEYS:
            known.racers[name] = frozenset(_racers(scenario, step, known, located, at))
        else:
            known.racers.pop(name, None)


def _racers(scenario: Scenario, step: Step, known: Known, located: Located, at: At) -> set[str]:
    """The actors the branches of a ``parallel`` step run as (a templated branch: whoever it can name)."""
    names: set[str] = set()
    for branch, _ in _nested(step, located, at):
        path = dynamic_who(branch)
        names |= {branch.who} if path is None else set(known.racers.get(path.split(".")[0], scenario.actors))
    return names & set(scenario.actors)


def _nested(step: Step, located: Located, at: At) -> list[tuple[Step, At]]:
    """The well-formed steps of a ``parallel``/``repeat`` step, each with its own line and place."""
    raw = step.args.get("steps") if step.action in NESTING else None
    found = []
    for k, item in enumerate(raw if isinstance(raw, list) else []):
        where = (*at, step.action, "steps", k)
        inner = _branch(_with_line(item, located.line_of(where)))
        if inner is not None:
            found.append((inner, where))
    return found


def _frame_problems(step: Step, index: int, located: Located, at: At) -> list[Problem]:
    """Frame types and fields checked against the contract's frame catalogue, each at its own line."""
    if step.action == "repeat":
        return [p for inner, where in _nested(step, located, at) for p in _frame_problems(inner, index, located, where)]
    return [
        (located.line_of((*at, *path)) or step.line, f"steps.{index} ({step.action}): {message}")
        for path, message in frame_problems(step)
    ]


@dataclass
class Scope:
    """The state the wait check walks the steps with: open apps, and what templated actors can name."""

    foreground: set[str]
    known: Known

    def actors(self, scenario: Scenario, step: Step) -> set[str]:
        """Who ``step`` runs as: its actor, or every racer a templated actor can name (none if unknown)."""
        path = dynamic_who(step)
        if path is None:
            return {step.who} & set(scenario.actors)
        return set(self.known.racers.get(path.split(".")[0], ()))


def _unreachable_waits(
    scenario: Scenario, step: Step, index: int, scope: Scope, located: Located, at: At
) -> list[Problem]:
    """Frame steps of an actor whose app has no socket at that point ("unreachable wait").

    ``foreground`` (the actors whose app is open before ``step``) is updated for the next step:
    ``foreground``/``resume`` open the app, ``background`` closes it.  The branches of a
    ``parallel`` step are checked with the state before it; a branch that opens an app counts
    afterwards (one that closes it does not, to never report a wait that can be reached).
    The steps of a ``repeat`` are checked in order, as they run; a templated actor
    (``"{{ loser }}.expect_frame"``) as each actor of the race it was saved from.
    """
    if step.action == "repeat":
        inner = _nested(step, located, at)
        return [p for s, where in inner for p in _unreachable_waits(scenario, s, index, scope, located, where)]
    branches = [step]
    if step.action == "parallel":
        raw = step.args.get("steps")
        branches = [b for b in (_branch(r) for r in (raw if isinstance(raw, list) else [])) if b is not None]
    problems: list[Problem] = []
    for branch in branches:
        for who in sorted(scope.actors(scenario, branch) - scope.foreground if branch.what in FRAME_STEPS else ()):
            problems.append(
                (
                    branch.line or step.line,
                    f"steps.{index} ({branch.action}): {who}'s app is in the background here (no socket): "
                    f"add {who}.foreground before it",
                )
            )
    for branch in branches:
        if branch.what in ("foreground", "resume"):
            scope.foreground |= scope.actors(scenario, branch)
        elif branch is step and step.what == "background" and dynamic_who(step) is None:
            scope.foreground -= scope.actors(scenario, step)
    return problems


def _branch(raw: Any) -> Step | None:
    try:
        return Step.model_validate(raw)
    except ValidationError:  # reported by the argument check of the parallel step
        return None


def _check_step(scenario: Scenario, step: Step, index: int, known: Known, located: Located, at: At) -> list[Problem]:
    where = f"steps.{index} ({step.action})"
    if dynamic_who(step) is not None:
        return _check_dynamic(scenario, step, index, known, located, at)
    try:
        resolved = resolve(step, scenario)
    except UnknownStep as exc:
        return [(step.line, f"{where}: {exc}")]
    problems: list[Problem] = [
        (step.line, f"{where}: {message}") for message in _template_problems(scenario, step, known)
    ]
    if resolved.plugin is not None:
        wrong = _check_args(step, index, resolved.plugin.args, located, at)
        problems += wrong or _check_nested(scenario, step, index, known, located, at)
    else:
        route = DEFAULT_ROUTES[resolved.route_key or ""]
        missing = [p for p in route.placeholders() if p not in step.args]
        if missing:
            problems.append((step.line, f"{where}: missing argument(s) {missing} for {route.method} {route.path}"))
    return problems


def _template_problems(scenario: Scenario, step: Step, known: Known) -> list[str]:
    """Malformed expressions, and variables no earlier step defines, in a step's own templates
    (the steps a ``parallel``/``repeat`` nests are checked as steps of their own)."""
    own = {k: v for k, v in step.args.items() if not (step.action in NESTING and k == "steps")}
    values = [own, step.expect]
    saved = known.names - set(scenario.actors)
    return template_problems(values) + unknown_variables(paths_in(values), scenario.actors, saved)


def _check_nested(scenario: Scenario, step: Step, index: int, known: Known, located: Located, at: At) -> list[Problem]:
    """Each step of a ``parallel``/``repeat`` step is checked like a step of its own, at its own line.

    A repeat's steps run in order and see ``{{ i }}`` and what the steps before them save;
    a race's branches run at once and see only what was saved before the race.
    """
    inside = known.inside(step)
    problems: list[Problem] = []
    for inner, where in _nested(step, located, at):
        problems += [
            (line or step.line, text) for line, text in _check_step(scenario, inner, index, inside, located, where)
        ]
        if step.action == "repeat":
            _learn(scenario, inner, inside, located, where)
    return problems


def _check_dynamic(scenario: Scenario, step: Step, index: int, known: Known, located: Located, at: At) -> list[Problem]:
    """A templated actor is checked as each actor it can name: a race's racers must all be able to
    do the action; a name saved from anything else can be any actor, one that can suffices."""
    path = dynamic_who(step) or ""
    found = unknown_variables([path], scenario.actors, known.names - set(scenario.actors))
    if found:
        return [(step.line, f"steps.{index} ({step.action}): {message}") for message in found]
    racers = known.racers.get(path.split(".")[0])
    checks = {name: _as(scenario, step, name, index, known, located, at) for name in sorted(racers or scenario.actors)}
    if racers is None and any(not problems for problems in checks.values()):
        return []
    return list(dict.fromkeys(p for problems in checks.values() for p in problems))


def _as(scenario: Scenario, step: Step, name: str, index: int, known: Known, located: Located, at: At) -> list[Problem]:
    """The problems of a templated-actor step performed by ``name``, said as ``({{ winner }}.x as name)``."""
    bound = as_actor(step, name)
    found = _check_step(scenario, bound, index, known, located, at)
    return [(line, text.replace(f"({bound.action})", f"({step.action} as {name})", 1)) for line, text in found]


def _check_args(step: Step, index: int, model: type, located: Located, at: At) -> list[Problem]:
    try:
        model.model_validate(step.args)  # type: ignore[attr-defined]
    except ValidationError as exc:
        return [_arg_problem(step, index, err, located, at) for err in exc.errors() if not _templated(step, err)]
    return []


def _templated(step: Step, err: Any) -> bool:
    """Type errors on a templated argument are judged at run time, when the value is known."""
    value = step.args.get(str(err["loc"][0])) if err["loc"] else None
    return isinstance(value, str) and TEMPLATE.search(value) is not None and err["type"] != "extra_forbidden"


def _arg_problem(step: Step, index: int, err: Any, located: Located, at: At) -> Problem:
    arg = ".".join(str(p) for p in err["loc"])
    line = located.line_of((*at, step.action, *err["loc"])) or step.line
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
