"""LISTEN side of the dispatcher wake-up (PostgreSQL state DB only).

An ingest commit that queued deliveries sends ``NOTIFY feedsvc_deliveries`` on our own state DB
(:func:`feedsvc.ingest.notify_new_deliveries`); every replica listens here and wakes its
dispatcher at once instead of at its next 1 s poll. A notification is only a hint — it is lost
while this connection is down — so the dispatcher keeps polling, and after every (re)connect we
wake it once in case something was missed.

A channel spans the whole database, so a notification carries the notifying state schema's name
(PostgreSQL's ``current_schema()``) and a listener wakes only for its own schema's (or an empty
payload, sent by an older feedsvc): deployments kept in separate schemas of one database do not
wake each other.

A plain thread with a blocking psycopg connection: it needs no event loop of its own and stops
within ``POLL_SECONDS`` of :meth:`WakeListener.stop` (unless blocked in a call on a dead
connection, which the state DB's timeouts bound; the thread is a daemon, so it never holds up
the process's exit). A connection that dies silently sends no error: every ``CHECK_SECONDS``
the listener asks the server something, so a dead connection is noticed and replaced.

Its failures are told as the rest of the service's are (a tester's: a 75 s outage of the state
DB wrote 6-7 "wake-up listener: connection failed … reconnecting in N s" lines beside the
outage's own, ~120 an hour at the 30 s cap): a connection up for a while that is lost is
replaced at once, in silence; a failure to connect that is an outage of the state DB
(:func:`feedsvc.db.outage.is_outage`) is counted on its :class:`~feedsvc.db.outage.Outage`,
whose lines are the start, a summary a minute and the end; any other failure (a refused
``LISTEN``, a bug) is a WARNING when it starts or changes, again every
:data:`~feedsvc.failure_log.REMIND_SECONDS`, and one INFO line when the listener listens again
(:class:`~feedsvc.failure_log.FailureLog`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from feedsvc.db import outage
from feedsvc.db.client_encoding import client_encoding
from feedsvc.db.errors import describe
from feedsvc.db.timeouts import DbTimeouts, bounded_connection_class, libpq_params
from feedsvc.db.where import state_db
from feedsvc.failure_log import FailureLog, spoken

if TYPE_CHECKING:  # psycopg is imported where a listener runs: a PostgreSQL state DB only
    import psycopg

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
CHECK_SECONDS = 30.0
#: A connection lost after at least this many seconds up is replaced at once, without a word
#: (a server's idle timeout, a proxy's cycle); one lost sooner backs off as a failure does.
STEADY_SECONDS = 10.0


def connect_params(sqlalchemy_url: str) -> dict[str, Any]:
    """``psycopg.connect`` keywords for the state DB URL, built by SQLAlchemy's psycopg dialect
    as the engine builds them, so the listener's session (its ``search_path`` above all, which
    names the schema it wakes for) is the ingest's. Not a URI rendered back from the URL:
    SQLAlchemy writes a space in a query value as ``+``, which libpq keeps as a ``+``:
    ``options=-c search_path=feedsvc`` reached the server as ``-c+search_path=feedsvc`` (no
    connection at all) and ``-csearch_path=a -cwork_mem=8MB`` as one odd schema name."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql+psycopg")
    cargs, cparams = url.get_dialect()().create_connect_args(url)
    assert not cargs  # psycopg's dialect passes everything by keyword
    return dict(cparams)


