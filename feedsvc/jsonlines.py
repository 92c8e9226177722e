"""JSON Lines of SPEC §3 articles, read strictly and in bounded memory (``feedsvc import``,
``feedsvc match``).

Why apart from :mod:`feedsvc.articles`: that module is the record and its one validation,
shared by every edge (ingest reads rows, not lines); this one is how a file's lines become
records — strict JSON per line, a byte order mark, lines too long to hold — and how a line
that is not an article is reported with its number (:class:`Rejected`) while the rest go on.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO, Any, overload

from feedsvc.articles import Article, ArticleError, parse_article
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


def decode_json_line(line: bytes | str) -> Any:
    """One JSON Lines record, strictly: UTF-8, RFC 8259 JSON, no duplicate keys (the product's
    one rule, :func:`feedsvc.jsonkeys.loads_unique`: the first repeated key in document order,
    ``"\\u0061"`` the same key as ``"a"``; the field named is the key itself, as an article's
    fields are its top-level keys).

    A UTF-8 byte order mark is allowed at the start of any line: Windows editors write one
    before a file's first line, and files joined with ``cat a.jsonl b.jsonl`` carry the second
    one's in the middle (rejected before, with Python's own hint "decode using utf-8-sig"; a
    tester's report). A BOM anywhere else is invalid JSON. Raises :class:`ArticleError` (field
    None) with the reason.
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
    text = text.removeprefix(_BOM)
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


def parse_json_article(record: Any, tz: tzinfo) -> Article:
    """A decoded JSON line as an article: :func:`feedsvc.articles.parse_article`, and no key
    that is no field (:func:`feedsvc.unknown_keys.unknown_keys`: ``"visible": false``,
    ``"withdrawm": true`` were dropped unseen, the takedown not done). The one rule of
    ``import`` and ``match``; a source row at ingest is not a JSON line and is not checked so.
    ``tz`` reads a naive timestamp: ``site.timezone`` on every CLI path (``Settings.tz``), no
    default, so no path reads it in a zone of its own (``match`` read Asia/Ho_Chi_Minh time
    whatever ``site.timezone`` said, while ``import`` of the same line read the configured
    zone).
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
#: Bytes asked of a stream at a time (at least a buffered reader's whole buffer).
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OverlongLine:
    """A line :func:`bounded_lines` skipped without holding it: ``size`` bytes, over
    ``limit``."""

    size: int
    limit: int


@dataclass(frozen=True, slots=True)
class Pause:
    """Not a line: the input paused while a line given earlier waits
    (:func:`feedsvc.pipe_lines.paced_lines`), so what was read can be stored now
    (:func:`feedsvc.importer.import_articles`). :func:`read_jsonl` passes it on, numbering no
    line for it."""


#: The one :class:`Pause`.
PAUSE = Pause()


class LineSplitter:
    """Bytes as they come, complete lines out: the one rule of a line for :func:`bounded_lines`
    and :func:`feedsvc.pipe_lines.paced_lines`. A line is its bytes through ``\n`` (the last
    one: through the end of the input); one whose bytes before its line end (``\n`` or
    ``\r\n``) are more than ``limit`` (default :data:`MAX_LINE_BYTES`) is an
    :class:`OverlongLine` of its whole size, counted but never held: at most ``limit + 1``
    bytes of a line are kept, so memory stays bounded whatever the input, and the lines after
    it keep their numbers. Pure."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_LINE_BYTES if limit is None else limit
        self._part = bytearray()  # the line begun, not ended yet
        self._skipped: int | None = None  # bytes of an overlong line read past so far

    def feed(self, data: bytes) -> list[bytes | OverlongLine]:
        """The lines ``data`` completes, in order; the rest is kept for the next call."""
        last = data.rfind(b"\n")
        if last < 0:
            self._keep(data)
            return []
        first = data.find(b"\n")
        lines = [self._line(data[: first + 1])]  # ends the line begun before, if any
        if first < last:  # the whole lines between: split in C (a Python loop took 3x)
            whole: list[bytes] = io.BytesIO(data[first + 1 : last + 1]).readlines()
            lines += whole if last - first <= self.limit else map(self._verdict, whole)
        if last + 1 < len(data):
            self._keep(data[last + 1 :])
        return lines

    def end(self) -> list[bytes | OverlongLine]:
        """The input ended: its last line, when that has no line end."""
        return [self._line(b"")] if self._part or self._skipped is not None else []

    def _line(self, tail: bytes) -> bytes | OverlongLine:
        """The line held so far ended by ``tail``."""
        if self._skipped is not None:
            size, self._skipped = self._skipped + len(tail), None
            return OverlongLine(size, self.limit)
        line = bytes(self._part) + tail if self._part else tail
        self._part.clear()
        return self._verdict(line)

    def _verdict(self, line: bytes) -> bytes | OverlongLine:
        ending = 2 if line.endswith(b"\r\n") else 1 if line.endswith(b"\n") else 0
        return line if len(line) - ending <= self.limit else OverlongLine(len(line), self.limit)

    def _keep(self, rest: bytes) -> None:
        if self._skipped is not None:
            self._skipped += len(rest)
            return
        self._part += rest
        if len(self._part) > self.limit + 1:  # over the limit, whatever its line end
            self._skipped = len(self._part)
            self._part.clear()


