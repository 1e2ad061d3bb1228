"""Where scenarios run: the embedded reference backend, or a live deployment."""

from halo_sim.targets.base import Target

__all__ = ["Target"]
