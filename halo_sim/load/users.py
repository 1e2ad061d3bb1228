"""Halo's two kinds of people as Locust users, speaking the app's protocol (HTTP + ``/ws``).

A customer loops: pay, wait for a bestie on its socket, chat, background (socket closed: the
mitra's reply goes by FCM) and resume, end the session.  A mitra logs in, goes online,
heartbeats, and answers what its socket brings: offers (accepted with a probability, after a
delay), messages (replied to), ends.  Every step is a Locust request or a Halo metric.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from halo_sim.load import metrics
from halo_sim.load.profile import LoadProfile, PaymentPath, Range
from halo_sim.load.protocol import EXPECTED_REFUSALS, Api, Arrived, HaloError, Socket, of_type
from halo_sim.targets.base import Target
from simkit.xendit_wire import standalone_callback

BG = "[bg]"
BG_REPLY = "[bg-reply]"
ACKED: set[str] = set()  # ids of every message the backend acknowledged in this process (checked at the end)
MITRA_PASSWORD = "load-bestie-1"


def pick(span: Range) -> float:
    return random.uniform(span.min, span.max)


class HaloUser(FastHttpUser):
    """One Locust user; it becomes a customer or a mitra when it starts.

    Roles are dealt in each process by the profile's ratio (mitras first), not by Locust user
    class: Locust deals users of two classes to workers round-robin, which can put every mitra
    on one worker and every customer on the other, and a customer's pairing can only be timed
    in a process where a mitra saw the offer.
    """

    abstract = True
    wait_time = constant(0)  # each role paces itself inside its task
    profile: ClassVar[LoadProfile]
    resolve: ClassVar[Callable[[Any], Target]]
    dealt: ClassVar[int] = 0

    def on_start(self) -> None:
        number, HaloUser.dealt = HaloUser.dealt, HaloUser.dealt + 1
        role = Mitra if is_mitra(number, self.profile) else Customer
        self.person: Person = role(self, type(self).resolve(self.environment))
        try:
            self.person.onboard()
        except HaloError as exc:
            raise StopUser(str(exc)) from None

    @task
    def act(self) -> None:
        self.person.act()

    def on_stop(self) -> None:
        self.person.leave()


def is_mitra(number: int, profile: LoadProfile) -> bool:
    """Whether this process's ``number``-th user is a mitra: the profile's share, mitras first."""
    total = profile.users.customer + profile.users.mitra
    share = profile.users.mitra / total if total else 0
    return math.ceil((number + 1) * share) - math.ceil(number * share) == 1


class Person:
    """What both roles share: the target, the route-table API, the socket, a device token."""

    def __init__(self, user: HaloUser, target: Target) -> None:
        self.environment = user.environment
        self.profile = user.profile
        self.target = target
        self.api = Api(self.environment, user.client, target)
        self.socket: Socket | None = None
        self.fcm_token = f"load-{uuid.uuid4().hex}"
        self.user_id = ""

    def onboard(self) -> None:
        """Log in and open the app; a failure stops this user."""

    def act(self) -> None:
        """One turn of the role's loop."""

    def open_socket(self) -> Socket:
        self.socket = Socket(self.environment, f"{self.target.ws_url}/ws?token={self.api.token}")
        return self.socket

    def live_socket(self) -> Socket:
        return self.socket if self.socket is not None and not self.socket.closed else self.open_socket()

    def close_socket(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def leave(self) -> None:
        self.close_socket()

    def note_ack(self, ack: Arrived, sent: float) -> None:
        metrics.fire(self.environment, "ws.ack", metrics.since_ms(sent, ack.at))
        ACKED.add(str(ack.frame["message"]["id"]))


class Customer(Person):
    """A customer paying and chatting, again and again."""

    def onboard(self) -> None:
        signed = self.api.call("customer.login_anonymous")
        self.api.token, self.user_id = signed["token"], signed["customer"]["id"]
        self.api.call("customer.set_display_name", {"display_name": f"Load {self.user_id[-6:]}"})
        self.api.call("customer.register_device", {"fcm_token": self.fcm_token, "notifications_enabled": True})
        self.open_socket()

    def act(self) -> None:
        """One paid chat, start to end; a failed step ends the iteration (it was counted)."""
        try:
            session_id = self.pair()
            if session_id is not None:
                self.chat(session_id)
        except HaloError:
            pass
        gevent.sleep(pick(self.profile.customer.pause_s))

    def pair(self) -> str | None:
        """Pay, confirm, wait for the match; the pairing latencies are fired here."""
        behaviour = self.profile.customer
        socket = self.live_socket()
        socket.frames.clear()  # what is left belongs to chats that are over (their session_ended, a late frame)
        payment = self.api.call("customer.request_payment", {"duration_minutes": behaviour.duration_minutes})
        confirmed, by_webhook = self.confirm(payment)
        searching = socket.wait(of_type("pairing_searching", payment_request_id=payment["id"]), 5.0)
        if searching is None:
            metrics.fire(self.environment, "pairing.match", 0, "no pairing_searching after the confirmation")
            return None
        session_id = str(searching.frame["session_id"])
        matched = socket.wait(
            lambda f: f.get("type") in ("pairing_matched", "pairing_failed") and f.get("session_id") == session_id,
            behaviour.pairing_timeout_s,
        )
        if matched is not None and matched.frame.get("cause") == "all_rejected":
            metrics.refusal(self.environment, "PAIRING_FAILED all_rejected", expected=True)  # mitras said no
            return None
        if matched is None or matched.frame["type"] != "pairing_matched":
            why = "timed out" if matched is None else f"failed: {matched.frame.get('cause')}"
            metrics.fire(self.environment, "pairing.match", metrics.since_ms(confirmed), f"pairing {why}")
            return None
        self.time_pairing(session_id, confirmed, by_webhook, matched)
        return session_id

    def time_pairing(self, session_id: str, confirmed: float, by_webhook: bool, matched: Arrived) -> None:
        offered = metrics.OFFERS.get(session_id)
        if offered is None:
            return  # no mitra of this process was offered (another worker's were)
        metrics.fire(self.environment, "pairing.offer", metrics.since_ms(confirmed, offered))
        if by_webhook:
            metrics.fire(self.environment, "pairing.webhook", metrics.since_ms(confirmed, offered))
        metrics.fire(self.environment, "pairing.match", metrics.since_ms(offered, matched.at))

    def confirm(self, payment: dict[str, Any]) -> tuple[float, bool]:
        """Confirm the payment the way the target allows; ``(when, through a Xendit callback)``."""
        path = payment_path(self.profile.customer.payment, self.target, payment)
        started = time.time()
        if path == "force_confirm":
            self.api.call("test.force_confirm_payment", {"payment_request_id": payment["id"]})
        elif path == "checkout":
            invoice = payment["xendit_invoice_id"]
            self.api.request("POST", f"{self.target.xendit_url}/_fake/invoices/{invoice}/pay", "xendit.pay", {})
        else:
            self.webhook(payment)
        return started, path != "force_confirm"

    def webhook(self, payment: dict[str, Any]) -> None:
        route = self.target.routes["xendit.webhook"]
        invoice = payment.get("xendit_invoice_id") or f"fake-{payment['id']}"
        body = standalone_callback(invoice, payment["id"], "PAID", payment.get("amount", 0), time.time())
        headers = {"x-callback-token": self.target.xendit_callback_token or ""}
        self.api.request(route.method, self.target.base_url + route.path, "xendit.webhook", body, headers)

    def chat(self, session_id: str) -> None:
        behaviour = self.profile.customer
        for number in range(behaviour.messages):
            self.exchange(session_id, f"c{number}")
            gevent.sleep(pick(behaviour.think_s))
        if behaviour.background:
            self.background_and_resume(session_id)
        self.api.call("customer.end_session", {"session_id": session_id}, expected=(409,))

    def send(self, session_id: str, text: str) -> Arrived:
        """A chat message over the socket, waited until acknowledged."""
        socket = self.live_socket()
        client_id, sent = uuid.uuid4().hex[:16], time.time()
        socket.send(
            {"type": "chat_message", "session_id": session_id, "text": metrics.stamped(text), "client_id": client_id}
        )
        ack = socket.wait(of_type("message_ack", client_id=client_id), self.profile.customer.reply_timeout_s)
        if ack is None:
            metrics.fire(self.environment, "ws.ack", metrics.since_ms(sent), "no message_ack")
            raise HaloError("no message_ack")
        self.note_ack(ack, sent)
        return ack

    def exchange(self, session_id: str, text: str) -> None:
        """Say something; the mitra's reply must arrive on the socket."""
        self.send(session_id, text)
        reply = self.live_socket().wait(self.reply_in(session_id), self.profile.customer.reply_timeout_s)
        if reply is None:
            metrics.fire(self.environment, "messages.lost", 0, "a reply never arrived on the socket")
            return
        stamp = metrics.sent_at(str(reply.frame["message"]["text"]))
        if stamp is not None:
            metrics.fire(self.environment, "delivery.ws", metrics.since_ms(stamp, reply.at))

    @staticmethod
    def reply_in(session_id: str) -> Callable[[dict[str, Any]], bool]:
        return lambda f: (
            f.get("type") == "chat_message"
            and f.get("session_id") == session_id
            and f["message"]["sender_role"] == "mitra"
        )

    def background_and_resume(self, session_id: str) -> None:
        """The app goes to the background: the mitra's reply must come by FCM, and be there on resume."""
        last_seq = int(self.send(session_id, BG).frame["message"]["seq"])
        self.close_socket()
        pushed = self.await_push(session_id) if self.target.has("fcm_inbox") else False
        self.open_socket()
        stored = self.api.call("customer.fetch_messages", {"session_id": session_id, "after_seq": last_seq})
        replies = [m for m in stored.get("messages", []) if BG_REPLY in str(m.get("text"))]
        if not pushed and not replies:
            metrics.fire(
                self.environment, "messages.lost", 0, "a reply to a backgrounded app came neither by FCM nor on resume"
            )

    def await_push(self, session_id: str) -> bool:
        """Poll the fake FCM inbox for the reply; its delivery time is the fake's receive time."""
        started, deadline = time.time(), time.monotonic() + self.profile.customer.reply_timeout_s
        url = f"{self.target.fcm_url}/_fake/inbox?token={self.fcm_token}"
        while time.monotonic() < deadline:
            for entry in self.api.request("GET", url, "fcm.inbox").get("messages", []):
                text = _push_text(entry)
                if BG_REPLY in text and session_id in str(entry):
                    stamp = metrics.sent_at(text)
                    if stamp is not None:
                        metrics.fire(self.environment, "delivery.fcm", metrics.since_ms(stamp, entry["received_at"]))
                    return True
            gevent.sleep(0.1)
        metrics.fire(
            self.environment,
            "delivery.fcm",
            metrics.since_ms(started),
            "no push",
        )
        return False


def _push_text(entry: dict[str, Any]) -> str:
    """The chat text inside a push (the frame travels as FCM data, the message as JSON text)."""
    import json

    message = entry.get("message", {})
    data = message.get("data", {}) if isinstance(message, dict) else {}
    try:
        return str(json.loads(data.get("message", "{}")).get("text", ""))
    except (ValueError, AttributeError):
        return ""


def payment_path(chosen: PaymentPath, target: Target, payment: dict[str, Any]) -> PaymentPath:
    """``auto``: fake Xendit's checkout when the payment has an invoice there, else force-confirm, else a webhook."""
    if chosen != "auto":
        return chosen
    if target.has("xendit_fake") and payment.get("xendit_invoice_id"):
        return "checkout"
    if target.has("test_endpoints"):
        return "force_confirm"
    return "webhook"


class Mitra(Person):
    """A mitra answering what its socket brings."""

    taken: ClassVar[int] = 0

    def onboard(self) -> None:
        phone, password = self.account()
        signed = self.api.call("mitra.login", {"phone": phone, "password": password})
        self.api.token, self.user_id = signed["token"], signed["mitra"]["id"]
        self.api.call("mitra.register_device", {"fcm_token": self.fcm_token})
        self.open_socket()
        self.api.call("mitra.go_online")
        self.session_id: str | None = None
        self.active_at = time.monotonic()
        self.acks: dict[str, float] = {}
        self.beating = gevent.spawn(self.heartbeat)

    def account(self) -> tuple[str, str]:
        """A fresh mitra where the target can seed one, else the next test mitra of the target's pool."""
        if self.target.has("seed_mitra"):
            phone = f"+6289{random.randrange(10**9):09d}"
            self.api.call(
                "test.seed_mitra", {"phone": phone, "display_name": f"Bestie {phone[-4:]}", "password": MITRA_PASSWORD}
            )
            return phone, MITRA_PASSWORD
        index = getattr(self.environment.runner, "worker_index", 0) * 1000 + Mitra.taken
        Mitra.taken += 1
        if index >= len(self.target.mitras):
            raise HaloError(f"target {self.target.name!r} has {len(self.target.mitras)} test mitras; no free one")
        account = self.target.mitras[index]
        return account.phone, account.password

    def heartbeat(self) -> None:
        while True:
            gevent.sleep(self.profile.mitra.heartbeat_s)
            try:
                self.api.call("mitra.heartbeat")
            except HaloError:
                pass

    def leave(self) -> None:
        self.beating.kill(block=False)
        try:
            self.api.call("mitra.go_offline")
        except HaloError:
            pass
        super().leave()

    def act(self) -> None:
        """Handle the next frame (or notice an idle session: its customer gave up)."""
        try:
            arrived = self.live_socket().next(1.0)
            if arrived is None:
                self.end_if_idle()
                return
            self.active_at = time.monotonic()
            handler = HANDLERS.get(str(arrived.frame.get("type")))
            if handler is not None:
                handler(self, arrived)
        except HaloError:
            gevent.sleep(0.2)

    def end_if_idle(self) -> None:
        if (
            self.session_id is not None
            and time.monotonic() - self.active_at > 2 * self.profile.customer.reply_timeout_s
        ):
            session_id, self.session_id = self.session_id, None
            self.api.call("mitra.end_session", {"session_id": session_id}, expected=(404, 409))

    def on_offer(self, arrived: Arrived) -> None:
        session_id = str(arrived.frame["session_id"])
        socket = self.live_socket()
        if gone(socket, session_id):
            return  # the app dropped the card: someone else won it while earlier offers were handled
        if self.session_id is not None or random.random() >= self.profile.mitra.accept_probability:
            socket.send({"type": "reject_offer", "session_id": session_id})
            return
        # The delay runs from the offer's arrival: a mitra sees every card at once, not one after the other.
        gevent.sleep(max(0.0, arrived.at + pick(self.profile.mitra.accept_delay_s) - time.time()))
        if gone(socket, session_id):
            return
        socket.send({"type": "accept_offer", "session_id": session_id})
        answer = socket.wait(
            lambda f: (
                (f.get("type") == "offer_accepted" and f.get("session_id") == session_id)
                or (f.get("type") == "error" and f.get("request_type") == "accept_offer")
            ),
            5.0,
        )
        if answer is not None and answer.frame["type"] == "offer_accepted":
            self.session_id = session_id
        elif answer is not None:
            self.on_error(answer)

    def on_message(self, arrived: Arrived) -> None:
        message = arrived.frame["message"]
        if message["sender_role"] != "customer":
            return
        text = str(message["text"])
        stamp = metrics.sent_at(text)
        if stamp is not None:
            metrics.fire(self.environment, "delivery.ws", metrics.since_ms(stamp, arrived.at))
        background = BG in text
        behaviour = self.profile.mitra
        gevent.sleep(behaviour.background_reply_delay_s if background else pick(behaviour.reply_think_s))
        client_id = uuid.uuid4().hex[:16]
        self.acks[client_id] = time.time()
        reply = metrics.stamped(BG_REPLY if background else "r")
        frame = {
            "type": "chat_message",
            "session_id": arrived.frame["session_id"],
            "text": reply,
            "client_id": client_id,
        }
        self.live_socket().send(frame)

    def on_ack(self, arrived: Arrived) -> None:
        sent = self.acks.pop(str(arrived.frame.get("client_id")), None)
        if sent is not None:
            self.note_ack(arrived, sent)

    def on_ended(self, arrived: Arrived) -> None:
        if arrived.frame.get("session_id") == self.session_id:
            self.session_id = None

    def on_error(self, arrived: Arrived) -> None:
        code = str(arrived.frame.get("error"))
        metrics.refusal(self.environment, code, code in EXPECTED_REFUSALS)


def gone(socket: Socket, session_id: str) -> bool:
    """Whether the offer was taken or withdrawn already (its frame is waiting in the queue)."""
    kinds = ("offer_taken", "offer_withdrawn")
    return socket.wait(lambda f: f.get("type") in kinds and f.get("session_id") == session_id, 0) is not None


HANDLERS: dict[str, Callable[[Mitra, Arrived], None]] = {
    "pairing_offer": Mitra.on_offer,
    "chat_message": Mitra.on_message,
    "message_ack": Mitra.on_ack,
    "session_ended": Mitra.on_ended,
    "error": Mitra.on_error,
}


def user_class(profile: LoadProfile, resolve: Callable[[Any], Target]) -> type[HaloUser]:
    """The run's concrete user class (master and workers build it from the same profile: same name)."""
    HaloUser.dealt = 0
    return type("HaloUser", (HaloUser,), {"profile": profile, "resolve": staticmethod(resolve), "abstract": False})
