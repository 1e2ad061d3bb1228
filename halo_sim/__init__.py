"""halo-sim: test harness and simulator for the Halo chat backend."""

__version__ = "0.1.0"
