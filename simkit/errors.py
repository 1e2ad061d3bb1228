"""The one error hierarchy of halo-sim.

Everything halo-sim raises on purpose derives from :class:`HaloSimError`, so a
caller (the CLI, the pytest plugin) can tell "the tool said no, with a reason"
from a genuine bug.  The branches follow who is at fault:

* :class:`DomainError` – a rule of the Halo domain was broken (illegal state
  transition, foreign-key violation, forbidden access); the HTTP layer maps each
  to a status code and a JSON error body.
* :class:`ScenarioError` – a scenario file is malformed (:class:`ScenarioFileError`,
  carrying file and line) or a step could not run.
* :class:`TargetError` – the system under test could not be reached or started.
* :class:`UpstreamError` – an external service (FCM, Xendit) answered with an error.
"""

from __future__ import annotations

from typing import Any


class HaloSimError(Exception):
    """Base of every error halo-sim raises deliberately."""


# --- domain -----------------------------------------------------------------


class DomainError(HaloSimError):
    """A rule of the reference backend refused an operation."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The JSON error body the backend answers with."""
        return {"error": self.code, "message": self.message, **self.details}


class ValidationFailed(DomainError):
    """A request body or parameter does not have the expected shape."""

    code = "VALIDATION_ERROR"


class Unauthorized(DomainError):
    """No valid credentials were presented."""

    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    """Valid credentials, but not for this resource."""

    status_code = 403
    code = "FORBIDDEN"


class NotFound(DomainError):
    """The resource does not exist (or is not visible to the caller)."""

    status_code = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    """The resource is not in a state that allows the operation."""

    status_code = 409
    code = "CONFLICT"


class IllegalTransition(Conflict):
    """A state machine was asked for a transition it does not declare."""

    code = "ILLEGAL_TRANSITION"


class TooManyRequests(DomainError):
    """The caller is blocked for now (e.g. too many wrong OTP codes)."""

    status_code = 429
    code = "TOO_MANY_REQUESTS"


class ForeignKeyViolation(Conflict):
    """Deleting a row still referenced by another one (Postgres SQLSTATE 23503)."""

    code = "FOREIGN_KEY_VIOLATION"
    sqlstate = "23503"


class UniqueViolation(Conflict):
    """Inserting a row whose key already exists (Postgres SQLSTATE 23505)."""

    code = "UNIQUE_VIOLATION"
    sqlstate = "23505"


# --- scenarios ----------------------------------------------------------------


class ScenarioError(HaloSimError):
    """A scenario could not be loaded or run."""


class ScenarioFileError(ScenarioError):
    """A scenario file is malformed; names the file, the line and what was expected.

    ``problems`` holds every ``(line, message)`` found, so one run of
    ``halo-sim validate`` reports them all; ``line`` is the first one's.
    """

    def __init__(
        self, path: str, line: int | None, message: str, more: list[tuple[int | None, str]] | None = None
    ) -> None:
        self.path = path
        self.problems = [(line, message), *(more or [])]
        self.line = line
        self.message = message
        super().__init__("\n".join(f"{path}:{ln}: {msg}" if ln else f"{path}: {msg}" for ln, msg in self.problems))


class StepFailed(ScenarioError):
    """A step's expectation did not hold; ``diff`` lists expected vs actual."""

    def __init__(self, message: str, diff: list[str] | None = None) -> None:
        self.diff = diff or []
        super().__init__(message)

    def __str__(self) -> str:
        return "\n".join([self.args[0], *self.diff])


class CapabilityMissing(ScenarioError):
    """The target lacks a capability the step needs: the scenario is skipped, not passed."""


# --- targets and upstreams ------------------------------------------------------


class TargetError(HaloSimError):
    """The system under test could not be started or reached."""


class ServerStartError(TargetError):
    """An embedded server failed to bind or start."""


class UpstreamError(HaloSimError):
    """An external service (FCM, Xendit) answered with an error."""

    def __init__(self, service: str, status: int, code: str, message: str) -> None:
        self.service = service
        self.status = status
        self.code = code
        super().__init__(f"{service} answered {status} {code}: {message}")
