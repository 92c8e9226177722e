"""The ingest cursor in the source's own terms.

A cursor value is kept and bound back exactly as the source column holds it, because converting
it on the way loses rows: a SQLite text timestamp ``'2021-12-15 10:34:00'`` read as a datetime
and bound back as ``'2021-12-15 10:34:00.000000'`` compares *greater* than itself as text, and an
aware UTC datetime bound to a MariaDB ``DATETIME`` is written out without its zone (7 hours off
in Vietnam). So each cursor column gets a :class:`CursorCodec` by its type:

``aware``  timestamp-with-zone columns (PostgreSQL ``timestamptz``, the built-in table): aware
           datetimes, compared as instants.
``naive``  ``DATETIME`` / ``timestamp`` without zone: naive datetimes *in the source's zone*;
           only our own bookkeeping converts them to UTC (``source.timezone``).
``text``   text columns, and every date/time column on SQLite (stored as text there): the raw
           string, compared as text; it must be a sortable ISO 8601 form.
``epoch``  integer/numeric Unix seconds.

The state DB stores the native value as text (:meth:`encode`) next to its UTC instant; the
instant serves the overlap window over our own ``articles.source_cursor`` and the status page.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Column, ColumnElement, Date, DateTime, Integer, Numeric, String, type_coerce

from feedsvc.db.types import UTCDateTime
from feedsvc.source.folds import repeated_hour
from feedsvc.store.records import stored_position

Kind = Literal["aware", "naive", "text", "epoch"]
#: Unix seconds this large (the year 33658; 9999-12-31 is 2.5e11) are a unit mistake, not a time:
#: milliseconds since 2001 are this large. See :meth:`CursorCodec.unit_hint`.
SECONDS_BEYOND = 1e12
_ISO_TAIL = re.compile(r"(\.\d+)?([+-]\d\d:?\d\d|Z)?$")


class CursorTypeError(ValueError):
    """The cursor column's type cannot be ordered as a point in time."""


