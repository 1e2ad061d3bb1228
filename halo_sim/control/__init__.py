"""The control center page (``/control``): live state and one-click actions for QA beside an emulator.

Split like moto's dashboard: :mod:`.routes` is the HTTP surface (page, assets, snapshot,
stream, actions), :mod:`.feed` builds the live snapshot, :mod:`.timeline` the bounded log
of what happened, :mod:`.actions` the buttons, :mod:`.fakes` the fakes' control planes over
HTTP, ``templates/`` the Jinja2 panels and ``static/`` the plain JavaScript and CSS.
Mounted by the backend app beside the ``_test`` surface, behind the same guard.
"""
