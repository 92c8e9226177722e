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
  The path is the one SQLite's unix VFS opens (:func:`sqlite_path`): ``..`` after a directory
  that does not exist, or after a symlink, is not what ``Path.is_file()`` or ``os.path.normpath``
  made of it, so every reader takes the file from here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote_from_bytes, unquote_to_bytes

from feedsvc.db.urls import parse

#: The URL schemes SQLAlchemy opens with the stdlib ``sqlite3`` driver (pysqlite).
SCHEMES = ("sqlite", "sqlite+pysqlite")
#: The query keys pysqlite's dialect takes for ``sqlite3.connect`` itself (not for the URI).
DRIVER_KEYS = ("uri", "timeout", "isolation_level", "detect_types", "check_same_thread",
               "cached_statements")  # fmt: skip
_TRUE = ("true", "yes", "on", "y", "t", "1")  # sqlalchemy.util.asbool
_FALSE = ("false", "no", "off", "n", "f", "0")


#: ``SQLITE_MAX_SYMLINK`` of SQLite's ``os_unix.c``: more symlinks on one path is "unable to
#: open database file".
MAX_SYMLINKS = 100


class SqlitePathError(ValueError):
    """A path SQLite cannot open whatever the files are: a symlink loop (or more than
    :data:`MAX_SYMLINKS` symlinks). The message names the path."""


def sqlite_path(path: str) -> Path:
    """The absolute file SQLite (3.40, ``unixFullPathname``) opens for ``path``: relative to the
    working directory, one element at a time; ``.`` and empty elements skipped; each element
    that exists and is a symlink replaced by its target (relative to the link's directory);
    ``..`` drops the last element of what was resolved so far (so ``nodir/../s.db`` is ``s.db``
    even where ``nodir`` does not exist, which the OS's ``open`` refuses, and ``link/../s.db``
    is beside the link's *target*, where ``os.path.normpath`` puts it beside the link). That is
    ``os.path.realpath`` without ``strict``, but a loop raises :class:`SqlitePathError` as SQLite
    refuses it (Python leaves the loop unresolved). An element that cannot be examined
    (permission, a file on the way) is kept as written: opening it fails, worded elsewhere."""
    links = 0

    def append_all(out: str, text: str) -> str:
        nonlocal links
        for name in text.split("/"):
            if name in ("", "."):
                continue
            if name == "..":
                out = out.rsplit("/", 1)[0]
                continue
            out = f"{out}/{name}"
            try:
                mode = os.lstat(out).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                links += 1
                if links > MAX_SYMLINKS:
                    raise SqlitePathError(
                        f"the path {path} runs into a symlink loop (or more than "
                        f"{MAX_SYMLINKS} symlinks) at {out}: SQLite cannot open it"
                    )
                link = os.readlink(out)
                out = append_all("" if link.startswith("/") else out.rsplit("/", 1)[0], link)
        return out

    start = "" if path.startswith("/") else append_all("", os.getcwd())
    return Path(append_all(start, path) or "/")


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """The first argument and the ``uri`` flag SQLAlchemy passes to ``sqlite3.connect``."""

    filename: str
    uri: bool

    def file(self) -> Path | None:
        """:func:`connect_file` of this target (raises :class:`SqlitePathError`)."""
        return connect_file(self.filename, uri=self.uri)

    def written(self) -> str | None:
        """:func:`written_path` of this target."""
        return written_path(self.filename, uri=self.uri)

    def read_only(self) -> str | None:
        """The URI option that opens the DB read-only (``mode=ro``, or ``immutable=1``: no
        write either), as SQLite reads it; None when the URL lets SQLite write."""
        if not (self.uri and self.filename.startswith("file:")):
            return None
        params = uri_params(self.filename)
        if params.get("mode") == "ro":
            return "mode=ro"
        immutable = params.get("immutable", "0").lower()
        if immutable in ("1", "true", "yes", "on") or (immutable.isdigit() and int(immutable)):
            return f"immutable={params['immutable']}"
        return None


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


