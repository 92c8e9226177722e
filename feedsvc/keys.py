"""The one rule for the whitespace around an identifier (an article's ``source_key``, a URL), and
which of two stored articles that the rule makes one survives. Pure.

Why one rule: ``parse_article`` trims keys since 0.x (:mod:`feedsvc.articles`); a key stored
before that as ``" abc "`` was no longer found by the trimmed ``"abc"`` of its next edit, which
became a second article. Migration 0019 trims the stored keys with :func:`trim_key` too, and
the editors' lookups (``articles hide KEY``) trim what is typed with it: what the parser, the
migration and a lookup take off a key is the same set of characters, :data:`KEY_SPACE`.

:data:`KEY_SPACE` is every character Python's ``str.isspace`` holds (the set ``str.strip()``
took before, written out so a Python upgrade cannot change it under stored data: tab, line
breaks, ``\\x1c``-``\\x1f``, NEL, NBSP U+00A0, the Unicode spaces, U+2028/U+2029, U+3000) plus
three invisible format characters a CMS export leaves at an edge: ZERO WIDTH SPACE U+200B, WORD
JOINER U+2060 and the byte order mark U+FEFF. Only the edges are trimmed; a key's inside is
the parser's business (no control character, one line).

A key's Unicode form is the CMS's too: a key is stored exactly as sent (trimmed), never
normalised — it is the source's identity. But ``Tin-Kiến`` stored decomposed (NFD: ``e`` +
U+0302 + U+0301) and typed composed (NFC, what keyboards and most copy and paste give) look the
same to everyone, and compared code point by code point they were two keys: a takedown typed
by an editor found no article and was recorded "ahead" while the article stayed public.
:func:`canonical` (NFC) is what two keys that are canonically equivalent share; stored keys
carry it beside them where it differs (:func:`key_nfc`, the ``source_key_nfc`` columns,
migration 0041), so :mod:`feedsvc.store.article_keys` finds the stored keys a typed key may
mean with an index; :func:`spelled` names such keys apart, code point by code point.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from feedsvc.blank_chars import shows_blank
from feedsvc.logs import spell
from feedsvc.versions import VERSION_AHEAD, replaces, undated

KEY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u2060\ufeff"
)


#: The longest key stored, in code points (:func:`feedsvc.articles.parse_article` refuses a
#: longer one; the ``source_key`` columns are ``String(255)``).
MAX_KEY = 255
#: How many times longer a text's NFC can be than the text, in code points (and UTF-8 bytes):
#: Unicode bounds it at 3 (UAX #15, Unicode Normalization Forms, and the Unicode
#: normalization FAQ's "maximum expansion factors": NFC ×3, e.g. U+1D160 → 3 code points;
#: U+0958 क़ and the other composition exclusions → 2).
NFC_GROWTH = 3
#: The longest key typed for a lookup (``articles hide|unhide|find``, the API's and admin's
#: article actions): a stored key's NFC, ``source_key_nfc`` (``String(765)``, migration 0041),
#: which a keyboard gives for a CMS's key of up to :data:`MAX_KEY`. A key stored new (import,
#: ingest, a hide recorded ahead) is still at most :data:`MAX_KEY`.
MAX_TYPED_KEY = NFC_GROWTH * MAX_KEY


def trim_key(value: str) -> str:
    """``value`` without the :data:`KEY_SPACE` characters at its start and end."""
    return value.strip(KEY_SPACE)


def canonical(key: str) -> str:
    """``key`` in NFC: what every key canonically equivalent to it (the same text in another
    Unicode form: composed, decomposed, partly composed, marks in another order) shares.
    Plain NFC, not :func:`feedsvc.nfc.nfc` (which keeps a stretch that would compose with a
    markup character, for HTML): a key is no markup, and equivalence is Unicode's own."""
    return key if key.isascii() else unicodedata.normalize("NFC", key)


def key_nfc(key: str) -> str | None:
    """What a stored key's ``source_key_nfc`` holds (migration 0041): its :func:`canonical`
    form when that differs from it, else None (nearly every key: NULL costs no index entry's
    worth of text, and a row written without the column — an NFC key — is right as it is)."""
    form = canonical(key)
    return None if form == key else form


