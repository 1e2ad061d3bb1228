"""Authoring aids: the file ``halo-sim new`` writes, and the JSON Schema editors complete scenarios with.

The template is a whole, passing scenario (a customer pays, a mitra gets the offer,
accepts, both are matched, one message goes over the socket), so a new file starts
green and is edited from there.

The schema starts from the pydantic :class:`~.schema.Scenario` model, but a step
is written in YAML as ``{<who>.<action>: args, name?, expect?, save?}`` (or just
``<who>.<action>``), not as the model's internal ``{action, args}``: the step
definition is rewritten to that shape, with each harness step (``test.*``,
``fcm.*``, ``xendit.*``, ``http``, ``parallel``) named for completion and every
plugin's argument model attached, so editors check arguments as the loader does.
Fields the loader fills (``id``, ``path``, ``line``) are left out.  ``expect`` values are
``$defs/expectation``: a plain value, a list, a mapping without ``$`` keys, or a
``$defs/matcher`` (one property per operator of :data:`~.matchers.MATCHERS`).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from halo_sim.scenario.matchers import MATCHERS
from halo_sim.scenario.schema import STEP_MODIFIERS, Scenario
from halo_sim.scenario.steps import REGISTRY
from halo_sim.targets.routes import DEFAULT_ROUTES

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "halo-sim scenario"
# Where `halo-sim schema --out` is suggested to write, and where new files point (relative to scenarios/NAME.yaml).
SCHEMA_FILE = ".halo-sim/scenario.schema.json"
SCHEMA_REF = f"../{SCHEMA_FILE}"
LOADER_FIELDS = ("id", "path")
ACTION_KEY = r"^(http|parallel|repeat|[^.\s]+\.[^.\s]+|\{\{[^{}]+\}\}\.[^.\s]+)$"  # last: "{{ winner }}.x"
HARNESS = ("test", "fcm", "xendit", "http", "parallel", "repeat")

TEMPLATE = """\
# yaml-language-server: $schema=<schema>
# A halo-sim scenario; the format, every step type and the route table: docs/scenarios.md
# Check it: halo-sim validate <path>     Run it: halo-sim scenario <path>
name: "<id>: TODO what this scenario shows"
description: >
  TODO why it matters: the flow, bug or Maestro test it replays.
tags: [chat]
# People using the apps (docs/scenarios.md, "Actors"); their setup runs before the steps:
# the customer verifies by OTP, the mitra is created and logs in; foreground opens the app's socket.
actors:
  customer: {role: customer, foreground: true}
  mitra: {role: mitra, online: true, foreground: true}
# One `who.action` per step, plus optional name / expect / save (docs/scenarios.md, "Steps").
steps:
  - customer.request_payment: {duration_minutes: 15}
    expect: {status: 201, body: {status: pending}}
    save: {payment_id: body.id}
  - name: the payment is confirmed (test hook; xendit.pay goes through the checkout instead)
    test.force_confirm_payment: {payment_request_id: "{{ payment_id }}"}
  - mitra.expect_frame: {type: pairing_offer}
    save: {session_id: frame.session_id}
  - mitra.accept_offer: {session_id: "{{ session_id }}"}
  - customer.expect_frame: {type: pairing_matched, match: {session_id: "{{ session_id }}"}}
  - customer.send_message: {session_id: "{{ session_id }}", text: "Halo kak"}
    expect: {status: 201, body: {delivered_via: ws}}     # both apps open: over the socket, no push
  - mitra.expect_frame: {type: chat_message, match: {message: {text: "Halo kak", sender_role: customer}}}
"""


def valid_id(name: str) -> bool:
    """Whether ``name`` can be a scenario id (the file name without ``.yaml``)."""
    return ID_PATTERN.fullmatch(name) is not None


def render(scenario_id: str, path: str | None = None, schema_ref: str = SCHEMA_REF) -> str:
    """The template for ``scenario_id`` (``path`` shown in its run hints; default ``scenarios/<id>.yaml``)."""
    if not valid_id(scenario_id):
        raise ValueError(f"{scenario_id!r} is not a scenario id ([a-z0-9][a-z0-9_-]*)")
    return (
        TEMPLATE.replace("<schema>", schema_ref)
        .replace("<path>", path or f"scenarios/{scenario_id}.yaml")
        .replace("<id>", scenario_id)
    )


# --- the JSON Schema ---------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The scenario format as a JSON Schema for editors (YAML completion and checking)."""
    schema = Scenario.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    internal_step = defs["Step"]
    for field in LOADER_FIELDS:
        schema["properties"].pop(field, None)
    if field_list := schema.get("required"):
        schema["required"] = [f for f in field_list if f not in LOADER_FIELDS]
    defs["Step"] = _yaml_step(internal_step, defs)
    defs.update(_expectation_defs())
    rest = {k: v for k, v in schema.items() if k not in ("title", "description")}
    return {
        "$schema": SCHEMA_DRAFT,
        "title": SCHEMA_TITLE,
        "description": "A halo-sim scenario file (docs/scenarios.md); its id is the file name.",
        **rest,
    }


