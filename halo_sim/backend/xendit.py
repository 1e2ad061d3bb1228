"""Outbound Xendit Invoice API client (the backend's payment-provider edge).

Points at ``XENDIT_BASE_URL``: Xendit in production, ``fake_xendit`` in the
simulator.  HTTP Basic with the secret key as username, a timeout on every call,
and Xendit's ``{"error_code", "message"}`` answers raised as
:class:`XenditRejected` so callers can tell a bad key from a missing invoice.
"""

from __future__ import annotations

from typing import Any

import httpx

from simkit.errors import UpstreamError
from simkit.tls import client_context


class XenditRejected(UpstreamError):
    """Xendit refused a call (or could not be reached: code ``UNREACHABLE``)."""


class XenditClient:
    """Creates and reads invoices."""

    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), auth=(secret_key, ""), timeout=timeout, verify=client_context()
        )

    async def create_invoice(
        self, external_id: str, amount: int, description: str, invoice_duration_s: int, **extra: Any
    ) -> dict[str, Any]:
        """``POST /v2/invoices``: the invoice whose ``invoice_url`` the app opens."""
        body = {
            "external_id": external_id,
            "amount": amount,
            "description": description,
            "invoice_duration": invoice_duration_s,
            "currency": "IDR",
            **extra,
        }
        return dict(await self._call("POST", "/v2/invoices", body))

    async def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        """``GET /v2/invoices/{id}``: what reconciliation asks before expiring a payment."""
        return dict(await self._call("GET", f"/v2/invoices/{invoice_id}"))

    async def expire_invoice(self, invoice_id: str) -> dict[str, Any]:
        """``POST /invoices/{id}/expire!``: retract an invoice whose payment could not be stored."""
        return dict(await self._call("POST", f"/invoices/{invoice_id}/expire!"))

    async def list_invoices(self, **filters: Any) -> list[dict[str, Any]]:
        """``GET /v2/invoices`` with Xendit's filters (``external_id``, ``statuses``, ``limit``…)."""
        return list(await self._call("GET", "/v2/invoices", params=filters))

    async def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise XenditRejected("xendit", 0, "UNREACHABLE", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise rejection(response)
        try:
            return response.json()
        except ValueError:
            raise XenditRejected(
                "xendit", response.status_code, "BAD_RESPONSE", f"answer is not JSON: {response.text[:200]!r}"
            ) from None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def rejection(response: httpx.Response) -> XenditRejected:
    """Xendit's error body as an exception (a non-JSON body keeps its text)."""
    try:
        data = response.json()
        code, message = str(data["error_code"]), str(data.get("message", ""))
    except (ValueError, KeyError, TypeError):
        code, message = "UNKNOWN", response.text[:200]
    return XenditRejected("xendit", response.status_code, code, message)
