"""``/openapi.json``: a valid OpenAPI 3.1 document covering every HTTP route the app serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from halo_sim.backend.app import create_app
from halo_sim.backend.openapi import UndeclaredRoute, document
from halo_sim.backend.state import ReferenceBackend
from simkit.server import ServerThread

Serve = Callable[..., tuple[ReferenceBackend, ServerThread]]


def served(serve_backend: Serve, **settings: Any) -> tuple[ReferenceBackend, dict[str, Any]]:
    backend, server = serve_backend(**settings)
    response = httpx.get(server.url + "/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    return backend, response.json()


def http_operations(backend: ReferenceBackend) -> set[tuple[str, str]]:
    app = create_app(backend)
    return {(m.lower(), r.path) for r in app.routes if isinstance(r, Route) for m in r.methods or () if m != "HEAD"}


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item}


def test_the_served_document_is_valid_openapi_3_1(serve_backend: Serve) -> None:
    _, doc = served(serve_backend)
    assert doc["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(doc).validate()


def test_every_http_route_of_the_app_is_in_the_document(serve_backend: Serve) -> None:
    backend, doc = served(serve_backend)
    assert documented(doc) == http_operations(backend)
    assert ("post", "/internal/_test/reset") in documented(doc)


def test_without_the_test_surface_the_document_has_no_test_routes(serve_backend: Serve) -> None:
    backend, doc = served(serve_backend, env="production")
    assert documented(doc) == http_operations(backend)
    assert not [path for path in doc["paths"] if path.startswith("/internal/")]


def test_a_route_without_a_declaration_fails_the_build() -> None:
    async def extra(_: Any) -> PlainTextResponse:
        return PlainTextResponse("")

    routes = [*create_app(ReferenceBackend()).routes, Route("/api/forgotten", extra, methods=["POST"])]
    with pytest.raises(UndeclaredRoute, match="/api/forgotten"):
        document(routes)


def test_the_fuzzed_document_is_the_served_one(serve_backend: Serve) -> None:
    backend, doc = served(serve_backend)
    assert doc == document(create_app(ReferenceBackend()).routes)


def error_codes(doc: dict[str, Any], method: str, path: str, status: int) -> list[str]:
    schema = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return list(schema["properties"]["error"]["enum"])


def test_refusals_are_declared_with_the_codes_the_route_answers(serve_backend: Serve) -> None:
    backend, server = serve_backend()
    doc = httpx.get(server.url + "/openapi.json", timeout=10).json()
    with httpx.Client(base_url=server.url, timeout=10) as api:
        api.post("/internal/_test/seed-mitra", json={"phone": "+6281999000222", "display_name": "B", "password": "pw"})
        token = api.post("/api/mitra/auth/login", json={"phone": "+6281999000222", "password": "pw"}).json()["token"]
        stranger = api.get("/api/customer/profile")
        mitra = api.get("/api/customer/profile", headers={"authorization": f"Bearer {token}"})
    assert stranger.json()["error"] in error_codes(doc, "get", "/api/customer/profile", stranger.status_code)
    assert mitra.json()["error"] in error_codes(doc, "get", "/api/customer/profile", mitra.status_code)
    assert error_codes(doc, "post", "/api/customer/auth/otp/verify", 401) == ["OTP_INVALID"]
    assert error_codes(doc, "post", "/api/customer/auth/otp/verify", 400) == ["VALIDATION_ERROR", "OTP_EXPIRED"]
    assert "401" not in doc["paths"]["/health"]["get"]["responses"]


def test_a_row_answer_is_closed_and_complete(serve_backend: Serve) -> None:
    """Rows are declared with every column required and nothing else allowed, so drift is caught."""
    _, doc = served(serve_backend)
    session = doc["components"]["schemas"]["ChatSession"]
    assert session["additionalProperties"] is False
    assert set(session["required"]) == set(session["properties"]) >= {"id", "status", "ends_at", "end_reason"}
