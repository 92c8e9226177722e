"""The one way feedsvc reads a TOML file an operator wrote (the config, a topics file).

tomllib decodes strictly and raised ``UnicodeDecodeError`` for a file saved in another encoding
(a traceback from ``feedsvc config check``, ``run``, ``topics import`` and ``match --topics``),
and refuses the byte-order mark Windows editors put first as "Invalid statement (at line 1,
column 1)". Here a leading BOM is skipped and a file that is not UTF-8 is one worded error.
"""

from __future__ import annotations

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
        raise TomlFileError(f"invalid TOML: {exc}") from None


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