class WakeListener:
    def __init__(
        self,
        url: str,
        channel: str,
        on_wake: Callable[[], object],
        timeouts: DbTimeouts | None = None,
    ) -> None:
        self.params = connect_params(url)
        self.timeouts = timeouts or DbTimeouts()
        self.channel = channel
        self.on_wake = on_wake
        #: the state DB whose outage a failure to connect is (the engines' Outage)
        self.where = state_db(url)
        #: failures that are no outage of it, told bounded
        self.told = FailureLog()
        self.received = 0  # this schema's notifications seen (tests, status)
        self.ignored = 0  # other schemas' notifications on the same channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wake-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = POLL_SECONDS + 5) -> None:
        """Ask the thread to end and wait up to ``timeout`` seconds for it (0: do not wait)."""
        self._stop.set()
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        import psycopg  # ~0.1 s of a start, paid by PostgreSQL state DBs only

        delay = 1.0
        while not self._stop.is_set():
            up: float | None = None  # when this connection began listening
            try:
                params = {  # create_engine's order
                    **self.params, **libpq_params(self.timeouts), **client_encoding(self.params)
                }  # fmt: skip
                with bounded_connection_class().connect(autocommit=True, **params) as conn:
                    conn.read_timeout = self.timeouts.read
                    conn.execute(f"LISTEN {self.channel}")
                    schema = _current_schema(conn)
                    up, delay = time.monotonic(), 1.0
                    self._listening()
                    self.on_wake()  # anything queued while we were not listening
                    checked = time.monotonic()
                    while not self._stop.is_set():
                        schema = self._listen(conn, schema)
                        if time.monotonic() - checked > CHECK_SECONDS:
                            conn.execute("SELECT 1")  # a dead connection fails here
                            checked = time.monotonic()
            except Exception as exc:  # never let the hint path die, nor fill the log
                if self._stop.is_set():
                    return
                if up is not None and time.monotonic() - up >= STEADY_SECONDS:
                    log.debug("wake-up listener: connection lost (%s); reconnecting", exc)
                    continue  # replaced at once; a failure to connect is told below
                self._failed(exc, isinstance(exc, psycopg.Error))
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _failed(self, exc: Exception, database: bool) -> None:
        """One failed try (``database``: the driver's error, else a bug here): the state DB's
        outage tells an outage; anything else is told when it starts or changes, and again
        every :data:`~feedsvc.failure_log.REMIND_SECONDS`."""
        if database and outage.report(exc, "wake-up listener", self.where):
            return
        error = describe(exc) if database else f"{type(exc).__name__}: {exc}"
        kind = self.told.failed("listen", error)
        lasting = f" (failing for {spoken(self.told.lasting())})" if kind == "reminder" else ""
        log.log(
            logging.DEBUG if kind is None else logging.WARNING,
            "wake-up listener: %s%s; reconnecting (the dispatchers poll meanwhile)",
            error, lasting,
            exc_info=exc if kind is not None and not database else None,  # a bug: where
        )  # fmt: skip

    def _listening(self) -> None:
        """Connected and listening: a run of failures that were no outage ends with one line
        (an outage's end is told by the engines, whose statements complete again)."""
        ended = self.told.ended()
        if ended is not None:
            seconds, tries = ended
            log.info("wake-up listener: listening again after %s (%d failed tr%s)",
                     spoken(seconds), tries, "y" if tries == 1 else "ies")  # fmt: skip

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]], schema: str) -> str:
        """Wake for ``schema``'s notifications (and empty ones) in the next batch to arrive
        within ``POLL_SECONDS``; returns the schema to compare with from now on.

        A batch is what one read of the connection brought (the notifications of one commit
        come together); psycopg drops what is left of a batch when its generator is left inside
        it, so it is always read to its end (``stop_after=1`` stops after a whole batch): a
        ``break`` at another schema's notification lost this schema's that came with it (CI).
        Another payload makes us ask the server again, once the batch is read: the search_path
        may name a schema created since we connected (``"$user", public`` once the role's
        schema is made), which is then the ingest's ``current_schema()``."""
        others: list[str] = []
        for note in conn.notifies(timeout=POLL_SECONDS, stop_after=1):
            if note.payload in ("", schema):
                self.received += 1
                self.on_wake()
            else:
                others.append(note.payload)
        if not others:
            return schema
        schema = _current_schema(conn)
        for payload in others:
            if payload == schema:
                self.received += 1
                self.on_wake()
            else:
                self.ignored += 1
        return schema


def _current_schema(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """The schema this connection's ``search_path`` makes current ('' when none exists yet):
    the same value :func:`feedsvc.ingest.notify_new_deliveries` sends as the payload."""
    row = conn.execute("SELECT coalesce(current_schema(), '')").fetchone()
    return str(row[0]) if row is not None else ""
