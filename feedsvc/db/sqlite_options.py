"""The query options of an ``sqlite://`` URL that SQLite or SQLAlchemy would ignore or refuse,
found without opening the database (``feedsvc config check``).

Why: ``sqlite:///file:/srv/s.db?mode=bogus&uri=true`` (or ``vfs=nosuch``, ``cache=weird``)
passed ``config check`` and every command then failed with "no such access mode: bogus";
``sqlite:////srv/s.db?mode=ro`` without ``uri=true`` is dropped by SQLAlchemy (its pysqlite
dialect passes ``sqlite3.connect`` only its driver keys, ``feedsvc.db.sqlite_url.DRIVER_KEYS``,
unless ``uri`` is true), so feedsvc wrote to a DB the operator had marked read-only. The
options are read from what SQLAlchemy hands SQLite (``sqlite_url.sqlite_target``: values
%-decoded and joined again), by SQLite's URI rules (https://www.sqlite.org/uri.html: ``vfs``,
``mode``, ``cache``, ``immutable``, ``nolock``, ``psow``; the unix VFS's ``modeof``). Whether a
VFS exists is asked of SQLite itself, on a private in-memory database.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote_to_bytes

from feedsvc.db.sqlite_url import DRIVER_KEYS, sqlite_target

#: SQLite's URI parameters whose value must be one of these (``sqlite3ParseUri``).
CHOICES = {"mode": ("ro", "rw", "rwc", "memory"), "cache": ("shared", "private")}
#: SQLite's boolean URI parameters (``sqlite3_uri_boolean``: any other text is taken as false).
BOOLEANS = ("immutable", "nolock", "psow")
_BOOLEAN_WORDS = ("1", "0", "true", "false", "yes", "no", "on", "off")
#: Every query key SQLite itself reads from a URI filename.
URI_KEYS = ("vfs", *CHOICES, *BOOLEANS, "modeof")


def options_problem(url: str) -> str | None:
    """What SQLite or SQLAlchemy would do otherwise than the query of the SQLite ``url`` says,
    or None; names the key and what it may be. ``url`` is one :func:`feedsvc.db.sqlite_url.
    url_problem` found no other fault in."""
    keys = [k for k, _ in parse_qsl(url.partition("?")[2]) if k not in DRIVER_KEYS]
    target = sqlite_target(url)
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:  # SQLAlchemy passes SQLite "mode=('ro', 'rw')"
        return f"the query key {twice!r} is given {keys.count(twice)} times: give it once"
    if not keys or target is None:
        return None
    if not target.uri:
        return (
            f"the query key {keys[0]!r} is ignored without uri=true (SQLAlchemy passes SQLite "
            f"only {', '.join(DRIVER_KEYS)}): write the database as an SQLite URI, e.g. "
            "sqlite:///file:/srv/feedsvc.db?mode=ro&uri=true, or remove the key"
        )
    filename = target.filename
    if not filename.startswith("file:"):
        return (
            f"with uri=true SQLite reads options only from a database written file:…; this one "
            f"would open a file named {os.path.basename(filename)!r} (the query included): "
            "write it as sqlite:///file:/srv/feedsvc.db?uri=true&…"
        )
    return uri_options_problem(filename.split("#", 1)[0].partition("?")[2])


def uri_options_problem(query: str) -> str | None:
    """The first option of an SQLite URI's ``query`` (as SQLite receives it) SQLite refuses or
    ignores, worded with the key and the values it takes; None when all are taken."""
    pairs = [(_decode(k), _decode(v)) for k, _, v in (p.partition("=") for p in query.split("&"))]
    seen: dict[str, int] = {}
    for key, _value in pairs:
        seen[key] = seen.get(key, 0) + 1
    for key, value in pairs:
        if not key:
            continue
        if seen[key] > 1:
            return f"the query key {key!r} is given {seen[key]} times: give it once"
        if key in CHOICES and value not in CHOICES[key]:
            return f"the query key {key!r} must be one of {', '.join(CHOICES[key])} (SQLite's)"
        if key in BOOLEANS and value.lower() not in _BOOLEAN_WORDS and not value.isdigit():
            return (
                f"the query key {key!r} must be 1 or 0 (or true/false, yes/no, on/off): SQLite "
                "takes any other text as false"
            )
        if key == "vfs" and not vfs_exists(value):
            return f"the query key 'vfs' names no VFS this SQLite has ({', '.join(known_vfs())})"
        if key == "modeof" and not os.path.exists(value):
            return "the query key 'modeof' must name an existing file (SQLite copies its mode)"
        if key not in URI_KEYS and "vfs" not in seen:
            return (
                f"SQLite ignores the query key {key!r} (it reads {', '.join(URI_KEYS)}; the "
                f"driver's own keys are {', '.join(DRIVER_KEYS)})"
            )
    return None


def vfs_exists(name: str) -> bool:
    """Whether this process's SQLite has the VFS ``name``: a private in-memory DB opened with
    it (SQLite says "no such vfs" otherwise); nothing on disk is touched."""
    import sqlite3

    if not name or any(c in name for c in "&#?%"):
        return False
    try:
        sqlite3.connect(f"file:feedsvc-vfs-probe?mode=memory&vfs={name}", uri=True).close()
    except sqlite3.OperationalError:
        return False
    return True


def known_vfs() -> list[str]:
    """The usual VFS names of SQLite on Unix that this SQLite has (for the wording only)."""
    names = ("unix", "unix-dotfile", "unix-excl", "unix-none", "unix-namedsem", "memdb")
    return [n for n in names if vfs_exists(n)]


def _decode(text: str) -> str:
    """SQLite's %-decoding of a URI part."""
    return os.fsdecode(unquote_to_bytes(text))
