"""Fake FCM: a stateful fake of the Firebase Cloud Messaging HTTP v1 API, moto-style.

``create_app(FcmBackend(...))`` gives a Starlette app serving
``POST /v1/projects/{project}/messages:send`` plus the ``/_fake`` control plane;
``python -m fake_fcm`` runs it standalone.
"""

from fake_fcm.models import FcmBackend
from fake_fcm.routes import create_app

__all__ = ["FcmBackend", "create_app"]
