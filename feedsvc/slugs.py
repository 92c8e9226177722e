"""How a topic slug that someone typed names a topic: the one rule every surface uses to look a
topic up (the bots' ``/sub``, ``/unsub``, ``/start``; the CLI; the API's ``{slug}`` routes and
``topic`` bodies; the admin; feed and reader page URLs, which redirect to the slug as stored).

Why one rule: readers' phones capitalise the first letter, so the bots always took a slug in any
case, while the CLI and the API said "unknown topic" for the same text (tester4 G4). Creating a
topic keeps its own, stricter rules (:func:`feedsvc.topics_file.slug_problem`: lower case only).
"""

from __future__ import annotations

import unicodedata

from feedsvc import line_breaks
from feedsvc.fieldtext import control_char

#: What ``str.splitlines`` breaks a line at (:data:`feedsvc.line_breaks.LINE_BREAKS`): LF, CR,
#: VT, FF, the file/group/record separators U+001C–U+001E, NEL, U+2028 and U+2029.
LINE_BREAKS = frozenset(line_breaks.LINE_BREAKS)


def has_line_break(name: str) -> bool:
    """Whether ``name`` holds a line break (:data:`LINE_BREAKS`) anywhere, its ends too."""
    return not LINE_BREAKS.isdisjoint(name)


def typed_slug(name: str) -> str:
    """A slug sent to be saved (the API's ``PUT /api/topics/{slug}``, ``POST`` body) without
    surrounding whitespace, unless it holds a line break: then as sent, so the slug rules
    refuse it (``str.strip`` took ``an-ninh\n`` for ``an-ninh``)."""
    return name if has_line_break(name) else name.strip()


def slug_forms(name: str) -> tuple[str, ...]:
    """The stored slugs ``name`` may stand for, to be tried in this order: ``name`` without its
    invisible format characters (zero-width spaces, bidi overrides a paste brings along) and
    surrounding whitespace, then that in lower case. Lower case is ASCII only: a slug is ASCII,
    and ``str.lower`` maps the Kelvin sign to ``k``; nothing with inner whitespace, nothing
    at all, or anything holding a line break anywhere (:func:`has_line_break`:
    ``an-ninh\n``, ``/api/topics/an-ninh%0A``, a script's bug, not a stray space a phone
    typed; a save refused it, ``PUT`` updated ``an-ninh``) names a topic (empty tuple); nor
    does one holding a character every front end refuses in a slug
    (:func:`feedsvc.fieldtext.control_char`: a bidi override or isolate, C0/C1, a lone
    surrogate): the API, the CLI and the admin refused ``an-\u202eninh`` while a feed or page
    URL dropped the override and redirected to ``an-ninh`` (a tester's)."""
    if has_line_break(name) or control_char(name) is not None:
        return ()
    cleaned = "".join(c for c in name if unicodedata.category(c) != "Cf").strip()
    if not cleaned or any(c.isspace() for c in cleaned):
        return ()
    lower = cleaned.lower() if cleaned.isascii() else cleaned
    return (cleaned,) if lower == cleaned else (cleaned, lower)
