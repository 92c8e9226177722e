"""``/healthz`` (the process is up), ``/readyz`` (it can serve), ``/metrics``.

**Readiness means "this process can serve"** (issue #18 §3): its state DB answers and its feed
snapshots are loaded. It does not depend on the CMS: during a source outage feeds, the admin and
alerts already queued keep working, and a load balancer that turned every replica away at once
would make that outage total. **Ingest health** is separate, ``/readyz?ingest=1``: not ready
after :data:`INGEST_FAILURES` failed ticks in a row, or when no tick has succeeded within the
ingest window (three polls plus :data:`READY_GRACE`; this covers a backoff past the window),
from the tick bookkeeping in ``source_cursors`` that the ingestor keeps, so any replica answers
for the leader. ``ingest`` is read by :func:`feedsvc.yes_no.yes_no` (``1``/``true``/``yes``/``on``
the ingest check, ``0``/``false``/``no``/``off``/empty serving only, any case; ``?ingest`` given
bare is a flag: the ingest check); any other value, or ``ingest`` given twice with answers that
disagree, is a 400 naming them, never the serving answer a monitor would take for ingest's.

**A full state DB disk is not unreadiness** (``db.outage``: reads, feeds and pages are still
served; a balancer turning every replica away would stop them too): :func:`disk_check` says it
among the checks of both answers, and ``feedsvc_state_db_disk_full`` on ``/metrics`` is 1 while
it lasts, from this process's outage (memory: no ``statvfs`` on the event loop, where a hung
mount would stall every answer). ``/readyz?ingest=1`` keeps its own rule, which a full disk
meets once no tick succeeded within its window.

**Public answers are only ready / not ready** (``{"ready": true, "message": …}``, 200 or 503,
the message in words from the catalogue): no host names, no error text. With the admin token
as a Bearer token the answer adds the checks behind it.

**Within its own deadline**: the DB probe runs off the event loop in a single-flight
:class:`DbProbe` (one probe thread at most, ever; concurrent callers share it; its result is
reused for :data:`PROBE_FRESH` seconds) and a caller waits at most :data:`PROBE_TIMEOUT`
seconds, so a hung DB makes ``/readyz`` answer 503 promptly instead of hanging or piling up
threads. The probe opens a fresh connection each time (no pool), so it cannot wait behind
request work and it tests connecting too.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from feedsvc import metrics
from feedsvc.db import Database
from feedsvc.echoes import echoed
from feedsvc.logs import escape_controls
from feedsvc.store.channel_tokens import modes_shown
from feedsvc.store.cursors import Cursor, get_cursor
from feedsvc.store.deliveries import queue_depth
from feedsvc.web import admin_auth
from feedsvc.web.clients import request_client
from feedsvc.web.queries import query_values
from feedsvc.web.words import api_words
from feedsvc.yes_no import NO, NO_WORDS, YES, YES_WORDS, yes_no

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from feedsvc.app import Service
    from feedsvc.channel_modes import Mode, Shown

READY_GRACE = timedelta(seconds=15)
#: Consecutive failed ingest ticks after which ``/readyz?ingest=1`` is not ready.
INGEST_FAILURES = 3
#: Seconds a ``/readyz`` caller waits for the DB probe before answering not ready.
PROBE_TIMEOUT = 2.0
#: Seconds a probe result is reused (load balancers poll every few seconds, often several).
PROBE_FRESH = 1.0


@dataclass(frozen=True)
class ProbeResult:
    """One DB round trip: ``error`` is None when it answered; ``cursor`` is the ingest
    bookkeeping read by it; ``at`` is ``time.monotonic()`` when it finished."""

    at: float
    error: str | None = None
    cursor: Cursor | None = None
    queue: int | None = None
    #: each channel's mode as every surface shows it (``channel_modes.shown_modes``)
    channels: dict[str, Shown] | None = None


class DbProbe:
    """The state DB probe behind ``/readyz``: single-flight, off the loop, with a deadline."""

    def __init__(
        self, db: Database, source_name: str, modes: Callable[[], Mapping[str, Mode]]
    ) -> None:
        self.db = db
        self.source_name = source_name
        self.modes = modes  # the process's channel modes (Service.channel_modes)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz-probe")
        self._running: asyncio.Future[ProbeResult] | None = None
        self._last: ProbeResult | None = None

    def _run(self) -> ProbeResult:
        try:
            with self.db.read() as conn:
                cursor = get_cursor(conn, self.source_name)
                queue = queue_depth(conn)
                # the local clock, as ingest_health's: seconds off do not matter to a 180 s bound
                channels = modes_shown(conn, self.modes(), datetime.now(UTC))
            return ProbeResult(time.monotonic(), cursor=cursor, queue=queue, channels=channels)
        except (SQLAlchemyError, OSError) as exc:
            return ProbeResult(time.monotonic(), error=type(exc).__name__)

    async def result(self) -> ProbeResult:
        """A fresh enough probe result, or a timeout result after :data:`PROBE_TIMEOUT`."""
        last = self._last
        if last is not None and time.monotonic() - last.at < PROBE_FRESH:
            return last
        if self._running is None:  # never a second probe while one is still out
            running = asyncio.get_running_loop().run_in_executor(self._executor, self._run)
            running.add_done_callback(self._finished)
            self._running = running
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), PROBE_TIMEOUT)
        except TimeoutError:
            return ProbeResult(time.monotonic(), error=f"no answer within {PROBE_TIMEOUT:g} s")

    def _finished(self, done: asyncio.Future[ProbeResult]) -> None:
        self._running = None
        if not done.cancelled() and done.exception() is None:
            self._last = done.result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, Any] = field(default_factory=dict)


def serving(service: Service, probe: ProbeResult) -> Readiness:
    """Can this process serve: state DB answered, feed snapshots loaded. The checks also say
    which delivery channels are ``on``, ``console``, ``off`` (not configured), ``waiting``,
    ``refused`` or ``sent_elsewhere`` (``channel_modes.shown_modes``, read with the probe; the
    process's own modes when the DB did not answer): a channel off is a configuration fact,
    not unreadiness (feeds and the other channels serve); and, in a process that dispatches,
    ``sending``: ``started: <why>`` or, at a start, ``waiting … : <why>`` for the first look at
    the source (:mod:`feedsvc.send_gate`)."""
    loaded = service.publisher.loaded
    checks: dict[str, Any] = {
        "database": "ok" if probe.error is None else f"error: {probe.error}",
        "snapshots": "loaded" if loaded else "not loaded yet",
        "channels": probe.channels if probe.channels is not None else service.channel_modes,
    }
    if service.roles.scheduler:  # whether sending waits for a first look at the source
        checks["sending"] = service.send_gate.shown()  # (feedsvc.send_gate): not unreadiness
    checks[DISK_CHECK] = disk_check(service)  # not unreadiness either: reads are served
    return Readiness(probe.error is None and loaded, checks)


#: The check naming the state DB's disk (``/readyz``, ``/readyz?ingest=1``, with the token).
DISK_CHECK = "state_db_disk"


def disk_check(service: Service) -> str:
    """``ok``, or ``full since <ISO UTC>: no space left on device at <dir>: free space on that
    file system; …`` while the state DB's outage is a full disk (:meth:`feedsvc.db.outage.
    Outage.disk_full`, the one ``/api/status`` and the admin's page show)."""
    from feedsvc.disk_space import no_space

    found = service.db.outage.disk_full()
    if found is None:
        return "ok"
    where = (
        no_space(found.file.parent)
        if found.file is not None
        else "no space left on the database server's disk: free space there"
    )
    since = found.since.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"full since {since}: {where}; reads and feeds are still served, writes retry"


def ingest_health(service: Service, probe: ProbeResult, now: datetime) -> Readiness:
    """Is ingest keeping up: not :data:`INGEST_FAILURES` failures in a row, and a tick
    succeeded within the window (a fresh process gets the window from its start)."""
    if probe.cursor is None:
        return Readiness(False, {"database": f"error: {probe.error}"})
    cursor = probe.cursor
    window = timedelta(seconds=3 * service.settings.source.poll_seconds) + READY_GRACE
    since = cursor.last_success_at or service.started_at or now
    checks: dict[str, Any] = {
        "last_tick": cursor.last_tick_at.isoformat() if cursor.last_tick_at else None,
        "last_success": cursor.last_success_at.isoformat() if cursor.last_success_at else None,
        "failures_in_a_row": cursor.failures,
        "last_error": cursor.last_error,
        "window_seconds": window.total_seconds(),
        DISK_CHECK: disk_check(service),  # why no tick succeeds, when it is that
    }
    ok = cursor.failures < INGEST_FAILURES and now - since <= window
    return Readiness(ok, checks)


def authorised(service: Service, request: Request) -> bool:
    """The request carries the admin token as a Bearer token (details may be shown), under
    the admin token's failure limit (:func:`feedsvc.web.admin_auth.check_bearer`, one budget
    with the login form and the API): a wrong token counts as a failure; while the address is
    locked out the token is not compared and the answer is the public one (never a 429, so a
    load balancer's probe keeps its status)."""
    token = admin_auth.configured_token(service.settings)
    if not token:
        return False
    header = request.headers.get("authorization")
    return admin_auth.check_bearer(
        service.token_failures, request_client(request), header, token
    ).ok


def probe_database(service: Service) -> Database:
    """A pool-less engine on the state DB for the probe (an in-memory DB is shared instead).

    It shares the service's :class:`~feedsvc.db.sqlite_file.SameFile`, so a file put in the
    state DB's place before the probe's first connection is refused as the service refuses it.
    """
    from feedsvc.engines import in_memory

    url = service.settings.database.url
    if in_memory(url):
        return service.db
    return Database(url, pool={"poolclass": NullPool}, same_file=service.db.same_file)


def shown_value(value: str | None) -> str:
    """An ``ingest`` as a refusal echoes it: ``ingest`` given bare (None), else ``ingest=…``
    with its start when long (:func:`feedsvc.echoes.echoed`: a 20 kB value is not echoed
    whole)."""
    if value is None:
        return "ingest"
    return "ingest=" + escape_controls(echoed(value))


def health_routes(service: Service) -> list[Route]:
    probe: DbProbe | None = None

    def get_probe() -> DbProbe:
        nonlocal probe
        if probe is None:
            probe = DbProbe(
                probe_database(service), service.ingestor.source.name, lambda: service.channel_modes
            )
            service.on_stop.append(probe.close)
        return probe

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        first: dict[bool, str | None] = {}  # each answer given: the first value that gave it
        for value in query_values(request, "ingest"):
            answer = True if value is None else yes_no(value)  # ``?ingest`` bare: a flag
            if answer is None:  # ``?ingest=on`` read as "no" kept a monitor green in an outage
                return refused_ingest(request, "ready.bad_ingest", value=shown_value(value))
            first.setdefault(answer, value)
        if len(first) == 2:  # ``?ingest=1&ingest=0``: reading either is a guess
            return refused_ingest(request, "ready.ingest_twice", yes_value=shown_value(first[True]),
                                  no_value=shown_value(first[False]))  # fmt: skip
        ingest = True in first
        result = await get_probe().result()
        if ingest:
            state = ingest_health(service, result, datetime.now(UTC))
        else:
            state = serving(service, result)
        key = ("ready.ingest_" if ingest else "ready.serving_") + ("yes" if state.ready else "no")
        # ``ready`` and the checks are for monitors; ``message`` for the person reading them
        body: dict[str, Any] = {"ready": state.ready, "message": api_words(service, request)(key)}
        if authorised(service, request):
            body |= state.checks
        headers = {"Cache-Control": "no-store"}
        return JSONResponse(body, status_code=200 if state.ready else 503, headers=headers)

    def refused_ingest(request: Request, key: str, **values: str) -> Response:
        """400 for an ``ingest`` :func:`feedsvc.yes_no.yes_no` reads neither way, or given as
        both, its JSON naming the accepted spellings (``ready`` false: a monitor fails)."""
        message = api_words(service, request)(key, yes=YES_WORDS, no=NO_WORDS, **values)
        body = {"ready": False, "message": message, "accepted": [*YES, *NO]}
        return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})

    async def metrics_endpoint(_request: Request) -> Response:
        result = await get_probe().result()  # refreshes the gauges it feeds (NaN: unknown)
        metrics.record_queue_depth(result.queue)
        metrics.record_ingest(
            result.cursor, datetime.now(UTC), service.settings.source.poll_seconds
        )
        if result.channels is not None:  # unknown: the last scrape's samples stay
            metrics.record_channel_modes(result.channels)
        metrics.STATE_DB_DISK_FULL.set(0 if service.db.outage.disk_full() is None else 1)
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