def spelled(key: str) -> str:
    """The one spelling of a key wherever feedsvc prints one for a person to read and paste
    back (``articles find``'s rows and ``hide``/``unhide``'s notes, an ambiguous key's
    candidates, the notes on a key used in another form or its lookalikes, ``topics preview``
    and ``source check``, the admin's rows and messages), which every CLI argument naming a
    key reads back exactly (:data:`feedsvc.cli.params.SHOWN`,
    :func:`feedsvc.logs.unescape_controls`). A key in NFC (what a keyboard gives: nearly
    every key) is printed as it is, but for what :func:`feedsvc.logs.escape_controls`
    ``exact`` escapes and its :func:`feedsvc.blank_chars.shows_blank` characters — an LRM, a
    zero-width joiner, a no-break space, a variation selector: what shows as nothing or as a
    blank — each spelled ``\\u200e``; any other key code point by code point
    (:func:`feedsvc.logs.spell`: ``Tin-Kie\\u0302\\u0301n``), since it looks like its NFC
    and a terminal's copy and paste may compose it. So two stored keys that look the same
    never print alike (at most one of them is NFC, and what tells two NFC keys apart is never
    printed blank), and pasting either names that one. Letters of other scripts that look
    like Latin ones are letters (:mod:`feedsvc.blank_chars`)."""
    return spell(key, only=shows_blank) if canonical(key) == key else spell(key)


def named(key: str) -> str:
    """``key`` in a message naming it: :func:`spelled`, between single quotes."""
    return f"'{spelled(key)}'"


@dataclass(frozen=True, slots=True)
class Held:
    """One stored article (or built-in source row) whose key trims to a key shared with another:
    its id, its version (``updated_at``, else ``published_at``; aware UTC), whether the source
    withdrew it, and when it was last written (the tie-break)."""

    id: int
    version: datetime
    withdrawn: bool
    written: datetime
    trimmed: bool  # its stored key is already the trimmed one
    published: datetime | None = None  # its published_at (a scheduled one's: no edit time)


def survivor(rows: list[Held], now: datetime) -> Held:
    """Which of ``rows`` (two or more, their keys trimming alike) is kept: the newer version by
    :func:`feedsvc.versions.replaces`, the rule ingest and ``feedsvc import`` apply to a new
    version of a held article (newer; a version more than a day ahead, or a scheduled
    article's own time, :func:`feedsvc.versions.undated`, is not believed);
    on the same version (maybe the other visibility), the one written last; then the one whose
    key was trimmed already (the newer code wrote it), then the higher id."""
    best = rows[0]
    for row in rows[1:]:
        if _wins(row, best, now):
            best = row
    return best


def _wins(a: Held, b: Held, now: datetime) -> bool:
    if a.version == b.version:  # the same version, maybe the other visibility: the last write
        return (a.written, a.trimmed, a.id) > (b.written, b.trimmed, b.id)
    a_over = replaces(
        a.version, b.version, now, new_published=a.published, held_published=b.published
    )
    b_over = replaces(
        b.version, a.version, now, new_published=b.published, held_published=a.published
    )
    if a_over != b_over:
        return a_over
    # each replaces the other: neither is believed (more than VERSION_AHEAD ahead, or a
    # scheduled article's own time, ``versions.undated``): the nearer to a real edit, newer
    return (_believed(a, now), a.version) > (_believed(b, now), b.version)


def _believed(row: Held, now: datetime) -> bool:
    return row.version <= now + VERSION_AHEAD and not undated(row.version, row.published, now)


@dataclass(frozen=True, slots=True)
class Alert:
    """One chat's delivery row of an article: its id, whether it reached the chat (a message
    id, or state ``sent``), and whether it is the surviving article's."""

    id: int
    sent: bool
    survivor: bool


def kept_alert(a: Alert, b: Alert) -> Alert:
    """Of two deliveries of one (merged) article to one chat (a chat holds one per article),
    the one kept: the one that reached the chat (its message is what later retractions and
    corrections edit; a pending one beside it would alert the chat a second time), then the
    surviving article's. The other is dropped with its follow-ups."""
    return max((a, b), key=lambda x: (x.sent, x.survivor, -x.id))
