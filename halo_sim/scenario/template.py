"""``{{ name.path }}`` templating of step arguments.

Deliberately small: a template is a dotted path into the run's variables
(captured values, actors such as ``customer.phone``, ``seed``) or a faker call
(``faker.first_name``), seeded per run.  A string that is exactly one template
keeps the value's type (``{{ amount }}`` stays an int).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from simkit.errors import ScenarioError

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


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
            return lookup(whole.group(1), variables)
        return TEMPLATE.sub(lambda m: str(lookup(m.group(1), variables)), value)
    if isinstance(value, Mapping):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def paths_in(value: Any) -> set[str]:
    """The dotted paths a value's templates use (``customer.fcm_token``), for validation before a run."""
    if isinstance(value, str):
        return {m.group(1) for m in TEMPLATE.finditer(value)}
    if isinstance(value, Mapping):
        return set().union(*(paths_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(paths_in(v) for v in value)) if value else set()
    return set()


def names_in(value: Any) -> set[str]:
    """The root variable names a value's templates use."""
    return {path.split(".")[0] for path in paths_in(value)}
