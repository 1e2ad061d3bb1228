"""Query parameters of the control center's pages (declared apart so the route table can name them)."""

from __future__ import annotations

from pydantic import Field

from halo_sim.backend.schemas import Query
from halo_sim.contract.fields import Secret


class ControlPageQuery(Query):
    token: Secret | None = Field(
        default=None, description="The test token, once: answered with a cookie and a redirect to /control."
    )


class ControlStreamQuery(Query):
    interval: float = Field(default=1.0, ge=0, le=3600, description="Seconds between checks (0.2 at least).")
    limit: int = Field(default=0, ge=0, le=1_000_000, description="Events to send; 0 = until the client leaves.")
