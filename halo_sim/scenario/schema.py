"""The scenario format, as one strict pydantic schema.

A scenario file::

    name: mitra → backgrounded customer arrives by FCM
    tags: [fcm, chat]
    seed: 501                      # optional; faker data and ids reproduce with it
    actors:
      customer: {role: customer, device: {notifications_enabled: true}}
      mitra:    {role: mitra, online: true, foreground: true}
    steps:
      - customer.request_payment: {duration_minutes: 30}
        save: {payment_id: body.id}
      - test.force_confirm_payment: {payment_request_id: "{{ payment_id }}"}
      - mitra.expect_frame: {type: pairing_offer}
      - customer.background
      - test.send_chat_message_as_mitra: {session_id: "{{ session_id }}", text: halo}
        expect: {status: 201, body: {delivered_via: fcm}}

Each step is one ``<who>.<action>`` key (``who`` is an actor, ``test``, ``fcm``,
or a template naming an actor: ``"{{ winner }}.send_message"``) or ``http``,
``parallel``, ``repeat``, with its arguments as the value, plus optional ``name``, ``expect``
(a subset the step's result must contain), ``save`` (variables captured from
the result by dotted path) and ``required`` (a target lacking what the step needs
fails the scenario instead of skipping it).  Unknown keys anywhere are errors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from halo_sim.contract.settings import TunableSettings

STEP_MODIFIERS = ("name", "expect", "save", "required", "line")


class Strict(BaseModel):
    """Unknown keys are mistakes, reported rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class DeviceSpec(Strict):
    """An FCM device the actor's app registers at setup."""

    notifications_enabled: bool = True
    platform: Literal["android", "ios", "web"] = "android"
    fcm_token: str | None = None


class ActorSpec(Strict):
    """A person using one of the apps during the scenario."""

    role: Literal["customer", "mitra"]
    login: Literal["verified", "anonymous", "password", "none"] | None = None
    phone: str | None = None
    display_name: str | None = None
    password: str = "bestie123"
    online: bool = False
    device: DeviceSpec | None = None
    foreground: bool = False

    @model_validator(mode="after")
    def _login_fits_role(self) -> ActorSpec:
        if self.login is None:
            self.login = "verified" if self.role == "customer" else "password"
        allowed = {"customer": {"verified", "anonymous", "none"}, "mitra": {"password", "none"}}[self.role]
        if self.login not in allowed:
            raise ValueError(f"login {self.login!r} is not for a {self.role}; expected one of {sorted(allowed)}")
        if self.online and self.role != "mitra":
            raise ValueError("only a mitra can be online")
        return self


class Step(Strict):
    """One step: ``action`` is ``who.what`` (or ``http``), ``args`` its value."""

    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None
    expect: dict[str, Any] | None = None
    save: dict[str, str] = Field(default_factory=dict)
    required: bool = False
    line: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return {"action": raw}
        if not isinstance(raw, dict) or "action" in raw:
            return raw
        actions = [k for k in raw if k not in STEP_MODIFIERS]
        if len(actions) != 1:
            raise ValueError(f"a step needs exactly one action key besides {list(STEP_MODIFIERS[:4])}, got {actions}")
        args = raw[actions[0]]
        if args is not None and not isinstance(args, dict):
            raise ValueError(f"the arguments of {actions[0]} must be a mapping, got {type(args).__name__}")
        rest = {k: v for k, v in raw.items() if k != actions[0]}
        return {"action": actions[0], "args": args or {}, **rest}

    @property
    def who(self) -> str:
        """The part before the dot: an actor name, ``test``, ``fcm`` (or ``http``)."""
        return self.action.rsplit(".", 1)[0]  # rsplit: a templated actor ("{{ losers.0 }}") has dots

    @property
    def what(self) -> str:
        """The part after the dot (empty for ``http``)."""
        return self.action.rsplit(".", 1)[1] if "." in self.action else ""

    def title(self) -> str:
        """How the step is shown to a person."""
        return self.name or self.action


class Scenario(Strict):
    """A whole scenario file."""

    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    seed: int | None = None
    actors: dict[str, ActorSpec] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    # Backend settings for this run (halo_sim/contract/settings.py): applied before the setup, restored after.
    settings: TunableSettings | None = None
    id: str = ""
    path: str = ""

    @model_validator(mode="after")
    def _actor_names_are_free(self) -> Scenario:
        reserved = {"test", "fcm", "http", "xendit", "parallel", "repeat", "clock", "faker", "now", "secrets"}
        clash = reserved & set(self.actors)
        if clash:
            raise ValueError(f"actor names {sorted(clash)} are reserved; rename them")
        return self
