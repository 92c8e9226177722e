"""What a state-DB error means for the work that hit it: one row's fault, or the database's.

Batch writers (``feedsvc import``, ingest) need that decision to keep good rows when one row is
refused, and to stop cleanly (saying what was committed) when the database itself cannot go on.
Messages from here never carry SQL text or bound parameters (SQLAlchemy's ``str(exc)`` does:
article bodies, and on some drivers secrets, would end up on the operator's terminal).

The CLI's one line for a database error is :func:`explain`: which database (every engine marks
its errors, :func:`feedsvc.db.where.watch`; the driver reads of the CLI,
:func:`~feedsvc.db.where.naming`), what happened and, when the cause is one an operator can act
on (:func:`trouble`), what to do.

SQLAlchemy is imported by the functions, not here: :func:`describe` also words the driver's own
errors for the CLI's read-only commands, which never import SQLAlchemy (issue #17 §1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from typing import Any, TypeVar

from feedsvc.db.where import Where, failed_connecting, marked

T = TypeVar("T")

#: PostgreSQL SQLSTATE ``disk_full`` (class 53, insufficient resources), see
#: https://www.postgresql.org/docs/current/errcodes-appendix.html
PG_DISK_FULL = "53100"
#: SQLite result code SQLITE_FULL (https://www.sqlite.org/rescode.html#full).
SQLITE_FULL = 13
#: The lines of a PostgreSQL error that quote the statement: ``LINE 2: FROM topics …`` and
#: the ``^`` under the position.
_STATEMENT_POINTER = re.compile(r"LINE \d+: |\^$")
#: PostgreSQL's detail of a CHECK or NOT NULL violation: every value of the refused row (an
#: article's body, its id from a sequence, new at each attempt: a row refused again would never
#: read the same twice), i.e. the bound parameters; the constraint's name says what failed.
_FAILING_ROW = re.compile(r"DETAIL: Failing row contains ")
#: ``AS f_<field>``, the alias ``feedsvc.source.mapping`` gives each mapped column or SQL
#: expression, and the rest of the statement after it: MariaDB quotes the statement from the
#: error on ("... near '= 'x' AS f_visible \nFROM news LIMIT 1' at line 1"), which is SQL the
#: operator never wrote. Cut, the quote ends with what they wrote (``near '= 'x''``).
_INTERNAL_ALIAS = re.compile(r"\s*\bAS f_[a-z_]+\b.*?(?=' at line \d+|$)", re.S)


def unaliased(text: str) -> str:
    """A driver's error text with feedsvc's internal column aliases and the SQL after them
    cut (:data:`_INTERNAL_ALIAS`): what it says of a ``[source.columns]`` expression in the
    operator's own words."""
    return _INTERNAL_ALIAS.sub("", text)


#: The names of the DB-API 2 error classes (PEP 249), for :func:`describe`.
DBAPI_ERRORS = (
    "IntegrityError", "DataError", "OperationalError", "ProgrammingError", "InternalError",
    "NotSupportedError", "InterfaceError", "DatabaseError",
)  # fmt: skip


