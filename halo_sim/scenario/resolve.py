"""Turning a step's ``who.what`` into the plugin or route that performs it.

Done once at load time (so a typo is a file error with a line number) and
again at run time (to find the code to call).

The ``who`` may be a template naming a saved variable whose value is an actor's
name — ``"{{ winner }}.send_message"`` after a ``parallel`` race saved
``winner: winner_actor`` — so the steps after a race continue as whoever won.
:func:`bind_actor` turns such a step into the concrete one at run time; the
loader checks it against every actor the variable can name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halo_sim.scenario.schema import Scenario, Step
from halo_sim.scenario.steps import REGISTRY, StepType
from halo_sim.scenario.template import lookup
from halo_sim.targets.routes import DEFAULT_ROUTES, Route
from simkit.errors import ScenarioError

DYNAMIC_WHO = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*?)\s*\}\}")
WHOLE_KEYS = ("http", "parallel", "repeat")  # step types without a who: the action is the whole key


@dataclass(frozen=True)
class Resolved:
    """What a step runs: a plugin, or a route-table action; as which actor."""

    actor: str | None
    plugin: StepType | None = None
    route_key: str | None = None

    @property
    def capability(self) -> str | None:
        """The capability the step needs from the target, if any."""
        if self.plugin is not None:
            return self.plugin.capability
        route = DEFAULT_ROUTES.get(self.route_key or "")
        return route.capability if route else None


class UnknownStep(ValueError):
    """The step names an actor or action that does not exist."""


def resolve(step: Step, scenario: Scenario, routes: dict[str, Route] | None = None) -> Resolved:
    """The plugin or route behind ``step``; :class:`UnknownStep` explains a miss."""
    table = routes if routes is not None else DEFAULT_ROUTES
    if step.action in WHOLE_KEYS:
        return Resolved(None, plugin=REGISTRY[(step.action, "")])  # type: ignore[index]
    who, what = step.who, step.what
    if who in ("test", "fcm", "xendit"):
        return _harness(who, what, table)
    if who not in scenario.actors:
        known = sorted(scenario.actors) + ["test", "fcm", "xendit", *WHOLE_KEYS]
        raise UnknownStep(f"unknown actor {who!r} in {step.action!r}; expected one of {known}")
    return _for_actor(who, scenario.actors[who].role, what, table)


def _harness(who: str, what: str, table: dict[str, Route]) -> Resolved:
    plugin = REGISTRY.get((who, what))  # type: ignore[arg-type]
    if plugin is not None:
        return Resolved(None, plugin=plugin)
    if f"{who}.{what}" in table:
        return Resolved(None, route_key=f"{who}.{what}")
    raise UnknownStep(
        _unknown(
            who,
            what,
            [n for s, n in REGISTRY if s == who] + [k.split(".", 1)[1] for k in table if k.startswith(f"{who}.")],
        )
    )


def _for_actor(actor: str, role: str, what: str, table: dict[str, Route]) -> Resolved:
    plugin = REGISTRY.get(("actor", what))
    if plugin is not None and role in plugin.roles:
        return Resolved(actor, plugin=plugin)
    if f"{role}.{what}" in table:
        return Resolved(actor, route_key=f"{role}.{what}")
    options = [n for s, n in REGISTRY if s == "actor"] + [k.split(".", 1)[1] for k in table if k.startswith(f"{role}.")]
    raise UnknownStep(_unknown(f"{actor} ({role})", what, options))


def _unknown(who: str, what: str, options: list[str]) -> str:
    close = difflib.get_close_matches(what, options, n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown action {what!r} for {who}{hint} (expected one of: {', '.join(sorted(set(options)))})"


def dynamic_who(step: Step) -> str | None:
    """The variable path of a templated actor (``winner`` of ``"{{ winner }}.send_message"``), else None."""
    match = DYNAMIC_WHO.fullmatch(step.who) if "." in step.action else None
    return match.group(1) if match else None


def as_actor(step: Step, actor: str) -> Step:
    """``step`` performed by ``actor`` (a templated who replaced by a name)."""
    return step.model_copy(update={"action": f"{actor}.{step.what}"})


def bind_actor(
    step: Step, variables: Mapping[str, Any], scenario: Scenario, routes: dict[str, Route] | None = None
) -> Step:
    """The concrete step of a templated who (at run time); any other step unchanged."""
    path = dynamic_who(step)
    if path is None:
        return step
    name = lookup(path, variables)
    if not isinstance(name, str) or name not in scenario.actors:
        hint = " (did no branch of the race win?)" if name is None else ""
        raise ScenarioError(
            f"{step.action}: {{{{ {path} }}}} is {name!r}, not an actor of this scenario "
            f"({', '.join(sorted(scenario.actors))}){hint}"
        )
    bound = as_actor(step, name)
    try:
        resolve(bound, scenario, routes)
    except UnknownStep as exc:
        raise ScenarioError(f"{step.action} as {name}: {exc}") from None
    return bound
