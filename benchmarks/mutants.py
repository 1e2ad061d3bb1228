"""A small, curated mutation check: do the tests notice when a promise of the code is broken?

    python benchmarks/mutants.py            # every mutant, two at a time
    python benchmarks/mutants.py --list     # what each mutant breaks
    python benchmarks/mutants.py --only NAME [--only NAME ...]

Each mutant replaces one exact snippet of one source file (the snippet must occur exactly once,
so the list fails loudly when the code drifts) in a throw-away copy of the repository, never in
the working tree, then runs that mutant's test selection there with ``-x``.  A failing run kills
the mutant; a passing one means no test holds that promise.  The list is hand-picked rather than
generated because a generated one is mostly noise (equivalent mutants, log messages) and takes
far longer than a suite run; each entry names the promise it breaks.  Always exits 0: the kill
rate is a figure to read, not a gate.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY_IGNORE = shutil.ignore_patterns(
    ".git", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".venv", ".env"
)

# Test selections, most specific first so that -x stops early on a kill.
DOMAIN = ("tests/domain", "tests/backend")
BACKEND = ("tests/backend",)
ROUTES = ("tests/backend/test_routes.py", "tests/backend")
PAIRING = ("tests/backend/test_pairing_modes.py", "tests/backend/test_pairing_race.py", "tests/backend")
PAYMENTS = ("tests/backend/test_webhook.py", "tests/backend/test_payments_xendit.py", "tests/backend")
SESSIONS = ("tests/backend/test_sessions.py", "tests/backend")
RECONCILE = ("tests/backend/test_reconcile.py", "tests/backend")
HISTORY = ("tests/backend/test_history_and_control.py", "tests/backend")
STORE = ("tests/backend/test_store.py", "tests/backend")
SCHEDULER = ("tests/simkit/test_scheduler.py", "tests/backend")
AUTH = ("tests/backend/test_auth.py", *ROUTES)
NOTIFY = ("tests/backend/test_notify.py", *ROUTES)
SESSION_END = ("tests/backend/test_session_end.py", *SESSIONS)
CONFIG = ("tests/backend/test_config.py", "tests/backend")
STATE = ("tests/backend/test_state.py", "tests/backend")
EVENTS = ("tests/backend/test_events.py", "tests/backend")
HUB = ("tests/backend/test_hub_outbox.py", "tests/backend")
BAD_INPUT = ("tests/backend/test_bad_input.py", "tests/backend")
GUARD = ("tests/backend/test_test_surface_guard.py", "tests/backend")
WS = ("tests/backend/test_ws.py", "tests/backend")
BASELINE = ("tests/domain", "tests/simkit", "tests/backend")


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: ``find`` (exact, unique text of ``path``) becomes ``replace``."""

    name: str
    path: str
    find: str
    replace: str
    promise: str
    tests: tuple[str, ...]


M = Mutant
D = "halo_sim/domain/"
S = "halo_sim/backend/services/"