def is_database_fault(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot go on, whatever row was being written.

    A lost, refused or invalidated connection, a lock or statement timeout, a full disk
    (DBAPI ``OperationalError`` / ``InterfaceError``), or a statement the schema does not
    support (``ProgrammingError``: a missing table or column), or any :func:`trouble` (a
    server refusing writes says ``InternalError``). Retrying row by row would fail on every
    row, so batch writers stop (saying what was committed) or fail the tick.
    """
    from sqlalchemy import exc as sa

    if trouble(exc) is not None or isinstance(exc, sa.DisconnectionError):
        return True
    if isinstance(exc, sa.DBAPIError):
        if _row_refusal(exc):
            return exc.connection_invalidated
        return exc.connection_invalidated or isinstance(
            exc, sa.OperationalError | sa.InterfaceError | sa.ProgrammingError
        )
    return False


#: SQLSTATE classes of PostgreSQL that psycopg files under a DB-API class otherwise taken for
#: a database fault, but that the data written causes (PostgreSQL's SQLSTATE appendix:
#: https://www.postgresql.org/docs/current/errcodes-appendix.html):
#:
#: * ``P0``, PL/pgSQL: an operator's trigger refusing a row (``RAISE EXCEPTION`` without an
#:   ERRCODE is P0001, a failed ``ASSERT`` P0004), filed under ``ProgrammingError`` (verifier
#:   P3: one refused row stopped ingest for good);
#: * ``54``, program limit exceeded: a value past a limit of the server (``string is too long
#:   for tsvector``, an index row too big, a statement too complex for a big batch), filed
#:   under ``OperationalError``: one article of ~60,000 distinct words stopped ingest for good
#:   (a tester's). Row by row, the batch's other rows are stored and the one the server
#:   cannot take is quarantined.
ROW_SQLSTATE_CLASSES = ("P0", "54")


def _row_refusal(exc: BaseException) -> bool:
    """The server refused the statement for the data it writes (:data:`ROW_SQLSTATE_CLASSES`),
    not because it cannot go on."""
    orig = getattr(exc, "orig", None)
    return str(getattr(orig, "sqlstate", "") or "")[:2] in ROW_SQLSTATE_CLASSES


def connection_failed(exc: BaseException) -> bool:
    """True when no connection could be had for a statement: refused, unreachable, SQLite
    unable to open the file (:func:`feedsvc.db.where.failed_connecting`, read from SQLAlchemy's
    ``handle_error`` on every engine), the pool with none in time or one found dead at
    checkout. Never a row's fault: read in parts, a flapping database's good rows were
    quarantined as "connection refused". Not "an error without a statement": one raised while
    fetching has none either (sqlite3's "Could not decode to UTF-8 column", a row's)."""
    if trouble(exc) == "cannot_open" or failed_connecting(exc):
        return True
    sa = _sqlalchemy_error(exc)
    return sa is not None and isinstance(exc, sa.TimeoutError | sa.DisconnectionError)


def connection_lost(exc: BaseException) -> bool:
    """True when the connection a statement ran on was lost (SQLAlchemy's
    ``connection_invalidated``: a session ended, a server restarting): a flapping database's,
    or a row's whose read the server cannot finish (a value past MariaDB's
    ``max_allowed_packet``), which loses it every time."""
    sa = _sqlalchemy_error(exc)
    return sa is not None and isinstance(exc, sa.DBAPIError) and exc.connection_invalidated


def once_more_if_lost(read: Callable[[], T]) -> T:
    """``read()``, and once more when its connection was lost (:func:`connection_lost`): a
    flapping database loses one, and the read then works; lost again, the read's error is
    raised and may be its rows' (the caller decides, as for any other)."""
    try:
        return read()
    except Exception as exc:
        if not connection_lost(exc):
            raise
    return read()


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


#: What drivers say of a full disk when they give no code: SQLite's SQLITE_FULL, the OS's
#: ENOSPC as PostgreSQL quotes it, and PostgreSQL's failed growth of a table's file.
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "could not extend file")


def is_disk_full(exc: BaseException) -> bool:
    """**The one classification of a full disk** under a database: SQLITE_FULL, PostgreSQL's
    53100 ``disk_full`` ("could not extend file …: No space left on device"), ENOSPC or EDQUOT
    (:func:`feedsvc.disk_space.out_of_space`), or SQLite's "disk I/O error" on a file system
    that is full now. :func:`trouble` calls it ``"disk_full"``; the start's exit, the running
    service's outage (:mod:`feedsvc.db.outage`) and ingest's retries all read it from there."""
    from feedsvc.disk_space import out_of_space

    orig = getattr(exc, "orig", None) if _is_statement_error(exc) else exc
    if getattr(orig, "sqlstate", None) == PG_DISK_FULL:
        return True
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if isinstance(orig, BaseException) and out_of_space(orig):
        return True
    text = str(orig).lower()
    if any(words in text for words in _DISK_FULL_WORDS):
        return True
    return _io_error_on_a_full_disk(exc, orig)


def disk_full_words(exc: BaseException) -> str:
    """A full disk as the running service says it, in the start's words (:func:`feedsvc.
    disk_space.no_space`: "no space left on device at <dir>: free space on that file system")
    for an SQLite file, the server's disk for a server; the driver's line after it."""
    from feedsvc.disk_space import no_space

    where = marked(exc)
    if where is not None and where.file is not None:
        words = no_space(where.file.parent)
    else:
        words = "no space left on the database server's disk: free space there"
    return f"{words} ({describe(exc)})"


#: SQLite's primary result code SQLITE_IOERR ("disk I/O error"; https://www.sqlite.org/rescode.html).
SQLITE_IOERR = 10


