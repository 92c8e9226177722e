"""A request the service's stop cut short is answered 503, not with a traceback and a 500.

Why: on SIGTERM uvicorn gives open requests ``timeout_graceful_shutdown`` seconds
(:func:`feedsvc.server.uvicorn_config`), then cancels their tasks; uvicorn's protocol catches the
``CancelledError``, logs it as "Exception in ASGI application" with a traceback, and answers a
plain-text ``500 Internal Server Error`` (a tester's, an admin's backfill during a restart). A
cancelled request is no bug of the app: :class:`StopAnswer` answers it in the route's format
(:func:`feedsvc.web.outage.unavailable`: JSON under ``/api/``, plain text for feeds, a page
elsewhere) with ``Retry-After``, and logs one line (bounded, :data:`CUT_SHORT`: a client may hold
many requests open). Work the request started in a worker thread goes on to its own stop point
(a backfill: its next batch, ``backfill_stopped``).

Only while the service is stopping (``Service.interrupted``): any other cancellation is
re-raised untouched. A response already under way cannot be replaced: it is left to uvicorn,
which closes the connection.

uvicorn also logs an ERROR as its grace period ends ("Cancel 1 running task(s), timeout graceful
shutdown exceeded"), before it cancels: beside this module's WARNING, an operator read an error
for a case the service handles and explains. :func:`mute_grace_period_error` drops that one
record (:func:`feedsvc.server.uvicorn_config` installs it); any other uvicorn error is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from starlette.requests import Request

from feedsvc.bounded_log import BoundedLog
from feedsvc.web.outage import Reason, unavailable

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from feedsvc.app import Service

log = logging.getLogger(__name__)

#: One line per request the stop cut short: as many as open requests (up to
#: ``http.max_connections``, each a client's to hold open), so bounded.
CUT_SHORT = BoundedLog(
    log, ("request cut short by the service's stop", "requests cut short by the service's stop")
)

#: uvicorn's ERROR (``uvicorn.server.Server.shutdown``, logger ``uvicorn.error``) as its grace
#: period ends with requests open; each of them is then one WARNING here.
GRACE_ENDED = "Cancel %s running task(s), timeout graceful shutdown exceeded"

#: The service stopped before the request was answered.
STOPPING = Reason(
    "service_stopping",
    "the service is stopping and could not finish this request",
    "api.service_stopping",
    "http.service_stopping",
)


class StopAnswer:
    """ASGI middleware: a request cancelled during the service's stop answered 503 (see the
    module docstring)."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except asyncio.CancelledError:
            if not self.service.interrupted:
                raise
            # the text formatter escapes the path's controls (once: escaping is not idempotent)
            what = f"{scope.get('method', '')} {scope.get('path', '')}"
            client = scope.get("client")
            source = str(client[0]) if client else None
            if started:
                CUT_SHORT.log("%s: cut short by the service's stop mid-answer", what, source=source)
                return  # uvicorn closes the connection of an unfinished answer
            CUT_SHORT.log(
                "%s: not answered before the service's stop; answered 503", what, source=source
            )
            await unavailable(Request(scope), self.service, STOPPING)(scope, receive, send)


class _GraceEnded(logging.Filter):
    """Drops uvicorn's :data:`GRACE_ENDED` record, and no other."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != GRACE_ENDED


def mute_grace_period_error() -> None:
    """Keep uvicorn's :data:`GRACE_ENDED` ERROR out of the log (a filter on the
    ``uvicorn.error`` logger, installed once however often called): the requests it cancels
    are each answered and logged by :class:`StopAnswer`."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _GraceEnded) for f in logger.filters):
        logger.addFilter(_GraceEnded())
