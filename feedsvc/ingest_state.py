"""Ingest in one word, and how far behind it is: :func:`ingest_state` (``never``, ``ok``,
``lagging``, ``failing``, ``first_sync``, ``rereading``, ``catching_up``) and :func:`ingest_lag`,
read from the source's cursor, the one rule behind ``feedsvc status``, ``/api/status``, the
admin's status page (:mod:`feedsvc.status`'s ``ingest`` fact) and ``/metrics``
(:mod:`feedsvc.metrics`); while rows are behind the cursor, what is left and when it is done
(:func:`progress_current`, :func:`eta_seconds`). Worded by ``catalogue.Translator.ingest``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from feedsvc.store.records import Cursor

#: Ingest's state (catalogue ``ingest.<code>``; ``feedsvc_ingest_state{state=…}`` on /metrics).
#: ``rereading``: a first sync that is the source read again after a ``[source.columns]`` or
#: source zone change (:func:`rereading`): the feeds are full, nothing was lost.
IngestCode = Literal["never", "ok", "lagging", "failing", "first_sync", "rereading", "catching_up"]
INGEST_CODES: tuple[IngestCode, ...] = get_args(IngestCode)
#: The states of rows still behind the cursor (:func:`catching_up`), worded by what is left
BACKLOG_CODES: frozenset[IngestCode] = frozenset({"first_sync", "rereading", "catching_up"})


@dataclass(frozen=True, slots=True)
class IngestState:
    """Ingest in one word (``code``: catalogue ``ingest.<code>``) plus what the words need.

    ``lag_seconds`` is how far behind the source ingest is (UTC clock of the database): now
    minus the moment up to which it has read everything, i.e. the cursor's time while rows are
    still behind it (a first sync, a catch-up after an outage: months, not the seconds since
    the last batch; a re-read, :func:`read_up_to`), else the last successful tick.
    ``failures`` counts failed ticks in a row.

    While rows are behind the cursor (:data:`BACKLOG_CODES`), that lag is the age of the read
    position, which grows while a batch of rows imported at one moment is worked through (the
    built-in table's cursor is the import's time): the words lead with what is left instead
    (``backlog`` rows, done in ``eta_seconds``: both None when not current,
    :func:`progress_current`) and say the position as a time (``position``,
    :func:`read_up_to`; ``catalogue.Translator.ingest``).
    """

    code: IngestCode
    lag_seconds: float | None
    failures: int = 0
    position: datetime | None = None
    backlog: int | None = None
    eta_seconds: int | None = None


def catching_up(cursor: Cursor) -> bool:
    """Rows are still behind the cursor: a first sync not finished, or a catch-up whose last
    batch was full (``backlog``: written with each batch, 0 once a batch finds nothing more)."""
    return cursor.first_sync or bool(cursor.backlog)


def rereading(cursor: Cursor) -> bool:
    """A first sync that reads the source again after a mapping change
    (:mod:`feedsvc.ingest.remap`), not a first one: the change kept where the cursor stood as
    the alert boundary (``alert_ts``), cleared when the re-read catches up. Everything before
    it was read (with the old mapping) and is in the feeds: an operator told "first sync"
    feared it lost. A first sync proper has no boundary."""
    return cursor.first_sync and cursor.alert_ts is not None


def read_up_to(cursor: Cursor) -> datetime | None:
    """The source time up to which ingest has read every row: the cursor's, or during a
    re-read the later of it and the alert boundary (the rows before the boundary were read
    before the change; the re-read's cursor starts at the oldest row, and "12 years behind"
    for a source read minutes ago was as wrong as "first sync")."""
    if rereading(cursor) and cursor.alert_ts is not None:
        return cursor.alert_ts if cursor.ts is None else max(cursor.ts, cursor.alert_ts)
    return cursor.ts


def ingest_lag(cursor: Cursor, now: datetime) -> float | None:
    """Seconds ingest is behind the source (see :class:`IngestState`); None before any success.
    The one definition behind ``ingest_lag_seconds`` in ``feedsvc status``, ``/api/status``, the
    admin page and ``feedsvc_ingest_lag_seconds`` on ``/metrics``."""
    if cursor.last_success_at is None:
        return None
    lag = (now - cursor.last_success_at).total_seconds()
    if (position := read_up_to(cursor)) is not None and catching_up(cursor):
        lag = max(lag, (now - position).total_seconds())
    return lag


def ingest_state(cursor: Cursor, now: datetime, poll_seconds: float) -> IngestState:
    """``failing`` after a failed tick, ``lagging`` when the last success is older than three
    polls (a tick may take a while; nothing works through a backlog now), ``first_sync``
    (``rereading`` when it is a re-read after a mapping change, :func:`rereading`) or
    ``catching_up`` while rows are still behind the cursor (:func:`catching_up`), ``ok``
    otherwise, ``never`` before the first success."""
    lag = ingest_lag(cursor, now)
    if cursor.failures and cursor.last_error:
        return IngestState("failing", lag, cursor.failures)
    if lag is None or cursor.last_success_at is None:
        return IngestState("never", None)
    if (now - cursor.last_success_at).total_seconds() > 3 * poll_seconds:
        return IngestState("lagging", lag)
    if catching_up(cursor):
        code: IngestCode = "catching_up"
        if cursor.first_sync:
            code = "rereading" if rereading(cursor) else "first_sync"
        eta = eta_seconds(cursor) if progress_current(cursor, now, poll_seconds) else None
        left = (cursor.backlog, eta) if cursor.backlog and eta else (None, None)
        return IngestState(code, lag, 0, read_up_to(cursor), *left)
    return IngestState("ok", lag)


#: Catch-up progress (backlog, rate) is written as each batch commits (with
#: ``last_success_at``), about a second apart during a catch-up. Older than this (or than three
#: polls, when shorter), nothing is catching up now (the service stopped mid-sync, a batch is
#: stuck, or every tick fails): the backlog is shown "as of" then, with no rate or ETA.
PROGRESS_FRESH_SECONDS = 15.0


def progress_current(cursor: Cursor, now: datetime, poll_seconds: float) -> bool:
    """Whether the cursor's backlog and rate describe ingest now (see
    :data:`PROGRESS_FRESH_SECONDS`): the one rule the CLI, the API and the admin page follow.
    Measured from the last success, when they were written: a failed tick moves
    ``last_tick_at`` too, and a sync failing at every poll showed an ETA of minutes for hours."""
    if cursor.last_success_at is None:
        return False
    age = (now - cursor.last_success_at).total_seconds()
    return age <= min(3 * poll_seconds, PROGRESS_FRESH_SECONDS)


def eta_seconds(cursor: Cursor) -> int | None:
    """When a catch-up (first sync, or after an outage) should be done at the rate it moved:
    0 when caught up, None when unknown. Never 0 while rows remain (0 is "caught up": 3 rows
    at 500 rows/s rounded to it, and the admin said "caught up" beside a backlog)."""
    if cursor.backlog and cursor.rate:
        return max(1, round(cursor.backlog / cursor.rate))
    return 0 if cursor.backlog == 0 else None
