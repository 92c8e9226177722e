"""What a state-DB error means for the work that hit it: one row's fault, or the database's.

Batch writers (``feedsvc import``, ingest) need that decision to keep good rows when one row is
refused, and to stop cleanly (saying what was committed) when the database itself cannot go on.
Messages from here never carry SQL text or bound parameters (SQLAlchemy's ``str(exc)`` does:
article bodies, and on some drivers secrets, would end up on the operator's terminal).

SQLAlchemy is imported by the functions, not here: :func:`describe` also words the driver's own
errors for the CLI's read-only commands, which never import SQLAlchemy (issue #17 §1).
"""

from __future__ import annotations

import errno
from typing import Any

#: PostgreSQL SQLSTATE ``disk_full`` (class 53, insufficient resources), see
#: https://www.postgresql.org/docs/current/errcodes-appendix.html
PG_DISK_FULL = "53100"
#: SQLite result code SQLITE_FULL (https://www.sqlite.org/rescode.html#full).
SQLITE_FULL = 13
#: The names of the DB-API 2 error classes (PEP 249), for :func:`describe`.
DBAPI_ERRORS = (
    "IntegrityError", "DataError", "OperationalError", "ProgrammingError", "InternalError",
    "NotSupportedError", "InterfaceError", "DatabaseError",
)  # fmt: skip


def is_database_fault(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot go on, whatever row was being written.

    A lost, refused or invalidated connection, a lock or statement timeout, a full disk
    (DBAPI ``OperationalError`` / ``InterfaceError``), or a statement the schema does not
    support (``ProgrammingError``: a missing table or column). Retrying row by row would fail
    on every row, so batch writers stop (saying what was committed) or fail the tick.
    """
    from sqlalchemy import exc as sa

    if is_disk_full(exc) or isinstance(exc, sa.DisconnectionError):
        return True
    if isinstance(exc, sa.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa.OperationalError | sa.InterfaceError | sa.ProgrammingError
        )
    return False


def is_row_error(exc: BaseException) -> bool:
    """True when ``exc`` may be the fault of the data written, so the rows are worth
    retrying one by one (each in a savepoint): the database refused a value or a constraint
    (``DataError``, ``IntegrityError``, a PL/pgSQL ``RAISE``), the driver could not adapt one
    (``ValueError`` ...), or anything else that is not :func:`is_database_fault` (a bug
    triggered by one row's data must not stop the rows around it).

    The single policy for ``feedsvc import`` and ingest. Because unknown errors count as the
    row's, callers guard against a systematic failure: when no row of a batch can be stored
    alone, the batch is the database's problem, not its rows' (nothing is rejected or
    quarantined).
    """
    return not is_database_fault(exc)


def is_disk_full(exc: BaseException) -> bool:
    """The database (or the disk under it) has no room: SQLITE_FULL, PostgreSQL 53100, ENOSPC."""
    orig = getattr(exc, "orig", None) if _is_statement_error(exc) else exc
    if getattr(orig, "sqlstate", None) == PG_DISK_FULL:
        return True
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if isinstance(orig, OSError) and orig.errno == errno.ENOSPC:
        return True
    text = str(orig).lower()
    return "database or disk is full" in text or "no space left on device" in text


def _sqlalchemy_error(exc: BaseException) -> Any:
    """``sqlalchemy.exc`` when ``exc`` is one of its errors (imported only then), else None."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None
    from sqlalchemy import exc as sa

    return sa


def _is_statement_error(exc: BaseException) -> bool:
    sa = _sqlalchemy_error(exc)
    return sa is not None and isinstance(exc, sa.StatementError)


def describe(exc: BaseException, limit: int = 300) -> str:
    """One line saying what went wrong, without SQL or parameters: ``"Kind: message"`` for a
    SQLAlchemy error (the driver's error inside it) or a driver's own (psycopg, sqlite3)."""
    sa = _sqlalchemy_error(exc)
    statement = sa is not None and isinstance(exc, sa.StatementError)
    inner = getattr(exc, "orig", None) if statement else None
    orig = exc if inner is None else inner
    # one line; the driver's own lines stay apart ("… Connection refused; Is the server …")
    lines = (" ".join(line.split()) for line in str(orig).splitlines())
    text = "; ".join(line for line in lines if line) or type(orig).__name__
    if statement and inner is None:
        text = type(exc).__name__  # SQLAlchemy's own text embeds the statement
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    kind = type(orig).__name__
    if sa is not None and isinstance(exc, sa.DBAPIError):
        wrapper: str | None = type(exc).__name__
    else:  # a driver's own error: the DB-API class it is, as SQLAlchemy would have wrapped it
        wrapper = next((c.__name__ for c in type(exc).__mro__ if c.__name__ in DBAPI_ERRORS), None)
    if wrapper is not None and wrapper != kind:
        kind = f"{wrapper} ({kind})"  # "IntegrityError (CheckViolation)"
    return f"{kind}: {text}"