def _yaml_step(internal: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    modifiers = {k: internal["properties"][k] for k in STEP_MODIFIERS if k in internal["properties"] and k != "line"}
    modifiers["expect"] = {
        "type": "object",
        "description": "A subset of the step's result (status, body, frame, push...); values may be matchers",
        "additionalProperties": {"$ref": "#/$defs/expectation"},
    }
    any_args = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    harness: dict[str, Any] = {}
    for (scope, name), step_type in sorted(REGISTRY.items()):
        if scope == "actor":
            continue
        key = scope if not name else f"{scope}.{name}"
        harness[key] = _args_schema(step_type.args, defs, _doc(step_type.run.__doc__))
    for key, route in sorted(DEFAULT_ROUTES.items()):
        if key.split(".", 1)[0] in HARNESS and key not in harness:
            harness[key] = {**any_args, "description": f"{route.method} {route.path}"}
    actor_steps = {
        f"^[^.\\s]+\\.{name}$": _args_schema(t.args, defs, _doc(t.run.__doc__))
        for (scope, name), t in sorted(REGISTRY.items())
        if scope == "actor"
    }
    mapping = {
        "type": "object",
        "description": "One `<who>.<action>` key (an actor's step or route action, test.*, fcm.*, xendit.*, "
        'http, parallel, repeat; the actor may be a template: "{{ winner }}.send_message") '
        "with its arguments, plus optional name, expect and save.",
        "properties": {**modifiers, **harness},
        "patternProperties": {
            ACTION_KEY: {**any_args, "description": "an actor's step or route action (docs/scenarios.md)"},
            **actor_steps,
        },
        "additionalProperties": False,
        "minProperties": 1,
    }
    shorthand = {
        "type": "string",
        "pattern": ACTION_KEY,
        "description": "A step without arguments, e.g. customer.background",
    }
    return {
        "title": "Step",
        "description": "`<who>.<action>: {args}` with optional name, expect and save; or just `<who>.<action>`",
        "anyOf": [shorthand, mapping],
    }


def _expectation_defs() -> dict[str, Any]:
    """``expectation`` (what ``expect`` compares) and ``matcher`` (``{$op: operand}``), from the registry."""
    operators = {
        name: {**copy.deepcopy(dict(m.schema)), "description": f"{m.doc} e.g. {m.example}"}
        for name, m in MATCHERS.items()
    }
    plain = {
        "type": "object",
        "propertyNames": {"not": {"pattern": "^\\$"}},
        "additionalProperties": {"$ref": "#/$defs/expectation"},
    }
    return {
        "expectation": {
            "description": "A value the result must contain: a plain value, a list (item by item), a mapping "
            "(a subset) or a matcher ({$op: operand}; docs/scenarios.md, Matchers)",
            "anyOf": [
                {"$ref": "#/$defs/matcher"},
                plain,
                {"type": "array", "items": {"$ref": "#/$defs/expectation"}},
                {"type": ["string", "number", "integer", "boolean", "null"]},
            ],
        },
        "matcher": {
            "type": "object",
            "description": f"Operators (all must hold): {', '.join(MATCHERS)}",
            "properties": operators,
            "propertyNames": {"pattern": "^\\$"},
            "additionalProperties": False,
            "minProperties": 1,
        },
    }


def _args_schema(model: type, defs: dict[str, Any], description: str) -> dict[str, Any]:
    """A plugin's argument model as a schema (``null`` allowed: ``customer.background:``)."""
    schema = copy.deepcopy(model.model_json_schema())  # type: ignore[attr-defined]
    nested: dict[str, Any] = schema.pop("$defs", {})
    for name, definition in nested.items():
        if name != "Step":  # parallel's branches are steps as written in YAML: the root's Step
            defs.setdefault(name, definition)
    schema.pop("title", None)
    return {"anyOf": [schema, {"type": "null"}], "description": description}


def _doc(text: str | None) -> str:
    return " ".join((text or "").replace("``", "`").split())


__all__ = ["SCHEMA_FILE", "SCHEMA_REF", "TEMPLATE", "json_schema", "render", "valid_id"]
