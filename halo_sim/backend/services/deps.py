"""What every service needs, passed as one object."""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Literal

from halo_sim.backend.config import Settings
from halo_sim.backend.events import EventBus
from halo_sim.backend.hub import Hub, UserKey
from halo_sim.backend.push import FcmClient
from halo_sim.backend.store import Store
from halo_sim.backend.tables import AppConfig
from halo_sim.backend.xendit import XenditClient
from simkit.scheduler import Scheduler, Timer, TimerCallback

TIMER_OWNER = "backend"
CONFIG_ID = "current"

Role = Literal["customer", "mitra"]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    role: Role
    id: str

    @property
    def key(self) -> UserKey:
        """The hub key of this user's sockets."""
        return (self.role, self.id)


TOKEN_BYTES = 32  # 256 bits: a bearer token cannot be guessed, whatever the seed


def new_token() -> str:
    """An opaque bearer token from the OS's CSPRNG, never from the seed: a seeded token is a guessable one."""
    return secrets.token_hex(TOKEN_BYTES)


def new_code(n: int) -> str:
    """A numeric one-time code (an OTP) from the OS's CSPRNG, never predictable from the seed."""
    return f"{secrets.randbelow(10**n):0{n}d}"


class Ids:
    """Ids and filler data from a seeded generator, so what a scenario compares reproduces with the seed.

    Never secrets: tokens and codes come from :func:`new_token` and :func:`new_code`.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        """A UUID4-shaped id."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def digits(self, n: int) -> str:
        """Filler digits (a made-up phone number); not for secrets."""
        return "".join(str(self.rng.randrange(10)) for _ in range(n))


@dataclass
class Deps:
    """The shared infrastructure of one backend instance."""

    settings: Settings
    scheduler: Scheduler
    store: Store
    bus: EventBus
    hub: Hub
    push: FcmClient
    ids: Ids = field(default_factory=lambda: Ids(0))
    xendit: XenditClient | None = None

    def now(self) -> float:
        """The injected clock's now."""
        return self.scheduler.clock.now()

    def config(self) -> AppConfig:
        """The apps' configuration as the control center last set it (seeded from the settings)."""
        return self.store.app_config.require(CONFIG_ID, "app_config")

    def later(self, delay: float, callback: TimerCallback, name: str) -> Timer:
        """A backend timer (owned by the backend, so its reset leaves the fakes' timers alone)."""
        return self.scheduler.call_later(delay, callback, name, owner=TIMER_OWNER)
