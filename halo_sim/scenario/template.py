"""``{{ name.path }}`` templating of step arguments.

Deliberately small: a template is a dotted path into the run's variables
(captured values, actors such as ``customer.phone``, ``seed``) or a faker call
(``faker.first_name``), seeded per run, or a little arithmetic on them
(``{{ attempts + 1 }}``, ``{{ payment.expires_at + 15m }}``: :mod:`.expression`).
A string that is exactly one template keeps the value's type (``{{ amount }}``
stays an int).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from halo_sim.scenario.expression import TemplateError, evaluate, parse, paths
from simkit.errors import ScenarioError

TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")


class UndefinedVariable(ScenarioError):
    """A template names a variable the run does not have (yet)."""


def lookup(path: str, variables: Mapping[str, Any]) -> Any:
    """Resolve ``a.b.0.c`` against nested mappings, objects and lists."""
    head, *rest = path.split(".")
    if head not in variables:
        known = ", ".join(sorted(variables)) or "none"
        raise UndefinedVariable(f"undefined variable {head!r} in {{{{ {path} }}}} (defined: {known})")
    value = variables[head]
    for part in rest:
        value = step_into(value, part, path)
    return value() if callable(value) else value


def step_into(value: Any, part: str, path: str) -> Any:
    """One step of a dotted path."""
    if isinstance(value, Mapping) and part in value:
        return value[part]
    if isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
        return value[int(part)]
    if not isinstance(value, (Mapping, list)) and hasattr(value, part):
        return getattr(value, part)
    raise UndefinedVariable(f"{path}: no {part!r} in {_preview(value)}")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Substitute templates in strings, recursively through lists and mappings."""
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value.strip())
        if whole:
            return compute(whole.group(1), variables)
        return TEMPLATE.sub(lambda m: str(compute(m.group(1), variables)), value)
    if isinstance(value, Mapping):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def compute(source: str, variables: Mapping[str, Any]) -> Any:
    """The value of one template's expression (the text between the braces)."""
    return evaluate(parse(source), lambda path: lookup(path, variables))


def paths_in(value: Any) -> set[str]:
    """The dotted paths a value's templates use (``customer.fcm_token``), for validation before a run.

    A template that does not parse names no path here; :func:`template_problems` reports it.
    """
    if isinstance(value, str):
        return {path for m in TEMPLATE.finditer(value) for path in _paths_of(m.group(1))}
    if isinstance(value, Mapping):
        return set().union(*(paths_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(paths_in(v) for v in value)) if value else set()
    return set()


def names_in(value: Any) -> set[str]:
    """The root variable names a value's templates use."""
    return {path.split(".")[0] for path in paths_in(value)}


def _paths_of(source: str) -> set[str]:
    try:
        return paths(parse(source))
    except TemplateError:
        return set()


def template_problems(value: Any) -> list[str]:
    """Why each malformed template in ``value`` (recursively) cannot be computed, for validation before a run."""
    if isinstance(value, str):
        return [problem for m in TEMPLATE.finditer(value) if (problem := _problem(m.group(1)))]
    if isinstance(value, Mapping):
        return [p for v in value.values() for p in template_problems(v)]
    if isinstance(value, list):
        return [p for v in value for p in template_problems(v)]
    return []


def _problem(source: str) -> str:
    try:
        parse(source)
    except TemplateError as exc:
        return str(exc)
    return ""
