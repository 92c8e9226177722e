"""The source rows a batch decides not to apply, and saying so once.

A key column that is not unique (a re-post, a copy in another section) gives one article
several rows: the newest version's row holds it, the others are not applied. Each of those is
a decision, and the overlap window must count its row as seen like a stored one: the window
only knew the articles' and the quarantine's positions, so a row not applied was a "late
commit" re-read (and its log line written) at every poll while the cursor stayed within
``source.overlap_seconds`` of it, for ever on a quiet CMS. :func:`decide` names every row of a
batch item that ends up not holding its article — the item itself when it does not take over,
the other rows of its key :func:`feedsvc.ingest.writer.choose` set aside in the same batch, the
row a newer one of another row displaces — and :func:`feedsvc.store.unapplied.record` keeps
their positions in the batch's transaction. The held article's own row is never among them:
its new position is moved onto the article (``moved``), as before.

The warning is said after the commit (:func:`say`), for rows whose key or version the table
did not hold yet: once per row and version, across restarts, never for a batch rolled back.
A displaced row is said only if the CMS still has it under the key (a delete and re-post must
not name the deleted row).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.keys import spelled
from feedsvc.source import SqlSource
from feedsvc.store import unapplied as store
from feedsvc.store.articles import Known, SourcePosition
from feedsvc.store.unapplied import Unapplied
from feedsvc.versions import newer, undated

log = logging.getLogger("feedsvc.ingest.writer")  # the lines operators know, where they were


@dataclass(frozen=True, slots=True)
class SetAside:
    """A row not applied, the row its article is held from, and whether it held the article
    until this batch (``displaced``: another row of its key took it over)."""

    row: Unapplied
    held_from: str
    displaced: bool = False


@dataclass(frozen=True, slots=True)
class Decided:
    """An item's rows once its fate is known: the held article's own row at a new position
    (to move the article's position to), and the rows set aside."""

    moved: SourcePosition | None
    aside: list[SetAside]


def own_row(known: Known | None, at: SourcePosition) -> bool:
    """Whether ``at`` is the row the held article was read from (an article stored before row
    ids were kept has none: any row is taken as its own)."""
    return known is not None and (not known.source_id or known.source_id == at.id)


def decide(
    key: str,
    rows: Sequence[tuple[SourcePosition, datetime]],
    held: Known | None,
    taken: bool,
    orphaned: bool,
) -> Decided:
    """The fate of an item's ``rows`` (the item's row first, then the others of its key in the
    batch, with their versions) against ``held``: ``taken`` when the item's row is stored
    over it; ``orphaned`` when it takes over because the held row is gone (not displaced)."""
    first = rows[0][0]
    if taken:
        aside = [SetAside(Unapplied(at, key, v), first.id) for at, v in rows[1:]]
        ids = {at.id for at, _ in rows}
        if held is not None and held.source_id and held.source_id not in ids and not orphaned:
            at = SourcePosition(held.source_cursor, held.source_id)
            aside.append(SetAside(Unapplied(at, key, held.version), first.id, displaced=True))
        return Decided(None, aside)
    assert held is not None
    own = next(((at, v) for at, v in rows if own_row(held, at)), None)
    moved = None
    if own is not None:
        _say_older(own[0], key, own[1], held)
        if (held.source_cursor, held.source_id) != (own[0].cursor, own[0].id):
            moved = own[0]
    row = held.source_id or (own[0].id if own is not None else "")
    aside = [
        SetAside(Unapplied(at, key, v), row) for at, v in rows if own is None or at is not own[0]
    ]
    return Decided(moved, aside)


def record(
    conn: Connection, source: str, rows: Sequence[SetAside], now: datetime
) -> list[SetAside]:
    """Record ``rows`` in the batch's transaction; the ones to say (:func:`say`)."""
    if not rows:
        return []
    new = {r.at.id for r in store.record(conn, source, [r.row for r in rows], now)}
    return [r for r in rows if r.row.at.id in new]


def say(source: SqlSource, rows: Sequence[SetAside]) -> None:
    """Log each row once (after the commit). A displaced row is looked up by key first, one
    query for them all: a row deleted and re-posted with its key is not named; when the CMS
    cannot be asked, they are not said (a source outage shows at the next poll)."""
    if not rows:
        return
    displaced = sorted({r.row.key for r in rows if r.displaced})
    carrying: dict[str, set[str]] = {}
    if displaced:
        from feedsvc.source.recent import rows_with_keys

        try:
            carrying = rows_with_keys(source, displaced)
        except Exception as exc:  # said or not, the decision is committed
            said = [spelled(k) for k in displaced]
            log.debug("ingest: rows of keys %s not looked up: %s", said, exc)
    for r in rows:
        if r.displaced and r.row.at.id not in carrying.get(r.row.key, ()):
            continue
        log.warning(
            "ingest: row id=%s carries key %s, held from row id=%s: not applied (the key column "
            "is not unique; the held row stays while it exists)",
            r.row.at.id, spelled(r.row.key), r.held_from,
        )  # fmt: skip


#: (key, row id, version) already logged as an older version, this process (each said once)
_said: set[tuple[str, str, datetime]] = set()


def _say_older(at: SourcePosition, key: str, version: datetime, held: Known) -> None:
    """Log, once per row and version, the held article's own row read at an older version
    than the one held (a restored copy, not an edit), as a WARNING with both times in UTC
    (the times feedsvc compared: one offset, whatever the CMS wrote). Its position moves onto
    the article, so the window does not read it again; an edit moves it and it is said again
    only at another version. The row at the held version, unchanged, is not logged. Why a
    WARNING: an edit not applied leaves feeds and alerts other than the CMS; at INFO, a
    correction refused for a clock running fast went unseen (a tester's H2)."""
    if version == held.version or newer(version, held.version, held.stored_at):
        return
    if not _first(key, at.id, version):
        return
    log.warning(
        "ingest: row id=%s (%s) not applied: an older version (%s) than the one held (%s)%s",
        at.id, spelled(key), _utc(version), _utc(held.version), _ahead_note(held),
    )  # fmt: skip


def _first(key: str, row: str, version: datetime) -> bool:
    """Whether ``(key, row, version)`` is said for the first time by this process."""
    said = (key, row, version)
    if said in _said:
        return False
    if len(_said) > 10_000:
        _said.clear()
    _said.add(said)
    return True


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _ahead_note(held: Known) -> str:
    """What to make of a held version dated after feedsvc stored it (a clock running fast)."""
    if held.stored_at is None or held.version <= held.stored_at:
        return "; a copy restored with its old updated_at? save the row again to have it shown"
    return (
        f"; the held version was dated {_utc(held.version)} when feedsvc stored it at "
        f"{_utc(held.stored_at)}, by a CMS clock running fast, so it counts as that moment"
    )


#: How far after feedsvc's clock an edit time is said (a CMS clock a few seconds off is not).
AHEAD_SAID = timedelta(minutes=1)


def say_ahead(at: SourcePosition, article: Article, now: datetime) -> None:
    """Log (WARNING, once per row and version) a row stored with an ``updated_at`` more than
    :data:`AHEAD_SAID` after ``now`` (feedsvc's clock, UTC), naming the row and both times in
    UTC: the CMS server that wrote it has a clock running fast (or ``source.timezone`` is
    wrong). Such a version is believed only up to ``now`` (:func:`feedsvc.versions.newer`):
    the row's next edit replaces it, and a takedown always does. Not a scheduled record's
    ``updated_at`` set to its own time to come (:func:`feedsvc.versions.undated`)."""
    key, updated_at = article.source_key, article.updated_at
    if updated_at is None or updated_at <= now + AHEAD_SAID:
        return
    if undated(updated_at, article.published_at, now) or not _first(key, at.id, updated_at):
        return
    log.warning(
        "ingest: row id=%s (%s): updated_at %s is %s after feedsvc's clock (%s): the CMS "
        "server that wrote it runs fast, or source.timezone is wrong (feedsvc source check); "
        "its version counts as the time it was read",
        at.id, spelled(key), _utc(updated_at), _span(updated_at - now), _utc(now),
    )  # fmt: skip


def _span(ahead: timedelta) -> str:
    """``ahead`` as people say it: ``90 s``, ``10 min``, ``7 h``."""
    seconds = round(ahead.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    return f"{round(seconds / 60)} min" if seconds < 7200 else f"{round(seconds / 3600)} h"
