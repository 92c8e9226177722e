"""Database URLs read without SQLAlchemy: the CLI's read-only commands on PostgreSQL.

Why: SQLAlchemy costs about five times ``import click`` to import, and ``feedsvc topics list``
and ``feedsvc status`` must answer within 6x of it (issue #17 §1), on a PostgreSQL state DB
too. Validating the configured URL and connecting with psycopg directly both need the URL's
parts, which used to come from ``sqlalchemy.engine.make_url``.

:func:`parse` reads the URL grammar of SQLAlchemy 2 (``dialect+driver://user:password@host:
port/database?key=value``: user and password %-decoded, the database name as written, the
query as ``urllib.parse.parse_qsl`` reads it) and gives up, returning None, on anything where
it could disagree with SQLAlchemy (a port that is not plain digits, a key other than ``host``
and ``port`` given twice, text its pattern leaves unread, such as ``@[::1],x`` or after a
newline): the caller then asks SQLAlchemy as before. Several hosts in the query (a primary and
its standbys) are read as SQLAlchemy's PostgreSQL dialect reads them: ``feedsvc.db.hosts``.
``tests/test_db_urls.py`` checks the parts, the masked form and the connection arguments
against SQLAlchemy's own.

:func:`shown_url` is the one way a database URL is printed or logged (``config show``,
``status``, ``source check``; :func:`shown_db`, the one naming of a database in a message, names
an SQLite file by its path instead): the userinfo password and every query value whose
key names a password (``password``, PyMySQL's ``passwd``, libpq's ``sslpassword``: any key with
"pass" in it) as ``***``. :func:`port_problem` is the one check of a URL's ports, each host's
in a multi-host URL; :func:`userinfo_problem` of an ``@`` a password holds unencoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

#: SQLAlchemy's URL pattern (``sqlalchemy.engine.url._parse_url``).
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)
#: The drivers :class:`feedsvc.db.Database` connects to PostgreSQL with (plain ``postgresql``
#: means psycopg 3 there: ``Database`` rewrites it).
PSYCOPG_DRIVERS = ("postgresql", "postgresql+psycopg")
#: What is shown in place of a secret.
MASK = "***"
#: Shown for a URL that cannot be read at all: its parts (a password among them) are unknown.
UNREADABLE = "(a database URL that cannot be read; not shown)"
#: The TCP ports a URL may name.
PORTS = range(1, 65536)


def is_secret_key(key: str) -> bool:
    """Whether a URL query key holds a secret: libpq and PyMySQL take the password from the
    query (``password``; PyMySQL also ``passwd``; libpq ``sslpassword`` for the client key), and
    any other key naming a password is treated alike rather than listed one by one."""
    return "pass" in key.lower()


@dataclass(frozen=True, slots=True)
class DbUrl:
    """A database URL's parts, as ``sqlalchemy.engine.URL`` holds them."""

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: tuple[tuple[str, str], ...]  # in the URL's order; only host and port may repeat

    def render(self, *, drivername: str | None = None) -> str:
        """The URL as it may be printed or logged: the password and each query value whose key
        :func:`is_secret_key` as ``***``; otherwise the same text as SQLAlchemy's
        ``URL.render_as_string(hide_password=True)``, which masks only the userinfo password
        (``drivername``: another one in its place, as ``Database`` shows ``postgresql+psycopg``
        for ``postgresql``)."""
        out = (drivername or self.drivername) + "://"
        if self.username is not None:
            out += quote(self.username, safe=" +")
            if self.password is not None:
                out += ":" + MASK
            out += "@"
        if self.host is not None:
            out += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            out += f":{self.port}"
        if self.database is not None:
            out += "/" + self.database
        if self.query:
            out += "?" + "&".join(
                f"{quote_plus(k)}={MASK if is_secret_key(k) else quote_plus(v)}"
                for k, v in sorted(self.query, key=lambda kv: kv[0])  # a key's values in order
            )
        return out

    def secrets(self) -> list[str]:
        """The secret values this URL holds (the password, query values :func:`is_secret_key`),
        for the log filter that blanks them wherever a driver's text might repeat one."""
        found = [v for k, v in self.query if is_secret_key(k)]
        return [s for s in [self.password, *found] if s]

    def psycopg_params(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``, as SQLAlchemy's psycopg dialect builds them
        (``create_connect_args``): the URL's parts that are set (``user``, ``password``, ``host``,
        ``port``, ``dbname``) and then its query (``options``, ``sslmode``, …), which wins;
        hosts in the query as the dialect rewrites them (``feedsvc.db.hosts``: ``host=h1,h2``,
        ``port=5432,5433``, or ``port=","`` for two hosts without ports, which drops the port
        after the URL's own host as SQLAlchemy does). What the URL leaves out libpq takes from
        ``PGHOST``, ``PGPASSWORD``, ``~/.pgpass``, … Raises ``hosts.HostsError`` for hosts and
        ports SQLAlchemy would refuse (:func:`psycopg_url` never returns such a URL)."""
        from feedsvc.db.hosts import query_hosts

        parts = {
            "host": self.host, "dbname": self.database, "user": self.username,
            "password": self.password, "port": self.port,
        }  # fmt: skip
        params: dict[str, Any] = {k: v for k, v in parts.items() if v}
        params.update(self.query)
        if (hosts := query_hosts(self.query)) is not None:
            params.update(hosts.conninfo())
        return params


def parse(url: str) -> DbUrl | None:
    """``url``'s parts as SQLAlchemy reads them; None when SQLAlchemy must decide (not its URL
    grammar, or a case read here differently: see the module docstring)."""
    m = _URL.match(url)  # SQLAlchemy's first match, which may leave text over: then its call
    if m is None or m.end() != len(url) or "\n" in url:
        return None
    port = m["port"]
    if port is not None and not (port.isascii() and port.isdigit()):
        return None  # "h:/db" is refused; int() takes " 5", "5_0", "٥": SQLAlchemy's call
    query = parse_qsl(m["query"]) if m["query"] is not None else []
    once = [k for k, _ in query if k not in ("host", "port")]
    if len(set(once)) != len(once):
        return None  # a key given twice becomes a list in SQLAlchemy; host/port: its dialect
    username, password = m["username"], m["password"]
    return DbUrl(
        drivername=m["name"],
        username=None if username is None else unquote(username),
        password=None if password is None else unquote(password),
        host=m["ipv4host"] or m["ipv6host"],
        port=None if port is None else int(port),
        database=m["database"],
        query=tuple(query),
    )


def psycopg_url(url: str) -> DbUrl | None:
    """``url`` parsed when it is a PostgreSQL URL ``Database`` opens with psycopg and whose
    connection arguments :meth:`DbUrl.psycopg_params` builds as SQLAlchemy does, several hosts
    in the query included; else None (another backend or driver, or hosts and ports its
    dialect refuses: ``feedsvc.db.hosts``, which :func:`port_problem` words)."""
    from feedsvc.db.hosts import HostsError, query_hosts

    parsed = parse(url)
    if parsed is None or parsed.drivername not in PSYCOPG_DRIVERS:
        return None
    try:
        query_hosts(parsed.query)
    except HostsError:
        return None
    return parsed


def shown_url(url: str, *, drivername: str | None = None) -> str:
    """``url`` as it may be printed or logged (:meth:`DbUrl.render`): every place that shows a
    database URL calls this. A URL :func:`parse` leaves to SQLAlchemy is read by it (imported
    only then); one it cannot read is not shown at all (:data:`UNREADABLE`)."""
    parsed = parse(url) or _sqlalchemy_parts(url)
    return UNREADABLE if parsed is None else parsed.render(drivername=drivername)


def shown_db(url: str) -> str:
    """**The one naming of a database in an operator's message** ("the state DB …", "the
    source DB …", "… in the state DB …"): an SQLite URL that names a file as that file's
    path, absolute and resolved as SQLite opens it (``sqlite_url.SqliteTarget.file``); any
    other URL, or a file SQLite cannot resolve (a symlink loop), as :func:`shown_url`. Why:
    ``sqlite:///var/feedsvc.db`` is the relative ``./var/feedsvc.db`` but reads as
    ``/var/feedsvc.db`` (a newcomer's: "the state DB sqlite:///var/feedsvc.db is not
    initialised" in a new directory); ``db upgrade`` already named the file. Settings shown
    as settings (``config show``, ``status``' ``database`` fact, the demo's banner) keep the
    URL."""
    if url.startswith("sqlite"):
        from feedsvc.db.sqlite_url import SqlitePathError, sqlite_target

        target = sqlite_target(url)
        try:
            file = target.file() if target is not None else None
        except SqlitePathError:
            file = None
        if file is not None:
            return str(file)
    return shown_url(url)


def url_secrets(url: str) -> list[str]:
    """The secrets in ``url`` (:meth:`DbUrl.secrets`; none for a URL that cannot be read)."""
    parsed = parse(url) or _sqlalchemy_parts(url)
    return [] if parsed is None else parsed.secrets()


def _sqlalchemy_parts(url: str) -> DbUrl | None:
    """``url`` read by SQLAlchemy, as a :class:`DbUrl` (a key given several times repeated);
    None when SQLAlchemy cannot read it either."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port int() refuses
        return None
    query = tuple(
        (k, v) for k, vs in u.query.items() for v in ((vs,) if isinstance(vs, str) else vs)
    )
    return DbUrl(u.drivername, u.username, u.password, u.host, u.port, u.database, query)


def _bracket_problem(url: str) -> str | None:
    """An IPv6 host whose ``[`` is not closed by ``]`` (or a ``]`` with no ``[``): the port
    was said not to be a number, sending an operator to look at the port of
    ``postgresql://u:pw@[::1/db``, which has none."""
    host = re.split(r"[/?]", url.partition("://")[2], maxsplit=1)[0].rpartition("@")[2]
    opened, closed = "[" in host, "]" in host
    if opened == closed and host.find("[") <= host.find("]"):
        return None
    return "an IPv6 host's '[' must be closed by ']', as in @[::1]:5432"


def port_problem(url: str) -> str | None:
    """What is wrong with the hosts' ports ``url`` names, or None: the port after the host, and
    the query's hosts and ports as SQLAlchemy's PostgreSQL dialect reads them
    (``feedsvc.db.hosts``: ``?host=h1:5432&host=h2:5433``, ``?host=h1,h2&port=5432,5433``;
    which host's port, a count that does not match, both forms mixed). The port's text is never
    repeated: in a URL missing its ``@`` (``postgresql://user:secret/db``) it is the password.
    Several hosts after the ``@`` each with a port (libpq's ``postgresql://h1:5432,h2:5433/db``)
    is a problem of its own: SQLAlchemy cannot read that form, the query's can say it."""
    from feedsvc.db.hosts import FORMS, HostsError, query_hosts

    m = _URL.match(url)
    if m is None:
        return None
    if (problem := _bracket_problem(url)) is not None:
        return problem
    port = m["port"]
    if port is not None and "@" in url.split("?", 1)[0] and "," in port:
        return (
            "several hosts with a port each after the '@' (libpq's form h1:5432,h2:5433) "
            f"cannot be read by SQLAlchemy: give them in the query, {FORMS}"
        )
    if port is not None and not (port.isascii() and port.isdigit()):
        return "the port after the host is not a number (a TCP port is 1-65535)"
    if port is not None and int(port) not in PORTS:
        return "the port after the host is out of range (a TCP port is 1-65535)"
    query = parse_qsl(m["query"]) if m["query"] else []
    if m["name"].split("+", 1)[0] == "postgresql":
        try:
            query_hosts(query)
        except HostsError as exc:
            return str(exc)
        return None
    for text in (p for k, v in query if k == "port" for p in v.split(",")):
        if not (text.isascii() and text.isdigit()):
            return "the query's port is not a number (a TCP port is 1-65535)"
        if int(text) not in PORTS:
            return "the query's port is out of range (a TCP port is 1-65535)"
    return None


def userinfo_problem(url: str) -> str | None:
    """Why ``url``'s user and password cannot be what was meant, or None: a second ``@``
    before the host (``postgresql://user:p@ss@host/db``, a password holding ``@`` not written
    ``%40``). SQLAlchemy's pattern ends the password at the first ``@`` and takes the rest of it
    as the host: every command printed that rest, ``postgresql://user:***@ss@host/db``, and the
    driver's "failed to resolve host 'ss@host'", so part of the password was shown. Never
    repeats any of it."""
    m = _URL.match(url)
    if m is None or m["username"] is None:
        return None
    if "@" in (m["ipv4host"] or "") or "@" in (m["ipv6host"] or ""):
        return (
            "holds more than one '@' before the host: a user name or password holding '@' "
            "must write it as %40 (e.g. postgresql://user:p%40ss@host/db)"
        )
    return None
