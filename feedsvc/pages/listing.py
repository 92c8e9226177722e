"""The index page's list of topics cut into pages, and its topic filter (``/?page=N&q=…``).

Why: newsrooms define thousands of topics (every commune, district, person); ``/`` listing all
of them was ~10 MB (~400 KB gzipped) at 3,000 topics, and a reader could find nothing in it.
So ``/`` shows :data:`PAGE_SIZE` topics a page, and ``?q=`` keeps the topics whose title, slug
or description hold every word typed, compared through the matcher's one normaliser
(:mod:`feedsvc.matching.normalize`: case, tone marks and vowel marks folded, đ → d), each word
as the start of a syllable: "kien thuy", "Kiến Thụy", "KIẾN THỤY" and "kiến th" all find
"Kiến Thụy".

Whatever a client sends is read, never refused: ``?page=`` that is not ASCII digits (``abc``,
``1e9``, ``-1``, empty) is page 1, a page past the last is the last page (clamped, so a link
kept while topics were removed still shows topics), ``?q=`` loses control and format characters
and is cut at :data:`MAX_QUERY_CHARS`. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from feedsvc.digits import ascii_int
from feedsvc.graphemes import prefix
from feedsvc.matching.normalize import clean_text, streams

#: Topics on one page of ``/``: ~170 KB of HTML (~7 KB gzipped) with headlines and buttons.
PAGE_SIZE = 50
#: Characters of ``?q=`` kept: longer than any topic name, short enough that a 100 KB query
#: costs no more than a short one.
MAX_QUERY_CHARS = 200
#: Topics' keys kept (:func:`topic_key`): every topic's at 5,000 topics, with room for edits.
KEYS_KEPT = 16384
#: Control characters (C0, DEL, C1) and lone surrogates: never part of a topic's name, and a
#: surrogate cannot be encoded into the page that echoes the query.
_UNWANTED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")


@dataclass(frozen=True, slots=True)
class Paging:
    """Where one page sits in a list of ``total`` topics: page ``page`` of ``pages`` (≥ 1
    even for an empty list), showing topics ``first``..``last`` counted from 1 (0..0 when
    empty)."""

    page: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        return min((self.page - 1) * PAGE_SIZE + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.page * PAGE_SIZE, self.total)

    @property
    def start(self) -> int:
        """Index of the page's first topic in the list (slice start)."""
        return (self.page - 1) * PAGE_SIZE


def page_count(total: int) -> int:
    """Pages needed for ``total`` topics; one for none (it says there are none)."""
    return max(1, -(-total // PAGE_SIZE))


def paging(total: int, page: int) -> Paging:
    """Page ``page`` of ``total`` topics, clamped into 1..the last page."""
    pages = page_count(total)
    return Paging(min(max(page, 1), pages), pages, total)


def read_page(value: str | None) -> int:
    """``?page=``: ASCII digits (:func:`feedsvc.digits.ascii_int`) ≥ 1, else 1 (``abc``,
    ``1e9``, ``0``, ``-1``, ``１２``, empty, absent). A huge number stays a number: clamped to
    the last page by :func:`paging`."""
    number = ascii_int((value or "").strip(" \t"), signed=False)
    return number if number is not None and number >= 1 else 1


def clean_query(value: str | None) -> str:
    """``?q=`` as the page echoes it and the filter reads it: control characters and lone
    surrogates become spaces; format characters (Unicode category Cf: the bidirectional
    overrides, embeddings and isolates such as U+202E, which flipped the echoed text in the
    search box, zero-width spaces and joiners, soft hyphens, a BOM) are dropped, as no topic's
    name needs them to be found; runs of whitespace one space, cut at :data:`MAX_QUERY_CHARS`
    (cut first: a 100 KB query costs no more than a short one)."""
    text = shown_query((value or "")[: MAX_QUERY_CHARS * 2])
    return prefix(" ".join(text.split()), MAX_QUERY_CHARS).strip()  # whole clusters


def shown_query(text: str) -> str:
    """A reader's query as it is searched and shown back (the index's ``?q=``, a search feed's
    query and title): control characters and lone surrogates a space, format characters
    dropped (:func:`without_format_chars`). A search feed dropped a NUL from its title only:
    ``a%00b`` searched "a b" under the title "ab"."""
    return without_format_chars(_UNWANTED.sub(" ", text))


def shown_position(text: str, position: int) -> int:
    """Where ``position``, a 0-based place in ``shown_query(text).strip()`` (what a search
    feed searches), is in ``text`` as sent: a search feed's 400 names the character the reader
    typed (:func:`feedsvc.typed_query.typed_position` maps the reading's own rewrites)."""
    places: list[int] = []  # the place in ``text`` of each character of shown_query(text)
    for found in re.finditer(f"{_UNWANTED.pattern}|.", text, re.DOTALL):
        kept = _UNWANTED.fullmatch(found.group()) or unicodedata.category(found.group()) != "Cf"
        if kept:  # a run of controls is one space; a format character is dropped
            places.append(found.start())
    shown = shown_query(text)
    places = places[len(shown) - len(shown.lstrip()) : len(shown.rstrip())]
    if position < len(places):
        return places[max(0, position)]
    return places[-1] + 1 if places else 0  # after the last character searched


def without_format_chars(text: str) -> str:
    """``text`` without its format characters (Unicode Cf: bidi controls, zero-width spaces
    and joiners, soft hyphens, a BOM): what a reader typed into a query that is shown back (the
    search box, a search feed's title), where a U+202E would reverse the text around it."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def search_key(*texts: str) -> str:
    """A topic's texts (title, slug, description) as the filter compares them: their folded
    syllable keys (:func:`feedsvc.matching.normalize.streams`), each after a space. "Kiến
    Thụy", slug ``kien-thuy`` → ``" kien thuy kien thuy"``."""
    keys = [key for text in texts for key in streams(clean_text(text)).folded.split()]
    return "".join(" " + key for key in keys if key != "|")


@lru_cache(maxsize=KEYS_KEPT)
def topic_key(title: str, slug: str, description: str) -> str:
    """A topic's :func:`search_key`, kept: ~50 µs each, 0.25 s for 5,000 topics, which the
    first ``/?q=`` after a restart and every rebuild of the index would otherwise pay again
    for topics whose texts did not change."""
    return search_key(title, slug, description)


def query_words(query: str) -> tuple[str, ...]:
    """The folded syllable keys of a cleaned query, each once; empty for a query with no
    letters or digits (then no topic matches: :meth:`.IndexPages.search`)."""
    return tuple(dict.fromkeys(search_key(query).split()))


def matching(keys: Sequence[str], words: Sequence[str]) -> list[int]:
    """Indexes of the ``keys`` (:func:`search_key`) holding every word as a syllable's start."""
    needles = [" " + word for word in words]
    return [i for i, key in enumerate(keys) if all(n in key for n in needles)]
