"""The fakes' control planes, over HTTP: what the control center reads from and asks of fake Xendit and FCM.

The backend does not import the fakes (they run alone, and a live backend has none); it only
knows the URLs a stack advertised.  Every request here is the one a scenario step sends (the
``xendit`` steps post to ``/_fake/invoices/{id}/pay``, ``/_fake/faults``...), so a button and a
step cannot disagree.  A fake's refusal becomes a catalogued refusal of ours: 404 stays
NOT_FOUND, any other 4xx is FAKE_REFUSED with the fake's own words.

Reading costs what the page shows, not the fakes' history (a page stays open for days): the
FCM inbox and the callback log are followed from a cursor (each tick asks for what is new since
the last, at most a :class:`Window` of the newest), and invoices are asked for by id, those of
the payments on the page only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from simkit.errors import Conflict, NotFound
from simkit.tls import client_context

TIMEOUT_S = 10.0
INBOX_WINDOW = 500  # the newest pushes the page keeps (and groups by token)
CALLBACKS_WINDOW = 50  # the newest delivery attempts it keeps

#: One read of a fake's log from a cursor: (origin, cursor after the read, [(position, entry)]).
Read = tuple[object, int, list[tuple[int, dict[str, Any]]]]


class Window:
    """The newest ``size`` entries of one fake's log, kept current by asking only for what is new.

    ``origin`` names the log's life (the fake's URL and its reset generation): when it changes, or
    the cursor runs backwards, the window starts again.  Entries at or before the cursor are never
    taken twice, so two pages reading at once cannot duplicate one.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self.origin: object = None
        self.cursor = 0
        self.bound: dict[str, Any] = {}

    def stale(self, origin: object, cursor: int) -> bool:
        """Whether a read from this window's cursor came from another life of the log."""
        return origin != self.origin or cursor < self.cursor

    def restart(self, origin: object) -> None:
        self.origin, self.cursor = origin, 0
        self.entries.clear()

    def take(self, cursor: int, positioned: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Add one read's entries; answer those new to the window, oldest first."""
        new = [entry for position, entry in positioned if position > self.cursor]
        self.entries.extend(new)
        self.cursor = max(self.cursor, cursor)
        return new

    async def follow(self, fetch: Callable[[int], Awaitable[Read]]) -> list[dict[str, Any]]:
        """Read what is new (``fetch(after)``); from the start again when the log began a new life."""
        asked = self.cursor
        origin, cursor, positioned = await fetch(asked)
        if self.stale(origin, cursor):
            self.restart(origin)
            if asked > 0:  # what came back was cut at a cursor of another life: read that life from its start
                origin, cursor, positioned = await fetch(0)
        return self.take(cursor, positioned)


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

    async def read(self, invoice_ids: list[str], inbox: Window, callbacks: Window) -> dict[str, Any]:
        """The invoices among ``invoice_ids``, the faults, and what is new in the FCM inbox and the
        callback delivery log (the windows keep the newest); empty parts for a fake that is not there.

        Fake Xendit's configuration (which holds the callback token) is not read at all.
        """
        found: dict[str, Any] = {"invoices": [], "callbacks": [], "inbox": [], "faults": {}}
        async with _client() as client:
            if self.xendit_url:
                if invoice_ids:
                    wanted = [("id", i) for i in invoice_ids]
                    invoices = await self._get(client, self.xendit_url, "/_fake/invoices", wanted)
                    found["invoices"] = invoices.get("invoices", [])
                found["faults"] = await self._get(client, self.xendit_url, "/_fake/faults")
                found["callbacks"] = await callbacks.follow(lambda after: self._callbacks(client, callbacks, after))
            if self.fcm_url:
                found["inbox"] = await inbox.follow(lambda after: self._inbox(client, inbox, after))
        return found

    async def _inbox(self, client: httpx.AsyncClient, window: Window, after: int) -> Read:
        """FCM messages numbered after ``after``, the newest ``window.size`` at most."""
        params = {"after": str(after), "limit": str(window.size)}
        answer = await self._get(client, self.fcm_url, "/_fake/inbox", params)
        window.bound = answer.get("bound") or {}
        messages = answer.get("messages", [])
        origin = (self.fcm_url, answer.get("generation"))
        return origin, int(answer.get("last_seq", 0)), [(int(m.get("seq", 0)), m) for m in messages]

    async def _callbacks(self, client: httpx.AsyncClient, window: Window, after: int) -> Read:
        """Delivery attempts logged after position ``after``, the newest ``window.size`` at most."""
        params = {"after": str(after), "limit": str(window.size)}
        answer = await self._get(client, self.xendit_url, "/_fake/callbacks", params)
        window.bound = (answer.get("bound") or {}).get("log", {})
        log, total = answer.get("log", []), int(answer.get("log_total", 0))
        first = total - len(log) + 1
        return (self.xendit_url, answer.get("generation")), total, [(first + i, e) for i, e in enumerate(log)]

    @staticmethod
    async def _get(client: httpx.AsyncClient, base: str | None, path: str, params: Any = None) -> dict[str, Any]:
        """A read that fails shows as empty: the page stays up while a fake restarts."""
        try:
            response = await client.get(f"{base}{path}", params=params)
            answer = response.json() if response.status_code < 400 else {}
        except (httpx.HTTPError, ValueError):
            return {}
        return answer if isinstance(answer, dict) else {}


async def _call(base: str | None, name: str, method: str, path: str, body: Any) -> Any:
    if base is None:
        raise Conflict(f"this backend was started without {name} (run halo-sim serve)", code="FAKE_NOT_RUNNING")
    try:
        async with _client() as client:
            response = await client.request(method, f"{base}{path}", json=body)
    except httpx.HTTPError as exc:
        raise Conflict(f"{name} at {base} does not answer: {exc!r}", code="FAKE_NOT_RUNNING") from None
    return _answer(name, response)


def _client() -> httpx.AsyncClient:
    """A client for one read or action; the TLS context is the process's shared one (building one per
    client would cost more than a tick's reads)."""
    return httpx.AsyncClient(timeout=TIMEOUT_S, trust_env=False, verify=client_context())


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
