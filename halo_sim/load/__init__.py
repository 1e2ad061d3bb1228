"""Load runs on Locust: Halo's customers and mitras as Locust users, Halo's latencies as Locust metrics.

Only :mod:`.profile` and :mod:`.slo` are importable without Locust; every other module imports
it, and importing Locust monkey-patches the process for gevent, so the CLI imports them only
inside ``halo-sim load`` (and tests run load in subprocesses).
"""
