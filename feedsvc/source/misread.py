"""Text a CMS stored as UTF-8 in a column its database calls Latin-1, read back as Latin-1:
"NguyÃ©n" for "Nguyễn" (a legacy MySQL table whose ``CHARACTER SET latin1`` the application
wrote UTF-8 bytes into). The driver hands over what the column says, so every alert, feed
and page shows the garbled text; feedsvc never alters what it stores, so the mapping must
read the bytes as what they are (``CONVERT(CAST(col AS BINARY) USING utf8mb4)``).
:func:`misread_utf8` finds it, for ``source check`` to say before a first sync stores it (a
tester's: nothing flagged it). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def misread_utf8(text: str) -> str | None:
    """The text ``text`` stood for when it is UTF-8 read as Latin-1 (MySQL's ``latin1``: its
    bytes in that character set decode as UTF-8 and give other text ("NguyÃ©n" → "Nguyén",
    "Ä‘Æ°á»\x9dng" → "đường"); else None (ASCII, real Latin-1 text such as "café", whose
    bytes are no UTF-8, or text holding a character no such set has, like "ễ")."""
    if text.isascii():
        return None
    raw = _latin1_bytes(text)
    if raw is None:
        return None
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return fixed if fixed != text else None


def _latin1_bytes(text: str) -> bytes | None:
    """``text`` in MySQL's ``latin1``: Windows-1252, whose five unassigned bytes (0x81, 0x8D,
    0x8F, 0x90, 0x9D) MySQL reads as the C1 controls of the same number; None when a
    character has no byte there."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return None
            out.append(ord(ch))
    return bytes(out)


#: the fields of a source row whose text is shown to readers
TEXT_FIELDS = ("title", "summary", "body", "author", "section", "tags")


def misread_fields(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
) -> list[tuple[str, str, str, str]]:
    """``(field, row id, text as read, text meant)`` for the first misread value of each of
    :data:`TEXT_FIELDS` in ``rows`` (``(id, record)`` pairs as ``source check`` samples them;
    a ``tags`` text is read as it is, a list tag by tag)."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for id_, record in rows:
        for field in TEXT_FIELDS:
            value = record.get(field)
            texts = value if isinstance(value, list | tuple) else [value]
            for text in texts:
                if field in found or not isinstance(text, str):
                    continue
                fixed = misread_utf8(text)
                if fixed is not None:
                    found[field] = (field, id_, text, fixed)
    return [found[f] for f in TEXT_FIELDS if f in found]