def _io_error_on_a_full_disk(exc: BaseException, orig: Any) -> bool:
    """SQLite's "disk I/O error" where the file system holding the DB's file is full now: a
    failed write of its ``-shm`` or WAL on a full disk is said so, not as SQLITE_FULL (a
    tester's: "database error …: disk I/O error", nothing about space;
    ``feedsvc.disk_space.full``)."""
    code = getattr(orig, "sqlite_errorcode", None)
    io_error = isinstance(code, int) and code & 0xFF == SQLITE_IOERR
    if not io_error and "disk i/o error" not in str(orig).lower():
        return False
    where = marked(exc)
    if where is None or where.file is None:
        return False
    from feedsvc.disk_space import full

    return full(where.file)


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
    # one line; the driver's own lines stay apart ("… Connection refused; Is the server …");
    # PostgreSQL's pointer into the statement ("LINE 2: FROM topics …" and its "^") is SQL,
    # its "Failing row contains (…)" the values written
    lines = (" ".join(line.split()) for line in str(orig).splitlines())
    kept = (
        line
        for line in lines
        if line and not _STATEMENT_POINTER.match(line) and not _FAILING_ROW.match(line)
    )
    text = unaliased("; ".join(kept)) or type(orig).__name__
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


# -- what an operator can do about it (which database: feedsvc.db.where) ---------------------------

#: SQLite primary result codes (https://www.sqlite.org/rescode.html), the low byte of an
#: extended code (``SQLITE_READONLY_DIRECTORY`` is 1544 = 8 | 6 << 8).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_CANTOPEN = 5, 6, 8, 14
#: PostgreSQL SQLSTATEs: ``lock_not_available`` (``lock_timeout``, ``NOWAIT``),
#: ``read_only_sql_transaction`` (a standby, ``default_transaction_read_only``),
#: ``insufficient_privilege``.
PG_LOCKED, PG_READ_ONLY, PG_PRIVILEGE = "55P03", "25006", "42501"


def trouble(exc: BaseException) -> str | None:
    """What kind of trouble ``exc`` is, when an operator can act on it: ``"locked"`` (another
    process holds a lock), ``"read_only"`` (the file, its directory or the server refuses
    writes), ``"cannot_open"`` (SQLite cannot open the file or create its ``-wal``/``-shm``
    beside it), ``"privilege"`` (the role lacks a grant), ``"disk_full"``; else None."""
    if is_disk_full(exc):
        return "disk_full"
    orig = getattr(exc, "orig", None) if _is_statement_error(exc) else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in (SQLITE_BUSY, SQLITE_LOCKED):
            return "locked"
        if primary == SQLITE_READONLY:
            return "read_only"
        if primary == SQLITE_CANTOPEN:
            return "cannot_open"
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    return {PG_LOCKED: "locked", PG_READ_ONLY: "read_only", PG_PRIVILEGE: "privilege"}.get(
        str(sqlstate)
    )


def explain(exc: BaseException) -> str:
    """One line for the operator: which database failed (when :func:`~feedsvc.db.where.mark`
    said), what the driver said (:func:`describe`: no SQL, no parameters), and what to do when
    :func:`trouble` knows. The one wording of a database error the CLI prints."""
    where, detail, kind = marked(exc), describe(exc), trouble(exc)
    if where is None:
        advice = _advice(kind, None)
        return f"database error: {detail}" + (f": {advice}" if advice else "")
    said = {
        "locked": "is locked",
        "read_only": "cannot be written",
        "cannot_open": "cannot be opened",
        "privilege": "refused access",
        "disk_full": "is out of disk space",
    }.get(kind or "")
    if said is None:
        return f"database error in {where}: {detail}" + _connect_advice(exc, where)
    advice = _schema_advice(exc, where) if kind == "privilege" else None
    return f"{where} {said} ({detail}): {advice or _advice(kind, where)}"


def _schema_advice(exc: BaseException, where: Where) -> str | None:
    """The statements that let the role create in a schema it may not (PostgreSQL), or None;
    only for the state DB: a source is only read (a schema's USAGE is its only need there)."""
    from feedsvc.db.connect_errors import schema_privilege_advice

    if where.key != "database.url":
        return None
    orig = getattr(exc, "orig", None) if _is_statement_error(exc) else exc
    return schema_privilege_advice(str(orig), where.key, where.shown)


