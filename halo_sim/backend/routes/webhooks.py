"""``/api/shared/payment/webhooks/xendit``: Xendit's invoice callbacks.

401 for a missing or wrong ``x-callback-token`` (checked first, before the body is
read); 400 for a body that is not a Xendit invoice callback; 200 otherwise, with
``result`` saying what happened (``confirmed``, ``expired``, ``duplicate``,
``ignored`` with a ``reason``).  Unknown payments are answered 200 ``ignored`` so
Xendit stops retrying a callback that can never apply.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from halo_sim.backend.routes.common import backend_of, body, ok
from halo_sim.backend.services.webhooks import XenditCallback
from simkit.xendit_wire import TOKEN_HEADER, WEBHOOK_PATH

PATH = WEBHOOK_PATH


async def xendit_callback(request: Request) -> JSONResponse:
    webhook = backend_of(request).webhook
    webhook.verify(request.headers.get(TOKEN_HEADER))
    return ok(await webhook.handle(await body(request, XenditCallback)))


routes = [Route(PATH, xendit_callback, methods=["POST"])]
