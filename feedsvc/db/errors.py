"""What a state-DB error means for the work that hit it: one row's fault, or the database's.

Batch writers (``feedsvc import``, ingest) need that decision to keep good rows when one row is
refused, and to stop cleanly (saying what was committed) when the database itself cannot go on.
Messages from here never carry SQL text or bound parameters (SQLAlchemy's ``str(exc)`` does:
article bodies, and on some drivers secrets, would end up on the operator's terminal).
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa

#: PostgreSQL SQLSTATE ``disk_full`` (class 53, insufficient resources), see
#: https://www.postgresql.org/docs/current/errcodes-appendix.html
PG_DISK_FULL = "53100"
#: SQLite result code SQLITE_FULL (https://www.sqlite.org/rescode.html#full).
SQLITE_FULL = 13

# Driver errors raised while adapting one row's values (they are not DBAPI errors, so
# SQLAlchemy lets them through unwrapped): a value this driver cannot send.
_VALUE_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError)


def is_row_error(exc: BaseException) -> bool:
    """True when ``exc`` is about the data of the statement, not the database's state.

    Row errors: the database refused a value or a constraint (``DataError``, ``IntegrityError``,
    PL/pgSQL ``RAISE`` → ``InternalError``, ``NotSupportedError``) or the driver could not
    adapt one (``ValueError`` …). Everything else (disk full, lost connection, locked, missing
    table) is the database's: retrying row by row would fail on every row.
    """
    if is_disk_full(exc):
        return False
    if isinstance(exc, sa.StatementError) and not isinstance(exc, sa.DBAPIError):
        return isinstance(exc.orig, _VALUE_ERRORS)  # raised while binding parameters
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return False
        return isinstance(
            exc, sa.DataError | sa.IntegrityError | sa.InternalError | sa.NotSupportedError
        )
    return isinstance(exc, _VALUE_ERRORS)


def is_disk_full(exc: BaseException) -> bool:
    """The database (or the disk under it) has no room: SQLITE_FULL, PostgreSQL 53100, ENOSPC."""
    orig = exc.orig if isinstance(exc, sa.StatementError) else exc
    if getattr(orig, "sqlstate", None) == PG_DISK_FULL:
        return True
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if isinstance(orig, OSError) and orig.errno == errno.ENOSPC:
        return True
    text = str(orig).lower()
    return "database or disk is full" in text or "no space left on device" in text


def describe(exc: BaseException, limit: int = 300) -> str:
    """One line saying what went wrong, without SQL or parameters."""
    orig = exc.orig if isinstance(exc, sa.StatementError) and exc.orig is not None else exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    if isinstance(exc, sa.StatementError) and exc.orig is None:
        text = type(exc).__name__  # SQLAlchemy's own text embeds the statement
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    kind = type(orig).__name__
    if isinstance(exc, sa.DBAPIError) and type(exc).__name__ != kind:
        kind = f"{type(exc).__name__} ({kind})"  # "IntegrityError (CheckViolation)"
    return f"{kind}: {text}"
