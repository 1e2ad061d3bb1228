"""Outbound FCM HTTP v1 client (the backend's push edge).

Points at ``FCM_BASE_URL``: Google in production, ``fake_fcm`` in the simulator.
Errors are raised as :class:`PushRejected` with FCM's own ``errorCode`` so the
chat service can act on them (an ``UNREGISTERED`` token is forgotten), never
swallowed.
"""

from __future__ import annotations

from typing import Any

import httpx

from simkit.errors import UpstreamError
from simkit.tls import client_context


class PushRejected(UpstreamError):
    """FCM refused a message; ``code`` is the FcmError ``errorCode`` (or the rpc status)."""


class FcmClient:
    """Sends FCM v1 messages with a bearer token."""

    def __init__(self, base_url: str, project_id: str, access_token: str, timeout: float = 5.0) -> None:
        self.url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._http = httpx.AsyncClient(timeout=timeout, verify=client_context())

    async def send(self, message: dict[str, Any], validate_only: bool = False) -> str:
        """Send one message; returns FCM's message name (``projects/P/messages/ID``)."""
        body: dict[str, Any] = {"message": message}
        if validate_only:
            body["validate_only"] = True
        try:
            response = await self._http.post(self.url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise PushRejected("fcm", 0, "UNREACHABLE", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise rejection(response)
        return message_name(response)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def message_name(response: httpx.Response) -> str:
    """The ``name`` of a 200 answer; anything else is ``BAD_RESPONSE`` (a push error, never a crash)."""
    try:
        name = response.json()["name"]
    except (ValueError, KeyError, TypeError):
        raise PushRejected(
            "fcm", 200, "BAD_RESPONSE", f"answer is not a message name: {response.text[:200]!r}"
        ) from None
    return str(name)


def rejection(response: httpx.Response) -> PushRejected:
    """Turn an FCM v1 error answer (google.rpc.Status) into :class:`PushRejected`."""
    try:
        error = response.json()["error"]
        code = next(
            (d["errorCode"] for d in error.get("details", []) if "errorCode" in d),
            error.get("status", "UNKNOWN"),
        )
        message = error.get("message", "")
    except (ValueError, KeyError, TypeError):
        code, message = "UNKNOWN", response.text[:200]
    return PushRejected("fcm", response.status_code, str(code), str(message))


def chat_push(token: str, title: str, body: str, data: dict[str, str]) -> dict[str, Any]:
    """A high-priority FCM message for a chat event, as the Halo apps expect it."""
    return {
        "token": token,
        "notification": {"title": title, "body": body},
        "data": data,
        "android": {"priority": "high", "ttl": "3600s"},
    }
