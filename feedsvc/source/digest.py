"""A fingerprint of the rows' positions in the overlap window, read as one row.

The window check (:mod:`feedsvc.ingest.window`) compares the window behind the cursor row by
row, which reads every row there: after ``feedsvc import`` of an archive, or a CMS script that
touched thousands of rows, that is tens of thousands of rows at every tick for as long as they
stay behind the cursor. While the window holds the same rows at the same positions nothing can
be unseen there, so the check first asks the source for this fingerprint and compares it with
the one of its last complete comparison.

The fingerprint covers exactly the rows :meth:`feedsvc.source.SqlSource.window` lists: their
count, and the positions ``cursor value | id`` (as text in the source's own terms) folded in the
database, so one row crosses the wire whatever the window's size (the database still walks the
window's ``(cursor, id)`` index range, in its own code):

* PostgreSQL (11 and later): the sum of each position's ``hashtextextended``, the 64-bit hash
  hash partitioning relies on, so stable across versions (``numeric``: no overflow; MD5 took
  3x the server's CPU, and fails on a FIPS build);
* MySQL/MariaDB: the sum of each position's first 60 bits of MD5 (``DECIMAL``);
* SQLite (no hash function): the positions concatenated in ``(cursor, id)`` order, hashed here
  (BLAKE2b); the text is ~30 bytes a row, in memory only for the call.

A sum cannot tell a deleted row from a late one only if their 60-bit hashes are equal: a late
row replacing a deleted one at the same instant (issue 18 §2's cancelling changes) changes it.
Another dialect has no fingerprint (``None``): the window is compared row by row at every tick,
as before; so does a source whose database refuses the statement (PostgreSQL 10, an unusual
MySQL mode: :data:`REFUSED`, :meth:`feedsvc.source.SqlSource.window_digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, cast, func, literal, select
from sqlalchemy.exc import DataError, InternalError, NotSupportedError, ProgrammingError

#: ``(rows, fingerprint)``: equal for two reads of a window holding the same positions
Digest = tuple[int, str]

_SEPARATOR = "|"

#: what a database that cannot run the statement raises (a function it lacks, a cast it
#: refuses): the source goes without a fingerprint. A connection failure is not among them.
REFUSED = (DataError, InternalError, NotSupportedError, ProgrammingError)


def _position(ts: ColumnElement[Any], id_: ColumnElement[Any]) -> ColumnElement[str]:
    """A row's position as text: its cursor value and id, as the source renders them."""
    return cast(ts, String()) + literal(_SEPARATOR) + cast(id_, String())


def digest_select(
    dialect: str, ts: ColumnElement[Any], id_: ColumnElement[Any], where: Select[Any]
) -> Select[Any] | None:
    """The one-row statement fingerprinting the rows ``where`` selects (a ``SELECT`` of the
    table with the window's ``WHERE``); ``None`` for a dialect without a fingerprint."""
    position = _position(ts, id_)
    if dialect == "postgresql":
        hashed = func.hashtextextended(position, 0)
        return where.with_only_columns(func.count(), func.sum(hashed))
    if dialect in ("mysql", "mariadb"):
        hashed = func.conv(func.substr(func.md5(position), 1, 15), 16, 10)
        return where.with_only_columns(func.count(), func.sum(cast(hashed, BigInteger())))
    if dialect == "sqlite":
        rows = where.with_only_columns(position.label("p")).order_by(ts, id_).subquery()
        return select(func.count(), func.group_concat(rows.c.p, ",")).select_from(rows)
    return None


def digest_of(dialect: str, row: Sequence[Any]) -> Digest:
    """:func:`digest_select`'s row as a :data:`Digest`."""
    count, folded = row
    if dialect == "sqlite":
        text = folded or ""
        folded = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return int(count), str(folded or 0)
