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

from feedsvc.nfc import nfc
from feedsvc.store.records import TopicSpec

#: The control characters a field may hold before normalising: line breaks and tabs (whitespace
#: a paste brings). Every other one — C0, DEL, C1 (NEL included), vertical tab, form feed — is
#: refused, and so are the bidirectional embedding, override and isolate controls (U+202A–E,
#: U+2066–9): in a title they reorder the text around it in every admin list, feed reader and
#: chat alert that shows it ("Trojan Source", CVE-2021-42574). The plain direction marks
#: (U+200E/F) and joiners (U+200C/D, needed by some scripts and emoji) stay allowed.
WHITESPACE_CONTROLS = "\t\n\r"
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_LINE_BREAK = re.compile("\r\n|[\r\u2028\u2029]")


def control_char(text: str) -> str | None:
    """The first refused character of ``text`` as ``U+0007``, or None: a control character
    (Unicode category Cc other than :data:`WHITESPACE_CONTROLS`, or a bidirectional
    embedding/override/isolate control), or a lone surrogate (U+D800–U+DFFF: no UTF-8 form, so
    no database takes it; the CLI gets one for every argument byte that is not UTF-8, a JSON
    body for ``"\\ud800"``). NUL is among them: PostgreSQL text cannot hold it."""
    found = _CONTROL.search(text)
    return f"U+{ord(found[0]):04X}" if found else None


def escaped_controls(text: str) -> str:
    """``text`` with every character :func:`control_char` refuses, and tabs and line breaks
    (U+2028/9 too), written as JSON escapes (``\\u0001``, ``\\ud800``): how a JSON object key
    holding one is named in an answer (:mod:`feedsvc.web.api_text`), one line, safe to show."""
    return _SHOWN_ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


_SHOWN_ESCAPED = re.compile(f"{_CONTROL.pattern}|[{WHITESPACE_CONTROLS}\u2028\u2029]")


def refusal_code(char: str) -> str:
    """The operation error code (``op.<code>`` in the catalogue) for a character
    :func:`control_char` found: ``not_text`` for a lone surrogate, else ``control_character``."""
    return "not_text" if "U+D800" <= char <= "U+DFFF" else "control_character"


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


#: The double quotes a query may use around a phrase (the query language takes both).
_QUOTES = frozenset('"“”')


def quoted_query(query: str) -> str:
    """A query as a title or label shows it: between “ ”, unless it has double quotes of its
    own (a phrase, ``"công an"``), which then delimit it — wrapped again it read
    ``“"công an"”`` in a search feed's title (newcomer, cosmetic)."""
    if _QUOTES.intersection(query):
        return query
    return f"“{query}”"
