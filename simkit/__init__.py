"""Shared infrastructure of the reference backend, the fakes and the scenario engine.

Clock, scheduler, servers on one loop, TLS, the fakes' control plane, the error
hierarchy and the Xendit callback wire format: everything ``halo_sim``,
``fake_xendit`` and ``fake_fcm`` share lives here, and it imports none of them,
so each fake runs alone without pulling in the backend.
"""
