"""FCM HTTP v1 errors, rendered exactly as Google answers them.

A client under test (the Halo backend, firebase-admin, Google's own HTTP
libraries) branches on three things of an error response: the HTTP status, the
``google.rpc.Status`` ``status`` string and the ``FcmError`` ``errorCode`` in
``details``.  firebase-admin, for instance, picks ``UnregisteredError`` only
from the ``errorCode`` detail, and retries only on 500/503.  So every error the
fake raises carries all three, and :meth:`FcmError.to_body` renders the v1
shape byte-for-byte compatible with what those clients parse::

    {"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
               "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": "UNREGISTERED"}]}}

Authentication failures are the exception: Google's front end rejects them
before FCM sees the request, so (as on the real service) they carry status
``UNAUTHENTICATED`` and a ``google.rpc.ErrorInfo`` detail, but no FCM
``errorCode``.  ``THIRD_PARTY_AUTH_ERROR`` (also 401) is a different thing: FCM
itself saying APNs or Web Push refused *its* credentials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, get_args

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"

ErrorCode = Literal[
    "INVALID_ARGUMENT",
    "THIRD_PARTY_AUTH_ERROR",
    "SENDER_ID_MISMATCH",
    "UNREGISTERED",
    "QUOTA_EXCEEDED",
    "INTERNAL",
    "UNAVAILABLE",
]
"""The FCM ``errorCode`` values the fake can produce (and faults can inject)."""

ERROR_CODES: tuple[str, ...] = get_args(ErrorCode)

# errorCode -> (HTTP status, google.rpc status, the message Google sends by default)
_CATALOGUE: dict[str, tuple[int, str, str]] = {
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
}

_AUTH_HINT = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class FcmError(Exception):
    """An error answer of the FCM v1 API: HTTP status, rpc status, FCM errorCode, message."""

    def __init__(
        self,
        http_status: int,
        status: str,
        error_code: str | None,
        message: str,
        extra_details: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status = status
        self.error_code = error_code
        self.message = message
        self.extra_details = [dict(detail) for detail in extra_details]

    def details(self) -> list[dict[str, Any]]:
        """The ``details`` array: the FcmError entry first, where firebase-admin looks for it."""
        fcm = [{"@type": FCM_ERROR_TYPE, "errorCode": self.error_code}] if self.error_code else []
        return fcm + self.extra_details

    def to_body(self) -> dict[str, Any]:
        """The google.rpc.Status JSON body of this error."""
        error: dict[str, Any] = {"code": self.http_status, "message": self.message, "status": self.status}
        if details := self.details():
            error["details"] = details
        return {"error": error}


class CataloguedError(FcmError):
    """An FCM error whose status and default message follow from its ``errorCode`` alone."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str | None = None, extra_details: Sequence[Mapping[str, Any]] = ()) -> None:
        http_status, status, default_message = _CATALOGUE[self.code]
        super().__init__(http_status, status, self.code, message or default_message, extra_details)


class InvalidArgument(CataloguedError):
    """400: the request is malformed; ``field`` names the culprit the way Google's BadRequest does."""

    code = "INVALID_ARGUMENT"

    def __init__(self, message: str | None = None, field: str | None = None) -> None:
        violation = {"field": field, "description": message or _CATALOGUE[self.code][2]}
        details = [{"@type": BAD_REQUEST_TYPE, "fieldViolations": [violation]}] if field else []
        super().__init__(message, details)


class ThirdPartyAuthError(CataloguedError):
    """401: APNs or Web Push rejected FCM's credentials for this app."""

    code = "THIRD_PARTY_AUTH_ERROR"


class SenderIdMismatch(CataloguedError):
    """403: the target belongs to another Firebase project than the one in the URL."""

    code = "SENDER_ID_MISMATCH"


class Unregistered(CataloguedError):
    """404: the registration token (or installation) is no longer valid: the app was uninstalled."""

    code = "UNREGISTERED"


class QuotaExceeded(CataloguedError):
    """429: the sender (or the device, or the topic) sends too fast."""

    code = "QUOTA_EXCEEDED"


class Internal(CataloguedError):
    """500: FCM failed; clients are expected to retry with backoff."""

    code = "INTERNAL"


class Unavailable(CataloguedError):
    """503: FCM is overloaded; clients are expected to retry with backoff."""

    code = "UNAVAILABLE"


class Unauthenticated(FcmError):
    """401 from Google's front end: no usable OAuth bearer, so no FCM errorCode either.

    The messages are Google's own (as reported by FCM users); the ``ErrorInfo``
    detail with reason ``CREDENTIALS_MISSING`` accompanies a missing credential.
    An invalid one is answered without details, since its reason varies.
    """

    def __init__(self, missing: bool) -> None:
        if missing:
            lead, details = "Request is missing required authentication credential.", [_MISSING_INFO]
        else:
            lead, details = "Request had invalid authentication credentials.", []
        super().__init__(401, "UNAUTHENTICATED", None, f"{lead} {_AUTH_HINT}", details)


_MISSING_INFO: dict[str, Any] = {
    "@type": ERROR_INFO_TYPE,
    "reason": "CREDENTIALS_MISSING",
    "domain": "googleapis.com",
    "metadata": {"service": "fcm.googleapis.com", "method": "google.firebase.fcm.v1.FcmService.SendMessage"},
}


ERRORS_BY_CODE: dict[str, type[CataloguedError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        ThirdPartyAuthError,
        SenderIdMismatch,
        Unregistered,
        QuotaExceeded,
        Internal,
        Unavailable,
    )
}


def error_for_code(code: str, message: str | None = None) -> FcmError:
    """Build the error an FCM ``errorCode`` stands for (used by injected faults)."""
    try:
        return ERRORS_BY_CODE[code](message)
    except KeyError:
        raise ValueError(f"unknown FCM errorCode {code!r}; known: {', '.join(ERROR_CODES)}") from None
