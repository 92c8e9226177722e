"""The operator's facts, shared by ``feedsvc status``, ``/api/status`` and the admin page.

:func:`status_facts` is the model: an ordered list of :class:`Fact`, each naming its catalogue
label (``fact.<key>``) and saying how the admin shows its value (a time, a count, the ingest
state in words…). Adding a fact is one ``Fact(...)`` here plus its two catalogue strings
(``feedsvc/catalogue/status.py``; the catalogue test fails until both languages have it).
:func:`collect_status` flattens the same facts into the JSON the CLI and the API print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from feedsvc.ingest_state import IngestState, eta_seconds, ingest_state, progress_current
from feedsvc.store.records import Cursor, QuarantineEntry

if TYPE_CHECKING:
    from collections.abc import Mapping

    from feedsvc.app import Service
    from feedsvc.channel_modes import Mode, Refusal
    from feedsvc.db import Database
    from feedsvc.state_disk import StateDisk

QUARANTINE_LISTED = 20  # the newest quarantined source rows listed (the count says how many)

#: How the admin shows a value: as text, a grouped number (a backlog: with "as of" its time
#: when no tick is working through it now), a local time with "… ago", a span
#: in words, rows per second, the ingest state in words, the source's kind, the state DB's
#: disk (``state_disk.StateDisk``, in words), or the table of quarantined source rows (shown
#: under the facts, not in them).
FactKind = Literal[
    "text", "count", "backlog", "time", "duration", "rate", "ingest", "source", "quarantine",
    "channels", "disk",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fact:
    key: str  # the label is catalogue entry ``fact.<key>``; also the JSON key
    value: Any
    kind: FactKind = "text"
    detail: Any = None  # what the JSON form adds (the cursor's row id)


@dataclass(frozen=True, slots=True)
class StatusReads:
    """What the facts are made of, read from the state DB in one transaction: by
    ``feedsvc.store.status.read_status`` (SQLAlchemy: the service, the API, the admin) or by
    ``feedsvc.store.lite.read_status`` (the driver itself: ``feedsvc status`` on SQLite or
    PostgreSQL, whose start-up must not pay for SQLAlchemy; tests/test_store_lite.py checks both
    agree)."""

    cursor: Cursor
    quarantined: int
    articles: int
    topics_enabled: int
    deliveries_pending: int  # pending or sending
    source_articles: int | None  # rows of the built-in source table; None for an external one
    quarantine_newest: list[QuarantineEntry]  # the newest QUARANTINE_LISTED, newest first
    #: channels this DB has run with a token and when one last accepted it (UTC;
    #: ``store.channel_tokens``: ``waiting`` and ``sent_elsewhere``)
    tokens_seen: dict[str, datetime] = field(default_factory=dict)
    #: channels whose token some process holds is refused, and the latest refusal (UTC;
    #: ``store.channel_tokens.refusals``: ``refused``)
    refusals: dict[str, datetime] = field(default_factory=dict)
    #: each process's refusal record (``store.channel_tokens.refusal_records``): which
    #: processes and tokens the status names
    refused_by: list[Refusal] = field(default_factory=list)


def status_facts(
    service: Service, db: Database | None = None, disk: StateDisk | None = None
) -> list[Fact]:
    """``db``: the engine to read with (web requests pass theirs); default the service's.
    ``disk``: the state DB's disk as the caller sees it (:mod:`feedsvc.state_disk`); default
    the running service's, from its state DB's outage."""
    from feedsvc.db.urls import shown_url
    from feedsvc.state_disk import seen_by_service
    from feedsvc.store.status import read_status

    if disk is None:
        disk = seen_by_service(service.db)
    db = db or service.db
    now = db.now()
    source = service.ingestor.source.name
    with db.read() as conn:
        reads = read_status(conn, source, QUARANTINE_LISTED)
    return facts_from(
        reads,
        source=source,
        now=now,
        poll_seconds=service.settings.source.poll_seconds,
        database=shown_url(db.url, drivername=db.engine.url.drivername),
        started_at=service.started_at,
        channels=dict(service.channel_modes),
        disk=disk,
    )


def facts_from(
    reads: StatusReads,
    *,
    source: str,
    now: datetime,
    poll_seconds: float,
    database: str,
    started_at: datetime | None,
    channels: Mapping[str, Mode] | None = None,
    disk: StateDisk | None = None,
) -> list[Fact]:
    """The facts, in display order (``database``: the state DB URL with its password masked;
    ``now`` in UTC, on the database's clock; ``channels``: each channel's mode, ``on`` |
    ``console`` | ``off`` | ``waiting``, :mod:`feedsvc.channel_modes`, shown as
    :func:`~feedsvc.channel_modes.shown_modes` reads it against the reads: ``refused``,
    ``sent_elsewhere``; ``disk``: the state DB's, :mod:`feedsvc.state_disk`, beside the last
    ingest error: a full one is why ingest reads nothing and records no error)."""
    from feedsvc.channel_modes import fresh_refusals, shown_modes

    cursor = reads.cursor
    state = ingest_state(cursor, now, poll_seconds)
    current = progress_current(cursor, now, poll_seconds)
    # a backlog no tick is working through now: its count and when it was true (written with
    # the last success), no rate/ETA
    as_of = cursor.last_success_at if cursor.backlog and not current else None
    facts = [
        Fact("ingest", state, "ingest"),
        Fact("last_ingest_success", cursor.last_success_at, "time"),
        Fact("last_ingest_tick", cursor.last_tick_at, "time"),
        Fact("last_ingest_error", cursor.last_error),
        *([Fact(STATE_DISK_FULL, disk, "disk")] if disk is not None else []),
        Fact("ingest_cursor", cursor.ts, "time", detail=cursor.row_id),
        Fact("ingest_backlog", cursor.backlog, "backlog", detail=as_of),
        # only while rows remain: caught up, idle ticks keep the last success fresh, and the
        # catch-up's last rate stood beside a backlog of 0 for good (a tester's)
        Fact("ingest_rate_per_second", cursor.rate if current and cursor.backlog else None, "rate"),
        Fact("ingest_eta_seconds", None if as_of else eta_seconds(cursor), "duration"),
        Fact("ingest_quarantined", reads.quarantined, "count"),
        Fact("articles_stored", reads.articles, "count"),
        Fact("topics_enabled", reads.topics_enabled, "count"),
        Fact("deliveries_pending", reads.deliveries_pending, "count"),
        *(
            [
                Fact(
                    "channels",
                    shown_modes(channels, reads.refusals, reads.tokens_seen, now),
                    "channels",
                    detail=fresh_refusals(reads.refused_by, now),
                )
            ]
            if channels is not None
            else []
        ),
        Fact("source", source, "source"),
    ]
    if reads.source_articles is not None:
        facts.append(Fact("source_articles", reads.source_articles, "count"))
    facts.append(Fact("database", database))
    if started_at is not None:
        facts.append(Fact("started_at", started_at, "time"))
    facts.append(Fact("quarantined_rows", reads.quarantine_newest, "quarantine"))
    return facts


def _quarantine_line(e: QuarantineEntry, when: Callable[[datetime], str]) -> str:
    """One quarantined row, its last-seen time written by ``when``: ISO 8601 UTC for JSON
    (``/api/status``, ``status --json``), the site's time for ``feedsvc status``' text
    (``local_times.local_time``, as its every other time; it was "… UTC" there alone)."""
    return (
        f"{e.source} row {e.row.source_id}"
        + (f" ({e.row.source_key})" if e.row.source_key else "")
        + f", {e.row.stage}: {e.row.reason} (last seen {when(e.last_seen_at)})"
    )


def quarantined_object(e: QuarantineEntry) -> dict[str, Any]:
    """One quarantined row as data (``quarantined`` in ``/api/status`` and ``status --json``,
    beside ``quarantined_rows``' lines, kept): its source, row id, key (None when it could not
    be read), stage (``read``, ``parse``, ``store``, ``ahead``), the article field the reason
    names first (``parse`` only, :func:`feedsvc.article_errors.named_field`; else None), the
    reason as stored, and when it was first and last seen (UTC)."""
    from feedsvc.article_errors import named_field
    from feedsvc.articles import JSON_FIELDS

    row = e.row
    return {
        "source": e.source,
        "row_id": row.source_id,
        "source_key": row.source_key,
        "stage": row.stage,
        "field": named_field(row.reason, JSON_FIELDS) if row.stage == "parse" else None,
        "reason": row.reason,
        "first_seen_at": e.first_seen_at.astimezone(UTC),
        "last_seen_at": e.last_seen_at.astimezone(UTC),
    }


#: The JSON key of the quarantined rows as objects (:func:`quarantined_object`), beside
#: ``quarantined_rows``' one-line texts (kept: scripts read them)
QUARANTINED = "quarantined"


def _iso(moment: datetime) -> str:
    """``moment`` as Pydantic's JSON mode writes an aware UTC time (``/api/status``):
    ``2026-12-03T02:45:02.311623Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ingest_fact(facts: list[Fact]) -> IngestState | None:
    """The ingest state among ``facts`` (what ``feedsvc status``' text words beside the lag)."""
    return next((f.value for f in facts if isinstance(f.value, IngestState)), None)


