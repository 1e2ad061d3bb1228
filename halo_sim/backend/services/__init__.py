"""Use cases of the reference backend.

Each service is a thin orchestration of the pure domain rules
(:mod:`halo_sim.domain`) over the store, the event bus, the socket hub and the
push client, all reached through one :class:`~.deps.Deps`.
"""
