"""The route table: what each semantic action means on the wire.

``customer.request_payment`` is not hard-wired to a path: it is looked up here.
A live target whose backend uses other paths or field names supplies a
different table (same keys), and every scenario keeps working unchanged.

Arguments of an action fill the path's ``{placeholders}`` first; the rest
become the JSON body (POST/PUT/PATCH) or the query string (GET/DELETE).
``fixed`` are always sent; ``rename`` maps our argument names to the target's
field names; ``auth`` says whose credentials go along: the acting user's bearer
token, the target's test token, or nothing.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Literal

Auth = Literal["actor", "test", "none"]


@dataclass(frozen=True)
class Route:
    """One semantic action as an HTTP call."""

    method: str
    path: str
    auth: Auth = "actor"
    fixed: dict[str, Any] = field(default_factory=dict)
    capability: str | None = None
    rename: dict[str, str] = field(default_factory=dict)

    def placeholders(self) -> list[str]:
        """Names used in the path template."""
        return [name for _, name, _, _ in string.Formatter().parse(self.path) if name]

    def build(self, args: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``(path, json body, query)`` for the given arguments."""
        names = self.placeholders()
        missing = [n for n in names if n not in args]
        if missing:
            raise KeyError(f"missing argument(s) {missing} for {self.method} {self.path}")
        path = self.path.format(**{n: args[n] for n in names})
        rest = {self.rename.get(k, k): v for k, v in {**args, **self.fixed}.items() if k not in names}
        if self.method in ("GET", "DELETE"):
            return path, {}, rest
        return path, rest, {}


def _chat(role: str) -> dict[str, Route]:
    return {
        f"{role}.send_message": Route("POST", "/api/chat/sessions/{session_id}/messages"),
        f"{role}.fetch_messages": Route("GET", "/api/chat/sessions/{session_id}/messages"),
        f"{role}.get_session": Route("GET", "/api/chat/sessions/{session_id}"),
        f"{role}.end_session": Route("POST", "/api/chat/sessions/{session_id}/end"),
    }


def _test(name: str, method: str = "POST", path: str | None = None, capability: str = "test_endpoints") -> Route:
    return Route(method, f"/internal/_test/{path or name.replace('_', '-')}", auth="test", capability=capability)


DEFAULT_ROUTES: dict[str, Route] = {
    "customer.request_otp": Route("POST", "/api/customer/auth/otp/request", auth="none"),
    "customer.verify_otp": Route("POST", "/api/customer/auth/otp/verify", auth="none"),
    "customer.login_anonymous": Route("POST", "/api/customer/auth/anonymous", auth="none"),
    "customer.get_profile": Route("GET", "/api/customer/profile"),
    "customer.set_display_name": Route("PUT", "/api/customer/profile"),
    "customer.register_device": Route("POST", "/api/customer/devices"),
    "customer.request_payment": Route("POST", "/api/customer/payments"),
    "customer.get_payment": Route("GET", "/api/customer/payments/{payment_request_id}"),
    "customer.pending_payments": Route("GET", "/api/customer/payments/pending"),
    "customer.chat_request": Route("POST", "/api/customer/chat/request"),
    "customer.retry_pairing": Route("POST", "/api/customer/pairing/retry"),
    "customer.history": Route("GET", "/api/customer/history"),
    "customer.mitra_availability": Route("GET", "/api/customer/mitras/{mitra_id}/availability"),
    "customer.app_config": Route("GET", "/api/config", auth="none"),
    **_chat("customer"),
    "mitra.login": Route("POST", "/api/mitra/auth/login", auth="none"),
    "mitra.request_otp": Route("POST", "/api/mitra/auth/otp/request", auth="none"),
    "mitra.verify_otp": Route("POST", "/api/mitra/auth/otp/verify", auth="none"),
    "mitra.get_profile": Route("GET", "/api/mitra/profile"),
    "mitra.go_online": Route("POST", "/api/mitra/status", fixed={"online": True}),
    "mitra.go_offline": Route("POST", "/api/mitra/status", fixed={"online": False}),
    "mitra.heartbeat": Route("POST", "/api/mitra/heartbeat"),
    "mitra.register_device": Route("POST", "/api/mitra/devices"),
    "mitra.accept_offer": Route("POST", "/api/mitra/offers/{session_id}/accept"),
    "mitra.reject_offer": Route("POST", "/api/mitra/offers/{session_id}/reject"),
    **_chat("mitra"),
    "xendit.webhook": Route("POST", "/api/shared/payment/webhooks/xendit", auth="none"),
    "test.reset_phone": _test("reset_phone"),
    "test.mark_latest_payment_paid": _test("mark_latest_payment_paid"),
    "test.run_reconciliation": _test("run_reconciliation"),
    "test.force_confirm_payment": _test("force_confirm_payment"),
    "test.accept_latest_pending": _test("accept_latest_pending"),
    "test.ws_connection_state": _test("ws_connection_state", "GET"),
    "test.send_chat_message_as_mitra": _test("send_chat_message_as_mitra"),
    "test.send_chat_message_as_customer": _test("send_chat_message_as_customer"),
    "test.send_fcm_chat_message": _test("send_fcm_chat_message"),
    "test.force_pairing_timeout": _test("force_pairing_timeout"),
    "test.force_mitra_offline": _test("force_mitra_offline"),
    "test.force_other_mitra_online": _test("force_other_mitra_online"),
    "test.reset_all_mitras_online": _test("reset_all_mitras_online"),
    "test.mitra_accept_latest": _test("mitra_accept_latest"),
    "test.seed_history_session": _test("seed_history_session"),
    "test.otp": _test("otp", "GET", capability="otp_readable"),
    "test.seed_mitra": _test("seed_mitra", capability="seed_mitra"),
    "test.state": _test("state", "GET", capability="state_dump"),
    "test.advance_clock": _test("advance_clock", path="clock", capability="virtual_clock"),
    "test.connections": _test("connections", "GET", capability="state_dump"),
    # The control center's write (guarded like the _test surface): prices and support handles.
    "test.update_config": Route("PUT", "/api/control-center/config", auth="test", capability="test_endpoints"),
    # The catalogued backend settings (halo_sim/contract/settings.py); the runner restores what a run changed.
    "test.settings": _test("settings", "GET", capability="settings"),
    "test.update_settings": _test("update_settings", "PUT", path="settings", capability="settings"),
}
