"""Customer history, mitra availability, app config and the control center, over HTTP (one Stack per module)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from halo_sim.stack import Stack

CUSTOMER_PHONE = "+6281234570001"


pytestmark = pytest.mark.usefixtures("fresh")  # tests/backend/conftest.py: reset the Stack per test


# --- helpers -------------------------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refusal(response: httpx.Response) -> tuple[int, Any]:
    """(status, error code): a refusal names its code, so a bare 404 of a deleted route cannot pass for it."""
    return response.status_code, response.json().get("error")


def login_customer(api: httpx.Client, phone: str = CUSTOMER_PHONE, name: str = "Ayu") -> tuple[str, str]:
    """OTP login (the code read from the test surface); returns (token, customer id)."""
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    code = api.get("/internal/_test/otp", params={"phone": phone}).json()["code"]
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert api.put("/api/customer/profile", json={"display_name": name}, headers=auth(token)).status_code == 200
    return token, response.json()["customer"]["id"]


def login_mitra(
    api: httpx.Client, phone: str, name: str = "Rani", online: bool = True, topics: list[str] | None = None
) -> tuple[str, str]:
    """Seed a mitra, log it in and (optionally) switch it online; returns (token, mitra id)."""
    seeded = api.post(
        "/internal/_test/seed-mitra",
        json={"phone": phone, "display_name": name, "password": "pw", "topics": topics or []},
    )
    assert seeded.status_code in (200, 201), seeded.text
    response = api.post("/api/mitra/auth/login", json={"phone": phone, "password": "pw"})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    if online:
        assert api.post("/api/mitra/status", json={"online": True}, headers=auth(token)).status_code == 200
    return token, response.json()["mitra"]["id"]


def pay(api: httpx.Client, customer_token: str, minutes: int = 15, confirm: bool = True) -> str:
    response = api.post("/api/customer/payments", json={"duration_minutes": minutes}, headers=auth(customer_token))
    assert response.status_code == 201, response.text
    payment_id = str(response.json()["id"])
    if confirm:
        confirmed = api.post("/internal/_test/force-confirm-payment", json={"payment_request_id": payment_id})
        assert confirmed.status_code == 200, confirmed.text
    return payment_id


def session_of(api: httpx.Client, customer_token: str, payment_id: str) -> dict[str, Any]:
    """The payment's current attempt (the legacy start is idempotent)."""
    response = api.post(
        "/api/customer/chat/request", json={"payment_request_id": payment_id}, headers=auth(customer_token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def accept(api: httpx.Client, mitra_token: str, session_id: str) -> dict[str, Any]:
    response = api.post(f"/api/mitra/offers/{session_id}/accept", headers=auth(mitra_token))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def seed_history(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/internal/_test/seed-history-session", json={"customer_phone": CUSTOMER_PHONE, **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def history(api: httpx.Client, token: str) -> dict[str, Any]:
    response = api.get("/api/customer/history", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def stats(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/api/control-center/stats")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def now(api: httpx.Client) -> float:
    return float(api.get("/internal/_test/clock").json()["now"])


# --- history -------------------------------------------------------------------------------


def test_history_of_a_new_customer_is_empty_with_has_items_false(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    assert history(api, token) == {"items": [], "has_items": False}


def test_history_has_one_row_per_mitra_with_sessions_count_newest_first_topics_and_presence(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    _, dewi_id = login_mitra(api, "+6281100070002", "Dewi (S.Psi.)", online=True, topics=["percintaan"])
    older = seed_history(api, mitra_display_name="Sari", topics=["karier", "keluarga"], days_ago=3)
    newer = seed_history(api, mitra_phone=older["mitra_phone"], days_ago=1)
    seed_history(api, mitra_phone="+6281100070002", days_ago=2)
    assert newer["mitra_id"] == older["mitra_id"]

    body = history(api, token)
    assert body["has_items"] is True
    t = now(api)
    assert body["items"] == [
        {
            "mitra_id": older["mitra_id"],
            "display_name": "Sari",
            "topics": ["karier", "keluarga"],
            "last_session_at": t - 1 * 86400,
            "sessions_count": 2,
            "mitra_is_online": False,
        },
        {
            "mitra_id": dewi_id,
            "display_name": "Dewi (S.Psi.)",
            "topics": ["percintaan"],
            "last_session_at": t - 2 * 86400,
            "sessions_count": 1,
            "mitra_is_online": True,
        },
    ]


def test_history_mitra_is_online_follows_presence_changes(api: httpx.Client, stack: Stack) -> None:
    token, _ = login_customer(api)
    mitra_token, mitra_id = login_mitra(api, "+6281100070003", "Rani", online=False)
    seed_history(api, mitra_phone="+6281100070003")
    assert history(api, token)["items"][0]["mitra_is_online"] is False
    api.post("/api/mitra/status", json={"online": True}, headers=auth(mitra_token))
    assert history(api, token)["items"][0]["mitra_is_online"] is True
    # heartbeats stop: online no more, although the toggle is still on
    api.post("/internal/_test/clock", json={"seconds": stack.backend.settings.heartbeat_timeout_s + 1})
    assert history(api, token)["items"][0]["mitra_is_online"] is False
    api.post("/api/mitra/heartbeat", headers=auth(mitra_token))
    assert history(api, token)["items"][0]["mitra_is_online"] is True
    api.post("/internal/_test/force-mitra-offline", json={"mitra_id": mitra_id})
    assert history(api, token)["items"][0]["mitra_is_online"] is False


def test_history_counts_a_real_matched_session_but_not_failed_attempts(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    mitra_token, mitra_id = login_mitra(api, "+6281100070004", "Rani")
    failed_payment = pay(api, token)
    api.post("/internal/_test/force-pairing-timeout", json={"payment_request_id": failed_payment})
    assert history(api, token)["has_items"] is False
    matched = accept(api, mitra_token, session_of(api, token, pay(api, token))["id"])
    items = history(api, token)["items"]
    assert [(i["mitra_id"], i["sessions_count"], i["last_session_at"]) for i in items] == [
        (mitra_id, 1, matched["started_at"])
    ]


def test_history_is_per_customer(api: httpx.Client) -> None:
    login_customer(api)
    seed_history(api, mitra_display_name="Sari")
    stranger, _ = login_customer(api, "+6281234570002", "Bunga")
    assert history(api, stranger) == {"items": [], "has_items": False}


def test_history_needs_a_customer_token(api: httpx.Client) -> None:
    assert refusal(api.get("/api/customer/history")) == (401, "UNAUTHORIZED")
    mitra_token, _ = login_mitra(api, "+6281100070005", online=False)
    assert refusal(api.get("/api/customer/history", headers=auth(mitra_token))) == (403, "FORBIDDEN")


# --- availability --------------------------------------------------------------------------


def test_availability_reports_online_busy_and_name(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    mitra_token, mitra_id = login_mitra(api, "+6281100070006", "Dewi (S.Psi.)", online=False)
    url = f"/api/customer/mitras/{mitra_id}/availability"

    offline = api.get(url, headers=auth(token))
    assert offline.status_code == 200
    assert offline.json() == {
        "mitra_id": mitra_id,
        "display_name": "Dewi (S.Psi.)",
        "mitra_is_online": False,
        "busy": False,
    }

    api.post("/api/mitra/status", json={"online": True}, headers=auth(mitra_token))
    assert api.get(url, headers=auth(token)).json()["mitra_is_online"] is True

    other_token, _ = login_customer(api, "+6281234570003", "Bunga")
    accept(api, mitra_token, session_of(api, other_token, pay(api, other_token))["id"])
    busy = api.get(url, headers=auth(token)).json()
    assert (busy["mitra_is_online"], busy["busy"]) == (True, True)


def test_availability_of_an_unknown_mitra_is_404(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    response = api.get("/api/customer/mitras/no-such-mitra/availability", headers=auth(token))
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_availability_is_for_customers_only(api: httpx.Client) -> None:
    mitra_token, mitra_id = login_mitra(api, "+6281100070007", online=False)
    url = f"/api/customer/mitras/{mitra_id}/availability"
    assert refusal(api.get(url)) == (401, "UNAUTHORIZED")
    assert refusal(api.get(url, headers=auth(mitra_token))) == (403, "FORBIDDEN")


# --- config --------------------------------------------------------------------------------


def test_config_has_prices_per_duration_and_support_links(api: httpx.Client, stack: Stack) -> None:
    response = api.get("/api/config")
    assert response.status_code == 200
    config = response.json()
    assert config["prices"] == [
        {"duration_minutes": 15, "amount": 15000},
        {"duration_minutes": 30, "amount": 25000},
        {"duration_minutes": 60, "amount": 45000},
    ]
    settings = stack.backend.settings
    assert config["support"] == {"whatsapp": settings.support_whatsapp, "telegram": settings.support_telegram}
    assert config["support"]["whatsapp"].startswith("https://wa.me/")
    assert config["support"]["telegram"].startswith("https://t.me/")
    assert (config["heartbeat_interval_s"], config["targeted_timeout_s"], config["pairing_timeout_s"]) == (
        30.0,
        20.0,
        300.0,
    )


def test_config_prices_match_what_a_payment_costs(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    for price in api.get("/api/config").json()["prices"]:
        response = api.post(
            "/api/customer/payments", json={"duration_minutes": price["duration_minutes"]}, headers=auth(token)
        )
        assert response.json()["amount"] == price["amount"]


# --- control center ------------------------------------------------------------------------


def test_stats_of_a_fresh_backend_are_zero(api: httpx.Client) -> None:
    figures = stats(api)
    assert (figures["online_mitras"], figures["searching"], figures["active_sessions"], figures["revenue"]) == (
        0,
        0,
        0,
        0,
    )
    assert figures["payments_by_status"] == {
        "pending": 0,
        "confirmed": 0,
        "expired": 0,
        "failed_pairing": 0,
        "consumed": 0,
    }
    assert figures["at"] == now(api)


def test_stats_count_online_mitras_searching_active_sessions_payments_by_status_and_revenue(api: httpx.Client) -> None:
    _, first_mitra = login_mitra(api, "+6281100070008", "Rani")
    second_token, _ = login_mitra(api, "+6281100070009", "Dewi")
    login_mitra(api, "+6281100070010", "Sari", online=False)
    waiting_token, _ = login_customer(api, "+6281234570004", "Ayu")
    matched_token, _ = login_customer(api, "+6281234570005", "Bunga")
    unpaid_token, _ = login_customer(api, "+6281234570006", "Citra")

    pay(api, waiting_token, 30)  # blast offered to both online mitras
    accept(api, second_token, session_of(api, matched_token, pay(api, matched_token, 15))["id"])
    pay(api, unpaid_token, 60, confirm=False)  # never paid

    figures = stats(api)
    assert figures["online_mitras"] == 2
    assert figures["searching"] == 1
    assert figures["active_sessions"] == 1
    assert figures["payments_by_status"] == {
        "pending": 1,
        "confirmed": 1,
        "expired": 0,
        "failed_pairing": 0,
        "consumed": 1,
    }
    assert figures["revenue"] == 25000 + 15000  # paid ones only: the confirmed 30 min and the consumed 15 min

    api.post("/internal/_test/mitra-accept-latest", json={"mitra_id": first_mitra})
    after = stats(api)
    assert (after["searching"], after["active_sessions"]) == (0, 2)
    assert after["payments_by_status"]["consumed"] == 2
    assert after["revenue"] == 40000


def test_stats_count_failed_pairing_payments_as_revenue(api: httpx.Client, stack: Stack) -> None:
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    for attempt in range(stack.backend.settings.max_pairing_attempts):
        if attempt:
            api.post("/api/customer/pairing/retry", json={"payment_request_id": payment_id}, headers=auth(token))
        assert (
            api.post("/internal/_test/force-pairing-timeout", json={"payment_request_id": payment_id}).status_code
            == 200
        )
    figures = stats(api)
    assert figures["payments_by_status"]["failed_pairing"] == 1
    assert figures["searching"] == 0
    assert figures["revenue"] == 15000


def test_stats_stream_answers_text_event_stream_with_exactly_limit_stats_events(api: httpx.Client) -> None:
    login_mitra(api, "+6281100070011", "Rani")
    with api.stream("GET", "/api/control-center/stats/stream", params={"interval": 0.05, "limit": 2}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        text = response.read().decode()
    events = [block for block in text.split("\n\n") if block.strip()]
    assert len(events) == 2
    for block in events:
        lines = block.split("\n")
        assert lines[0] == "event: stats"
        assert lines[1].startswith("data: ")
        data = json.loads(lines[1][len("data: ") :])
        assert set(data) == {"at", "online_mitras", "searching", "active_sessions", "payments_by_status", "revenue"}
        assert data["online_mitras"] == 1


def test_stats_stream_with_a_non_numeric_interval_is_400(api: httpx.Client) -> None:
    response = api.get("/api/control-center/stats/stream", params={"interval": "fast", "limit": 1})
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"
