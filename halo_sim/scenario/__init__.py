"""The scenario engine: YAML scenarios replaying the Halo team's Maestro flows.

A scenario is loaded and validated once (:mod:`.loader`, :mod:`.schema`), then
run step by step by :mod:`.runner` against a target (:mod:`halo_sim.targets`),
talking to it only over HTTP and WebSocket.  Step types are small plugins
(:mod:`.steps`); semantic actions resolve through one route table
(:mod:`.routes`) so a live backend with other paths can remap them.
"""
