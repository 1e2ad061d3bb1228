"""The catalogued settings, read and changed while the backend runs (``/internal/_test/settings``).

A test run pins a rule to a value (one pairing attempt, a short offer timeout, other
support handles) without restarting the server.  Every service reads
``deps.settings`` when it applies a rule, so replacing it here takes effect at once;
``prices`` and the support handles are the control center's live configuration and
go through :class:`ControlCenter` like ``PUT /api/control-center/config``.  A reset
wires the backend again from its start-up settings, so nothing tuned outlives it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from halo_sim.backend.services.deps import Deps
from halo_sim.backend.services.stats import ControlCenter
from halo_sim.contract.settings import CONFIG_SETTINGS, SETTINGS, TunableSettings
from simkit.errors import ValidationFailed


class Tuning:
    """The one place the catalogued settings are validated, applied and read back."""

    def __init__(self, deps: Deps, control: ControlCenter) -> None:
        self.deps = deps
        self.control = control

    def current(self) -> dict[str, Any]:
        """Every catalogued setting with the value the services use now."""
        started = self.deps.settings.model_dump()
        config = self.deps.config()
        return {
            **{name: started[name] for name in SETTINGS if name not in CONFIG_SETTINGS},
            "prices": [{"duration_minutes": d, "amount": a} for d, a in sorted(config.prices.items())],
            "support_whatsapp": config.support_whatsapp,
            "support_telegram": config.support_telegram,
        }

    def update(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Check every setting given, then apply them all — or none when one is wrong; the values now."""
        changes = _validated(raw).changes()
        config = {name: changes.pop(name) for name in CONFIG_SETTINGS if name in changes}
        if config:
            prices = config.get("prices")
            self.control.update_config(
                {p["duration_minutes"]: p["amount"] for p in prices} if prices else None,
                config.get("support_whatsapp"),
                config.get("support_telegram"),
            )
        self.deps.settings = self.deps.settings.model_copy(update=changes)
        return self.current()


def _validated(raw: dict[str, Any]) -> TunableSettings:
    """The catalogue's judgement: an unknown name first (a typo), then each value's type and range."""
    unknown = sorted(_shown(name) for name in set(raw) - set(SETTINGS))
    if unknown:
        raise ValidationFailed(
            f"unknown setting(s) {unknown}", code="UNKNOWN_SETTING", unknown=unknown, known=sorted(SETTINGS)
        )
    try:
        return TunableSettings.model_validate(raw)
    except ValidationError as exc:
        problems = [_shown(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}") for e in exc.errors()]
        raise ValidationFailed("invalid setting value(s)", code="INVALID_SETTING", problems=problems) from None


def _shown(text: str, limit: int = 100) -> str:
    """A client's text as an answer may echo it: lone surrogates escaped (JSON cannot carry them), bounded."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"
