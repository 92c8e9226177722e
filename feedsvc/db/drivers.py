"""Which DB-API driver a database URL is opened with, the arguments it gets, and whether it will
take them.

Why: a URL's query becomes keyword arguments of the driver's ``connect()``. psycopg hands them
to libpq, which refuses a bad one with its own clean error at connect time; PyMySQL's
``connect()`` is a Python function that raises ``TypeError`` for a keyword it does not know and
``AttributeError``/``ValueError`` for a character set or port it cannot use, so a typo in
``source.url`` was a traceback from ``source check`` and an ingest that never worked under
``run``. :func:`driver_problem` decides it once, from the configuration, without connecting:
PyMySQL builds a connection with ``defer_connect=True`` (every argument checked, no socket).

:func:`driver_url` is the one rule for which driver a bare scheme means (``postgresql`` →
psycopg 3, ``mysql`` → PyMySQL: the drivers feedsvc ships), used by the engines and the checks.
SQLAlchemy is imported by the callers' modules (this one is reached only when a URL is read by
SQLAlchemy anyway).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from sqlalchemy.engine import URL

from feedsvc.db.timeouts import DbTimeouts, connect_args
from feedsvc.db.urls import is_secret_key

#: The driver a scheme without ``+driver`` is opened with (SQLAlchemy's defaults, psycopg2 and
#: mysqlclient, are not installed).
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql",
}  # fmt: skip
#: PyMySQL ``connect()`` arguments a URL's query cannot give: they take Python objects (a dict,
#: a class), or change what a connection is (``defer_connect``: never connected).
NOT_FROM_URL = ("ssl", "conv", "cursorclass", "auth_plugin_map", "defer_connect")
#: PyMySQL arguments naming a file it reads when a connection is made.
FILE_KEYS = ("ssl_ca", "ssl_capath", "ssl_cert", "ssl_key", "read_default_file")
#: The backends PyMySQL serves.
MYSQL_BACKENDS = ("mysql", "mariadb")
#: The character set every MariaDB/MySQL source is read in (whatever the URL says): the
#: strict UTF-8 decoding of ``feedsvc.source.values`` relies on it.
MYSQL_CHARSET = "utf8mb4"


def driver_url(url: URL) -> URL:
    """``url`` with the driver feedsvc opens it with spelled out (:data:`DEFAULT_DRIVERS`)."""
    driver = DEFAULT_DRIVERS.get(url.drivername)
    return url if driver is None else url.set(drivername=driver)


def source_connect_args(url: URL, timeouts: DbTimeouts) -> dict[str, Any]:
    """``create_engine(connect_args=…)`` for a source at ``url``: the timeouts' bounds, on
    PostgreSQL UTF-8 unless the URL names an encoding (``feedsvc.db.client_encoding``) and, on
    MariaDB/MySQL, :data:`MYSQL_CHARSET` (these win over the URL's query)."""
    args = connect_args(url.get_backend_name(), timeouts, url.query)
    if url.get_backend_name() in MYSQL_BACKENDS:
        args["charset"] = MYSQL_CHARSET
    return args


def driver_problem(url: URL, extra: dict[str, Any]) -> str | None:
    """Why the driver would refuse ``url``'s connection arguments (``extra``: the engine's own
    ``connect_args``), in one line that never repeats a value (a password may be among them);
    None when it takes them or when only the server can tell (psycopg: libpq's own errors)."""
    url = driver_url(url)
    if url.get_backend_name() not in MYSQL_BACKENDS or url.get_driver_name() != "pymysql":
        return None
    import pymysql
    from pymysql.charset import charset_by_name

    dialect = url.get_dialect()()
    for key in url.query:  # one key at a time: SQLAlchemy's int()/bool() errors do not say which
        try:
            dialect.create_connect_args(url.set(query={key: url.query[key]}))
        except ValueError:
            return f"the query's {key!r} has a value of the wrong kind (a number or true/false)"
    charset = url.query.get("charset")
    if isinstance(charset, str) and charset_by_name(charset) is None:
        return f"the query's 'charset' is not a character set PyMySQL knows (feedsvc reads " \
               f"{MYSQL_CHARSET} whatever it says)"  # fmt: skip
    if "port" in url.query:
        return "PyMySQL takes the port after the host (mysql+pymysql://user@host:3306/db), " \
               "not as the query's 'port'"  # fmt: skip
    _, params = dialect.create_connect_args(url)
    known = inspect.signature(pymysql.connect).parameters
    # what SQLAlchemy passes on (it gathers ssl_ca, ssl_capath, … into PyMySQL's ssl dict)
    unknown = sorted({k for k in params if k not in known} | set(url.query) & set(NOT_FROM_URL))
    if unknown:
        return (
            f"unknown connection option(s) in the query: {', '.join(map(repr, unknown))} "
            "(PyMySQL's connect() does not take them from a URL)"
        )
    try:
        with warnings.catch_warnings():  # 'passwd'/'db' are deprecated, not wrong
            warnings.simplefilter("ignore", DeprecationWarning)
            pymysql.connect(**{**params, **extra, "defer_connect": True})
    except OSError as exc:  # e.g. an ssl_ca file that is not there (ssl gives no file name)
        files = ", ".join(repr(k) for k in url.query if k in FILE_KEYS) or "a file"
        return f"PyMySQL cannot read {files} in the query: {exc.strerror or exc}"
    except Exception as exc:  # what its checks raise: ValueError, NotImplementedError, …
        return f"PyMySQL refuses the connection options: {_scrubbed(str(exc), url)}"
    return None


def _scrubbed(text: str, url: URL) -> str:
    """``text``'s first line without the URL's secrets (the driver may quote one)."""
    secrets = [url.password] + [
        v for k, vs in url.query.items() if is_secret_key(k)
        for v in ((vs,) if isinstance(vs, str) else vs)
    ]  # fmt: skip
    for value in secrets:
        if value:
            text = text.replace(str(value), "***")
    return text.strip().splitlines()[0][:200] if text.strip() else "(no reason given)"
