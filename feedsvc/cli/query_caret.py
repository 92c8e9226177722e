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
    as every CLI error, then the query with a caret under the offending character, exit 2: a
    query with line breaks too, shown on one line (:func:`caret_lines`). It was shown only
    without an LF: a query with LF, CR LF or a blank line had no caret, one with CR or a tab
    had one."""
    click.echo(f"feedsvc: invalid query: {exc}", err=True)
    if exc.position is not None:
        shown, caret = caret_lines(text, exc.position)
        click.echo(f"  {shown}", err=True)
        click.echo(f"  {caret}", err=True)
    raise SystemExit(EXIT_USAGE)


def refuse_controls(text: str) -> None:
    """A query typed on the command line that holds a character no topic's query may hold
    (:func:`feedsvc.fieldtext.control_char`: VT, FF, NEL, a C0 or C1 control, a bidi override…)
    refused as ``topics add``, the admin, the API and the topics file refuse it, in their words
    at its place (:func:`feedsvc.fieldtext.placed_refusal`): ``match --query`` and ``topics
    preview`` read it as whitespace and matched a query no topic can be saved with. Tab, CR
    and LF pass: whitespace."""
    from feedsvc.fieldtext import control_char, placed_refusal

    if (char := control_char(text)) is None:
        return
    if (placed := placed_refusal("query", char, text)) is not None:
        query_failed(text, placed)


#: Characters of a query shown around an error's position (a terminal's line, less the indent).
CARET_WINDOW = 72


def caret_lines(text: str, position: int, window: int = CARET_WINDOW) -> tuple[str, str]:
    """``(shown, caret)``: at most ``window`` characters of ``text`` around the 0-based
    ``position`` (``…`` where cut: a 10,000-character query printed whole, with a caret line of
    2,000 spaces, before) and a line with ``^`` under that character, counted in terminal
    columns: a line break, a tab or another control character shows as one space
    (:func:`_shown`), a wide character (emoji, CJK:
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
    """A query's character as the caret line shows it, one character for one: a control or
    format character (a bidi override that would flip the line) and every whitespace but the
    space — LF, CR, tab, U+2028/9, which a terminal draws as a line break or a jump, no-break
    and other spaces — as a space, so the line stays one line and the caret's column counts
    each character once; the joiners and variation selectors that make an emoji sequence one
    sign (ZWJ, ZWNJ, U+FE0F) as they are."""
    import unicodedata

    if char in "\u200c\u200d":
        return char
    if char.isspace() or unicodedata.category(char).startswith(("C", "Z")):
        return " "
    return char


def _columns(char: str) -> int:
    import unicodedata

    if unicodedata.combining(char) or char in "\u200c\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
