"""``POST /zalo/webhook``: Zalo's updates in webhook mode (SPEC §11, §9).

The ``X-Bot-Api-Secret-Token`` header must equal ``zalo.webhook_secret`` (compared in constant
time), else 401; without a running Zalo bot in webhook mode the route is 404. The body is read
up to :data:`MAX_BODY` bytes (413 beyond) and must be JSON (400); the update is then handled in
the background and Zalo gets its 200 at once, so a slow database never makes Zalo retry.

Imports nothing of the Zalo bot itself (its handlers bring :mod:`feedsvc.bot`'s and
python-telegram-bot's request edge): every process serving HTTP has this route, most with no
Zalo bot (``tests/test_service_imports.py``).
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from feedsvc.config.checks import ZALO_WEBHOOK_PATH

if TYPE_CHECKING:
    from feedsvc.app import Service

MAX_BODY = 64 * 1024  # a text message update is a few hundred bytes


def secret_matches(expected: str, given: str | None) -> bool:
    """The webhook's ``X-Bot-Api-Secret-Token`` check, in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def zalo_routes(service: Service) -> list[BaseRoute]:
    async def webhook(request: Request) -> Response:
        zalo = service.zalo
        if zalo is None or not zalo.webhook_secret:
            return JSONResponse({"ok": False}, status_code=404)
        given = request.headers.get("x-bot-api-secret-token")
        if not secret_matches(zalo.webhook_secret, given):
            return JSONResponse({"ok": False}, status_code=401)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"ok": False}, status_code=413)
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # not JSON (or UTF-8), or nested too deep
            return JSONResponse({"ok": False}, status_code=400)
        zalo.bot.accept(update)
        return JSONResponse({"ok": True})

    return [Route(ZALO_WEBHOOK_PATH, webhook, methods=["POST"])]
