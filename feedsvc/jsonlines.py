"""JSON Lines of SPEC §3 articles, read strictly and in bounded memory (``feedsvc import``,
``feedsvc match``).

Why apart from :mod:`feedsvc.articles`: that module is the record and its one validation,
shared by every edge (ingest reads rows, not lines); this one is how a file's lines become
records — strict JSON per line, a byte order mark, lines too long to hold — and how a line
that is not an article is reported with its number (:class:`Rejected`) while the rest go on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO, Any

from feedsvc.articles import DEFAULT_TZ, Article, ArticleError, parse_article
from feedsvc.fieldtext import shown_key
from feedsvc.jsonkeys import DuplicateKey, loads_unique
from feedsvc.unknown_keys import unknown_keys


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    error: ArticleError

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


def _constant(name: str) -> Any:
    """json ``parse_constant``: NaN and Infinity are not JSON (Python accepts them by default)."""
    raise ValueError(f"{name} is not a JSON value")


_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode("utf-8")


def decode_json_line(line: bytes | str, first: bool = False) -> Any:
    """One JSON Lines record, strictly: UTF-8, RFC 8259 JSON, no duplicate keys (the product's
    one rule, :func:`feedsvc.jsonkeys.loads_unique`: the first repeated key in document order,
    ``"\\u0061"`` the same key as ``"a"``; the field named is the key itself, as an article's
    fields are its top-level keys).

    A UTF-8 byte order mark is allowed at the start of the first line only (Windows editors
    write one). Raises :class:`ArticleError` (field None) with the reason.
    """
    if isinstance(line, bytes | bytearray):
        try:
            text = bytes(line).decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = line[exc.start]
            raise ArticleError(
                None, f"invalid UTF-8 at byte {exc.start + 1} (0x{byte:02X}): {exc.reason}"
            ) from None
    else:
        text = line
    if first and text.startswith(_BOM):
        text = text[1:]
    # without its line end: json counted the "\n" as a second line, so a record cut short was
    # reported at "column 1" (of that empty line 2)
    text = text.rstrip("\r\n")
    try:
        return loads_unique(text, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" at").removesuffix(" starting")  # json's "… starting at"
        raise ArticleError(None, f"invalid JSON at column {exc.colno}: {what}") from None
    except DuplicateKey as exc:
        raise ArticleError(
            shown_key(exc.key), "appears twice in one object (which one is meant?)"
        ) from None
    except RecursionError:
        raise ArticleError(None, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, an integer of more than 4,300 digits
        if "int_max_str_digits" in str(exc):  # Python's advice is for programmers, not for data
            limit = sys.get_int_max_str_digits()
            raise ArticleError(
                None, f"invalid JSON: a number of more than {limit} digits"
            ) from None
        raise ArticleError(None, f"invalid JSON: {exc}") from None


def parse_json_article(record: Any, tz: tzinfo = DEFAULT_TZ) -> Article:
    """A decoded JSON line as an article: :func:`feedsvc.articles.parse_article`, and no key
    that is no field (:func:`feedsvc.unknown_keys.unknown_keys`: ``"visible": false``,
    ``"withdrawm": true`` were dropped unseen, the takedown not done). The one rule of
    ``import`` and ``match``; a source row at ingest is not a JSON line and is not checked so.
    Raises :class:`ArticleError` with every problem of the line at once, the fields' first."""
    unknown = unknown_keys(record) if isinstance(record, dict) else []
    try:
        article = parse_article(record, tz)
    except ArticleError as exc:
        raise ArticleError.of([exc, *unknown]) from None
    if unknown:
        raise ArticleError.of(unknown)
    return article


#: The longest line :func:`bounded_lines` holds in memory. Longer than any record
#: :func:`parse_article` can accept even with every character ``\uXXXX``-escaped (eight text
#: fields of :data:`MAX_FIELD_LEN` characters, 6 bytes each: 96 MB), far shorter than a whole
#: JSON array exported on one line, or a binary file given by mistake, which `import` and
#: `match` read whole into memory (a 300 MB line took 900 MB; a few GB ended the process).
MAX_LINE_BYTES = 128 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OverlongLine:
    """A line :func:`bounded_lines` skipped without holding it: ``size`` bytes, over
    ``limit``."""

    size: int
    limit: int


def bounded_lines(stream: IO[bytes], limit: int | None = None) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary stream, as iterating it gives them, but a line longer than
    ``limit`` bytes (default :data:`MAX_LINE_BYTES`; the line end not counted) is read past in
    1 MiB chunks and given as an :class:`OverlongLine`: memory stays bounded whatever the
    input, and the lines after it keep their numbers."""
    limit = MAX_LINE_BYTES if limit is None else limit
    while line := stream.readline(limit + 2):  # room for the line end, "\r\n" too
        if len(line) <= limit or len(line.rstrip(b"\r\n")) <= limit:
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n") and (line := stream.readline(_DRAIN_CHUNK)):
            size += len(line)
        yield OverlongLine(size, limit)


def _has_content(line: bytes | str, *, first: bool) -> bool:
    """False for a line with nothing but whitespace (or, as the first line, a byte order mark
    and whitespace: an editor's BOM before an empty first line is not a record)."""
    if first:
        line = line.removeprefix(_BOM_BYTES) if isinstance(line, bytes) else line.removeprefix(_BOM)
    return bool(line.strip())


def read_jsonl(
    stream: Iterable[bytes | str | OverlongLine], tz: tzinfo = DEFAULT_TZ
) -> Iterator[tuple[int, Article | Rejected]]:
    """Yield ``(line_number, Article | Rejected)`` for each non-blank line; never raises.

    Give it bytes (a file opened ``"rb"``, ``sys.stdin.buffer``; through
    :func:`bounded_lines` to bound the memory a line takes) so invalid UTF-8 is reported with
    its line instead of being replaced unseen; str lines are accepted too. Lines end at ``\n``
    (a ``\r`` before it is whitespace to JSON).
    """
    for number, line in enumerate(stream, start=1):
        if isinstance(line, OverlongLine):
            error = ArticleError(
                None,
                f"{line.size} bytes, over the {line.limit}-byte limit of a line: JSON Lines "
                "hold one article per line (a JSON array on one line? a binary file?)",
            )
            yield number, Rejected(number, error)
            continue
        if not _has_content(line, first=number == 1):
            continue
        try:
            yield number, parse_json_article(decode_json_line(line, first=number == 1), tz)
        except ArticleError as exc:
            yield number, Rejected(number, exc)