# fmt: off
MUTANTS: tuple[Mutant, ...] = (
    # --- domain -------------------------------------------------------------------------------
    M("delivery-ignores-socket", D + "delivery.py", "if reach.socket_open:", "if False:",
      "an open socket (foreground) is delivered over WS", DOMAIN),
    M("delivery-push-without-tokens", D + "delivery.py", "if reach.push_tokens:", "if not reach.push_tokens:",
      "FCM only when a push-capable device exists, else none", DOMAIN),
    M("machine-illegal-move-allowed", D + "machine.py", "target = self.transitions[(state, event)]",
      "target = self.transitions.get((state, event), state)", "undeclared transitions are refused", DOMAIN),
    M("machine-observers-skipped", D + "machine.py", "observe(self.name, state.value, event.value, target.value)",
      "pass", "observers (coverage) see every transition", DOMAIN),
    M("payment-late-paid-refused", D + "payment.py",
      "(PaymentStatus.EXPIRED, PaymentEvent.CONFIRM): PaymentStatus.CONFIRMED,", "",
      "a late PAID confirms an expired payment (the customer's money wins)", DOMAIN),
    M("session-no-reoffer", D + "pairing.py",
      "(SessionStatus.PENDING_ACCEPTANCE, SessionEvent.OFFER): SessionStatus.PENDING_ACCEPTANCE,", "",
      "a blast already offered can still be offered to a mitra coming online", DOMAIN),
    M("in-flight-misses-pending", D + "pairing.py",
      "IN_FLIGHT = frozenset({SessionStatus.SEARCHING, SessionStatus.PENDING_ACCEPTANCE})",
      "IN_FLIGHT = frozenset({SessionStatus.SEARCHING})", "pending_acceptance counts as in flight", DOMAIN),
    M("terminal-ignores-unusable-payment", D + "pairing.py", "if not payment_usable:\n        return True",
      "if False:\n        return True", "a payment no longer usable always ends pairing", DOMAIN),
    M("terminal-off-by-one", D + "pairing.py", "failed_attempts >= max_attempts", "failed_attempts > max_attempts",
      "the max_attempts-th blast failure is terminal", DOMAIN),
    M("terminal-targeted-too", D + "pairing.py", "return mode is Mode.BLAST and failed_attempts",
      "return failed_attempts", "a targeted failure alone is never terminal", DOMAIN),
    M("accept-after-reject", D + "pairing.py", "if mitra_id not in offered or mitra_id in rejected:",
      "if mitra_id not in offered:", "a mitra who declined cannot accept", DOMAIN),
    M("accept-while-busy", D + "pairing.py", "if mitra_busy and status is SessionStatus.PENDING_ACCEPTANCE:",
      "if False:", "a mitra in a session cannot take another", DOMAIN),
    M("presence-timeout-exclusive", D + "presence.py", "return now - facts.last_heartbeat_at <= heartbeat_timeout",
      "return now - facts.last_heartbeat_at < heartbeat_timeout",
      "a heartbeat exactly heartbeat_timeout old still counts", DOMAIN),
    M("blast-includes-busy", D + "presence.py", "and not m.busy]", "]",
      "a mitra in a session gets no blast", DOMAIN),
    # --- services -----------------------------------------------------------------------------
    M("otp-wrong-code-accepted", S + "auth.py", "if code != challenge.code:", "if False:",
      "a wrong OTP code is refused (code compare)", AUTH),
    M("otp-never-expires", S + "auth.py",
      "if challenge is None or self.deps.now() - challenge.issued_at > OTP_TTL_S:", "if challenge is None:",
      "an OTP older than its TTL is refused", AUTH),
    M("otp-block-one-late", S + "auth.py", "if left <= 0:", "if left < 0:",
      "the max_attempts-th wrong code blocks the phone", AUTH),
    M("otp-new-code-resets-misses", S + "auth.py",
      "carried = previous.wrong_attempts if previous and previous.blocked_until is None else 0", "carried = 0",
      "requesting a new code does not reset the wrong-attempt count", AUTH),
    M("mitra-password-unchecked", S + "auth.py",
      "if mitra is None or not hmac.compare_digest(mitra.password.encode(), password.encode()):",
      "if mitra is None:", "a mitra logs in only with its password", AUTH),
    M("any-token-authenticates", S + "auth.py", "session = self.deps.store.auth_sessions.first(token=token)",
      "session = (self.deps.store.auth_sessions.all() or [None])[-1]",
      "only a token issued at login authenticates", AUTH),
    M("chat-after-time-over", S + "chat.py",
      "over = session.ends_at is not None and self.deps.now() >= session.ends_at", "over = False",
      "no message once the session's time is over", SESSION_END),
    M("ws-failure-no-push-fallback", S + "notify.py",
      "if channel is Channel.WS and await self.deps.hub.send(user.key, frame):",
      "if channel is Channel.WS and (await self.deps.hub.send(user.key, frame) or True):",
      "a frame a socket cannot take (its outbox full) goes by FCM", NOTIFY),
    M("unregistered-token-kept", S + "notify.py",
      'if exc.code == "UNREGISTERED":\n                    self.devices.forget(token)',
      'if exc.code == "UNREGISTERED":\n                    pass', "an UNREGISTERED token is forgotten", NOTIFY),
    M("push-refused-reads-fcm", S + "notify.py", "Channel.FCM if names else Channel.NONE", "Channel.FCM",
      "delivered_via is none when no push was accepted", NOTIFY),
    M("pairing-start-not-idempotent", S + "pairing.py", "if existing is not None:\n            return existing",
      "if False:\n            return existing", "a payment never has two attempts in flight", PAIRING),
    M("pairing-timeouts-swapped", S + "pairing.py",
      "return settings.targeted_timeout_s if session.mode == Mode.TARGETED",
      "return settings.pairing_timeout_s if session.mode == Mode.TARGETED",
      "a targeted wait times out after targeted_timeout_s", PAIRING),
    M("pairing-no-timeout-timer", S + "pairing.py",
      'self.deps.later(self._timeout_of(session), partial(self._time_out, session.id), "pairing_timeout")\n'
      "        await self._offer(session)", "await self._offer(session)", "an unanswered attempt times out", PAIRING),
    M("targeted-offline-bestie-offered", S + "pairing.py",
      "return [bestie] if bestie is not None and self.presence.is_eligible(bestie) else []",
      "return [bestie] if bestie is not None else []", "an offline bestie fails the targeted attempt at once",
      PAIRING),
    M("blast-reoffers-declining-bestie", S + "pairing.py",
      "return [m for m in self.presence.eligible() if m not in declined]",
      "return list(self.presence.eligible())", "the bestie who declined is left out of the follow-up blast",
      PAIRING),
    M("late-mitra-gets-targeted", S + "pairing.py",
      "if session.mode == Mode.BLAST and mitra_id not in self._declined_besties(",
      "if mitra_id not in self._declined_besties(",
      "a mitra coming online gets blasts, never someone's targeted wait", PAIRING),
    M("retry-starts-second-attempt", S + "pairing.py",
      "if current is not None and current.status in IN_FLIGHT:\n            return current",
      "if False:\n            return current", "retry while searching returns the attempt in flight", PAIRING),
    M("accept-leaves-payment-confirmed", S + "pairing.py",
      "await self.payments.transition(session.payment_request_id, PaymentEvent.CONSUME)", "pass",
      "an accepted session consumes its payment", PAIRING),
    M("session-minute-short", S + "pairing.py", "ends_at=now + session.duration_minutes * 60,",
      "ends_at=now + session.duration_minutes * 60 - 1,", "a session lasts its full duration", PAIRING),
    M("no-offer-taken", S + "pairing.py",
      "losers = [m for m in session.offered_mitra_ids if m != mitra.id and self._holds_offer(session, m)]",
      "losers: list[str] = []", "the losers of the accept race are told offer_taken", PAIRING),
    M("all-rejected-keeps-searching", S + "pairing.py",
      "return await self.fail(session.id, SessionEvent.ALL_REJECTED)", "return session",
      "when every offered mitra declines, the attempt fails", PAIRING),
    M("targeted-failures-count", S + "pairing.py",
      "if s.status is SessionStatus.FAILED and s.mode == Mode.BLAST)", "if s.status is SessionStatus.FAILED)",
      "only blast failures count towards max_pairing_attempts", ("tests/backend/test_pairing_attempts.py", *PAIRING)),
    M("terminal-keeps-payment", S + "pairing.py",
      "if terminal and payment.status is PaymentStatus.CONFIRMED:\n"
      "            await self.payments.transition(payment.id, PaymentEvent.FAIL_PAIRING)",
      "if terminal and payment.status is PaymentStatus.CONFIRMED:\n            pass",
      "a terminal failure marks the payment failed_pairing", PAIRING),
    M("no-offer-withdrawn", S + "pairing.py",
      'await asyncio.gather(*(self.deps.hub.send(("mitra", m), withdrawn) for m in told))', "pass",
      "offered mitras are told when the attempt fails", PAIRING),
    M("offered-mitra-reads-chat", S + "pairing.py", "if user.id not in (session.customer_id, session.mitra_id):",
      "if False:", "only the two participants read or write a chat", PAIRING),
    M("confirm-not-idempotent", S + "payments.py", "if row.status in PAID:\n            return row",
      "if False:\n            return row", "a second confirmation of a paid payment changes nothing", PAYMENTS),
    M("confirm-without-event", S + "payments.py",
      'await self.deps.bus.emit(CONFIRMED, {"payment_request_id": row.id, "source": source})', "pass",
      "a confirmation emits payment_request.confirmed (which starts pairing)", PAYMENTS),
    M("other-customers-payment-visible", S + "payments.py", "if row.customer_id != customer_id:", "if False:",
      "a customer sees only its own payments", ROUTES),
    M("online-toggle-no-heartbeat", S + "presence.py",
      'if online:\n            changes["last_heartbeat_at"] = self.deps.now()',
      'if False:\n            changes["last_heartbeat_at"] = self.deps.now()',
      "going online counts as a heartbeat", ROUTES),
    M("reconcile-no-reemit", S + "reconcile.py", "elif not attempts:", "elif False:",
      "a confirmed payment with no session gets its event again", RECONCILE),
    M("reconcile-expiry-one-late", S + "reconcile.py", "p.expires_at <= now", "p.expires_at < now",
      "a payment is overdue at expires_at", RECONCILE),
    M("reconcile-overrides-callback", S + "reconcile.py",
      "if current is None or current.status is not PaymentStatus.PENDING:  # settled",
      "if current is None:  # settled",
      "a callback settling the payment while Xendit is asked wins", RECONCILE),
    M("reconcile-sweeps-once", S + "reconcile.py", "self.schedule()\n        return await self.sweep()",
      "return await self.sweep()", "reconciliation keeps sweeping every sweep_interval_s", RECONCILE),
    M("no-session-warning", S + "sessions.py", "if remaining == self.deps.settings.session_warning_s:",
      "if remaining == self.deps.settings.session_warning_s + 1:",
      "session_warning comes session_warning_s before the end", SESSIONS),
    M("session-end-no-event", S + "sessions.py",
      'await self.deps.bus.emit(SESSION_ENDED, {"session_id": session.id, "mitra_id": session.mitra_id})',
      "pass", "an ended session frees its mitra (chat_session.ended)", SESSION_END),
    # Not listed, equivalent: adding FAILED to history's PAST changes nothing, because only an accept sets
    # a session's mitra_id and history also requires one, so a failed attempt never has a mitra to list.
    M("history-ignores-heartbeats", S + "history.py", '"mitra_is_online": self.presence.is_online(mitra)',
      '"mitra_is_online": mitra.online', "a bestie whose heartbeats stopped shows offline in history", HISTORY),
    M("reset-phone-parents-first", S + "testing.py", '    "chat_messages",\n    "chat_sessions",',
      '    "chat_sessions",\n    "chat_messages",', "reset-phone deletes children before parents (FK 23503)",
      ("tests/backend/test_routes.py::test_reset_phone_cascades_children_first", *ROUTES)),
    M("webhook-token-unchecked", S + "webhooks.py",
      'if not expected or not hmac.compare_digest((token or "").encode(), expected):', "if not expected:",
      "x-callback-token must match XENDIT_CALLBACK_TOKEN", PAYMENTS),
    M("webhook-invoice-mismatch-applied", S + "webhooks.py",
      "if payment.xendit_invoice_id not in (None, callback.id):", "if False:",
      "a callback for another invoice of the payment is ignored", PAYMENTS),
    M("webhook-late-expired-undoes-paid", S + "webhooks.py", "elif before is PaymentStatus.PENDING:",
      "elif before in (PaymentStatus.PENDING, PaymentStatus.CONFIRMED):",
      "a late EXPIRED never undoes a PAID", PAYMENTS),
    # --- store: the foreign-key promises ----------------------------------------------------------
    M("fk-insert-unchecked", "halo_sim/backend/store.py",
      "if value is not None and self.tables[parent].get(value) is None:", "if False:",
      "an insert pointing at a missing parent fails (23503)", STORE),
    M("fk-delete-unchecked", "halo_sim/backend/store.py",
      "for child, column in self.store.referencing(self.name, row_id):", "for child, column in []:",
      "deleting a referenced row fails (23503)", STORE),
    # --- the known survivors of issue 8 -------------------------------------------------------
    M("settings-ignore-environment", "halo_sim/backend/config.py",
      'if env.get(cls.variable(name), "") != "":\n                values[name]',
      "if False:\n                values[name]", "Settings.from_env reads the documented variables",
      CONFIG),
    M("settings-fcm-prefixed", "halo_sim/backend/config.py", 'SHARED_PREFIXES = ("xendit_", "fcm_")',
      'SHARED_PREFIXES = ("xendit_",)', "FCM_* keep their plain names (no HALO_ prefix)",
      CONFIG),
    M("reset-keeps-clock", "halo_sim/backend/state.py", "self.scheduler.clock.rewind()", "pass",
      "reset() rewinds the virtual clock", STATE),
    M("clear-owner-clears-all", "simkit/scheduler.py", "if timer.owner == owner:\n", "if True:\n",
      "clear(owner=...) leaves other owners' timers alone", SCHEDULER),
    M("bus-forgets-errors", "halo_sim/backend/events.py", 'self.errors.append(f"{event}: {exc!r}")', "pass",
      "a failing handler is recorded in the bus errors", EVENTS),
    M("bus-handler-error-stops-others", "halo_sim/backend/events.py",
      "except Exception as exc:  # recorded", "except ZeroDivisionError as exc:  # recorded",
      "a failing handler does not stop the others nor the emitter", EVENTS),
    M("hub-keeps-dead-socket", "halo_sim/backend/hub.py", "                self.hub.remove(self.user, self.conn)\n",
      "", "a socket whose send failed is dropped", HUB),
    M("hub-counts-failed-send", "halo_sim/backend/hub.py", "if peer.offer(encoded.text))",
      "if peer.offer(encoded.text) or True)", "only sockets that took the frame count (not a full outbox)",
      HUB),
    M("ws-heartbeat-ignored", "halo_sim/backend/routes/ws.py", "await backend_of(ws).presence.heartbeat(_mitra(who))",
      "_mitra(who)", "a WS heartbeat frame keeps the mitra online", WS),
    # --- the promises of the issue-8 rewrite --------------------------------------------------
    M("store-find-scans-unindexed", "halo_sim/backend/store.py",
      "        if not usable:\n            raise UnindexedLookup(",
      "        if not usable:\n            whole = Index(())\n            for row in self._rows.values():\n"
      "                whole.add(row)\n            return whole\n            raise UnindexedLookup(",
      "find() refuses a lookup no declared index serves instead of scanning", STORE),
    M("store-update-not-reindexed", "halo_sim/backend/store.py",
      "            if any(c in changes for c in index.columns):", "            if False:",
      "update() moves the row between index buckets", STORE),
    M("store-update-unique-unchecked", "halo_sim/backend/store.py", "self._check_unique(changes, row_id)", "pass",
      "an update onto a taken unique value is 23505", STORE),
    M("store-rows-mutable", "halo_sim/backend/tables.py", "@dataclass(frozen=True, slots=True)\nclass ChatSession:",
      "@dataclass(slots=True)\nclass ChatSession:", "stored rows are frozen (the store is the only write path)",
      STORE),
    M("offline-keeps-offers", S + "pairing.py", 'await self.withdraw_offers(event["mitra_id"], "mitra_offline")',
      "pass", "a mitra going offline has its live offers withdrawn", PAIRING),
    M("withdrawn-offer-accepted", D + "pairing.py",
      "if mitra_id in withdrawn and status in IN_FLIGHT:\n        return AcceptOutcome.WITHDRAWN",
      "if False:\n        return AcceptOutcome.WITHDRAWN", "an accept of a withdrawn offer is OFFER_WITHDRAWN",
      DOMAIN),
    M("freed-mitra-not-reoffered", S + "pairing.py",
      "fresh = [m for m in mitra_ids if not self._holds_offer(session, m) and m not in session.rejected_mitra_ids]",
      "fresh = [m for m in mitra_ids if m not in session.offered_mitra_ids]",
      "a mitra free again is re-offered the blasts withdrawn from it", PAIRING),
    M("reoffer-stays-withdrawn", S + "pairing.py",
      "withdrawn_mitra_ids=tuple(m for m in session.withdrawn_mitra_ids if m not in fresh),",
      "withdrawn_mitra_ids=session.withdrawn_mitra_ids,", "a re-offered blast can be accepted", PAIRING),
    M("loser-rejects-winners-session", D + "pairing.py",
      "return AcceptOutcome.TAKEN\n    if status not in IN_FLIGHT:",
      "return AcceptOutcome.WON\n    if status not in IN_FLIGHT:",
      "a loser of the race cannot decline the winner's session (OFFER_TAKEN)", DOMAIN),
    M("paid-validity-endless", D + "payment.py", "return confirmed_at is None or now < confirmed_at + validity_s",
      "return True", "a paid payment starts pairing only within paid_validity_s (usable_for_pairing)",
      ("tests/domain", *PAIRING)),
    M("webhook-amount-unchecked", S + "webhooks.py",
      'if callback.status in ("PAID", "SETTLED") and before not in PAID and _short(callback, payment.amount):',
      "if False:", "a PAID callback for less than the amount is ignored (AMOUNT_MISMATCH)", PAYMENTS),
    M("confirmation-not-booked", S + "payments.py", "        self._book(row)\n", "",
      "a confirmation books a customer_transactions row", PAYMENTS),
    M("hub-slow-client-kept", "halo_sim/backend/hub.py",
      '            self.hub.evict(self, SLOW_CLIENT_CLOSE, "client too slow: stopped reading its socket")\n', "",
      "a client past its queue limit is closed (4008) and counted", HUB),
    M("body-accepts-nan", "halo_sim/backend/routes/common.py", "json.loads(raw, parse_constant=_refuse_constant)",
      "json.loads(raw)", "NaN and Infinity in a JSON body are refused", BAD_INPUT),
    M("guard-not-loopback-only", "halo_sim/backend/routes/internal.py",
      "if not expected and not is_loopback(request.client.host if request.client else None):", "if False:",
      "without HALO_TEST_TOKEN the test surface answers loopback clients only", GUARD),
)
# fmt: on


