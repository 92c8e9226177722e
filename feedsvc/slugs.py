"""How a topic slug that someone typed names a topic: the one rule every surface uses to look a
topic up (the bots' ``/sub``, ``/unsub``, ``/start``; the CLI; the API's ``{slug}`` routes and
``topic`` bodies; the admin; feed and reader page URLs, which redirect to the slug as stored).

Why one rule: readers' phones capitalise the first letter, so the bots always took a slug in any
case, while the CLI and the API said "unknown topic" for the same text (tester4 G4). Creating a
topic keeps its own, stricter rules (:func:`feedsvc.topics_file.slug_problem`: lower case only).
"""

from __future__ import annotations

import unicodedata


def slug_forms(name: str) -> tuple[str, ...]:
    """The stored slugs ``name`` may stand for, to be tried in this order: ``name`` without its
    invisible format characters (zero-width spaces, bidi overrides a paste brings along) and
    surrounding whitespace, then that in lower case. Lower case is ASCII only: a slug is ASCII,
    and ``str.lower`` maps the Kelvin sign to ``k``; nothing with inner whitespace or nothing at
    all names a topic (empty tuple)."""
    cleaned = "".join(c for c in name if unicodedata.category(c) != "Cf").strip()
    if not cleaned or any(c.isspace() for c in cleaned):
        return ()
    lower = cleaned.lower() if cleaned.isascii() else cleaned
    return (cleaned,) if lower == cleaned else (cleaned, lower)
