"""What is at an SQLite database's path: a regular file SQLite can open, or something else.

The one rule for both SQLite URLs feedsvc is given, ``source.url`` (the CMS's file:
``config.checks``) and ``database.url`` (the state DB: ``config.checks`` and
``db.sqlite_location``). Why one: ``source.url = "sqlite:////dev/null"`` was refused by
``config check`` ("not a regular file"), while the same path as ``database.url`` passed it and
``db upgrade`` then failed with "the SQLite file /dev/null is here but not its /dev/null-wal …"
(a tester's U4); a FIFO or a socket at the path was not told at all. A path with nothing at it
is no concern here (an outage for a source, a new file for the state DB). Reads one ``stat``
(following symbolic links, as SQLite opens the path); never opens the path (a FIFO's open
would wait for a writer). Imports only the standard library (the CLI's start-up).
"""

from __future__ import annotations

import stat
from pathlib import Path

#: How each kind of file that is not a regular file is named, by its ``stat`` test.
_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be an SQLite database file: ``"/srv is a directory, not an SQLite
    file"``, ``"/dev/null is not a regular file (a character device)"`` (a block device, a
    pipe (FIFO), a socket); None for a regular file, nothing at the path, or a path this user
    cannot look at (the caller's own check names the permission)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # missing, a directory not searchable, a NUL in the path
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{path} is a directory, not an SQLite file"
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return f"{path} is not a regular file ({kind})"