def path_url(path: str | os.PathLike[str]) -> str:
    """The ``sqlite://`` URL of the file at ``path``, for SQLAlchemy and :func:`sqlite_target`
    alike, and unchanged through ``str`` (a banner's ``export``) and an env variable: **every
    URL made from a path is made here**. The plain form (``sqlite:////srv/d.db``) holds the
    path as written (SQLAlchemy decodes nothing in it: ``#``, ``%20``, spaces and Vietnamese
    letters are themselves) but ends at a ``?``, where the query begins: ``demo --dir 'run?1'``
    made ``sqlite:////…/run?1/demo.db``, the file ``./run``, and ``run?x=1`` a query key the
    config check refused. A path the plain form cannot hold (``?``, a control character, bytes
    that are not the file system's text, a ``file:`` start) is an SQLite URI instead, its ``%``,
    ``?`` and ``#`` %-escaped (``sqlite:///file:/…/run%3F1/demo.db?uri=true``).
    ``URL.create("sqlite", database=…)`` does not do it: its text ends at the ``?`` as well."""
    text = os.fspath(path)
    if not any(_uri_only(c) for c in text) and not text.startswith("file:"):
        return f"sqlite:///{text}"
    escaped = "".join(
        quote_from_bytes(os.fsencode(c), safe="") if c in "%?#" or _uri_only(c) else c for c in text
    )
    return f"sqlite:///file:{escaped}?uri=true"


def _uri_only(char: str) -> bool:
    """A character only a URI's %-escape can hold: ``?``, a control character, a byte that is
    not text (``surrogateescape``)."""
    return char == "?" or ord(char) < 0x20 or ord(char) == 0x7F or 0xDC80 <= ord(char) <= 0xDCFF


#: What a missing source file is, in the words of ``config check``, ``source check``, ingest's
#: log line and ``feedsvc status`` (:func:`existing_only` never lets SQLite create it).
MISSING_SOURCE = "the SQLite file {file} does not exist (a source is read, never created)"


def existing_only(filename: str, *, uri: bool) -> str:
    """The SQLite URI (to connect with ``uri=True``) opening what ``sqlite3.connect(filename,
    uri=uri)`` opens, but never creating it: ``mode=rw`` (SQLite's flags without
    ``SQLITE_OPEN_CREATE``; reads and locks as before, ``PRAGMA query_only`` refuses writes),
    or the URI's own ``mode=ro``/``mode=memory``. Why: a source is read, never created, and
    SQLite's default ``rwc`` made an empty file wherever ``source.url`` pointed, a CMS file
    moved or a share not mounted included, so ingest then read an empty DB ("no such table")
    where the file came back. A plain path's bytes are %-escaped (``?``, ``#``, ``%``)."""
    if not (uri and filename.startswith("file:")):
        return f"file:{quote_from_bytes(os.fsencode(filename), safe='/')}?mode=rw"
    base, hash_, fragment = filename.partition("#")
    path, _, query = base.partition("?")
    mode = uri_params(filename).get("mode")
    pairs = [p for p in query.split("&") if p and _decode(p.partition("=")[0]) != "mode"]
    pairs.append(f"mode={mode if mode in ('ro', 'memory') else 'rw'}")
    return f"{path}?{'&'.join(pairs)}{hash_}{fragment}"


def missing_file(filename: str, *, uri: bool) -> Path | None:
    """The file ``filename`` names when it is not there (nothing at its path), else None: an
    in-memory DB, a path SQLite cannot resolve, a file or anything else present, or a path
    this user cannot look at (permission: ``sqlite_reading.unreadable`` words that)."""
    try:
        file = connect_file(filename, uri=uri)
    except SqlitePathError:
        return None
    if file is None:
        return None
    try:
        os.lstat(file)
    except (FileNotFoundError, NotADirectoryError):
        return file
    except OSError:  # a directory this user may not enter: not "does not exist"
        return None
    return None


def relative_path(url: str) -> bool:
    """Whether the SQLite file ``url`` names is written as a relative path (SQLAlchemy makes a
    plain path absolute, a URI's path is passed on as written): ``db upgrade`` makes only such a
    path's directories, so every command decides on this where a new state DB may go."""
    target = sqlite_target(url)
    parsed = parse(url)
    if target is None or parsed is None:
        return False
    written = target.written() if target.uri else parsed.database
    return bool(written) and not str(written).startswith("/")


def connect_file(filename: str, *, uri: bool) -> Path | None:
    """The file ``sqlite3.connect(filename, uri=uri)`` opens, absolute and resolved as SQLite
    resolves it (:func:`sqlite_path`), or None when it opens no file: an in-memory or temporary
    DB, or a URI SQLite refuses (an authority other than ``localhost``: its own error when it
    connects). Raises :class:`SqlitePathError` for a path SQLite cannot resolve (a loop)."""
    written = written_path(filename, uri=uri)
    return None if written is None else sqlite_path(written)


def written_path(filename: str, *, uri: bool) -> str | None:
    """The path of the file ``filename`` names, as written (a URI's path %-decoded; relative
    stays relative), or None as :func:`connect_file`: whether a relative path's directories may
    be made (``feedsvc.db.revision``) is decided on this."""
    if not (uri and filename.startswith("file:")):
        return None if filename in ("", ":memory:") else filename
    path = filename[len("file:") :].split("#", 1)[0].partition("?")[0]
    if path.startswith("//"):
        authority, slash, path = path[2:].partition("/")
        if authority not in ("", "localhost"):
            return None
        path = slash + path
    params = uri_params(filename)
    if not path or path == ":memory:" or params.get("mode") == "memory":
        return None
    if params.get("vfs") == "memdb":
        return None
    return _decode(path)


