"""A stateful fake of Xendit's Invoice API, moto-style.

``XenditBackend`` holds the state and rules (pure, on an injected clock),
``CallbackDispatcher`` delivers the invoice callbacks Xendit would send, and
``create_app`` serves both over HTTP with the checkout page and the ``/_fake``
control plane.  Run it alone with ``python -m fake_xendit``.
"""

from fake_xendit.callbacks import DEFAULT_SCHEDULE, XENDIT_REAL_SCHEDULE, CallbackDispatcher
from fake_xendit.errors import XenditError
from fake_xendit.models import XenditBackend
from fake_xendit.routes import create_app

__all__ = [
    "DEFAULT_SCHEDULE",
    "XENDIT_REAL_SCHEDULE",
    "CallbackDispatcher",
    "XenditBackend",
    "XenditError",
    "create_app",
]
