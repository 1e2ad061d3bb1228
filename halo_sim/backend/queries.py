"""Query parameters of the routes that take them, as models for the OpenAPI document.

The routes read these parameters by hand; the models say what they accept, so the
document (and a client generated from it) knows the names, types and bounds.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Query(BaseModel):
    """Base of every query model."""

    model_config = ConfigDict(extra="forbid")


class MessagesAfter(Query):
    after_seq: int = Field(default=0, ge=0, description="only messages with a larger seq")


class StatsStream(Query):
    interval: float = Field(default=1.0, description="seconds between events (at least 0.05)")
    limit: int = Field(default=0, ge=0, description="stop after this many events; 0 streams until the client leaves")


class SessionLookup(Query):
    session_id: str | None = None
    customer_phone: str | None = Field(default=None, description="the customer's newest session")
    phone: str | None = Field(default=None, description="alias of customer_phone")


class PhoneQuery(Query):
    phone: str
