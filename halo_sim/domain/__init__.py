"""Pure domain rules of the Halo backend: state machines and decisions, no I/O.

Nothing in this package opens a socket, sleeps or reads the wall clock; the
service layer (:mod:`halo_sim.backend.services`) feeds it facts and the time.
"""
