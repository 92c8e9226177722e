"""``source check``'s word on the cursor column's values: the sample's rows ingest holds back,
a mapping whose every sampled value places no row in time, and the rows with none at all.

Why: ``[source.columns] cursor`` mapped to text that is no timestamp (an article code,
``BV-0001``) passed the check — exit 0, "2 shown now" — while ``run`` then held every row back
for ever and ``status`` said ``ingest_state ok`` with nothing stored (a tester's). One row
whose cursor is no moment is the CMS's data (a warning, as ingest logs it); every sampled row's
is the mapping (exit 2, naming ``source.columns.cursor`` and what its values look like).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from feedsvc.cli.common import cell

if TYPE_CHECKING:
    from datetime import datetime

    from feedsvc.config import Settings
    from feedsvc.source import SqlSource
    from feedsvc.source.cursor import CursorCodec
    from feedsvc.source.rows import SourceRow

#: Rows named per kind of cursor warning.
SHOWN = 5


def no_moment(codec: CursorCodec, value: Any) -> str | None:
    """Why a cursor value places its row at no moment ingest can reach, else None: NULL, text
    that is no timestamp (``'BV-0001'``, ``'-infinity'``), Unix seconds that are really
    milliseconds (``CursorCodec.unit_hint``: a year no wait reaches) or a counter (an id, a
    moment before 1980)."""
    if value is None:
        return "NULL"
    if codec.kind == "epoch":  # the warning on rows dated after now gives the hint whole
        if codec.unit_hint(value):
            return "read as Unix seconds, a year that never comes: milliseconds or finer?"
        return _counter(value)
    return None if codec.is_moment(value) else "not a timestamp"


#: Unix seconds before this (1980-01-01T00:00:00Z) are no CMS's time of a write: an integer
#: cursor column holding them counts rows (an id, a revision number), read as 1970's seconds.
WRITES_SINCE = 315_532_800


def _counter(value: Any) -> str | None:
    """Why an ``epoch`` cursor value is a counter rather than a time (it reads as a moment
    before :data:`WRITES_SINCE`: the post's id mapped as the cursor follows inserts but never
    an update, and the overlap's seconds are ids), else None."""
    from datetime import UTC, datetime

    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not seconds < WRITES_SINCE:  # NaN too
        return None
    try:
        when = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # before year 1
        when = "before the year 1"
    return f"read as Unix seconds, {when}: a row number or counter, not the time of a write?"


def held_back(codec: CursorCodec, value: Any, horizon: datetime) -> str | None:
    """What a sample row's line says instead of what readers see of it when ingest holds the
    row back (its cursor value after ``horizon``, now plus the overlap, in the source's own
    order — text that is no timestamp sorts after every date), else None."""
    if not codec.ahead(value, horizon):
        return None
    why = no_moment(codec, value)
    if why is None:
        return "HELD BACK: its cursor value is after now; not read until that time"
    return f"HELD BACK: its cursor value is no moment ({why}); not read until the CMS writes one"


def mapping_problem(codec: CursorCodec, settings: Settings, sample: list[SourceRow]) -> str | None:
    """``source.columns.cursor``'s problem when every sampled row's cursor value is no moment
    (:func:`no_moment`), shown as the values look; None otherwise or for an empty sample."""
    if not sample or any(no_moment(codec, r.cursor) is None for r in sample):
        return None
    column = settings.source.columns.cursor
    values = ", ".join(repr(cell(str(r.cursor), 40)) for r in sample[:3])
    why = no_moment(codec, sample[0].cursor)
    return (
        f"{column!r} holds no time of a write: the newest {len(sample)} row(s)' values are "
        f"{values}{'…' if len(sample) > 3 else ''} ({why}): ingest cannot follow the CMS's "
        "writes by it. Map it to the column the CMS sets to the time of every insert and "
        "update (e.g. modified, updated_at, post_modified_gmt)"
    )


def cursor_warnings(
    src: SqlSource, settings: Settings, sampled: int, problems: list[tuple[str, str]]
) -> None:
    """Warn (stderr, exit unchanged) about rows ingest will not take now: a cursor value that
    is NULL or no moment (``'-infinity'``, a MySQL zero date: quarantined by id, ingested once
    the CMS sets it; all of them counted) and one dated after now plus the overlap (held back
    until its time). Why here: both are the CMS's data, not the mapping, and an operator
    running ``source check`` before a first sync should learn of them before the quarantine
    list does (SPEC §12 poison data). When no row has a place in the order at all
    (``sampled`` 0) the mapping is wrong: a problem (exit 2), not a warning."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.cli.source import first_line

    cursor = f"source.columns.cursor = {settings.source.columns.cursor!r}"
    horizon = datetime.now(UTC) + timedelta(seconds=settings.source.overlap_seconds)
    try:
        unordered = src.unordered(SHOWN + 1)
        total = len(unordered) if len(unordered) <= SHOWN else src.count_unordered()
        ahead: list[tuple[str, str | None]] = [
            *src.beyond(None, None, src.codec.bound(horizon), SHOWN + 1)
        ]
    except SQLAlchemyError as exc:
        problems.append(("source.columns.cursor", f"cursor check fails: {first_line(exc)}"))
        return
    if unordered and not sampled:
        problems.append(("source.columns.cursor", _none_placed(settings, total, unordered)))
    elif unordered:
        rest = total - SHOWN
        click.echo(
            f"warning: {total} row{'' if total == 1 else 's'} with no cursor value ({cursor}: "
            f"NULL or no moment) {'is' if total == 1 else 'are'} not ingested until the CMS "
            f"sets it (listed in quarantine): {_ids(unordered)}"
            f"{f', and {rest} more' if rest > 0 else ''}; the CMS must set it on every write",
            err=True,
        )
    _ahead_warnings(src.codec, cursor, ahead)


def _none_placed(settings: Settings, total: int, unordered: list[tuple[str, str | None]]) -> str:
    column = settings.source.columns.cursor
    return (
        f"{column!r} holds no time of a write: no row has a cursor value (all {total} are NULL "
        f"or no moment: {_ids(unordered)}): ingest cannot follow the CMS's writes by it. Map "
        "it to the column the CMS sets to the time of every insert and update"
    )


def _ahead_warnings(codec: CursorCodec, cursor: str, ahead: list[tuple[str, str | None]]) -> None:
    # no moment: text that is no timestamp, 'infinity' (an epoch past datetime's range is
    # still "dated": its unit hint says why)
    epoch = codec.kind == "epoch"
    garbage = [(i, v) for i, v in ahead if not epoch and not codec.is_moment(v)]
    ahead = [(i, v) for i, v in ahead if (i, v) not in garbage]
    if ahead:
        hint = next((h for _, v in ahead if (h := codec.unit_hint(v))), "")
        click.echo(
            f"warning: {_some(ahead)} dated after now ({cursor}) "
            f"{'waits' if len(ahead) == 1 else 'wait'} until that time before ingest: "
            f"{_ids(ahead)}{hint}",
            err=True,
        )
    if garbage:  # text that is no timestamp sorts after every date: held back, not "dated"
        click.echo(
            f"warning: {_some(garbage)} with a cursor value that is no moment ({cursor}: not "
            f"a timestamp, or 'infinity'; it sorts after every date) "
            f"{'waits' if len(garbage) == 1 else 'wait'} until the CMS writes a timestamp: "
            f"{_ids(garbage)}",
            err=True,
        )


def _some(rows: list[tuple[str, str | None]]) -> str:
    if len(rows) > SHOWN:
        return f"more than {SHOWN} rows"
    return "1 row" if len(rows) == 1 else f"{len(rows)} rows"


def _ids(rows: list[tuple[str, str | None]]) -> str:
    return ", ".join(
        f"id={cell(i, 40)} ({'NULL' if v is None else cell(v, 40)})" for i, v in rows[:SHOWN]
    )
