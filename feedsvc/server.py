"""Running the service: the HTTP app, its uvicorn server, and the signal-driven lifecycle.

Split from :mod:`feedsvc.app` (the composition root, which still exports every name here):
``app`` decides what runs and in which order; this module decides how it is served —
:func:`create_app` (Starlette routes behind the feed fast path, whose lifespan runs the
service's start and stop), :func:`uvicorn_config`, :func:`serve` (until SIGTERM/SIGINT, with
or without HTTP) and :func:`learn_bot_username` (the reader pages' Telegram links, started by
an HTTP-role service).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from feedsvc.config import Settings
from feedsvc.listen import ListenError, Listeners, listen_sockets
from feedsvc.web.accept import BatchAcceptServer

if TYPE_CHECKING:
    from feedsvc.app import Roles, Service
    from feedsvc.shutdown import StopSignals
    from feedsvc.web.fast_path import FeedFastPath

log = logging.getLogger("feedsvc.app")  # the service's log lines keep their logger name

#: CPython's GIL hand-off interval for the service (default 0.005). Renders, matching and ingest
#: are CPU-bound threads; while one runs, the event loop waits up to this long for the GIL at
#: every hand-off, and a feed poll needs a few. bench/hostile_search.py: poll p50 under a
#: search flood 12 ms at the default, 7 ms at 0.5 ms, at no measurable cost elsewhere.
GIL_SWITCH_SECONDS = 0.0005


async def learn_bot_username(
    service: Service, token: str, attempts: int = 5, delay: float = 30.0
) -> None:
    """Ask Telegram (getMe) for the bot's @username, for the reader pages' deep links and QR
    codes, and re-render the pages with it. Retried a few times: a network hiccup at start
    should not leave the pages without their Telegram buttons until the next restart.

    Asked even when ``telegram.username`` is set: a typo, or a bot replaced while the config
    kept the old name, sent every reader to another bot (perhaps someone else's) while the
    service answered only commands addressed to the real one (tester3 F5). A configured name
    that is not the token's bot is one WARNING naming both, and the pages link to the real
    bot; until getMe answers (Telegram unreachable) they keep the configured one."""
    from telegram import Bot
    from telegram.error import TelegramError

    from feedsvc.notify.answers import NotBotApiAnswer
    from feedsvc.notify.not_bot_api import watch_of
    from feedsvc.notify.telegram import bare_request, scrub_token

    configured = service.settings.telegram.username
    base_url = service.settings.telegram.base_url
    watch = watch_of("telegram.base_url", base_url)  # the bot's too: one line between them
    for attempt in range(attempts):
        try:
            async with Bot(
                token, base_url=base_url, request=bare_request(), get_updates_request=bare_request()
            ) as bot:
                username = bot.username
        except NotBotApiAnswer as exc:
            watch.failed(exc)
        except (TelegramError, OSError) as exc:
            log.warning("bot username (getMe) failed: %s", scrub_token(str(exc), token))
        else:
            watch.answered()
            if configured and configured.lower() == username.lower():  # Telegram: any case
                # kept for the next start (and a name an earlier start learnt replaced)
                await asyncio.to_thread(service.publisher.set_bot_username, configured)
                return
            if configured:
                log.warning(
                    "telegram.username is @%s but the bot token belongs to @%s (getMe): the "
                    "reader pages link to @%s; set telegram.username = %r (or leave it unset)",
                    configured, username, username, username,
                )  # fmt: skip
            await asyncio.to_thread(service.publisher.set_bot_username, username)
            log.info("reader pages link to https://t.me/%s", username)
            return
        if attempt + 1 < attempts:
            await asyncio.sleep(delay * (attempt + 1))


def create_app(service: Service) -> FeedFastPath:
    """The whole HTTP surface: Starlette routes behind the feed-reader fast path."""
    from sqlalchemy.exc import SQLAlchemyError
    from starlette.middleware import Middleware

    from feedsvc.catalogue import Translator
    from feedsvc.web import routes
    from feedsvc.web.address_headers import AddressHeaders
    from feedsvc.web.body_limit import BodyLimit
    from feedsvc.web.clients import with_trusted_proxies
    from feedsvc.web.fast_path import FeedFastPath
    from feedsvc.web.mount import Mounted, mount_path
    from feedsvc.web.outage import state_db_handler
    from feedsvc.web.paths import PathText
    from feedsvc.web.queries import QueryText
    from feedsvc.web.slashes import redirect_base, slash_redirects
    from feedsvc.web.stopping import StopAnswer
    from feedsvc.web.words import error_handlers, error_pages

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    http = service.settings.http
    # a browser's page for every error outside /api/, the line for everyone else
    pages = error_pages(service)
    # inside Starlette's error middleware, so a body over the cap is a 413, not a 500
    too_large = Translator(service.settings.admin.language)("http.body_too_large")
    limit = Middleware(BodyLimit, prefix="/admin", message=too_large, pages=pages)
    # a path that is not UTF-8 text: a worded 400, or the API's 422 naming the parameter;
    # query parameters that are not: taken out of the query string outside /api/, a worded 400
    # (or the index page's notice) only where a route reads one (web.queries.query_param)
    site = service.settings.site
    words = {
        "reader": Translator(site.language, site.timezone),
        "admin": Translator(service.settings.admin.language, site.timezone),
    }
    # the state DB unavailable: a 503 in the route's format, one log line per outage
    handlers = {**error_handlers(service, pages), SQLAlchemyError: state_db_handler(service)}
    app = Starlette(
        routes=routes(service, pages),
        lifespan=lifespan,
        middleware=[Middleware(PathText, **words, pages=pages), Middleware(QueryText), limit],
        exception_handlers=handlers,
    )
    # `/feeds/x.rss/` → `/feeds/x.rss` at http.public_url (as set), never at the Host header
    slash_redirects(app.router, redirect_base(http))
    # http.public_url's path served on the service's own port too (a tunnel to the admin);
    # the fast path answers the root's feed polls, the rest reach the routes through it
    reserved = {getattr(route, "path", "/").split("/")[1] for route in app.routes}
    # a request the stop cut short (uvicorn's grace period over): a 503, not a traceback
    # the API's cache headers and the feeds' cross-origin reads on every answer there, the
    # stop's 503 included (web.address_headers), at the paths as routed
    mounted = Mounted(AddressHeaders(StopAnswer(app, service)), mount_path(http), reserved)
    # only the Starlette routes need the client's address; feed polls never look at it
    return FeedFastPath(
        with_trusted_proxies(mounted, http.trusted_proxies),
        service.publisher,
        http.cache_seconds,
        guard=lambda reply: StopAnswer(reply, service),  # its own polls: as the routes
    )


def uvicorn_config(settings: Settings, app: FeedFastPath) -> uvicorn.Config:
    """The HTTP server for ``app``: feed polls answered below ASGI (:mod:`feedsvc.web.wire`),
    connection limits and the deadlines after a head from ``[http]``
    (:mod:`feedsvc.web.connections`, :mod:`feedsvc.web.stalls`). Mutes uvicorn's ERROR at the
    end of the grace period (:func:`feedsvc.web.stopping.mute_grace_period_error`)."""
    from feedsvc.catalogue import Translator
    from feedsvc.web.stopping import mute_grace_period_error
    from feedsvc.web.wire import wire_protocol

    # the requests still open when the grace period ends are each one WARNING of StopAnswer's,
    # not also uvicorn's ERROR
    mute_grace_period_error()
    http = settings.http
    words = Translator(settings.site.language)  # what readers get (feeds, unknown URLs)
    return uvicorn.Config(
        app,
        host=settings.http.host,
        port=settings.http.port,
        log_config=None,
        # Per-request access lines are never shown (feedsvc.logs mutes them) and uvicorn
        # builds their arguments before the logger drops them: a cost on every feed poll.
        access_log=False,
        # serve() starts the service before uvicorn and stops it after (create_app's lifespan
        # is for in-process clients): a start-up failure is then reported by our CLI
        lifespan="off",
        # open requests get this long after SIGTERM; the service's stop gets the rest of
        # feedsvc.shutdown's budget
        timeout_graceful_shutdown=2,
        server_header=False,
        # feedsvc serves no WebSocket: an Upgrade request is answered as plain HTTP by the app,
        # with the headers of every other answer (uvicorn's wsproto refusal had no Date, and
        # was a 403 with no body whatever the path)
        ws="none",
        # X-Forwarded-* are handled by create_app from http.trusted_proxies; uvicorn's own
        # default would believe them from any loopback peer.
        proxy_headers=False,
        http=wire_protocol(
            app,
            header_timeout=http.header_timeout,
            max_header_bytes=http.max_header_bytes,
            max_connections=http.max_connections,
            head_too_large=words("http.head_too_large"),
            bad_request=words("http.bad_request"),
            body_timeout=http.body_timeout,
            body_idle_timeout=http.body_idle_timeout,
            send_timeout=http.send_timeout,
            body_timed_out=words("http.body_timeout"),
            max_connections_per_client=http.max_connections_per_client,
            trusted_proxies=http.trusted_proxies,
            too_many_connections=words("http.too_many_connections"),
        ),
    )


class _Server(BatchAcceptServer):
    """uvicorn's server (its listening sockets accepted a batch at a time:
    :mod:`feedsvc.web.accept`), telling the service when it receives SIGTERM/SIGINT
    (``on_exit``: the exit guard is armed and long work is asked to stop at once, not after the
    connections' grace period)."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[int], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit
        self.exits = 0

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """The first SIGINT is the orderly stop SIGTERM is (README: open requests get their
        grace period); uvicorn forces the exit on a SIGINT once ``should_exit`` is set, which
        ``on_exit`` (the service's stop) may have set already: a single Ctrl-C cut every open
        request at once (a verifier's). A second signal still forces it."""
        self.on_exit(sig)
        self.exits += 1
        super().handle_exit(sig, frame)
        if self.exits == 1:
            self.force_exit = False


async def serve(
    settings: Settings,
    roles: Roles,
    service: Service | None = None,
    listeners: Listeners | None = None,
    signals: StopSignals | None = None,
) -> None:
    """Start the service, run until SIGTERM/SIGINT (serving HTTP unless ``--no-http``), stop.

    The service starts here, before uvicorn serves, in both paths: a start-up failure (a state
    DB that cannot be reached, is newer than this feedsvc…) propagates to the CLI, which words
    it in one line (exit 1), instead of failing inside uvicorn's lifespan (a traceback, exit 3).
    A signal during start-up stops the start-up's long work (the first render pass) between
    topics and the service stops without serving. A stop that had to abandon work ends the
    process at once with exit 1 (:meth:`ExitGuard.exit_now`); after a stop in order, SystemExit
    with 128 + the first signal when it was SIGINT (Ctrl-C, 130) or SIGHUP (a closed terminal,
    129: what a shell reports, and what every other command exits on it), else a return (exit
    0: SIGTERM, :attr:`StopSignals.exit_code`).

    ``listeners``: the listening sockets, already bound (the CLI binds them first, so that a
    busy port is reported before anything starts); None binds ``http.host:http.port`` here,
    at every address of the host (:func:`feedsvc.listen.listen_sockets`).
    ``signals``: the command's, installed at its first line (a signal that came before this
    coroutine, during imports or the demo's seeding, is heard at once); None: taken here.
    """
    from feedsvc.app import Service
    from feedsvc.shutdown import StopSignals

    own = signals is None
    signals = signals or StopSignals().install()
    try:
        with signals.on_loop():
            gave_up = await _serve(
                settings, roles, service or Service(settings, roles), listeners, signals
            )
    finally:
        if own:
            signals.restore()
    if gave_up and not signals.received:  # the schema changed under it: as at start, exit 1
        raise SystemExit(1)
    if not signals.received:  # uvicorn ended by itself (should_exit set by a test)
        return
    if signals.exit_code:
        raise SystemExit(signals.exit_code)


async def _serve(
    settings: Settings,
    roles: Roles,
    service: Service,
    listeners: Listeners | None,
    signals: StopSignals,
) -> bool:
    """:func:`serve`'s start, run and stop, the signals on the loop; True when the service
    stopped itself (:mod:`feedsvc.schema_watch`: its state DB's schema changed under it)."""
    from feedsvc.bounded_log import close_all
    from feedsvc.schema_watch import watch_schema

    service.exit_guard = signals.guard  # one countdown, whenever the signal came
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    bound = (listeners or _listeners(settings)) if roles.http else None
    service.listening = bound.addresses() if bound is not None else []
    for note in bound.notes() if bound is not None else []:  # an address of the name skipped
        log.warning("%s", note)
    stop = asyncio.Event()

    def on_exit(sig: int) -> None:  # SIGTERM/SIGINT: the 5 s start now; long work ends soon
        signals.note(sig)

    server = _http_server(service, on_exit) if roles.http else None

    def on_signal(sig: int) -> None:  # every signal, noted by ``signals`` (guard armed)
        if not stop.is_set():  # the first: why the service stops, in its log
            signals.announce(sig)
        service.interrupt()
        stop.set()
        if server is not None:  # a signal just before uvicorn serves: it stops at once
            server.should_exit = True

    gave_up: list[str] = []

    def give_up(message: str) -> None:  # as a signal, but logged as an ERROR, exit 1
        if stop.is_set():
            return
        log.error("%s", message)
        gave_up.append(message)
        signals.guard.arm()  # the stop is bounded as a SIGTERM's
        service.interrupt()
        stop.set()
        if server is not None:
            server.should_exit = True

    signals.listen(on_signal)
    await service.start()
    if not service.interrupted:
        watch_schema(service.jobs, service.db, give_up)
    try:
        if server is not None and not stop.is_set():
            await server.serve(sockets=None if bound is None else bound.sockets)
            if not server.started:
                raise SystemExit(1)
        else:
            await stop.wait()
    finally:
        # HTTP has stopped: the lines a flood had counted are told before the stop's own
        # (atexit would be after them, and an abandoned stop's exit runs no atexit)
        close_all()
        await service.stop()
    if not service.exit_guard.stopped:
        service.exit_guard.exit_now()
    if service.exit_guard.left_behind:
        service.exit_guard.end_now(1 if gave_up else signals.exit_code)
    return bool(gave_up)


def _listeners(settings: Settings) -> Listeners:
    """The listening sockets bound here when the caller bound none: at every address of
    ``http.host`` as ``run`` binds them, never by uvicorn (which binds one address of a name:
    ``localhost``'s 127.0.0.1 only)."""
    http = settings.http
    try:
        listeners = listen_sockets(http.host, http.port, reuse_port=http.reuse_port)
    except ListenError as exc:
        log.error("cannot listen on %s: %s", exc.where(http.host), exc.strerror)
        raise SystemExit(1) from exc
    return listeners


def _http_server(service: Service, on_exit: Callable[[int], None]) -> _Server:
    """uvicorn serving the service's app. It does not start or stop the service (its lifespan
    is off: :func:`serve` does both around it). Its signal handlers replace the event loop's
    while it serves (both run: the C-level handler wakes the loop too), and when it has shut
    down it restores the loop's and raises the signal again, which only repeats ``on_exit``."""
    from feedsvc.web.fd_limit import raise_fd_limit

    log.debug("open-files limit: %d", raise_fd_limit())
    return _Server(uvicorn_config(service.settings, create_app(service)), on_exit)
