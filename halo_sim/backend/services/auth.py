"""Authentication: customer OTP and anonymous login, mitra password or OTP login, bearer tokens.

With the abuse limits a real backend has (docs/contract.md, "Abuse limits"): anonymous
logins and OTP requests are rate-limited per client IP (and OTP requests per phone)
in windows of ``HALO_RATE_WINDOW_S``; ``HALO_MITRA_MAX_PASSWORD_ATTEMPTS`` wrong
passwords lock a mitra phone for ``HALO_MITRA_LOCKOUT_S``.  Each refusal is a 429
with a code and ``retry_after_s``.  A mitra's OTP follows the customer's rules (expiry,
single use, wrong-code block, per-phone limit) on its own challenge: a code sent to a
phone for the customer app never logs in its mitra, nor the other way round.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
from dataclasses import dataclass
from typing import Any

from halo_sim.backend.services.deps import Deps, Principal, Role, new_code, new_token
from halo_sim.backend.services.devices import DeviceService
from halo_sim.backend.services.limits import Lockout, RateLimit
from halo_sim.backend.tables import AuthSession, Customer, Mitra
from simkit.errors import NotFound, TooManyRequests, Unauthorized, ValidationFailed

OTP_TTL_S = 300.0


@dataclass
class OtpChallenge:
    """The outstanding OTP of one phone and the wrong attempts against it."""

    code: str
    issued_at: float
    wrong_attempts: int = 0
    blocked_until: float | None = None


class AuthService:
    """Logs users in and resolves bearer tokens."""

    def __init__(self, deps: Deps, devices: DeviceService) -> None:
        self.deps = deps
        self.devices = devices
        self.otps: dict[tuple[Role, str], OtpChallenge] = {}
        s, now = deps.settings, deps.now
        self.anonymous_per_ip = RateLimit(s.anon_login_limit, s.rate_window_s, now)
        self.otp_per_ip = RateLimit(s.otp_request_limit, s.rate_window_s, now)
        self.otp_per_phone = RateLimit(s.otp_phone_request_limit, s.rate_window_s, now)
        self.passwords = Lockout(s.mitra_max_password_attempts, s.mitra_lockout_s, now)

    def request_otp(self, phone: str, client: str = "local", role: Role = "customer") -> OtpChallenge:
        """Issue a code for ``phone`` (readable through ``_test/otp`` in the simulator).

        A mitra code is issued for any phone, known or not, so the answer tells nothing about who
        is a mitra; only the verify, by whoever holds the code, learns it.
        """
        key = (role, phone)
        self._ensure_not_blocked(key)
        _limit(self.otp_per_ip.hit(client) or self.otp_per_phone.hit(f"{role}:{phone}"), "OTP requests")
        code = self.deps.settings.otp_dev_code or new_code(6)
        previous = self.otps.get(key)
        carried = previous.wrong_attempts if previous and previous.blocked_until is None else 0
        challenge = OtpChallenge(code, self.deps.now(), carried)
        self.otps[key] = challenge
        return challenge

    def verify_otp(self, phone: str, code: str) -> tuple[str, Customer]:
        """Check the code; a new phone becomes a verified customer. Too many misses block the phone."""
        self._use_code(("customer", phone), code)
        customer = self._customer_for_phone(phone)
        return self._open_session("customer", customer.id), customer

    def verify_mitra_otp(self, phone: str, code: str) -> tuple[str, Mitra]:
        """A mitra logs in with the code instead of the password; no mitra is created (admins create them)."""
        self._use_code(("mitra", phone), code)
        mitra = self.deps.store.mitras.first(phone=phone)
        if mitra is None:
            raise Unauthorized("no mitra has this phone", code="INVALID_CREDENTIALS")
        return self._open_session("mitra", mitra.id), mitra

    def _use_code(self, key: tuple[Role, str], code: str) -> None:
        """The code is right, fresh and unused (then spent); else a refusal, a miss counted."""
        self._ensure_not_blocked(key)
        challenge = self.otps.get(key)
        if challenge is None or self.deps.now() - challenge.issued_at > OTP_TTL_S:
            raise ValidationFailed("no valid OTP for this phone; request a new one", code="OTP_EXPIRED")
        if not hmac.compare_digest(code.encode(), challenge.code.encode()):
            self._count_miss(key, challenge)
        del self.otps[key]

    def _count_miss(self, key: tuple[Role, str], challenge: OtpChallenge) -> None:
        challenge.wrong_attempts += 1
        left = self.deps.settings.otp_max_attempts - challenge.wrong_attempts
        if left <= 0:
            challenge.blocked_until = self.deps.now() + self.deps.settings.otp_block_s
            self._ensure_not_blocked(key)
        raise Unauthorized("wrong OTP code", code="OTP_INVALID", attempts_left=left)

    def _ensure_not_blocked(self, key: tuple[Role, str]) -> None:
        challenge = self.otps.get(key)
        if challenge and challenge.blocked_until and challenge.blocked_until > self.deps.now():
            raise TooManyRequests(
                "too many wrong OTP codes; try again later or contact admin",
                code="OTP_BLOCKED",
                reason="OTP_BLOCKED",
                retry_after_s=math.ceil(challenge.blocked_until - self.deps.now()),
            )

    def _customer_for_phone(self, phone: str) -> Customer:
        existing = self.deps.store.customers.first(phone=phone)
        if existing is not None:
            return existing
        row = Customer(self.deps.ids.uuid(), phone, None, False, self.deps.now())
        return self.deps.store.customers.insert(row)

    def login_anonymous(self, client: str = "local") -> tuple[str, Customer]:
        """A customer without a phone; it picks a display name next (each one is a row: rate-limited)."""
        _limit(self.anonymous_per_ip.hit(client), "anonymous logins")
        row = self.deps.store.customers.insert(Customer(self.deps.ids.uuid(), None, None, True, self.deps.now()))
        return self._open_session("customer", row.id), row

    def set_display_name(self, customer_id: str, name: str) -> Customer:
        """The name a mitra sees (the app asks an anonymous customer for it before paying)."""
        name = name.strip()
        if not 1 <= len(name) <= 40:
            raise ValidationFailed("display_name must be 1 to 40 characters")
        return self.deps.store.customers.update(customer_id, display_name=name)

    def mitra_login(self, phone: str, password: str) -> tuple[str, Mitra]:
        """Mitras log in with the phone and password the admin gave them; repeated misses lock the phone.

        Unknown phones count strikes like known ones, so the answers tell nothing about who exists.
        """
        self._ensure_not_locked(phone)
        mitra = self.deps.store.mitras.first(phone=phone)
        if mitra is None or not hmac.compare_digest(mitra.password.encode(), password.encode()):
            left = self.passwords.strike(phone)
            self._ensure_not_locked(phone)
            raise Unauthorized("wrong phone or password", code="INVALID_CREDENTIALS", attempts_left=left)
        self.passwords.forget(phone)
        return self._open_session("mitra", mitra.id), mitra

    def _ensure_not_locked(self, phone: str) -> None:
        retry = self.passwords.locked_for(phone)
        if retry is not None:
            raise TooManyRequests(
                "too many wrong passwords; try again later or contact admin",
                code="PASSWORD_LOCKED",
                retry_after_s=retry,
            )

    def _open_session(self, role: Role, user_id: str) -> str:
        token = new_token()
        row = AuthSession(
            self.deps.ids.uuid(),
            token,
            role,
            user_id if role == "customer" else None,
            user_id if role == "mitra" else None,
            self.deps.now(),
        )
        self.deps.store.auth_sessions.insert(row)
        return token

    def authenticate(self, token: str | None) -> Principal:
        """Resolve a bearer token to the caller."""
        if not token:
            raise Unauthorized("missing bearer token")
        session = self.deps.store.auth_sessions.first(token=token)
        if session is None:
            raise Unauthorized("invalid or revoked token")
        return Principal(session.role, session.customer_id or session.mitra_id)  # type: ignore[arg-type]

    def profile(self, who: Principal) -> dict[str, Any]:
        """The customer as its app shows it, with the home banner's ``notifications_enabled``."""
        customer = self.deps.store.customers.require(who.id, "customer")
        return {**dataclasses.asdict(customer), "notifications_enabled": self.devices.notifications_enabled(who)}

    def forget_otp(self, phone: str) -> None:
        """Drop the phone's outstanding customer code and wrong-attempt count (``reset-phone``)."""
        self.otps.pop(("customer", phone), None)

    def read_otp(self, phone: str, role: Role = "customer") -> OtpChallenge:
        """The outstanding code of ``phone`` for the app of ``role`` (test surface only)."""
        if (role, phone) not in self.otps:
            raise NotFound(f"no {role} OTP requested for {phone}")
        return self.otps[(role, phone)]


def _limit(retry_after_s: int | None, what: str) -> None:
    """A 429 ``RATE_LIMITED`` when a rate limit said how long to wait."""
    if retry_after_s is not None:
        raise TooManyRequests(f"too many {what}; try again later", code="RATE_LIMITED", retry_after_s=retry_after_s)