def bounded_lines(stream: IO[bytes], limit: int | None = None) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary stream, as iterating it gives them, but a line longer than
    ``limit`` bytes (default :data:`MAX_LINE_BYTES`; the line end not counted) is read past in
    chunks and given as an :class:`OverlongLine` (:class:`LineSplitter`). Each line is given
    as soon as its end is read (``read1``: a pipe's or a terminal's lines as they come; the
    CLI reads those through :func:`feedsvc.pipe_lines.paced_lines`, whose waits a signal always
    ends)."""
    splitter = LineSplitter(limit)
    read = getattr(stream, "read1", None) or stream.read
    while chunk := read(READ_CHUNK):
        yield from splitter.feed(chunk)
    yield from splitter.end()


def _has_content(line: bytes | str) -> bool:
    """False for a line with nothing but whitespace, a byte order mark before it or not (an
    editor's BOM before an empty first line is not a record)."""
    line = line.removeprefix(_BOM_BYTES) if isinstance(line, bytes) else line.removeprefix(_BOM)
    return bool(line.strip())


@overload
def read_jsonl(
    stream: Iterable[bytes | str | OverlongLine], tz: tzinfo
) -> Iterator[tuple[int, Article | Rejected]]: ...
@overload
def read_jsonl(
    stream: Iterable[bytes | str | OverlongLine | Pause], tz: tzinfo
) -> Iterator[tuple[int, Article | Rejected | Pause]]: ...
def read_jsonl(
    stream: Iterable[bytes | str | OverlongLine | Pause], tz: tzinfo
) -> Iterator[tuple[int, Article | Rejected | Pause]]:
    """Yield ``(line_number, Article | Rejected)`` for each non-blank line, a naive timestamp
    read in ``tz`` (:func:`parse_json_article`); never raises.

    Give it bytes (a file opened ``"rb"``, ``sys.stdin.buffer``; through
    :func:`bounded_lines` to bound the memory a line takes) so invalid UTF-8 is reported with
    its line instead of being replaced unseen; str lines are accepted too. Lines end at ``\n``
    (a ``\r`` before it is whitespace to JSON). A :class:`Pause` is passed on with the number
    of the line before it.
    """
    number = 0
    for line in stream:
        if isinstance(line, Pause):
            yield number, line
            continue
        number += 1
        if isinstance(line, OverlongLine):
            error = ArticleError(
                None,
                f"{line.size} bytes, over the {line.limit}-byte limit of a line: JSON Lines "
                "hold one article per line (a JSON array on one line? a binary file?)",
            )
            yield number, Rejected(number, error)
            continue
        if not _has_content(line):
            continue
        try:
            yield number, parse_json_article(decode_json_line(line), tz)
        except ArticleError as exc:
            yield number, Rejected(number, exc)