@dataclass(frozen=True)
class Outcome:
    """What one mutant's test run said."""

    mutant: Mutant
    status: str  # killed | survived | timeout | error
    seconds: float
    detail: str = ""

    @property
    def killed(self) -> bool:
        """A failing, crashing or hanging run all mean the tests noticed."""
        return self.status != "survived"


def check_snippets(mutants: Iterable[Mutant], root: Path = ROOT) -> None:
    """Every snippet must occur exactly once, every mutant compile and every test path exist."""
    problems = []
    for mutant in mutants:
        missing = [t for t in mutant.tests if not (root / t.split("::")[0]).exists()]
        if missing:
            problems.append(f"{mutant.name}: no such test path {', '.join(missing)}")
        source = (root / mutant.path).read_text()
        count = source.count(mutant.find)
        if count != 1:
            problems.append(f"{mutant.name}: snippet found {count} times in {mutant.path}: {mutant.find!r}")
        elif (error := syntax_error(source.replace(mutant.find, mutant.replace, 1), mutant.path)) is not None:
            problems.append(f"{mutant.name}: the mutated {mutant.path} does not compile ({error})")
    if problems:
        sys.exit("mutant list out of sync with the code:\n  " + "\n  ".join(problems))


def syntax_error(source: str, path: str) -> str | None:
    """Why ``source`` does not compile, or None: a mutant that cannot even load would count as killed."""
    try:
        compile(source, path, "exec")
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


