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


def read_toml_file(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` as data; raises :class:`OSError` (unreadable) or
    :class:`TomlFileError`."""
    return parse_toml(path.read_bytes())
