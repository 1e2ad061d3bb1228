"""The counting arguments shared by the event waits (frames, pushes, callbacks).

``count: N`` waits up to ``timeout`` seconds for N events; ``count: 0`` is the opposite
claim, that none comes, and so waits a window, ``within`` seconds, rather than a timeout.
Each of the two only makes sense with its own kind of count, so giving the other is an
error when the file is loaded, not a silently ignored number.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from halo_sim.scenario.steps import Args

TIMEOUT_S = 3.0
WITHIN_S = 0.2


class Counted(Args):
    """``count`` (≥ 0), ``within`` (for ``count: 0`` only) and ``timeout`` (for any other)."""

    count: int | None = Field(None, ge=0)
    within: float | None = Field(None, ge=0)
    timeout: float | None = Field(None, gt=0)

    @field_validator("within")
    @classmethod
    def _within_is_for_none(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("count", 0) != 0:
            raise PydanticCustomError("within", "only with count: 0 (none within that many seconds)")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout_is_for_some(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("count") == 0:
            raise PydanticCustomError("timeout", "count: 0 waits `within` seconds, not a timeout")
        return value

    def window(self) -> float:
        """How long ``count: 0`` watches for an event that must not come."""
        return WITHIN_S if self.within is None else self.within

    def wait_s(self) -> float:
        """How long a wait for events waits."""
        return TIMEOUT_S if self.timeout is None else self.timeout
