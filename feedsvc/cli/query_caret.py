"""An invalid query on the command line (``match --query``, ``topics preview``): the one line
every CLI error is, then the query with a caret under the offending character.

Apart from :mod:`feedsvc.cli.common` (its own concern: where a query went wrong, shown in a
terminal's columns; ``common`` had grown past the module size the project keeps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import click

from feedsvc.cli.common import EXIT_USAGE

if TYPE_CHECKING:
    from feedsvc.matching import QueryError


def query_failed(text: str, exc: QueryError) -> NoReturn:
    """An invalid query (``match --query``, ``topics preview``): ``feedsvc: invalid query: …``
    as every CLI error, then the query with a caret under the offending character (when it is
    one line), exit 2."""
    click.echo(f"feedsvc: invalid query: {exc}", err=True)
    if exc.position is not None and "\n" not in text:
        shown, caret = caret_lines(text, exc.position)
        click.echo(f"  {shown}", err=True)
        click.echo(f"  {caret}", err=True)
    raise SystemExit(EXIT_USAGE)


def refuse_controls(text: str) -> None:
    """A query typed on the command line that holds a character no topic's query may hold
    (:func:`feedsvc.fieldtext.control_char`: VT, FF, NEL, a C0 or C1 control, a bidi override…)
    refused as ``topics add``, the admin, the API and the topics file refuse it, named by its
    code point at its place: ``match --query`` and ``topics preview`` read it as whitespace and
    matched a query no topic can be saved with. Tab, CR and LF pass: whitespace."""
    from feedsvc.fieldtext import control_char, refusal_code, refusal_words
    from feedsvc.matching import QueryError

    if (char := control_char(text)) is None:
        return
    position = text.index(chr(int(char[2:], 16)))
    words = refusal_words("query", char)
    query_failed(text, QueryError(words, position, "remove it", code=refusal_code(char)))


#: Characters of a query shown around an error's position (a terminal's line, less the indent).
CARET_WINDOW = 72


def caret_lines(text: str, position: int, window: int = CARET_WINDOW) -> tuple[str, str]:
    """``(shown, caret)``: at most ``window`` characters of ``text`` around the 0-based
    ``position`` (``…`` where cut: a 10,000-character query printed whole, with a caret line of
    2,000 spaces, before) and a line with ``^`` under that character, counted in terminal
    columns: a control character (a tab) shows as one space, a wide character (emoji, CJK:
    East Asian width W or F) takes two, a combining mark none."""

    from feedsvc.graphemes import cluster_at

    position = max(0, min(position, len(text)))
    start = max(0, min(position - window // 2, len(text) - window))
    end = min(len(text), start + window)
    if 0 < start < len(text) and (first := cluster_at(text, start))[0] < start <= position:
        start = min(first[1], position)  # never half an emoji or a letter and its marks
    if 0 < end < len(text) and (last := cluster_at(text, end))[0] < end:
        end = max(last[0], min(position + 1, len(text)))
    part = "".join(_shown(c) for c in text[start:end])
    prefix, suffix = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
    column = len(prefix) + sum(_columns(c) for c in part[: position - start])
    return prefix + part + suffix, " " * column + "^"


def _shown(char: str) -> str:
    """A query's character as the caret line shows it: a control or format character as a
    space (a tab, a bidi override that would flip the line), but the joiners and variation
    selectors that make an emoji sequence one sign (ZWJ, ZWNJ, U+FE0F) as they are."""
    import unicodedata

    if char in "\u200c\u200d" or not unicodedata.category(char).startswith("C"):
        return char
    return " "


def _columns(char: str) -> int:
    import unicodedata

    if unicodedata.combining(char) or char in "\u200c\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
