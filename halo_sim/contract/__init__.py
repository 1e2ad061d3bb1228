"""The backend's contract, declared once: every WebSocket frame and every refusal code.

The reference backend builds and parses frames against :mod:`.frames`, the
scenario engine's ``validate`` checks ``expect_frame``/``send_frame`` steps
against it, and :mod:`.docs` writes both tables into ``docs/contract.md``.  It is
neutral ground: it imports nothing of the backend, the engine, the targets or
the CLI (an import-linter contract keeps it so), only the pure domain's enums.
"""