@dataclass(frozen=True, slots=True)
class CursorCodec:
    kind: Kind
    tz: tzinfo  # the zone naive source values are in

    @classmethod
    def for_column(cls, column: Column[Any], dialect: str, tz: tzinfo) -> CursorCodec:
        t = column.type
        if isinstance(t, UTCDateTime):
            return cls("aware", tz)
        if dialect == "sqlite" and isinstance(t, DateTime | Date | String):
            return cls("text", tz)
        if isinstance(t, DateTime):
            return cls("aware" if t.timezone else "naive", tz)
        if isinstance(t, String):
            return cls("text", tz)
        if isinstance(t, Integer | Numeric):
            return cls("epoch", tz)
        raise CursorTypeError(
            f"column {column.name!r} has type {t}, which is not a timestamp, an ISO text or "
            "Unix seconds"
        )

    def expr(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """The column as compared and read: raw text for ``text`` (no driver conversion)."""
        return type_coerce(column, String()) if self.kind == "text" else column

    # -- native value ↔ instant ----------------------------------------------------------------
    def instant(self, value: Any) -> datetime:
        """The aware UTC moment a native value stands for (our own bookkeeping only)."""
        if self.kind == "epoch":
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str):
            text = value.strip()
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            raise CursorTypeError(f"cursor value {value!r} is not a timestamp")
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        try:
            moment: datetime = value.astimezone(UTC)
        except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it: clamp
            moment = (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)
        return moment

    def is_moment(self, value: Any) -> bool:
        """Whether ``value`` stands for a moment at all (:meth:`instant` reads it): ``'garbage'``
        in a text column does not, although it has a place in the column's order."""
        try:
            self.instant(value)
        except (ValueError, OverflowError, OSError, TypeError):
            return False
        return True

    def position(self, value: Any) -> datetime:
        """:meth:`instant` for a row's bookkeeping, never raising: a cursor value that is no
        moment at all (a MySQL zero date read as text, an epoch out of range) sorts first, so
        the row can still be quarantined or stored and the cursor can move past it."""
        try:
            return self.instant(value)
        except (ValueError, OverflowError, OSError, TypeError):  # CursorTypeError included
            return datetime.min.replace(tzinfo=UTC)

    def bound(self, moment: datetime) -> Any:
        """A native upper bound for reads up to ``moment`` (the horizon, :meth:`ahead`): exact
        for typed columns; for ``text`` the ``T``-separated form, which sorts after every
        space-separated value of that day, so a CMS writing either shape is never cut short
        (:meth:`ahead` then decides exactly, row by row).

        A ``moment`` in the hour the zone shows a second time (its clocks went back,
        :mod:`feedsvc.source.folds`) bounds naive wall times at that hour's end: every wall
        time of the hour was first shown before it, and :meth:`ahead` reads a wall time as its
        first showing. The wall time of ``moment`` itself held rows written an hour before as
        "after now" (PostgreSQL, and any read in parts), named in the log as held back."""
        if self.kind in ("naive", "text"):
            local = moment.astimezone(self.tz)
            wall = local.replace(tzinfo=None, fold=0)
            if local.fold:
                hour = repeated_hour(self.tz, wall, wall)
                if hour is not None:
                    wall = hour[1] - timedelta(microseconds=1)
            return wall.isoformat() if self.kind == "text" else wall
        return self.from_instant(moment)

    def ahead(self, value: Any, moment: datetime) -> bool:
        """Whether a row's cursor value lies after ``moment`` in the source's own order.

        Why: the cursor only moves forward, so taking a row dated in the future (a CMS clock
        ahead, a ``9999-12-31`` placeholder, ``'garbage'`` in a text column, which sorts after
        every digit) would move it past every row written before that time: those rows would
        never be read. Such a row waits until its time comes. A text value that is no moment
        is compared as text, as the source orders it; a typed value that is no moment (a MySQL
        zero date the driver gives as text) sorts first there, so it is not ahead."""
        if self.kind == "epoch":  # out of datetime's range is still a number
            try:
                number = float(value)
            except (TypeError, ValueError):
                return False
            # NaN (a PostgreSQL numeric/float holds it) sorts after every number there: taken,
            # it became a cursor no later row is after
            return number != number or number > moment.timestamp()
        try:
            return self.instant(value) > moment
        except (ValueError, OverflowError, OSError, TypeError):
            if self.kind == "text" and isinstance(value, str):
                return value > moment.astimezone(self.tz).replace(tzinfo=None).isoformat(" ")
            return False

    def unit_hint(self, value: Any) -> str:
        """For a row held back as dated after now: `` (…)`` naming the likely mistake when an
        ``epoch`` value is too large to be Unix seconds (``>=`` :data:`SECONDS_BEYOND`, the
        year 33658: milliseconds or microseconds, e.g. JavaScript's ``Date.now()``), which no
        wait ever releases; else ``""``."""
        if self.kind != "epoch":
            return ""
        try:
            number = abs(float(value))
        except (TypeError, ValueError):
            return ""
        if not SECONDS_BEYOND <= number < float("inf"):  # NaN, Infinity: no unit mistake
            return ""
        unit = "milliseconds" if number < SECONDS_BEYOND * 1000 else "micro- or nanoseconds"
        return (
            f" (an integer cursor column is read as Unix seconds: {value} is the year "
            f"{1970 + int(number // 31_556_952)}; it looks like {unit}, and that time never "
            "comes: map source.columns.cursor to a column in seconds or a timestamp)"
        )

    def minus(self, value: Any, seconds: float) -> Any:
        """``value - seconds`` in the same native form (the overlap window's lower bound).

        For wall times without a zone (``naive``, ``text`` without an offset), back to the
        start of an hour the zone shows twice that the window meets (:meth:`_reach`): the rows
        the CMS writes in its second showing sort behind the cursor's first-showing row."""
        if self.kind == "epoch":
            if isinstance(value, Decimal):
                return value - Decimal(str(seconds))
            return int(value - seconds) if isinstance(value, int) else value - seconds
        try:
            if self.kind == "text":
                return _shift_text(str(value), -self._reach(str(value), seconds))
            return value - timedelta(seconds=self._reach(value, seconds))
        except (ValueError, OverflowError, TypeError):  # a placeholder like 0001-01-01
            return value

    def _reach(self, value: Any, seconds: float) -> float:
        """How far back in wall time the overlap window behind ``value`` reaches: ``seconds``,
        or to the start of a repeated hour (:func:`repeated_hour`) that
        ``value - seconds`` .. ``value`` meets. A value with its own offset (aware, or text
        ending in ``+07:00``) is no wall time: ``seconds``. Raises ``ValueError`` for text that
        is no timestamp."""
        if self.kind not in ("naive", "text"):
            return seconds
        wall = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(wall, datetime) or wall.tzinfo is not None:
            return seconds
        hour = repeated_hour(self.tz, wall - timedelta(seconds=seconds), wall)
        return seconds if hour is None else max(seconds, (wall - hour[0]).total_seconds())

    def from_instant(self, moment: datetime) -> Any:
        """A native value for an instant (cursors stored before native values were kept)."""
        if self.kind == "aware":
            return moment
        local = moment.astimezone(self.tz).replace(tzinfo=None)
        if self.kind == "naive":
            return local
        if self.kind == "epoch":
            return moment.timestamp()
        return local.isoformat(sep=" ")

    # -- storage in source_cursors.cursor_id ---------------------------------------------------
    def encode(self, value: Any, id_: Any) -> str:
        """``cursor_id`` text: JSON ``[native, id]`` so both survive a restart unchanged."""
        if isinstance(value, bytes):
            value = value.decode()
        native: Any = value.isoformat() if isinstance(value, datetime | date) else value
        if isinstance(native, Decimal):
            native = str(native)
        return json.dumps([native, str(id_)], ensure_ascii=False, separators=(",", ":"))

    def decode(self, stored_ts: datetime | None, stored_id: str | None) -> tuple[Any, str | None]:
        """Back to ``(native value, id text)``; an old plain-id cursor is rebuilt from its UTC."""
        if (stored := stored_position(stored_id)) is not None:
            native, id_ = stored
            if self.kind in ("aware", "naive") and isinstance(native, str):
                with suppress(ValueError):  # a value the driver gave as text (a MySQL zero date)
                    native = datetime.fromisoformat(native)
            elif self.kind == "epoch" and isinstance(native, str):
                native = Decimal(native)
            return native, id_
        if stored_ts is None:
            return None, None
        return self.from_instant(stored_ts), stored_id


