"""Why a PostgreSQL connection could not be made, and what the operator does about it.

A newcomer's first ``feedsvc db upgrade`` on PostgreSQL meets these before anything else: the
database in ``database.url`` not created yet (``db upgrade`` creates feedsvc's tables, never the
database), a user or password the server refuses, nothing listening at the address. The line
said the driver's words only ("FATAL: database "feedsvc" does not exist"), with nothing to do.

libpq reports a failure to connect as text alone (psycopg's ``OperationalError`` carries no
SQLSTATE for it: the server's error arrives before a session exists), so these are told from
libpq's and psycopg's English messages; a message not recognised (a server whose
``lc_messages`` is not English) keeps the line as it was, without advice. Pure: no driver or
SQLAlchemy import; :func:`feedsvc.db.errors.explain` asks it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

#: libpq: ``FATAL:  database "feedsvc" does not exist`` (SQLSTATE 3D000 on the server).
_NO_DATABASE = re.compile(r'database "(?P<name>(?:[^"]|"")+)" does not exist')
#: MariaDB: ``(1049, "Unknown database 'cms'")``.
_MYSQL_NO_DATABASE = re.compile(r"Unknown database '(?P<name>[^']+)'")
#: libpq: a user the server refuses (28000 / 28P01): unknown role, wrong or missing password,
#: no ``pg_hba.conf`` line for this client.
_REFUSED_LOGIN = re.compile(
    r'role "(?:[^"]|"")+" does not exist|password authentication failed|no password supplied'
    r"|no pg_hba\.conf entry|is not permitted to log in"
)
#: libpq and psycopg: nothing answers at the address (no server, a wrong host or port).
_NO_SERVER = re.compile(
    r"Connection refused|failed to resolve host|could not translate host name"
    r"|Name or service not known|No route to host|timeout expired"
    r'|connection to server on socket "[^"]*" failed: No such file or directory'
)


#: PyMySQL's error numbers (MariaDB/MySQL, a source): ER_BAD_DB_ERROR; ER_ACCESS_DENIED_ERROR,
#: ER_DBACCESS_DENIED_ERROR; CR_CONN_HOST_ERROR, CR_UNKNOWN_HOST.
_MYSQL_TROUBLE = {1049: "no_database", 1045: "refused_login", 1044: "no_access",
                  2003: "no_server", 2005: "no_server"}  # fmt: skip
#: PostgreSQL: a role that logs in but lacks CONNECT on the database
_NO_ACCESS = re.compile(r"permission denied for database|does not have CONNECT privilege")


def connect_trouble(orig: BaseException) -> str | None:
    """``"no_database"``, ``"refused_login"``, ``"no_access"`` (logged in, refused the
    database) or ``"no_server"`` for psycopg's or PyMySQL's
    error of a connection that could not be made (``orig``: the driver's own error), else
    None. PyMySQL numbers its errors, so a MariaDB source is told by number."""
    if type(orig).__module__.startswith("pymysql"):
        number = orig.args[0] if orig.args else None
        return _MYSQL_TROUBLE.get(number) if isinstance(number, int) else None
    if not type(orig).__module__.startswith("psycopg"):
        return None
    if type(orig).__name__ != "OperationalError" or getattr(orig, "sqlstate", None):
        return None  # a session's error carries its SQLSTATE: not a failed connect
    text = str(orig)
    if _NO_DATABASE.search(text):
        return "no_database"
    if _NO_ACCESS.search(text):
        return "no_access"
    if _REFUSED_LOGIN.search(text):
        return "refused_login"
    if _NO_SERVER.search(text):
        return "no_server"
    return None


def connect_advice(kind: str, orig: BaseException, key: str, shown: str, state: bool) -> str:
    """What to do about :func:`connect_trouble`'s ``kind``, for the database that ``key``
    (``database.url``, ``source.url``) names, ``shown`` its URL as printed (no password);
    ``state``: the state DB, which ``feedsvc db upgrade`` fills once the database exists (a
    source is read, never created)."""
    if kind == "no_database":
        found = _NO_DATABASE.search(str(orig)) or _MYSQL_NO_DATABASE.search(str(orig))
        name = found.group("name").replace('""', '"') if found else "it"
        if not state:
            return f"correct the database name in {key} (a source is read, never created)"
        user = _user(shown)
        owner = f" OWNER {_quoted(user)}" if user else ""
        return (
            f"create it on that server first (as a superuser: CREATE DATABASE {_quoted(name)}"
            f"{owner};), then run `feedsvc db upgrade`, which creates feedsvc's tables in it; "
            f"or correct the database name in {key}"
        )
    if kind == "no_access":  # MariaDB 1044: it was worded as a wrong password (a tester's)
        mysql = type(orig).__module__.startswith("pymysql")
        grant = "GRANT SELECT ON <database>.* TO <user>" if mysql else "GRANT CONNECT ON DATABASE"
        return (
            f"the server accepted the user in {key} but refuses it that database: give the "
            f"user access to it ({grant}), or correct the database name"
        )
    if kind == "refused_login":
        mysql = type(orig).__module__.startswith("pymysql")
        grant = "CREATE USER …; GRANT SELECT ON …" if mysql else "CREATE ROLE … LOGIN, pg_hba.conf"
        return (
            f"the server refused the user and password in {key}: correct them (a password "
            "holding @, : or / percent-encoded, @ as %40), or give that user access on the "
            f"server ({grant})"
        )
    server = "MariaDB" if type(orig).__module__.startswith("pymysql") else "PostgreSQL"
    return (
        f"nothing answers at the host and port in {key}: start {server} there, or correct "
        "the host and port"
    )


def _user(shown: str) -> str | None:
    """The user name in a database URL as printed (its password masked), or None."""
    try:
        user = urlsplit(shown).username
    except ValueError:
        return None
    return unquote(user) if user else None


def _quoted(name: str) -> str:
    """``name`` as an SQL identifier in double quotes: the statement typed as printed."""
    return '"' + name.replace('"', '""') + '"'


#: PostgreSQL: ``permission denied for schema public`` (42501), the first ``CREATE TABLE`` of a
#: role that may not create in the schema: since PostgreSQL 15 only the database's owner (and
#: whom it grants CREATE) may in ``public``.
_NO_SCHEMA_CREATE = re.compile(r"permission denied for schema (?P<name>\S+)")


def schema_privilege_advice(text: str, key: str, shown: str) -> str | None:
    """What to do when the role in ``key`` (its URL as printed, ``shown``) may not create
    tables in a schema (``text``: the server's error), as statements to run as typed; None for
    another refusal (a table's grant: the generic advice stands). The line said only "grant
    the role … the privileges it needs", and a newcomer who made the database as
    ``postgres`` on PostgreSQL 15 met it at the first ``feedsvc db upgrade``."""
    found = _NO_SCHEMA_CREATE.search(text)
    user = _user(shown)
    if found is None or user is None:
        return None
    schema, role = _quoted(found.group("name")), _quoted(user)
    database = unquote(urlsplit(shown).path.lstrip("/"))
    owner = f"ALTER DATABASE {_quoted(database)} OWNER TO {role};" if database else ""
    return (
        f"the role {role} may not create feedsvc's tables in schema {found.group('name')} "
        f"(PostgreSQL 15 and later let only the database's owner do so): as a superuser, in "
        f"that database run GRANT USAGE, CREATE ON SCHEMA {schema} TO {role};"
        + (f" (or make the role its owner: {owner})" if owner else "")
        + f", then run `feedsvc db upgrade` again; or use a role in {key} that may"
    )
