"""The ``/internal/_test/*`` hooks of the Halo team's flows, over HTTP (one Stack per module)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from halo_sim.backend.state import ReferenceBackend
from simkit.server import ServerThread

T = "/internal/_test"
CUSTOMER_PHONE = "+6281234580001"
TEST_TOKEN = "s3cret-token"


# --- fixtures (stack, api, fresh: tests/backend/conftest.py) --------------------------------


@pytest.fixture(scope="module")
def guarded(serve_backend: Callable[..., tuple[ReferenceBackend, ServerThread]]) -> tuple[ReferenceBackend, str]:
    """A bare backend (no fixtures) whose test surface needs x-test-token."""
    backend, server = serve_backend(env="test", test_token=TEST_TOKEN)
    return backend, server.url


@pytest.fixture
def guarded_api(guarded: tuple[ReferenceBackend, str]) -> Iterator[httpx.Client]:
    backend, url = guarded
    backend.reset()
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client


# --- helpers -------------------------------------------------------------------------------


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_customer(api: httpx.Client, phone: str = CUSTOMER_PHONE, name: str = "Ayu") -> tuple[str, str]:
    assert api.post("/api/customer/auth/otp/request", json={"phone": phone}).status_code == 200
    code = api.get(f"{T}/otp", params={"phone": phone}).json()["code"]
    response = api.post("/api/customer/auth/otp/verify", json={"phone": phone, "code": code})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert api.put("/api/customer/profile", json={"display_name": name}, headers=auth(token)).status_code == 200
    return token, response.json()["customer"]["id"]


def login_mitra(api: httpx.Client, phone: str, name: str = "Rani", online: bool = True) -> tuple[str, str]:
    seeded = api.post(f"{T}/seed-mitra", json={"phone": phone, "display_name": name, "password": "pw"})
    assert seeded.status_code in (200, 201), seeded.text
    response = api.post("/api/mitra/auth/login", json={"phone": phone, "password": "pw"})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    if online:
        assert api.post("/api/mitra/status", json={"online": True}, headers=auth(token)).status_code == 200
    return token, response.json()["mitra"]["id"]


def pay(api: httpx.Client, customer_token: str, targeted: str | None = None) -> str:
    body: dict[str, Any] = {"duration_minutes": 15}
    if targeted:
        body["targeted_mitra_id"] = targeted
    response = api.post("/api/customer/payments", json=body, headers=auth(customer_token))
    assert response.status_code == 201, response.text
    payment_id = str(response.json()["id"])
    confirmed = api.post(f"{T}/force-confirm-payment", json={"payment_request_id": payment_id})
    assert confirmed.status_code == 200, confirmed.text
    return payment_id


def tables(api: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    return api.get(f"{T}/state").json()["tables"]  # type: ignore[no-any-return]


def sessions_of(api: httpx.Client, payment_id: str) -> list[dict[str, Any]]:
    return [s for s in tables(api)["chat_sessions"] if s["payment_request_id"] == payment_id]


def mitra_online(api: httpx.Client, mitra_token: str) -> bool:
    return bool(api.get("/api/mitra/profile", headers=auth(mitra_token)).json()["is_online"])


def force_timeout(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post(f"{T}/force-pairing-timeout", json=body)


# --- force-pairing-timeout -----------------------------------------------------------------


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_fails_a_blast_still_searching_with_pairing_failed(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    assert sessions_of(api, payment_id)[0]["status"] == "searching"  # no mitra online
    response = force_timeout(api, phone=CUSTOMER_PHONE)
    assert response.status_code == 200, response.text
    failed = response.json()
    assert (failed["payment_request_id"], failed["status"], failed["failure_reason"], failed["mode"]) == (
        payment_id,
        "failed",
        "PAIRING_FAILED",
        "blast",
    )
    payment = api.get(f"/api/customer/payments/{payment_id}", headers=auth(token)).json()
    assert payment["status"] == "confirmed"  # the first failure is retryable


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_fails_a_blast_pending_acceptance_and_later_accepts_are_closed(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    mitra_token, mitra_id = login_mitra(api, "+6281100080001")
    payment_id = pay(api, token)
    session = sessions_of(api, payment_id)[0]
    assert (session["status"], session["offered_mitra_ids"]) == ("pending_acceptance", [mitra_id])
    response = force_timeout(api, payment_request_id=payment_id)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["status"], response.json()["failure_reason"]) == (
        session["id"],
        "failed",
        "PAIRING_FAILED",
    )
    late = api.post(f"/api/mitra/offers/{session['id']}/accept", headers=auth(mitra_token))
    assert (late.status_code, late.json()["error"]) == (409, "CLOSED")


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_fails_a_targeted_wait_with_returning_chat_timeout(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    _, mitra_id = login_mitra(api, "+6281100080002")
    payment_id = pay(api, token, targeted=mitra_id)
    session = sessions_of(api, payment_id)[0]
    assert (session["mode"], session["status"], session["offered_mitra_ids"]) == (
        "targeted",
        "pending_acceptance",
        [mitra_id],
    )
    response = force_timeout(api, phone=CUSTOMER_PHONE)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["failure_reason"], response.json()["mode"]) == (
        "failed",
        "RETURNING_CHAT_TIMEOUT",
        "targeted",
    )


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_by_phone_with_nothing_in_flight_is_404_no_pairing_in_flight(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    nothing = force_timeout(api, phone=CUSTOMER_PHONE)
    assert (nothing.status_code, nothing.json()["error"]) == (404, "NO_PAIRING_IN_FLIGHT")
    pay(api, token)
    assert force_timeout(api, phone=CUSTOMER_PHONE).status_code == 200
    again = force_timeout(api, phone=CUSTOMER_PHONE)  # the attempt already failed
    assert (again.status_code, again.json()["error"]) == (404, "NO_PAIRING_IN_FLIGHT")


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_after_a_match_is_refused_no_pairing_in_flight(api: httpx.Client) -> None:
    token, _ = login_customer(api)
    _, mitra_id = login_mitra(api, "+6281100080003")
    pay(api, token)
    assert api.post(f"{T}/mitra-accept-latest", json={"mitra_id": mitra_id}).status_code == 200
    response = force_timeout(api, phone=CUSTOMER_PHONE)
    assert (response.status_code, response.json()["error"]) == (404, "NO_PAIRING_IN_FLIGHT")


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_by_payment_id_with_nothing_in_flight_is_404_no_pairing_in_flight(
    api: httpx.Client,
) -> None:
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    assert force_timeout(api, payment_request_id=payment_id).status_code == 200
    again = force_timeout(api, payment_request_id=payment_id)
    assert (again.status_code, again.json()["error"]) == (404, "NO_PAIRING_IN_FLIGHT")


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_by_payment_id_fails_that_payments_attempt_not_the_customers_newest(
    api: httpx.Client,
) -> None:
    token, _ = login_customer(api)
    older = pay(api, token)
    newer = pay(api, token)
    response = force_timeout(api, payment_request_id=older)
    assert response.status_code == 200, response.text
    assert response.json()["payment_request_id"] == older
    assert sessions_of(api, older)[0]["status"] == "failed"
    assert sessions_of(api, newer)[0]["status"] == "searching"


@pytest.mark.usefixtures("fresh")
def test_force_pairing_timeout_without_payment_or_phone_is_400(api: httpx.Client) -> None:
    response = force_timeout(api)
    assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")


# --- presence hooks ------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("by", ["mitra_id", "mitra_phone"])
def test_force_mitra_offline_takes_the_mitra_out_of_the_next_blast(api: httpx.Client, by: str) -> None:
    phone = "+6281100080004"
    mitra_token, mitra_id = login_mitra(api, phone)
    _, other_id = login_mitra(api, "+6281100080005", "Dewi")
    assert mitra_online(api, mitra_token)
    response = api.post(f"{T}/force-mitra-offline", json={by: mitra_id if by == "mitra_id" else phone})
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["online"]) == (mitra_id, False)
    assert not mitra_online(api, mitra_token)
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    assert sessions_of(api, payment_id)[0]["offered_mitra_ids"] == [other_id]


@pytest.mark.usefixtures("fresh")
def test_force_mitra_offline_without_a_mitra_is_400(api: httpx.Client) -> None:
    response = api.post(f"{T}/force-mitra-offline", json={})
    assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("by", ["exclude_mitra_id", "exclude_mitra_phone"])
def test_force_other_mitra_online_picks_another_mitra_and_offers_it_the_searching_blast(
    api: httpx.Client, by: str
) -> None:
    excluded_phone = "+6281100080006"
    excluded_token, excluded_id = login_mitra(api, excluded_phone, "Bestie Lama", online=False)
    login_mitra(api, "+6281100080007", "Bestie Baru", online=False)
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    assert sessions_of(api, payment_id)[0]["status"] == "searching"

    exclude = excluded_id if by == "exclude_mitra_id" else excluded_phone
    response = api.post(f"{T}/force-other-mitra-online", json={by: exclude})
    assert response.status_code == 200, response.text
    picked = response.json()["id"]
    assert picked != excluded_id
    expected = next(m["id"] for m in tables(api)["mitras"] if m["id"] != excluded_id)  # the first other free one
    assert picked == expected
    session = sessions_of(api, payment_id)[0]
    assert (session["status"], session["offered_mitra_ids"]) == ("pending_acceptance", [picked])
    assert not mitra_online(api, excluded_token)
    assert next(m for m in tables(api)["mitras"] if m["id"] == picked)["online"] is True


def test_force_other_mitra_online_with_no_other_free_mitra_is_404(guarded_api: httpx.Client) -> None:
    """On a backend without fixtures: the only other mitra is busy in a session."""
    headers = {"x-test-token": TEST_TOKEN}
    api = guarded_api
    for phone, name in (("+6281100080008", "Lama"), ("+6281100080009", "Sibuk")):
        assert (
            api.post(
                f"{T}/seed-mitra", json={"phone": phone, "display_name": name, "password": "pw"}, headers=headers
            ).status_code
            == 201
        )
    busy_token = api.post("/api/mitra/auth/login", json={"phone": "+6281100080009", "password": "pw"}).json()["token"]
    api.post("/api/mitra/status", json={"online": True}, headers=auth(busy_token))
    customer = api.post("/api/customer/auth/anonymous").json()["token"]
    payment_id = api.post("/api/customer/payments", json={"duration_minutes": 15}, headers=auth(customer)).json()["id"]
    api.post(f"{T}/force-confirm-payment", json={"payment_request_id": payment_id}, headers=headers)
    assert (
        api.post(f"{T}/mitra-accept-latest", json={"mitra_phone": "+6281100080009"}, headers=headers).status_code == 200
    )
    response = api.post(
        f"{T}/force-other-mitra-online", json={"exclude_mitra_phone": "+6281100080008"}, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (404, "NO_OTHER_MITRA")


@pytest.mark.usefixtures("fresh")
def test_reset_all_mitras_online_puts_every_mitra_online_and_offers_them_the_searching_blast(api: httpx.Client) -> None:
    tokens = [login_mitra(api, f"+628110008001{i}", f"Bestie {i}", online=False)[0] for i in range(3)]
    token, _ = login_customer(api)
    payment_id = pay(api, token)
    assert sessions_of(api, payment_id)[0]["offered_mitra_ids"] == []
    response = api.post(f"{T}/reset-all-mitras-online", json={})
    assert response.status_code == 200, response.text
    every = [m["id"] for m in tables(api)["mitras"]]
    assert response.json() == {"online": every}
    assert all(mitra_online(api, t) for t in tokens)
    session = sessions_of(api, payment_id)[0]
    assert (session["status"], session["offered_mitra_ids"]) == ("pending_acceptance", every)


# --- mitra-accept-latest -------------------------------------------------------------------


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("by", ["mitra_id", "mitra_phone"])
def test_mitra_accept_latest_accepts_the_newest_offer_made_to_that_mitra(api: httpx.Client, by: str) -> None:
    phone = "+6281100080020"
    _, mitra_id = login_mitra(api, phone)
    first_token, _ = login_customer(api, "+6281234580002", "Ayu")
    second_token, second_id = login_customer(api, "+6281234580003", "Bunga")
    older = pay(api, first_token)
    newer = pay(api, second_token)
    response = api.post(f"{T}/mitra-accept-latest", json={by: mitra_id if by == "mitra_id" else phone})
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert (accepted["payment_request_id"], accepted["customer_id"]) == (newer, second_id)
    assert (accepted["status"], accepted["mitra_id"]) == ("active", mitra_id)
    assert sessions_of(api, older)[0]["status"] == "pending_acceptance"


@pytest.mark.usefixtures("fresh")
def test_mitra_accept_latest_skips_offers_the_mitra_declined(api: httpx.Client) -> None:
    mitra_token, mitra_id = login_mitra(api, "+6281100080021")
    login_mitra(api, "+6281100080022", "Dewi")
    first_token, _ = login_customer(api, "+6281234580002", "Ayu")
    second_token, _ = login_customer(api, "+6281234580003", "Bunga")
    older = pay(api, first_token)
    newer = pay(api, second_token)
    declined = sessions_of(api, newer)[0]["id"]
    assert api.post(f"/api/mitra/offers/{declined}/reject", headers=auth(mitra_token)).status_code == 200
    response = api.post(f"{T}/mitra-accept-latest", json={"mitra_id": mitra_id})
    assert response.status_code == 200, response.text
    assert response.json()["payment_request_id"] == older


@pytest.mark.usefixtures("fresh")
def test_mitra_accept_latest_with_no_offer_for_that_mitra_is_404_no_pending_offer(api: httpx.Client) -> None:
    _, offered = login_mitra(api, "+6281100080023")
    token, _ = login_customer(api)
    pay(api, token)
    _, late = login_mitra(api, "+6281100080024", "Telat", online=False)
    response = api.post(f"{T}/mitra-accept-latest", json={"mitra_id": late})
    assert (response.status_code, response.json()["error"]) == (404, "NO_PENDING_OFFER")
    assert offered != late


@pytest.mark.usefixtures("fresh")
def test_mitra_accept_latest_without_a_mitra_is_400(api: httpx.Client) -> None:
    response = api.post(f"{T}/mitra-accept-latest", json={})
    assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")


# --- seed-history-session --------------------------------------------------------------------


REGEX_SPECIAL_NAMES = ["Dewi (S.Psi.)", "a+b*c?", "[x]{2}^$|\\", "Rani."]


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("name", REGEX_SPECIAL_NAMES)
def test_seed_history_session_answers_mitra_name_re_matching_the_name_literally(api: httpx.Client, name: str) -> None:
    token, _ = login_customer(api)
    response = api.post(
        f"{T}/seed-history-session",
        json={"customer_phone": CUSTOMER_PHONE, "mitra_display_name": name, "topics": ["karier"]},
    )
    assert response.status_code == 201, response.text
    seeded = response.json()
    assert seeded["MITRA_NAME"] == name
    assert seeded["MITRA_NAME_RE"] == re.sub(r"[.*+?^${}()|\[\]\\]", lambda m: "\\" + m.group(0), name)
    assert re.fullmatch(seeded["MITRA_NAME_RE"], name)
    assert not re.fullmatch(seeded["MITRA_NAME_RE"], name + "x")
    items = api.get("/api/customer/history", headers=auth(token)).json()["items"]
    assert [(i["mitra_id"], i["display_name"]) for i in items] == [(seeded["mitra_id"], name)]


@pytest.mark.usefixtures("fresh")
def test_seed_history_session_with_an_existing_mitra_phone_reuses_that_mitra(api: httpx.Client) -> None:
    login_customer(api)
    _, mitra_id = login_mitra(api, "+6281100080030", "Dewi (S.Psi.)", online=False)
    response = api.post(
        f"{T}/seed-history-session",
        json={"customer_phone": CUSTOMER_PHONE, "mitra_phone": "+6281100080030", "days_ago": 2},
    )
    assert response.status_code == 201, response.text
    seeded = response.json()
    assert (seeded["mitra_id"], seeded["mitra_phone"], seeded["MITRA_NAME"]) == (
        mitra_id,
        "+6281100080030",
        "Dewi (S.Psi.)",
    )
    session = next(s for s in tables(api)["chat_sessions"] if s["id"] == seeded["session_id"])
    assert (session["status"], session["mitra_id"], session["end_reason"]) == ("ended", mitra_id, "time_over")


@pytest.mark.usefixtures("fresh")
def test_seed_history_session_for_an_unknown_customer_is_404(api: httpx.Client) -> None:
    response = api.post(f"{T}/seed-history-session", json={"customer_phone": "+6280000000000"})
    assert (response.status_code, response.json()["error"]) == (404, "CUSTOMER_NOT_FOUND")


# --- the test token --------------------------------------------------------------------------


NEW_HOOKS = [
    ("force-pairing-timeout", {"phone": CUSTOMER_PHONE}),
    ("force-mitra-offline", {"mitra_phone": "+6281100080040"}),
    ("force-other-mitra-online", {}),
    ("reset-all-mitras-online", {}),
    ("mitra-accept-latest", {"mitra_phone": "+6281100080040"}),
    ("seed-history-session", {"customer_phone": CUSTOMER_PHONE}),
]


@pytest.mark.parametrize(("hook", "body"), NEW_HOOKS, ids=[h for h, _ in NEW_HOOKS])
def test_new_hooks_need_x_test_token_when_one_is_configured(
    guarded_api: httpx.Client, hook: str, body: dict[str, Any]
) -> None:
    missing = guarded_api.post(f"{T}/{hook}", json=body)
    assert (missing.status_code, missing.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")
    wrong = guarded_api.post(f"{T}/{hook}", json=body, headers={"x-test-token": "nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "TEST_TOKEN_REQUIRED")
    right = guarded_api.post(f"{T}/{hook}", json=body, headers={"x-test-token": TEST_TOKEN})
    assert right.status_code != 401, right.text
    assert right.json().get("error") != "ROUTE_NOT_FOUND", right.text


def test_new_hooks_work_with_the_right_x_test_token(guarded_api: httpx.Client) -> None:
    headers = {"x-test-token": TEST_TOKEN}
    api = guarded_api
    assert (
        api.post(
            f"{T}/seed-mitra",
            json={"phone": "+6281100080041", "display_name": "Rani", "password": "pw"},
            headers=headers,
        ).status_code
        == 201
    )
    online = api.post(f"{T}/reset-all-mitras-online", json={}, headers=headers)
    assert online.status_code == 200 and len(online.json()["online"]) == 1
    offline = api.post(f"{T}/force-mitra-offline", json={"mitra_phone": "+6281100080041"}, headers=headers)
    assert (offline.status_code, offline.json()["online"]) == (200, False)
