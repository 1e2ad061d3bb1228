"""The ``halo-sim`` command line: one module per noun, each command a call into the library."""
