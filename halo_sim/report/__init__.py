"""Run reports people look at: a run's JSON report drawn as one self-contained HTML page.

:mod:`.sequence` turns the report into lanes and messages (pure), :mod:`.svg` draws them,
:mod:`.page` renders the page and the suite's index with the templates of ``templates/``.
``halo-sim scenario --html``, ``halo-sim suite --html`` and ``halo-sim report`` share them.
"""