def uri_params(filename: str) -> dict[str, str]:
    """The query of the SQLite URI ``filename`` (``file:…``) as SQLite reads it: %-decoded,
    the last of a key given twice (SQLAlchemy never passes one twice: ``url_problem``)."""
    query = filename.split("#", 1)[0].partition("?")[2]
    params = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        params[_decode(key)] = _decode(value)
    return params


def _decode(text: str) -> str:
    """SQLite's %-decoding of a URI part: bytes, then the file system's encoding."""
    return os.fsdecode(unquote_to_bytes(text))


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_bool(text: str) -> bool:
    return uri_flag(text) is not None


#: What SQLAlchemy's pysqlite dialect requires of each driver key's text (``coerce_kw_type``:
#: ``asbool``, ``float``, ``int``), worded for a problem; ``isolation_level`` is any text.
_DRIVER_TYPES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "uri": ("true or false", _is_bool),
    "check_same_thread": ("true or false", _is_bool),
    "timeout": ("a number of seconds", _is_float),
    "detect_types": ("an integer", _is_int),
    "cached_statements": ("an integer", _is_int),
}


def url_problem(url: str) -> str | None:
    """What is wrong with an ``sqlite://`` URL that SQLAlchemy accepts as a URL but fails on
    at every connection, or reads otherwise than meant; None when it is fine. A key's value is
    never repeated, only its name.

    - a driver key (``uri``, ``timeout``…) its conversion refuses, or given twice: a
      ``ValueError``/``TypeError`` traceback from every command, while ``config check`` said OK;
    - a ``file:`` path without ``uri=true``: SQLAlchemy opens it as a plain relative path (the
      file ``./file:/srv/state.db``), so an initialised DB read as "not initialised" and ``db
      upgrade`` made a directory named ``file:`` where it ran;
    - a URI whose authority is not empty or ``localhost``, which SQLite refuses;
    - a path SQLite cannot resolve (a symlink loop: :class:`SqlitePathError`);
    - a query option SQLite refuses or ignores, or SQLAlchemy drops (``?mode=ro`` without
      ``uri=true``): ``feedsvc.db.sqlite_options``."""
    if not url.startswith(tuple(f"{s}://" for s in SCHEMES)):
        return None
    pairs = parse_qsl(url.partition("?")[2])
    for key, (wanted, fits) in _DRIVER_TYPES.items():
        values = [v for k, v in pairs if k == key]
        if len(values) > 1:
            return f"the query key {key!r} is given {len(values)} times (give it once: {wanted})"
        if values and not fits(values[0]):
            return f"the query key {key!r} must be {wanted}"
    parsed = parse(url)
    database = (parsed.database if parsed is not None else None) or ""
    uri = uri_flag(dict(pairs).get("uri", "false"))
    if database.startswith("file:") and not uri:
        return (
            "the database is written as an SQLite URI (file:…) but the query has no uri=true: "
            "SQLAlchemy would open a file of that name in the working directory; add ?uri=true "
            "(e.g. sqlite:///file:/srv/feedsvc.db?uri=true), or write the path without file: "
            "(sqlite:////srv/feedsvc.db)"
        )
    authority = database[len("file://") :].split("/", 1)[0]
    if uri and database.startswith("file://") and authority not in ("", "localhost"):
        return (
            "the SQLite URI names a host (file://HOST/…), which SQLite refuses: write "
            "file:/path or file:///path"
        )
    target = sqlite_target(url)
    try:
        if target is not None:
            target.file()
    except SqlitePathError as exc:
        return str(exc)
    from feedsvc.db.sqlite_options import options_problem

    return options_problem(url)


def state_problem(url: str) -> str | None:
    """Why the SQLite ``url`` cannot hold the state DB: it opens no file (``sqlite://``,
    ``:memory:``, ``mode=memory``, an empty URI path: a temporary DB), so what a command writes
    is gone when it ends: ``db upgrade`` said "database at revision …", ``topics add`` said
    "created", and the next command "not initialised: run `feedsvc db upgrade`" (and each of the
    service's threads would get an empty DB of its own). None for a file, another backend, or a
    URL left to SQLAlchemy."""
    target = sqlite_target(url)
    if target is None or target.file() is not None:
        return None
    return (
        "an SQLite DB in memory (or a temporary one) keeps nothing once a command ends: the "
        "state DB must be a file (e.g. sqlite:///var/feedsvc.db)"
    )
