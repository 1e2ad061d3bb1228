"""Step types as small plugins.

A step type declares where it applies (``actor`` steps run as one of the
scenario's actors, ``test`` and ``fcm`` steps as the harness), its argument
model (validated when the file is loaded, so typos fail before anything runs),
the capability it needs, and a coroutine that performs it and returns a result
for ``expect`` and ``save``.  Semantic HTTP actions need no plugin each: any
key of the route table is a step (:mod:`.route`).

Adding a step type is one decorated function in one of these modules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from halo_sim.scenario.actor import Actor
    from halo_sim.scenario.context import RunContext

Scope = Literal["actor", "test", "fcm", "xendit", "http", "parallel", "repeat"]
Runner = Callable[["RunContext", "Actor | None", Any], Awaitable["StepOutcome"]]


class Args(BaseModel):
    """Base of step argument models: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class StepOutcome:
    """What a step produced: the result ``expect``/``save`` look at, and a line for people."""

    result: dict[str, Any]
    summary: str = ""
    http: bool = False


@dataclass(frozen=True)
class StepType:
    """A registered step type."""

    scope: Scope
    name: str
    args: type[Args]
    run: Runner
    roles: frozenset[str] = frozenset({"customer", "mitra"})
    capability: str | None = None


REGISTRY: dict[tuple[Scope, str], StepType] = {}


def step(
    scope: Scope,
    name: str,
    args: type[Args] = Args,
    roles: tuple[str, ...] = ("customer", "mitra"),
    capability: str | None = None,
) -> Callable[[Runner], Runner]:
    """Register the decorated coroutine as step type ``name`` in ``scope``."""

    def register(run: Runner) -> Runner:
        REGISTRY[(scope, name)] = StepType(scope, name, args, run, frozenset(roles), capability)
        return run

    return register


def _load_plugins() -> None:
    from halo_sim.scenario.steps import fcm, frames, http, lifecycle, login, parallel, repeat, xendit  # noqa: F401


_load_plugins()
