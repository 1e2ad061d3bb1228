"""The OpenAPI 3.1 document of the reference backend, generated from its routes and pydantic models.

Nothing here is written by hand but the prose: each route of the app is looked up
in ``api.OPERATIONS`` (a route without a declaration fails the build), request
bodies and query parameters come from their pydantic models, answers from the
response models and row dataclasses, refusals from ``contract/codes.py``.  The
app serves it at ``/openapi.json``; ``python -m halo_sim.backend.openapi`` prints it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.json_schema import JsonSchemaMode
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from halo_sim.backend.api import OPERATIONS, Auth, Operation
from halo_sim.backend.responses import Answer, ErrorBody
from halo_sim.backend.tables import ROW_TYPES
from halo_sim.contract.codes import BY_CODE

Key = tuple[str, str]
REF = "#/components/schemas/{model}"
SSE = "text/event-stream"
ERROR_REF = {"$ref": REF.format(model="ErrorBody")}

SECURITY_SCHEMES = {
    "customerBearer": {"type": "http", "scheme": "bearer", "description": "token of a customer login"},
    "mitraBearer": {"type": "http", "scheme": "bearer", "description": "token of a mitra login"},
    "testToken": {
        "type": "apiKey",
        "in": "header",
        "name": "x-test-token",
        "description": "HALO_TEST_TOKEN; only checked when the backend was given one",
    },
    "callbackToken": {"type": "apiKey", "in": "header", "name": "x-callback-token"},
}
SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    "none": [],
    "customer": [{"customerBearer": []}],
    "mitra": [{"mitraBearer": []}],
    "bearer": [{"customerBearer": []}, {"mitraBearer": []}],
    "test": [{"testToken": []}],
    "callback": [{"callbackToken": []}],
}


def _events(data: Any, event: str) -> dict[str, Any]:
    """One Server-Sent Event named ``event`` whose ``data`` is JSON of the ``data`` schema."""
    encoded = {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    return {"type": "object", "properties": {"event": {"const": event}, "data": encoded}, "required": ["data"]}


def _content(op: Operation, answer: Any) -> dict[str, Any]:
    """The answer's schema: JSON, events carrying JSON, or a text document (HTML, JS, CSS)."""
    if op.media_type == SSE:
        return {"schema": _events(answer, op.event)}
    return {"schema": answer if answer is not None else {"type": "string"}}


class UndeclaredRoute(LookupError):
    """A route of the app has no entry in ``api.OPERATIONS``."""


def operations_of(routes: Iterable[BaseRoute]) -> list[Key]:
    """Every (METHOD, path) the routes serve over HTTP (HEAD, answered for GET, left out)."""
    keys = [(m, r.path) for r in routes if isinstance(r, Route) for m in sorted(r.methods or ()) if m != "HEAD"]
    missing = [k for k in keys if k not in OPERATIONS]
    if missing:
        raise UndeclaredRoute(f"routes without a declaration in halo_sim/backend/api.py: {missing}")
    return keys


def _schemas(
    types: dict[str, Any], mode: JsonSchemaMode, config: ConfigDict | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One JSON schema per named type (sharing their definitions) and those definitions.

    The types become the fields of one throw-away model, so a row dataclass used by several
    answers is defined once, with the answers' config (closed, every field required).
    """
    fields: dict[str, Any] = {k: (t, ...) for k, t in types.items()}
    model: type[BaseModel] = create_model("Bundle", __config__=config, **fields)
    schema = model.model_json_schema(mode=mode, ref_template=REF)
    found = {k: {n: v for n, v in p.items() if n != "title"} for k, p in schema.get("properties", {}).items()}
    return found, schema.get("$defs", {})


def _rows_complete(defs: dict[str, Any]) -> dict[str, Any]:
    """A row is answered with every column (``dataclasses.asdict``), defaults included: all required."""
    for row in ROW_TYPES.values():
        if row.__name__ in defs:
            defs[row.__name__]["required"] = list(defs[row.__name__]["properties"])
    return defs


def _merge(*defs: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in defs:
        for name, schema in part.items():
            if merged.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are both named {name}")
    return merged


def _error_responses(op: Operation) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in op.codes():
        status = BY_CODE[code].status
        if status is None or status < 400:
            raise ValueError(f"{code} is not an HTTP refusal code")
        by_status.setdefault(status, []).append(code)
    return {
        str(status): {
            "description": ", ".join(codes),
            "content": {
                "application/json": {"schema": {"allOf": [ERROR_REF], "properties": {"error": {"enum": codes}}}}
            },
        }
        for status, codes in sorted(by_status.items())
    }


def _parameters(path: str, query: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)", path)
    ]
    for name, schema in (query or {}).get("properties", {}).items():
        required = name in query.get("required", []) if query else False
        described = {"description": schema["description"]} if "description" in schema else {}
        found.append({"name": name, "in": "query", "required": required, "schema": schema, **described})
    return found


def _operation(key: Key, op: Operation, body: Any, answer: Any) -> dict[str, Any]:
    method, path = key
    content = {op.media_type: _content(op, answer)}
    query = op.query.model_json_schema(ref_template=REF) if op.query else None
    spec: dict[str, Any] = {
        "operationId": re.sub(r"\W+", "_", f"{method.lower()}{path}").strip("_"),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(path, query),
        "responses": {str(s): {"description": op.summary, "content": content} for s in op.status}
        | _error_responses(op),
        "security": SECURITY[op.auth],
    }
    if body is not None:
        spec["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return spec


def document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the app made of ``routes``."""
    keys = operations_of(routes)
    names = {key: f"op{i}" for i, key in enumerate(keys)}
    bodies, body_defs = _schemas({names[k]: OPERATIONS[k].body for k in keys if OPERATIONS[k].body}, "validation")
    answers, answer_defs = _schemas(
        {names[k]: OPERATIONS[k].response for k in keys if OPERATIONS[k].response is not None},
        "serialization",
        Answer.model_config,
    )
    paths: dict[str, dict[str, Any]] = {}
    for key in keys:
        name = names[key]
        paths.setdefault(key[1], {})[key[0].lower()] = _operation(
            key, OPERATIONS[key], bodies.get(name), answers.get(name)
        )
    error = ErrorBody.model_json_schema(ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Halo reference backend",
            "version": "1",
            "description": "Generated from halo_sim/backend/api.py and its pydantic models; "
            "refusal codes as in docs/contract.md. The WebSocket /ws is described there, not here.",
        },
        "paths": paths,
        "components": {
            "schemas": _merge(body_defs, _rows_complete(answer_defs), {"ErrorBody": error}),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


async def serve(request: Request) -> JSONResponse:
    """``GET /openapi.json``: built on first use from the app's own routes, then kept."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = document(request.app.routes)
    return JSONResponse(state.openapi)


if __name__ == "__main__":
    from halo_sim.backend.app import create_app

    print(json.dumps(document(create_app().routes), indent=2))
