"""How a secret's ``*_file`` is read (``telegram.token_file``, ``admin.token_file``,
``zalo.token_file``, ``zalo.webhook_secret_file``): the one reader, for ``config check``'s
problems and warnings and for the service alike.

It reads only a regular file and only as much as a secret can hold. ``admin.token_file`` or
``zalo.webhook_secret_file`` naming a FIFO made ``config check`` (and, for the webhook secret,
``status`` and ``run``) wait for ever, and ``/dev/zero`` read until memory ran out (a
``MemoryError`` traceback): the check that refuses a file that is no regular file ran first for
the problems, but the admin token's length warning and the Zalo secret's length check read the
file themselves.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: Far more than any secret (a bot token is ~50 characters, a long admin token a few hundred):
#: a file past it is not a secret file (a log, an image) and is not read whole.
MAX_SECRET_BYTES = 64 * 1024


def read_secret_file(path: Path) -> str:
    """A secret file's text as the service uses it: UTF-8, a leading BOM dropped (Notepad
    writes one; it was part of the admin token, and every login was refused), its ends
    stripped. Raises ``OSError`` (its ``strerror`` worded for an operator: also for a path
    that is no regular file, or a file larger than :data:`MAX_SECRET_BYTES`) or
    ``UnicodeDecodeError``; never waits on a pipe nor reads a device."""
    # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer; the type is the
    # opened file's (fstat), so a path swapped after a look at it cannot slip through
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device or a pipe?)", str(path))
        raw = file.read(MAX_SECRET_BYTES + 1)
    if len(raw) > MAX_SECRET_BYTES:
        raise OSError(
            errno.EFBIG,
            f"larger than {MAX_SECRET_BYTES >> 10} KiB, more than any secret holds",
            str(path),
        )
    return raw.decode("utf-8-sig").strip()
