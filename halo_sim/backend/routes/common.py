"""What every route module shares: body parsing, the caller, JSON rendering, errors."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from halo_sim.backend.services.deps import Principal
from simkit.errors import DomainError, Forbidden, NotFound, ValidationFailed

if TYPE_CHECKING:
    from halo_sim.backend.state import ReferenceBackend

M = TypeVar("M", bound=BaseModel)


def backend_of(conn: HTTPConnection) -> ReferenceBackend:
    """The backend object the app was built around."""
    return conn.app.state.backend  # type: ignore[no-any-return]


MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_BYTES = 2048


class TooLarge(DomainError):
    """A request body or query string beyond the edge's limit (read no further than the limit)."""

    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


def parse(model: type[M], raw: Any, what: str = "request body") -> M:
    """Validate ``raw`` against ``model``; failures become a 400 listing each problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()]
        raise ValidationFailed(f"invalid {what}", problems=problems) from None


async def body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model`` (an empty body counts as ``{}``).

    Strict JSON: NaN and Infinity, which :func:`json.loads` accepts, are refused, as is
    nesting deeper than the parser's recursion limit; bodies over ``MAX_BODY_BYTES`` get 413.
    """
    raw = await _read_limited(request)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant) if raw.strip() else {}
    except (ValueError, RecursionError):
        raise ValidationFailed("body is not valid JSON") from None
    return parse(model, data)


def query(request: Request, model: type[M]) -> M:
    """The request's query parameters as ``model``; query strings over ``MAX_QUERY_BYTES`` get 413."""
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        raise TooLarge(f"the query string is longer than {MAX_QUERY_BYTES} bytes")
    return parse(model, dict(request.query_params), "query parameters")


async def _read_limited(request: Request) -> bytes:
    """The body, refused as soon as it (or its declared length) passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> TooLarge:
    return TooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def bearer(conn: HTTPConnection) -> str | None:
    """The bearer token from the Authorization header, or the ``token`` query (WebSockets)."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return conn.query_params.get("token")


def client_ip(conn: HTTPConnection) -> str:
    """The peer's address (what uvicorn reports: behind a trusted local proxy, the forwarded one)."""
    return conn.client.host if conn.client else "unknown"


def caller(conn: HTTPConnection, role: str | None = None) -> Principal:
    """The authenticated caller, optionally required to have ``role``."""
    who = backend_of(conn).auth.authenticate(bearer(conn))
    if role is not None and who.role != role:
        raise Forbidden(f"this endpoint is for {role}s")
    return who


def render(value: Any) -> Any:
    """Rows (dataclasses) and containers of them as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [render(v) for v in value]
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    return value


def ok(value: Any, status: int = 200) -> JSONResponse:
    """A JSON answer."""
    return JSONResponse(render(value), status_code=status)


async def domain_error(_: Request, exc: Exception) -> JSONResponse:
    """Every deliberate refusal as ``{"error", "message", ...}`` with its status code."""
    assert isinstance(exc, DomainError)
    retry = exc.details.get("retry_after_s")
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (no such route, wrong method) as JSON with a code, like every refusal."""
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 405:
        refusal: DomainError = DomainError(
            f"{where}: this path does not take {request.method}", code="METHOD_NOT_ALLOWED"
        )
        refusal.status_code = 405
    else:
        refusal = NotFound(f"no such route: {where}", code="ROUTE_NOT_FOUND")
    return await domain_error(request, refusal)