def _connect_advice(exc: BaseException, where: Where, kinds: Container[str] | None = None) -> str:
    """``": <what to do>"`` for a connection that could not be made (no such database, a
    refused user, no server: :mod:`feedsvc.db.connect_errors`; only those of ``kinds`` when
    given), else ``""``."""
    from feedsvc.db.connect_errors import connect_advice, connect_trouble

    orig = getattr(exc, "orig", None) if _is_statement_error(exc) else exc
    if not isinstance(orig, BaseException) or (kind := connect_trouble(orig)) is None:
        return ""
    if kinds is not None and kind not in kinds:
        return ""
    state = where.key == "database.url"
    return ": " + connect_advice(kind, orig, where.key, where.shown, state)


def refusal_advice(exc: BaseException) -> str | None:
    """What to do when ``exc`` is a server's refusal to connect — a user and password it
    refuses, a database it does not have — on a marked database (:func:`marked`); None when
    nothing answered, or for any other error. Ingest says it of its source (a server that
    answers "no" does not "not answer")."""
    where = marked(exc)
    if where is None:
        return None
    return _connect_advice(exc, where, ("refused_login", "no_database", "no_access"))[2:] or None


def read_only_url(where: Where) -> str | None:
    """The one line for an SQLite URL that opens the DB read-only (``where.read_only``), said
    before connecting (a writer's start: the attempt created a missing file, empty); None for
    another URL."""
    if where.read_only is None:
        return None
    return f"{where} cannot be written: {_advice('read_only', where)}"


def unwritable_file(where: Where) -> str | None:
    """The one line for an SQLite DB whose file, ``-wal`` or ``-shm`` this process may not
    write (:func:`feedsvc.db.sqlite_reading.unwritable`), said before connecting, so that the
    refusal makes nothing beside it; None when what is there may be written, or for a server.
    A ``-wal`` or ``-shm`` is named itself: the file's and directory's permissions are not
    what to change then."""
    from feedsvc.db.sqlite_reading import process_user, unwritable

    if where.file is None or (file := unwritable(where.file)) is None:
        return None
    said = f"{where} cannot be written (the user {process_user()} may not write {file}"
    if file == where.file:
        return f"{said}): {_advice('read_only', where)}"
    return (
        f"{said}, which SQLite keeps beside the database and writes with it): make it writable "
        "for that user as the database file is (chown, chmod; lsattr for an immutable one), "
        f"or set {where.key} to a file it can write; never delete a -wal file: it holds "
        "committed writes"
    )


def read_only_url_advice(where: Where) -> str:
    """What to do about an SQLite URL that opens the DB read-only (``where.read_only``): the
    start-up refusal's words and ``config check``'s, which says it without connecting."""
    return (
        f"remove {where.read_only} from {where.key} for a command that writes (feedsvc run, db "
        "upgrade, topics add…); read-only commands (status, topics list) work with it"
    )


def _advice(kind: str | None, where: Where | None) -> str | None:
    file = where.file if where is not None else None
    local = where is None or where.sqlite
    if kind == "locked":
        return (
            "another process holds a lock on it (another feedsvc command or service, or a tool "
            "with a transaction open); wait for it to finish or stop it, then run this again"
        )
    if kind in ("read_only", "cannot_open") and where is not None and where.read_only:
        return (
            f"{where.key} opens it read-only ({where.read_only} in the URL), so nothing can be "
            f"written: {read_only_url_advice(where)}"
        )
    if kind in ("read_only", "cannot_open"):
        if local:
            named = (
                f"{file} and of its directory {file.parent}"
                if file
                else "the file and its directory"
            )
            key = where.key if where is not None else "the database URL"
            return (
                f"check the permissions and owner of {named}: the user running feedsvc must be "
                "able to write both (SQLite keeps -wal and -shm files beside the database), and "
                f"neither may be immutable (lsattr) nor on a read-only mount; or set {key} to a "
                "file it can write"
            )
        key = where.key if where is not None else "the database URL"
        return (
            f"the server accepts no writes: a standby (point {key} at the primary server), or "
            "default_transaction_read_only = on (set in the URL's options, or for its role or "
            "database: reset it)"
        )
    if kind == "privilege":
        key = where.key if where is not None else "the database URL"
        return f"grant the role in {key} the privileges it needs, or use a role that has them"
    if kind == "disk_full":
        if file is not None:
            from feedsvc.disk_space import no_space

            return f"{no_space(file.parent)}, then run this again"
        return "free space on the database server's disk, then run this again"
    return None