#: The cursor values psycopg reads as a datetime, by codec kind (bound as PostgreSQL compares
#: them). A ``timestamptz`` is read in the session's zone, so its range keeps a day aside.
_PG_READABLE = {
    "naive": (datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)),
    "aware": (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)),
}
#: MySQL/MariaDB: the lowest real date; a zero date (``'0000-00-00 00:00:00'``, stored where
#: ``sql_mode`` allows it, even in a NOT NULL column) sorts before it. No value sorts after
#: ``9999-12-31``, so there is no upper bound (and no bounded read, :attr:`SqlSource.bounded`).
_MYSQL_LOW = datetime(1, 1, 1)


def readable_range(
    column: Column[Any], codec: CursorCodec, dialect: str
) -> tuple[Any, Any | None] | None:
    """The lowest and highest cursor values that are a moment the driver reads, where the
    column can hold others (the highest ``None`` when none sorts after it); ``None`` where
    every value reads (SQLite holds text, feedsvc's own table holds only times it wrote).

    Why: a PostgreSQL ``timestamp`` holds ``'infinity'``, ``'-infinity'``, years past 9999 and
    BC dates, which psycopg refuses to convert: one such row made every read of the rows
    around it fail (each tick, or for good when it sorted first). A MySQL/MariaDB zero date is
    read as text (no moment) and sorts first; MariaDB even says ``IS NULL`` of it in a NOT NULL
    column. Reads are kept to this range in SQL, and the rows outside it named by their id,
    their value read as text: below it they are no moment (:meth:`SqlSource.unordered`), above
    it they are held back (:meth:`SqlSource.beyond`)."""
    if isinstance(column.type, UTCDateTime):
        return None
    if dialect in ("mysql", "mariadb"):
        return (_MYSQL_LOW, None) if codec.kind == "naive" else None
    if dialect != "postgresql":
        return None
    return _PG_READABLE.get(codec.kind)


def _shift_text(text: str, seconds: float) -> str:
    """Shift an ISO text timestamp, keeping its exact shape (separator, fraction, offset)."""
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    shifted = moment + timedelta(seconds=seconds)
    head = (
        shifted.strftime("%Y-%m-%d")
        if len(text) <= 10
        else shifted.strftime(
            f"%Y-%m-%d{text[10]}%H:%M" + (":%S" if len(text) >= 19 and text[16] == ":" else "")
        )
    )
    tail = _ISO_TAIL.search(text[19:] if len(text) > 19 else "")
    fraction, offset = (tail.group(1), tail.group(2)) if tail else (None, None)
    if fraction:
        head += "." + f"{shifted.microsecond:06d}"[: len(fraction) - 1].ljust(
            len(fraction) - 1, "0"
        )
    return head + (offset or "")