def apply(mutant: Mutant, root: Path) -> None:
    """Write the mutant into the copy at ``root``."""
    target = root / mutant.path
    target.write_text(target.read_text().replace(mutant.find, mutant.replace, 1))


def pytest_command(tests: Iterable[str]) -> list[str]:
    """Stop at the first failure; no random order, no cache written into the copy."""
    return [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]


def run_tests(root: Path, tests: Iterable[str], timeout: float) -> tuple[int | None, str]:
    """Run a selection in ``root`` with ``root`` first on the import path; None when it timed out."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith(("HALO_", "XENDIT_", "FCM_"))}
    try:
        done = subprocess.run(pytest_command(tests), cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]


def run_mutant(mutant: Mutant, timeout: float) -> Outcome:
    """Copy the repository, mutate the copy, run the mutant's tests there."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="halo-mutant-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
        apply(mutant, root)
        code, last = run_tests(root, mutant.tests, timeout)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds, f"no verdict within {timeout:.0f} s")
    status = {0: "survived", 1: "killed"}.get(code, "error")
    return Outcome(mutant, status, seconds, last)


def baseline(timeout: float) -> None:
    """The unmutated copy must pass, or every mutant would look killed."""
    with tempfile.TemporaryDirectory(prefix="halo-mutant-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
        code, last = run_tests(root, BASELINE, timeout)
    if code != 0:
        sys.exit(f"baseline run of {' '.join(BASELINE)} does not pass ({last}); fix the tests first")


_done = itertools.count(1)


def progress(outcome: Outcome, total: int) -> Outcome:
    """One line on stderr as each mutant finishes (a full run takes minutes)."""
    print(f"[{next(_done)}/{total}] {outcome.mutant.name}: {outcome.status}", file=sys.stderr, flush=True)
    return outcome


def report(outcomes: list[Outcome]) -> None:
    """One line per mutant, then the kill rate."""
    width = max(len(o.mutant.name) for o in outcomes)
    for o in outcomes:
        line = f"{o.mutant.name:<{width}}  {o.status:<8} {o.seconds:5.1f} s  {o.mutant.promise}"
        print(line + (f"  [{o.detail}]" if o.status in ("error", "timeout") else ""))
    killed = sum(o.killed for o in outcomes)
    print(f"\nkill rate: {killed}/{len(outcomes)} = {100 * killed / len(outcomes):.1f} %")
    survivors = [o.mutant.name for o in outcomes if not o.killed]
    if survivors:
        print("survived: " + ", ".join(survivors))


def list_mutants(mutants: Iterable[Mutant]) -> None:
    """Name, file and promise of each mutant."""
    for m in mutants:
        print(f"{m.name:<36} {m.path:<38} {m.promise}")


def select(names: list[str] | None) -> list[Mutant]:
    """The mutants asked for (all by default); an unknown name is an error."""
    if not names:
        return list(MUTANTS)
    known = {m.name: m for m in MUTANTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"unknown mutant(s): {', '.join(unknown)}; see --list")
    return [known[n] for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="show the mutants and exit")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this mutant (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant (default 180)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = parser.parse_args()
    check_snippets(MUTANTS)
    mutants = select(args.only)
    if args.list:
        list_mutants(mutants)
        return
    if not args.no_baseline:
        baseline(args.timeout)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda m: progress(run_mutant(m, args.timeout), len(mutants)), mutants))
    report(outcomes)
    print(f"{len(outcomes)} mutants in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