def collect_status(
    service: Service, db: Database | None = None, when: Callable[[datetime], str] | None = None
) -> dict[str, Any]:
    """The facts as JSON-ready values (``/api/status``, ``feedsvc status --json``; ``when``:
    :func:`flatten`'s)."""
    return flatten(status_facts(service, db), when)


#: A fact's second JSON key, the name the other interface gave the same figure: SPEC §9 names
#: ``/api/status``'s queue depth ``queue_depth``, the CLI's JSON called it only
#: ``deliveries_pending`` (``feedsvc status --json | jq .queue_depth`` was null). Both keys stay
#: (§9), written from the one read, so they always agree, in either interface.
ALIASES = {"deliveries_pending": "queue_depth"}


#: The state DB's disk (:mod:`feedsvc.state_disk`): true, false or null (not known), and
#: beside it what is known (``StateDisk.detail``), null when nothing is
STATE_DISK_FULL, STATE_DISK = "state_db_disk_full", "state_db_disk"


#: The JSON key beside ``channels`` naming the processes whose token a channel refuses now
#: (:func:`refused_by`)
REFUSED_BY = "channel_refusals"


def refused_by(fresh: Mapping[str, list[Refusal]]) -> dict[str, list[dict[str, Any]]]:
    """``{channel: [{"process": "host:pid:nonce" | None, "token": "1a2b3c4d" | None,
    "last_at": <UTC>}, …]}`` for each channel with a fresh refusal
    (``channel_modes.fresh_refusals``), newest first: a token by its fingerprint
    (``channel_modes.token_fingerprint``), never itself; None where the record predates
    migration 0039."""
    return {
        channel: [{"process": r.holder, "token": r.token, "last_at": r.last_at} for r in records]
        for channel, records in fresh.items()
    }


