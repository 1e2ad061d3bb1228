"""The state of one scenario run, shared by its steps."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.schema import Scenario
from halo_sim.scenario.secrets import Secrets, secret_values
from halo_sim.scenario.sightings import Sightings
from halo_sim.scenario.template import names_in
from halo_sim.scenario.transcript import Transcript
from halo_sim.targets.base import CAPABILITIES, Target
from halo_sim.targets.preflight import token_refused
from simkit.clock import isoformat
from simkit.errors import CapabilityMissing, ScenarioError

if TYPE_CHECKING:
    from faker import Faker

Result = dict[str, Any]
LOCALE = "id_ID"
CAST_PROVIDERS = ["faker.providers.person", "faker.providers.misc"]


def cast_faker(seed: int) -> Faker:
    """The run's seeded faker, with only the providers casting draws from (names, ``sha1``, ``numerify``).

    A faker with every provider imports a hundred locale modules (a tenth of a CLI run's start-up);
    the values are the same, since every provider draws from the one seeded random.
    """
    from faker import Faker

    faker = Faker(LOCALE, providers=CAST_PROVIDERS)
    faker.seed_instance(seed)
    return faker


class SeededFaker:
    """Faker calls for templates (``{{ faker.first_name }}``); any provider method, no arguments.

    A method the run's faker lacks comes from a faker with every provider, made on first need and
    drawing from the same seeded random: the values are those one full faker would have given.
    """

    def __init__(self, faker: Faker) -> None:
        self._faker = faker
        self._everything: Faker | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self._faker, name)
        except AttributeError:
            return getattr(self._full(), name)

    def _full(self) -> Faker:
        if self._everything is None:
            from faker import Faker

            self._everything = Faker(LOCALE)
            self._everything.random = self._faker.random  # type: ignore[attr-defined]  # not in faker's stub
        return self._everything


@dataclass
class RunContext:
    """Variables, actors, the HTTP client and the transcript of one run."""

    scenario: Scenario
    target: Target
    http: httpx.AsyncClient
    seed: int
    faker: Faker
    actors: dict[str, Actor] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    transcript: Transcript = field(default_factory=Transcript)
    sightings: Sightings = field(default_factory=Sightings)  # pushes and callbacks seen, pushes consumed
    templates_faker: SeededFaker = field(init=False)
    now: str | None = None  # the target's time as of the last step that named {{ now }}

    def __post_init__(self) -> None:
        self.templates_faker = SeededFaker(self.faker)
        self.transcript.secrets = self.secrets()

    def secrets(self) -> tuple[str, ...]:
        """The target's secret values, which nothing the run records may show."""
        return tuple(v for v in secret_values(self.target).values() if v)

    def template_vars(self) -> dict[str, Any]:
        """Everything ``{{ ... }}`` can name."""
        return {
            **self.variables,
            **{n: a.view() for n, a in self.actors.items()},
            "faker": self.templates_faker,
            "seed": self.seed,
            "target": self.target.name,
            "secrets": Secrets(self.target),
            **({"now": self.now} if self.now is not None else {}),
        }

    async def refresh_now(self, value: Any) -> None:
        """Read the target's clock when ``value``'s templates name ``{{ now }}`` (a read costs a request)."""
        if "now" in names_in(value):
            self.now = await self.clock_now()

    async def clock_now(self) -> str:
        """The target's current time as ISO-8601 (UTC, milliseconds, ``Z``).

        A target with a virtual clock is asked (``GET`` on the route of ``test.advance_clock``, the
        backend's ``/internal/_test/clock``): its time is what its timers see.  Any other target's
        time is taken to be the wall clock.  The read is the harness's, not the scenario's: it is
        noted in the transcript, not recorded as an exchange (``halo-sim diff`` compares those).
        """
        route = self.target.routes.get("test.advance_clock")
        now, source = time.time(), "the wall clock"
        if route is not None and self.target.has("virtual_clock"):
            answer = await self.http.get(self.target.base_url + route.path, headers=self.target.test_headers())
            read = _clock_reading(answer)
            now, source = (read, "the target's clock") if isinstance(read, (int, float)) else (now, source)
        self.transcript.add("note", text=f"now = {isoformat(now)} ({source})")  # a note: not an exchange to diff
        return isoformat(now)

    def require(self, capability: str | None) -> None:
        """Skip (not pass) when the target lacks what a step needs."""
        if capability and not self.target.has(capability):
            what = CAPABILITIES.get(capability, capability)
            raise CapabilityMissing(f"target {self.target.name!r} lacks {capability} ({what})")

    def actor(self, name: str) -> Actor:
        """An actor by name (validated at load time, so a miss is a bug in the caller)."""
        return self.actors[name]

    async def call(self, action: str, args: dict[str, Any], actor: Actor | None = None) -> Result:
        """Perform a semantic action through the target's route table."""
        route = self.target.routes.get(action)
        if route is None:
            raise CapabilityMissing(f"target {self.target.name!r} has no route for {action}")
        self.require(route.capability)
        path, body, query = route.build(args)
        headers = self.target.test_headers() if route.auth == "test" else {}
        if route.auth == "actor":
            if actor is None or actor.token is None:
                raise ScenarioError(
                    f"{action} needs a logged-in actor ({actor.name if actor else 'nobody'} has no token)"
                )
            headers["Authorization"] = f"Bearer {actor.token}"
        payload = body or None
        if payload is None and route.auth == "test" and route.method != "GET":
            payload = {}  # the test surface takes writes as JSON only (no cross-site simple POSTs)
        who = actor.name if actor is not None and route.auth != "test" else None
        result = await self.request(route.method, self.target.base_url + path, payload, query, headers, who)
        if route.auth == "test" and result["status"] == 401:  # the harness cannot use the hooks: a skip, with why
            raise CapabilityMissing(token_refused(self.target, route.path))
        return result

    async def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        actor: str | None = None,
    ) -> Result:
        """One HTTP exchange, recorded in the transcript; the result is what ``expect``/``save`` see.

        ``actor`` names the app that made the call (the HTML report's lane); none is the harness.
        """
        sent = self.transcript.since(time.perf_counter())
        response = await self.http.request(method, url, json=body, params=query or None, headers=headers)
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = response.text
        self.transcript.add(
            "http",
            method=method,
            url=str(response.url),
            request=body,
            status=response.status_code,
            response=parsed,
            actor=actor,
            sent=sent,
        )
        return {"status": response.status_code, "body": parsed, "headers": dict(response.headers)}


def _clock_reading(answer: httpx.Response) -> Any:
    """The ``now`` of a clock route's answer (anything else: None, and the wall clock is used)."""
    try:
        body = answer.json() if answer.status_code == 200 else None
    except ValueError:
        return None
    return body.get("now") if isinstance(body, dict) else None


def compact(value: Any, limit: int = 240) -> str:
    """A one-line rendering for step summaries."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return text
    cut = text[: limit - 4]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " ..."  # at a word boundary, never mid-word
