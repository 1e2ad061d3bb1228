"""The fakes' control planes, over HTTP: what the control center reads from and asks of fake Xendit and FCM.

The backend does not import the fakes (they run alone, and a live backend has none); it only
knows the URLs a stack advertised.  Every request here is the one a scenario step sends (the
``xendit`` steps post to ``/_fake/invoices/{id}/pay``, ``/_fake/faults``...), so a button and a
step cannot disagree.  A fake's refusal becomes a catalogued refusal of ours: 404 stays
NOT_FOUND, any other 4xx is FAKE_REFUSED with the fake's own words.
"""

from __future__ import annotations

from typing import Any

import httpx

from simkit.errors import Conflict, NotFound

TIMEOUT_S = 10.0


class Fakes:
    """The advertised fake Xendit and fake FCM of one backend (either may be absent)."""

    def __init__(self, advertised: dict[str, str]) -> None:
        self.xendit_url = advertised.get("xendit_url")
        self.fcm_url = advertised.get("fcm_url")

    async def xendit(self, method: str, path: str, body: Any = None) -> Any:
        """One control-plane call to fake Xendit; its JSON answer, or a refusal."""
        return await _call(self.xendit_url, "fake Xendit", method, path, body)

    async def fcm(self, method: str, path: str) -> Any:
        """One control-plane call to fake FCM."""
        return await _call(self.fcm_url, "fake FCM", method, path, None)

    async def read(self) -> dict[str, Any]:
        """Invoices, the callback delivery log and the FCM inbox; empty parts for a fake that is not there.

        Fake Xendit's configuration (which holds the callback token) is not read at all.
        """
        found: dict[str, Any] = {"invoices": [], "callbacks": [], "inbox": [], "faults": {}}
        if self.xendit_url:
            state = await self._quietly(self.xendit("GET", "/_fake/state"))
            found["invoices"] = state.get("invoices", [])
            found["faults"] = state.get("faults", {})
            found["callbacks"] = (await self._quietly(self.xendit("GET", "/_fake/callbacks"))).get("log", [])
        if self.fcm_url:
            found["inbox"] = (await self._quietly(self.fcm("GET", "/_fake/inbox"))).get("messages", [])
        return found

    @staticmethod
    async def _quietly(call: Any) -> dict[str, Any]:
        """A read that fails shows as empty: the page stays up while a fake restarts."""
        try:
            answer = await call
        except Conflict:
            return {}
        return answer if isinstance(answer, dict) else {}


async def _call(base: str | None, name: str, method: str, path: str, body: Any) -> Any:
    if base is None:
        raise Conflict(f"this backend was started without {name} (run halo-sim serve)", code="FAKE_NOT_RUNNING")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, trust_env=False) as client:
            response = await client.request(method, path, json=body)
    except httpx.HTTPError as exc:
        raise Conflict(f"{name} at {base} does not answer: {exc!r}", code="FAKE_NOT_RUNNING") from None
    return _answer(name, response)


def _answer(name: str, response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        data = {"message": response.text[:200]}
    if response.status_code < 400:
        return data
    said = data.get("message") or data.get("error") or data.get("error_code") if isinstance(data, dict) else data
    if response.status_code == 404:
        raise NotFound(f"{name}: {said}")
    raise Conflict(f"{name} refused: {said}", code="FAKE_REFUSED", fake_status=response.status_code)
