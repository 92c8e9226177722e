"""The one way feedsvc reads a TOML file an operator wrote (the config, a topics file).

tomllib decodes strictly and raised ``UnicodeDecodeError`` for a file saved in another encoding
(a traceback from ``feedsvc config check``, ``run``, ``topics import`` and ``match --topics``),
and refuses the byte-order mark Windows editors put first as "Invalid statement (at line 1,
column 1)". Here a leading BOM is skipped and a file that is not UTF-8 is one worded error.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(ValueError):
    """The file's text is not valid TOML or not UTF-8; the message is worded for an operator
    and never quotes the file's content (it may hold a secret)."""


def parse_toml(raw: bytes) -> dict[str, Any]:
    """``raw`` (a TOML file's bytes, UTF-8, an optional leading BOM) as data; raises
    :class:`TomlFileError`: ``invalid TOML: … (at line L, column C)`` or ``not UTF-8 text
    (byte 0xFF on line L): save the file as UTF-8``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TomlFileError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02X} on line {line}): save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"invalid TOML: {exc}{_unquoted_text(text, str(exc))}") from None


#: tomllib's position in its message (Python 3.11 has no ``lineno`` attribute yet).
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
#: ``key = value`` on one line: a bare or dotted key and what follows the ``=``.
_KEY_VALUE = re.compile(r"\s*(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>\S.*?)\s*")


def _unquoted_text(text: str, said: str) -> str:
    """``: text is written in quotes: host = "…"`` when the line tomllib refused is a key whose
    value is text written without quotes (``host = 127.0.0.1``, ``url = sqlite:///…``,
    ``title = Tin tức``): tomllib said only "Expected newline or end of document after a
    statement (at line 2, column 13)", which a newcomer cannot act on. The value is never
    shown (it may be a secret: ``token = 123:ABC``), only the key; else ``""``."""
    found = _AT_LINE.search(said)
    lines = text.splitlines()
    if found is None or not 0 < int(found.group(1)) <= len(lines):
        return ""
    pair = _KEY_VALUE.fullmatch(lines[int(found.group(1)) - 1])
    if pair is None or pair["value"][0] in "\"'[{" or re.fullmatch(r"[\d\s,+-]+", pair["value"]):
        return ""  # a quoted, array or table value, or numbers (a list without its brackets)
    quoted = pair["value"].replace("\\", "\\\\").replace('"', '\\"')
    try:
        tomllib.loads(f'v = "{quoted}"')
    except tomllib.TOMLDecodeError:
        return ""
    return f': text is written in quotes: {pair["key"]} = "…"'


#: More than any config or topics file holds (5,000 topics are ~2 MB): read no further.
MAX_TOML_BYTES = 64 * 1024 * 1024


def read_toml_file(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` as data; raises :class:`OSError` (unreadable) or
    :class:`TomlFileError`. At most :data:`MAX_TOML_BYTES` are read: ``--config /dev/zero`` (or
    ``topics.file``, ``topics import``, ``match --topics`` on it) read until memory ran out. A
    pipe is read as a file (``--config <(envsubst < feedsvc.toml.in)``)."""
    with path.open("rb") as file:
        raw = file.read(MAX_TOML_BYTES + 1)
    if len(raw) > MAX_TOML_BYTES:
        raise TomlFileError(
            f"larger than {MAX_TOML_BYTES >> 20} MiB, more than any config or topics file holds "
            "(a device such as /dev/zero?): name a TOML file"
        )
    return parse_toml(raw)