def flatten(facts: list[Fact], when: Callable[[datetime], str] | None = None) -> dict[str, Any]:
    """Facts as JSON-ready values, keyed by fact (the ingest state as code and lag; a fact of
    :data:`ALIASES` under both its keys; the quarantined rows as lines and as objects,
    :data:`QUARANTINED`; the disk as :data:`STATE_DISK_FULL` and :data:`STATE_DISK`); ``when``
    writes the times inside a quarantined row's line (None: ISO 8601 UTC; the text's site
    time)."""
    when = when or _iso
    out: dict[str, Any] = {}
    for fact in facts:
        if isinstance(fact.value, IngestState):
            out["ingest_state"] = fact.value.code
            lag = fact.value.lag_seconds
            out["ingest_lag_seconds"] = round(lag, 1) if lag is not None else None
        elif fact.kind == "backlog":  # the time a backlog not worked through now was true
            out[fact.key], out[f"{fact.key}_as_of"] = fact.value, fact.detail
        elif fact.key == "ingest_cursor":  # its time as every other time here: ISO, Z
            out[fact.key] = f"{_iso(fact.value)} / {fact.detail}" if fact.value else None
        elif fact.kind == "quarantine":  # lines for people, and the same rows as data
            out[fact.key] = [_quarantine_line(e, when) for e in fact.value]
            out[QUARANTINED] = [quarantined_object(e) for e in fact.value]
        elif fact.kind == "channels":  # and which processes hold a refused token
            out[fact.key], out[REFUSED_BY] = fact.value, refused_by(fact.detail or {})
        elif fact.kind == "disk":  # a yes/no for scripts, what is known beside it
            out[fact.key], out[STATE_DISK] = fact.value.full, fact.value.detail()
        else:
            out[fact.key] = fact.value
        if (alias := ALIASES.get(fact.key)) is not None:
            out[alias] = out[fact.key]
    return out
