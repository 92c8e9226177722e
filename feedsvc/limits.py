"""How long a topic's fields and a chat's own query may be: the one owner of these limits and
of how a length is counted, used by every place that saves or parses one — the CLI
(``topics add``, ``topics import``), the topics file at start (:mod:`feedsvc.topics_file`), the
web admin's form and live preview, the JSON API (:mod:`feedsvc.operations`), the query parser
(:mod:`feedsvc.matching.parser`) and the chats' own queries (bot, Zalo, API, ``subs add``).

Each front end had its own figures (the API 500/5,000/5,000, the preview 4,000, the parser
2,000, the CLI and the file none), so a topic made by the CLI could not be saved back through
the API, and the API took queries the parser then refused in other words.

The figures:

- ``title`` 500: a headline-sized label shown in feed titles, pages and every alert's topic
  line; the API's limit since it had one (SPEC §4 gives none), so no topic saved through the
  API becomes unsaveable.
- ``description`` 5,000: the API's limit; a paragraph or a few, shown on the topic's page.
- ``query`` 2,000: what the parser always refused beyond (a topic longer than that never
  matched anything), with its hint to combine topics with ``@slug``.
- ``slug`` 100: a URL path segment (:data:`feedsvc.topics_file.SLUG` says it in its pattern).
- a chat's own query 500 (:data:`CHAT_QUERY`): anyone may subscribe one through the bot, so it
  is capped well below a topic's (README's table of the bot's limits).

A length is the number of characters (code points, Python ``len``) of the text as it is stored:
trimmed and in NFC (:func:`feedsvc.nfc.nfc`). Vietnamese typed decomposed ("Thụy" as ``u`` +
U+0323 is 5 code points, 4 composed) is counted as it is stored and shown, so the same title is
within the limit whichever way a keyboard or a file wrote it. Stored text over a limit (saved
before there was one) is still served and matched; only saving it again is refused. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc.blank_text import shows_nothing
from feedsvc.nfc import nfc

TITLE = 500
DESCRIPTION = 5000
QUERY = 2000
SLUG = 100
CHAT_QUERY = 500

#: A topic's field → its limit, in the order a topic's problems are reported.
TOPIC_LIMITS: dict[str, int] = {"slug": SLUG, "title": TITLE, "description": DESCRIPTION,
                                "query": QUERY}  # fmt: skip


def length(text: str) -> int:
    """``text``'s length as every limit counts it: characters of the text trimmed and in NFC
    (what is stored; a text already normalised is counted as it is)."""
    return len(nfc(text.strip()))


@dataclass(frozen=True)
class TooLong:
    """A text over its limit: the field (``title``, ``description``, ``query``, ``slug``), its
    length as counted by :func:`length`, and the limit."""

    field: str
    length: int
    limit: int

    @property
    def message(self) -> str:
        """The English words (CLI, API ``error``, the log, the topics file's problems); the
        catalogue's ``too_long`` says the same in Vietnamese and English."""
        return f"{self.field} is too long: {self.length} characters, at most {self.limit}"

    @property
    def params(self) -> dict[str, object]:
        return {"field": self.field, "length": self.length, "limit": self.limit}


def too_long(field: str, text: str, limit: int | None = None) -> TooLong | None:
    """``text`` over ``limit`` (default: the topic field's, :data:`TOPIC_LIMITS`), counted by
    :func:`length`, or None."""
    most = TOPIC_LIMITS[field] if limit is None else limit
    counted = length(text)
    return TooLong(field, counted, most) if counted > most else None


def title_missing(title: str) -> bool:
    """Whether a topic's ``title`` is missing: blank, or only characters that show nothing (a
    U+200B, a soft hyphen, a WORD JOINER, a BOM, bidi marks, with spaces or NBSP): the article
    title's rule, :func:`feedsvc.blank_text.shows_nothing`. Such a title was saved by every front
    end and shown as an empty heading on ``/``, a nameless outline in the OPML and a blank feed
    title, while ``"   "`` was refused "title is required". Checked with the limits, so every
    front end that saves a topic refuses it in the same words (``title_required``); a stored one
    is still served, disabled, removed."""
    return shows_nothing(title)


def topic_too_long(title: str, description: str, query: str) -> list[TooLong]:
    """Every text field of a topic over its limit, in :data:`TOPIC_LIMITS`' order (a slug is
    ASCII, its length part of its pattern: :data:`feedsvc.topics_file.SLUG`, worded
    ``slug_format`` with :data:`SLUG`)."""
    given = {"title": title, "description": description, "query": query}
    return [found for name, text in given.items() if (found := too_long(name, text))]
