"""Free text an admin types into a field shown elsewhere: a topic's title, description and query,
an article's hide reason. The one normaliser of such input (and :func:`quoted_query`, how a
typed query is shown inside other text) (not of article text or queries for
matching: that is :mod:`feedsvc.matching.normalize`).

A title ends up in feed XML, HTML pages and chat messages. A control character there breaks
them (XML 1.0 forbids most C0 controls; a newline splits a chat alert's topic line), so it is
refused at input, naming the field, by every front end alike (CLI, API, web admin through
:mod:`feedsvc.operations`; the topics file through :mod:`feedsvc.topics_file`). Whitespace is
different: a title pasted with a line break, a tab or a no-break space is a paste accident, not
an error, so a one-line field has its whitespace runs collapsed to one space and trimmed. A
description may keep its line breaks (normalised to ``\\n``). Every such text is stored in NFC
(:mod:`feedsvc.nfc`; FIELD-NOTES: Vietnamese arrives in NFC and NFD). Pure.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.nfc import nfc
from feedsvc.phrase_marks import PHRASE_MARKS
from feedsvc.store.records import TopicSpec

if TYPE_CHECKING:
    from feedsvc.matching import QueryError

#: The control characters a field may hold before normalising: line breaks and tabs (whitespace
#: a paste brings). Every other one — C0, DEL, C1 (NEL included), vertical tab, form feed — is
#: refused, and so are the bidirectional embedding, override and isolate controls (U+202A–E,
#: U+2066–9, :mod:`feedsvc.bidi`): in a title they reorder the text around it in every admin
#: list, feed reader and chat alert that shows it ("Trojan Source", CVE-2021-42574). The plain
#: direction marks (U+200E/F) and joiners (U+200C/D, needed by some scripts and emoji) stay
#: allowed.
WHITESPACE_CONTROLS = "\t\n\r"
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\r\u2028\u2029]")


def control_char(text: str) -> str | None:
    """The first refused character of ``text`` as ``U+0007``, or None: a control character
    (Unicode category Cc other than :data:`WHITESPACE_CONTROLS`, or a bidirectional
    embedding/override/isolate control), or a lone surrogate (U+D800–U+DFFF: no UTF-8 form, so
    no database takes it; the CLI gets one for every argument byte that is not UTF-8, a JSON
    body for ``"\\ud800"``). NUL is among them: PostgreSQL text cannot hold it."""
    found = _CONTROL.search(text)
    return f"U+{ord(found[0]):04X}" if found else None


def refused_chars(text: str) -> list[tuple[int, str]]:
    """Every character of ``text`` :func:`control_char` refuses, with its 1-based position
    in ``text`` as the admin's box shows it (:func:`shown_position`), in order: what the
    admin's editable boxes leave out and name (:func:`feedsvc.web.admin_text.box`), by the
    rule the save refuses them with."""
    return [
        (shown_position(text, found.start()) + 1, found[0]) for found in _CONTROL.finditer(text)
    ]


def shown_position(text: str, index: int) -> int:
    """Where ``text[index]`` (0-based) is in ``text`` as an admin's box holds it, 0-based: a CR
    LF pair is one character (its LF counts as its CR). A browser sends a textarea's line
    breaks as CR LF (HTML's form-submission newline normalisation), while the box's ``value``
    — what the admin sees, what the live preview sends and counts in — has LF alone (a
    textarea's CR LF content is read as LF, a stored one too). Counted in the text as sent,
    ``d⏎d⏎d`` + BEL was "at character 8" for a BEL the box shows after the 5th. The one
    place that says "character N" of a box's text: the boxes' notes, a topic query's error on
    Save and in the live preview (:mod:`feedsvc.web.admin_preview`). The JSON API and the CLI
    keep positions in the text as sent (code for slicing it: README, ``position``)."""
    return index - text.count("\r\n", 0, index + 1)


def without_refused(text: str) -> str:
    """``text`` with every character :func:`refused_chars` finds taken out, all else as it is."""
    return _CONTROL.sub("", text)


def shown_key(key: str) -> str:
    """A JSON object key as an answer names it in a field's position (``items.0.KEY``:
    :func:`feedsvc.web.api_text.position`), written as a JSON string's content: every character
    :func:`control_char` refuses, every whitespace but the space (tab, line breaks, U+2028/9,
    no-break and other Unicode spaces), the zero-width ones, the quote and the backslash
    escaped (``\\u0001``, ``\\u00a0``, ``\\"``, ``\\\\``); in quotes when it is empty or
    starts or ends with a space (``"   "``). One line, visible, read one way; a plain name is
    as it is. A key of spaces or U+2028 was named as it was: an invisible field name; one
    holding a quote could not be told from one holding the escape's text."""
    shown = _KEY_ESCAPED.sub(_escape, key)
    return f'"{shown}"' if not key or key[0] == " " or key[-1] == " " else shown


def _escape(found: re.Match[str]) -> str:
    char = found[0]
    return "\\" + char if char in '"\\' else f"\\u{ord(char):04x}"


_KEY_ESCAPED = re.compile(f'{_CONTROL.pattern}|[^\\S ]|[\u200b-\u200f\u2060\ufeff"\\\\]')


def refusal_code(char: str) -> str:
    """The operation error code (``op.<code>`` in the catalogue) for a character
    :func:`control_char` found: ``not_text`` for a lone surrogate, else ``control_character``."""
    return "not_text" if "U+D800" <= char <= "U+DFFF" else "control_character"


def refusal_words(field: str, char: str) -> str:
    """The English refusal of ``char`` (``U+000B``, as :func:`control_char` names it) in
    ``field``, without its place: the catalogue's ``op.<code>`` says it in each language; a
    query's is placed on it (:func:`placed_refusal`)."""
    what = "a lone surrogate" if refusal_code(char) == "not_text" else "a control character"
    return f"{field} contains {what} ({char})"


#: The fields whose refused character is placed on it, as their parse errors are ("at character
#: 6", ``position``/``column``, the CLI's caret): a query. The API, ``topics add`` and the
#: topics file named a VT in a query without its place while the admin's preview, ``topics
#: preview`` and ``match`` placed it; a title's or a slug's refusal names the field only.
PLACED_FIELDS = frozenset({"query"})

#: What a placed refusal tells to do, as a query error's hint.
REMOVE_IT = "remove it"


def placed_refusal(field: str, char: str, text: str | None) -> QueryError | None:
    """The refusal of ``char`` (``U+000B``, as :func:`control_char` names the first refused
    character of ``text``) in ``field`` as a query error placed on it — ``at character 6:
    query contains a control character (U+000B) (hint: remove it)``, its ``position`` 0-based in
    ``text`` as sent (:attr:`~feedsvc.matching.QueryError.column` from 1) —, or None for a field
    not in :data:`PLACED_FIELDS` or without its text. **The one wording and place** of a
    query's refused character: ``match --query``, ``topics preview``, ``topics add``, the
    API's saves and preview (``operations.errors.refused_character``), the topics file."""
    if field not in PLACED_FIELDS or text is None:
        return None
    from feedsvc.matching import QueryError

    if (position := text.find(chr(int(char.removeprefix("U+"), 16)))) < 0:
        return None  # not this text's character: named, not placed
    return QueryError(
        refusal_words(field, char), position, REMOVE_IT, code=refusal_code(char),
        params={"field": field, "char": char},
    )  # fmt: skip


def refusal_message(field: str, char: str, text: str | None = None) -> str:
    """The English refusal of ``char`` in ``field``: placed on it for a query
    (:func:`placed_refusal`), else :func:`refusal_words` — the operations' ``message`` (the
    CLI's line, the API's ``error``) and the topics file's problem."""
    placed = placed_refusal(field, char, text)
    return refusal_words(field, char) if placed is None else str(placed)


def one_line(text: str) -> str:
    """Every whitespace run (line breaks, tabs, no-break and other Unicode spaces, U+2028)
    as one space, trimmed; in NFC (:func:`feedsvc.nfc.nfc`: "Kiến" typed decomposed is stored
    and shown composed)."""
    return nfc(" ".join(text.split()))


def lines(text: str) -> str:
    """Line breaks (``\\r\\n``, ``\\r``, U+2028/9) as ``\\n``; trimmed at both ends; in NFC."""
    return nfc(_LINE_BREAK.sub("\n", text).strip())


#: A topic's text fields, in the order their problems are reported.
TOPIC_FIELDS = ("title", "description", "query")


def clean_topic(spec: TopicSpec) -> tuple[TopicSpec, list[tuple[str, str]]]:
    """``spec`` with its title on one line, its description's line breaks normalised and its
    query trimmed (the query's own whitespace is the parser's business), and the refused
    control characters found: ``(field, "U+0007")`` per field, empty when it may be saved."""
    problems = [(name, c) for name in TOPIC_FIELDS if (c := control_char(getattr(spec, name)))]
    cleaned = replace(
        spec,
        title=one_line(spec.title),
        description=lines(spec.description),
        query=nfc(spec.query.strip()),  # matching normalises anyway; shown as typed, composed
    )
    return cleaned, problems


def query_position(sent: str, position: int) -> int:
    """Where ``position``, a 0-based place in the query :func:`clean_topic` gives for ``sent``
    (trimmed, composed to NFC), is in ``sent`` as the editor typed it: a topic's query error is
    shown on the text the form, the API body or the command line sent (the admin's box keeps it
    as typed, the API's ``position`` slices it, and the live preview, which reads it as sent,
    named another character for the same query: "at character 21" there, 18 on Save, for a
    query typed decomposed; a leading space or line break moved it too)."""
    from feedsvc.typed_query import composed_position

    trimmed = sent.strip()
    return sent.index(trimmed) + composed_position(trimmed, position) if trimmed else 0


#: The double quotes a query may use around a phrase (:mod:`feedsvc.phrase_marks`).
_QUOTES = frozenset(PHRASE_MARKS)


def quoted_query(query: str) -> str:
    """A reader's query as a title or label shows it — a search feed's title, its page's
    heading and title, its description, and an alert's topic line for a chat's own query:
    between “ ”, unless it has phrase quotes of its own (``"công an"``), which then delimit it
    (wrapped again it read ``“"công an"”``). Its own quotes are those the reader's query is
    read with (:func:`feedsvc.typed_query.typed_query`): a keyboard's ``«an ninh»``,
    ``'an ninh'``, ``「an ninh」`` searched for the same phrase as ``"an ninh"`` but were
    wrapped again (``“«an ninh»”``) while ``"an ninh"`` and ``„an ninh“`` were not. Shown as
    typed: the reader may copy it."""
    from feedsvc.typed_query import typed_query

    if _QUOTES.intersection(query) or '"' in typed_query(query):
        return query
    return f"“{query}”"
