"""The reference backend: an in-memory implementation of the Halo backend contract.

Layers, from the inside out: :mod:`halo_sim.domain` (pure rules) →
:mod:`.store` (tables with Postgres-like foreign keys) → :mod:`.services`
(use cases: auth, payments, pairing, chat…) → :mod:`.routes` (HTTP and
WebSocket surface).  :class:`.state.ReferenceBackend` owns one of each and can be
reset as a whole.
"""
