"""Which SQLite database an ``sqlite://`` URL opens, as SQLAlchemy opens it, without SQLAlchemy.

Why: the read-only CLI commands open a plain SQLite state DB with stdlib ``sqlite3``
(``feedsvc.store.lite``), and the revision check and ``db upgrade`` look at the file before
connecting (a missing file is "not initialised", never created by a reader). Both used the
URL's database part as the file's path, so SQLite's URI form (``sqlite:///file:/srv/state.db?
mode=ro&uri=true``, which SQLAlchemy hands to SQLite as the URI ``file:/srv/state.db?mode=ro``)
was a file named ``file:/srv/state.db`` that does not exist: an initialised DB was called "not
initialised". Here is the one reading of such a URL:

- :func:`sqlite_target`: what SQLAlchemy's pysqlite dialect (``create_connect_args``) passes
  to ``sqlite3.connect`` — the filename (a relative path made absolute, or the URI with the
  query keys that are not the driver's appended) and the ``uri`` flag; ``tests/
  test_sqlite_url.py`` compares it with SQLAlchemy's own;
- :func:`connect_file`: the file on disk that filename opens, by SQLite's URI rules (a
  ``file:`` name is a URI only with ``uri``; its path %-decoded, an authority of nothing or
  ``localhost``; ``:memory:``, ``mode=memory``, the ``memdb`` VFS or an empty path are no file).
  The revision check (``feedsvc.db.revision``) calls it on SQLAlchemy's own connect arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from feedsvc.db.urls import parse

#: The URL schemes SQLAlchemy opens with the stdlib ``sqlite3`` driver (pysqlite).
SCHEMES = ("sqlite", "sqlite+pysqlite")
#: The query keys pysqlite's dialect takes for ``sqlite3.connect`` itself (not for the URI).
DRIVER_KEYS = ("uri", "timeout", "isolation_level", "detect_types", "check_same_thread",
               "cached_statements")  # fmt: skip
_TRUE = ("true", "yes", "on", "y", "t", "1")  # sqlalchemy.util.asbool
_FALSE = ("false", "no", "off", "n", "f", "0")


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """The first argument and the ``uri`` flag SQLAlchemy passes to ``sqlite3.connect``."""

    filename: str
    uri: bool

    def file(self) -> Path | None:
        """:func:`connect_file` of this target."""
        return connect_file(self.filename, uri=self.uri)


def uri_flag(value: str) -> bool | None:
    """``?uri=`` as SQLAlchemy reads it (``asbool``), None for text it refuses."""
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def sqlite_target(url: str) -> SqliteTarget | None:
    """What SQLAlchemy's pysqlite dialect would open for ``url``; None for a URL that is not a
    pysqlite one, or that it reads in a way not mirrored here (a key given twice, host or user
    parts, a ``uri`` that is no boolean): the caller then goes through SQLAlchemy itself."""
    parsed = parse(url)
    if parsed is None or parsed.drivername not in SCHEMES:
        return None
    if parsed.username or parsed.password or parsed.host or parsed.port:
        return None  # SQLAlchemy refuses it ("Invalid SQLite URL"): its words
    query = dict(parsed.query)
    uri = uri_flag(query.get("uri", "false"))
    if uri is None:
        return None
    if not uri:
        filename = parsed.database or ":memory:"
        return SqliteTarget(
            filename if filename == ":memory:" else os.path.abspath(filename), False
        )
    filename = parsed.database or ""
    rest = sorted((k, v) for k, v in query.items() if k not in DRIVER_KEYS)
    if rest:
        filename += "?" + "&".join(f"{k}={v}" for k, v in rest)
    return SqliteTarget(filename, True)


def connect_file(filename: str, *, uri: bool) -> Path | None:
    """The file ``sqlite3.connect(filename, uri=uri)`` opens (relative to the working
    directory), or None when it opens no file: an in-memory or temporary DB, or a URI SQLite
    refuses (an authority other than ``localhost``: its own error when it connects)."""
    if not (uri and filename.startswith("file:")):
        return None if filename in ("", ":memory:") else Path(filename)
    rest = filename[len("file:") :].split("#", 1)[0]
    path, _, query = rest.partition("?")
    if path.startswith("//"):
        authority, slash, path = path[2:].partition("/")
        if authority not in ("", "localhost"):
            return None
        path = slash + path
    params = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        params[_decode(key)] = _decode(value)
    if not path or path == ":memory:" or params.get("mode") == "memory":
        return None
    if params.get("vfs") == "memdb":
        return None
    return Path(_decode(path))


def _decode(text: str) -> str:
    """SQLite's %-decoding of a URI part: bytes, then the file system's encoding."""
    return os.fsdecode(unquote_to_bytes(text))
