"""The client encoding every PostgreSQL connection of feedsvc asks for: UTF-8, unless the URL
names one.

Why: a database created ``-E SQL_ASCII`` (an old CMS's, a ``template0`` copy) answers in the
database's encoding when the client names none, and psycopg then hands over every text value as
``bytes``: SQLAlchemy's first connect failed parsing ``version()`` (``TypeError: cannot use a
string pattern on a bytes-like object``), so ``source check`` was a traceback and ingest
reported "the source does not answer" for ever (a tester's). With ``client_encoding=utf8`` the
server converts, and a stored byte that is no UTF-8 fails its own row (``CharacterNotInRepertoire``,
quarantined like any unreadable row) instead of every connection. Feedsvc reads and writes
text as UTF-8 whatever the database's encoding, so asking for it changes nothing else; a URL
that names an encoding (``?client_encoding=…``, or ``-c client_encoding=…`` in ``options``)
is kept as written. Pure: no SQLAlchemy or psycopg import (the CLI's fast paths use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The encoding asked for when the URL names none.
CLIENT_ENCODING = "utf8"


def client_encoding(given: Mapping[str, Any]) -> dict[str, str]:
    """``{"client_encoding": "utf8"}`` to add to libpq's connection parameters ``given`` (a
    URL's query, or the keywords built from it), or ``{}`` when they name an encoding."""
    if "client_encoding" in given:
        return {}
    options = given.get("options")
    texts = [options] if isinstance(options, str) else list(options or ())
    if any("client_encoding" in str(text) for text in texts):
        return {}
    return {"client_encoding": CLIENT_ENCODING}
