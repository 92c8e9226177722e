"""The one text normaliser shared by documents and queries (SPEC §4 "Matching semantics").

Everything that compares text — ingest, query parsing, single and many-topic matching, preview and
search keys — goes through this module, so the document side and the query side cannot drift.

Pipeline for one field:

1. :func:`visible_text` — HTML to the text a reader sees (:mod:`feedsvc.html_text`): tags and
   attributes dropped, entities decoded, ``<script>``/``<style>`` content dropped, block elements
   turned into ``"\\n"`` (a sentence break); invisible format characters (soft hyphen,
   zero-width chars, bidi marks; Unicode category Cf) deleted so they cannot split a word; NFC.
   The result is what snippets are cut from, so highlight spans index into it. A text field
   (title, tag, section, author) first goes through :func:`feedsvc.markup.field_literals`
   (:func:`visible_field_text`): ``<Số đỏ>`` in a title is text and matches "Số đỏ".
2. Sentence breaks come from punctuation (see :data:`BREAK_CHARS`).  A hyphen, slash,
   en or em dash and quotes are *not* breaks, only separators (SPEC: "a hyphen or slash inside a
   tag or title is just a separator"; dashes and quotes often sit inside a name or clause).
   ``. , :`` between two digits ("1.000", "1,5", "10:30") are number formatting, not breaks;
   a dot inside a token ("TP.HCM", "Q.1", "Th.S") and the dot after a known abbreviation
   followed by a space ("TP. Hải Phòng") are not breaks either (:mod:`.abbreviations`).
3. Syllables are runs of letters and digits (plus stray combining marks) on NFC text: "5a" is one,
   "covid-19" is two.  Each syllable gets two keys (:func:`syllable_keys`):

   * *exact*: lower case, Ð/ð read as Đ/đ, the tone mark taken off the vowel and appended as a
     digit (1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng), so placement never matters (hòa = hoà → "hoa2",
     "qúy" → "quy1" like "quý") while the vowel quality marks (â ê ô ơ ư ă, đ) are kept.  A syllable
     that contains a digit always gets a suffix digit ("0" when toneless) so "a2" cannot collide
     with "à".
   * *folded*: every mark removed and đ → d ("Kiến Thụy" → "kien thuy"); used by ``~`` terms.

A field's syllables are stored as two *streams*: ``" k1 k2 | k3 "`` — keys separated by single
spaces, ``|`` at each sentence break (NBSP and other spaces are plain separators).  A term or
phrase is then the needle ``" k1 k2 "``, and "occurs as whole adjacent syllables within one
sentence" is a plain substring test, in Python for one query and in an Aho-Corasick automaton
for many topics (over the same keys coded one character each: :mod:`.codes`).

Keys are cached per whitespace-separated *chunk* (:func:`chunks`, :class:`ChunkKeys`): a news
text reuses a few thousand distinct chunks, so an article costs one dict lookup per chunk.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

from feedsvc.html_text import html_to_text
from feedsvc.line_breaks import LINE_BREAKS
from feedsvc.markup import field_literals

from .abbreviations import abbreviation_dot
from .letters import LETTER

#: Characters that end a sentence for phrase matching (in addition to block elements).
BREAK_CHARS = ".,;:!?…()[]{}|•·¡¿。，、；：！？\n\r\u2028\u2029"

_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_COMBINING = r"\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
#: A letter or digit of a syllable (:mod:`.letters`: not ``_``, nor an apostrophe such as ``ʼ``).
_LETTER = LETTER
_WORD = rf"{_LETTER}(?:{_LETTER}|[{_COMBINING}])*"
_BREAK = (
    r"[;!?…()\[\]{}|•·¡¿。，、；：！？\n\r\u2028\u2029]"
    r"|(?<!\d)[,:]|[,:](?!\d)"  # "1,5", "10:30" are numbers, not breaks
    rf"|(?<!{_LETTER})\.|\.(?!{_LETTER})"  # "1.000", "TP.HCM", "Q.1": a dot inside a token
)
#: One scan finds syllables and sentence breaks; group 1 is set for a syllable.
_ITEM_RE = re.compile(f"({_WORD})|{_BREAK}")
#: The same scan for the hot path, returning plain strings (a break is its punctuation char).
_ITEMS_RE = re.compile(f"{_WORD}|{_BREAK}")


def _char_class(codes: list[int]) -> str:
    """A compact regex character class (ranges) for ``codes``; a short class scans faster."""
    codes = sorted(set(codes))
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]"


#: Invisible format characters: Unicode category Cf (soft hyphen, zero-width chars, bidi marks…)
#: as inclusive ranges; a literal because scanning all code points at import takes ~0.5 s.
#: ``tests/test_matching_normalize.py`` checks it against ``unicodedata``.
CF_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_CF_CODES = [c for lo, hi in CF_RANGES for c in range(lo, hi + 1)]
_CF_RE = re.compile(_char_class(_CF_CODES))
#: One invisible format character (:data:`CF_RANGES`): what :func:`clean_text` deletes from a
#: term, and so what the query lexer (:func:`feedsvc.matching.lexer.lex`) reads past, one class.
INVISIBLE_RE = _CF_RE
#: Line breaks other than "\n" (:data:`feedsvc.line_breaks.LINE_BREAKS`, the one list).
_LINE_CODES = [ord(c) for c in LINE_BREAKS if c != "\n"]
#: A run of whitespace holding a line break (a phrase wrapped over lines, ``\r\n`` and the
#: indent after it): what a query's phrase label shows as one space.
LINE_RUN_RE = re.compile(rf"\s*{_char_class([ord(c) for c in LINE_BREAKS])}\s*")
_LINES_RE = re.compile("\r\n?|" + _char_class(_LINE_CODES))
#: Either of the above: one scan decides whether any clean-up is needed (the common case: none).
_SPECIAL_RE = re.compile(_char_class(_CF_CODES + _LINE_CODES))
_HTML_HINT_RE = re.compile(r"[<&]")


def clean_text(text: str) -> str:
    """Delete invisible format characters, then NFC (deleting first lets marks compose).

    Other line breaks become ``"\\n"``, the one line break the tokenisers know.
    """
    # isprintable() is a fast C pre-check: Cf and line-break characters are never printable
    if not text.replace("\n", " ").isprintable() and _SPECIAL_RE.search(text):
        text = _CF_RE.sub("", _LINES_RE.sub("\n", text))
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def visible_text(markup: str | None) -> str:
    """The text a reader sees in ``markup`` (HTML or plain text), cleaned; never raises.

    Plain text (no ``<`` or ``&``) skips the parser; its line breaks stay sentence breaks, as
    they do in a plain text holding either (:func:`feedsvc.html_text.html_to_text`).
    """
    if not markup:
        return ""
    if _HTML_HINT_RE.search(markup):
        markup = html_to_text(markup)
    return clean_text(markup)


def visible_field_text(text: str | None) -> str:
    """:func:`visible_text` of a text field (title, tag, section, author): a ``<`` that begins
    no known markup is text (:mod:`feedsvc.markup`, the rule the feeds and alerts show by)."""
    return visible_text(field_literals(text)) if text else ""


#: ``item → (exact, folded)``: ONE dict, each entry the pair, and a lookup never reads it again
#: after filling it. Two dicts (exact, folded), filled and cleared one after the other by
#: threads (ingest, the search feeds' pool, the dispatcher's checks), left an item in one and
#: not the other once the cache filled up: a ``KeyError`` at every later article, search or
#: alert holding it, until a restart (a tester's: 813 of 900 searches, ingest stopped).
_KEYS: dict[str, tuple[str, str]] = {}
_CACHE_MAX = 200_000
_BREAK_KEYS = ("|", "|")
_BREAK_ITEMS = set(BREAK_CHARS)


def _compute_keys(token: str) -> tuple[str, str]:
    low = token.lower().replace("ð", "đ")
    decomposed = unicodedata.normalize("NFD", low)
    tone = ""
    base: list[str] = []
    folded: list[str] = []
    for ch in decomposed:
        digit = _TONES.get(ch)
        if digit is not None:
            tone = tone or digit
            continue
        base.append(ch)
        if not unicodedata.combining(ch):
            folded.append(ch)
    exact = unicodedata.normalize("NFC", "".join(base))
    if any(c.isdigit() for c in exact):
        tone = tone or "0"
    return sys.intern(exact + tone), sys.intern("".join(folded).replace("đ", "d"))


def syllable_keys(token: str) -> tuple[str, str]:
    """``(exact, folded)`` keys of one syllable (see module doc; a break char's are ``|``);
    cached, it is the hot path. Thread-safe: a key computed is returned as computed, whatever
    another thread does to the cache meanwhile (:data:`_KEYS`)."""
    keys = _KEYS.get(token)
    if keys is None:
        keys = _BREAK_KEYS if token in _BREAK_ITEMS else _compute_keys(token)
        if len(_KEYS) >= _CACHE_MAX:
            _KEYS.clear()
        _KEYS[token] = keys
    return keys


class Streams(NamedTuple):
    """A field's syllable keys as searchable strings (see module doc)."""

    exact: str
    folded: str


class ChunkKeys(NamedTuple):
    """The keys of one whitespace-separated chunk's items, a sentence break as ``"|"``: for
    ``"Thụy,"``, ``exact`` ``"thuy5 | "`` and ``folded`` ``"thuy | "`` (each key followed by a
    space: a stream is the concatenation) and ``search``, its distinct keys without breaks,
    each exact key before its folded one (``("thuy5", "thuy")``)."""

    exact: str
    folded: str
    search: tuple[str, ...]


_CHUNKS: dict[str, ChunkKeys] = {}
_EXACT_TEXT, _FOLDED_TEXT = itemgetter(0), itemgetter(1)  # ChunkKeys.exact, .folded


def chunks(text: str) -> list[str]:
    """Whitespace-separated chunks of cleaned ``text``, a line break its own ``"|"`` chunk.

    Scanning chunks gives exactly the items of :func:`tokens` (no item spans whitespace, and the
    digit look-arounds see whitespace either way), but lets a dict of chunks replace most regex
    work: a news text reuses a few thousand distinct chunks (:func:`chunk_keys`).
    """
    return text.replace("\n", " | ").split()


def _remember_chunk(chunk: str) -> ChunkKeys:
    """The keys of one chunk, cached; returned as computed (filling may clear the cache)."""
    items = _ITEMS_RE.findall(chunk)
    if items and items[-1] == "." and abbreviation_dot(chunk, len(chunk) - 1):
        items.pop()  # "TP." before a space: no sentence end (a chunk ends at whitespace)
    pairs = [syllable_keys(item) for item in items]
    search = dict.fromkeys(key for pair in pairs for key in pair)
    search.pop("|", None)
    exact = "".join([e + " " for e, _ in pairs])
    folded = "".join([f + " " for _, f in pairs])
    keys = ChunkKeys(exact, exact if folded == exact else folded, tuple(search))
    if len(_CHUNKS) >= _CACHE_MAX:
        _CHUNKS.clear()
    _CHUNKS[chunk] = keys
    return keys


def chunk_keys(parts: Sequence[str]) -> list[ChunkKeys]:
    """The keys of each of a text's :func:`chunks`; the hot path run for every article."""
    try:
        return list(map(_CHUNKS.__getitem__, parts))
    except KeyError:  # a chunk not seen yet (or the cache was cleared meanwhile)
        get = _CHUNKS.get
        return [get(c) or _remember_chunk(c) for c in parts]


#: UTF-8 bytes of an article's search text at most (:func:`join_search_keys`): the keys first
#: met — the title's, then the text's from its start — up to this, the rest left out of the
#: archive search index. Why: PostgreSQL refuses a tsvector over 1 MiB (SQLSTATE 54000, "string
#: is too long for tsvector"), and one article of ~60,000 distinct words (an exam-results list,
#: a pasted table, base64) stopped ingest for good; on SQLite its index entry held the write
#: lock ~1 s. A tsvector counts each lexeme as its bytes rounded up to even plus 4 (one
#: position), so at most 3x a text of one-byte keys: 256 KiB stays under 768 KiB whatever the
#: keys. A long news article's keys take ~30 KB. Matching (topics, alerts, chat queries) reads
#: the whole text: only the archive's lookups (search feeds, previews, backfill) miss a word
#: past it.
SEARCH_TEXT_BYTES = 256 * 1024
#: Keys longer than this are never looked up (:func:`feedsvc.matching.candidates.indexable_key`;
#: PostgreSQL indexes no word over 2047 bytes), so a text over :data:`SEARCH_TEXT_BYTES` leaves
#: them out before it is cut (a hex dump is one "syllable").
LOOKED_UP_KEY_CHARS = 200


def join_search_keys(keys: Iterable[tuple[str, ...]]) -> str:
    """Chunks' :attr:`ChunkKeys.search` as one space-separated text, each key once, in the order
    first met (``dict.fromkeys`` over the keys, cached hashes, is one C loop), at most
    :data:`SEARCH_TEXT_BYTES` of UTF-8, cut after a whole key."""
    text = " ".join(dict.fromkeys(chain.from_iterable(keys)))
    if len(text) <= SEARCH_TEXT_BYTES // 4:  # 4 bytes a character at most: surely within
        return text
    if len(text.encode()) <= SEARCH_TEXT_BYTES:
        return text
    kept: list[str] = []
    room = SEARCH_TEXT_BYTES + 1  # the first key has no space before it
    for key in text.split(" "):
        size = len(key.encode()) + 1
        if len(key) > LOOKED_UP_KEY_CHARS or size > room:
            continue  # a shorter key further on may still fit
        kept.append(key)
        room -= size
        if room < 2:
            break
    return " ".join(kept)


def streams_of(parts: Sequence[str]) -> Streams:
    """Both key streams of a text's :func:`chunks`.

    Runs of breaks may leave ``| |`` in a stream; harmless, as no needle contains ``|``.
    """
    keys = chunk_keys(parts)
    return Streams(" " + "".join(map(_EXACT_TEXT, keys)), " " + "".join(map(_FOLDED_TEXT, keys)))


def streams(text: str) -> Streams:
    """Both key streams of cleaned ``text``."""
    return streams_of(chunks(text))


class Token(NamedTuple):
    """One syllable with its place in the visible text (for highlighting and explain)."""

    start: int
    end: int
    sentence: int
    exact: str
    folded: str


def _abbreviation_item(text: str, m: re.Match[str]) -> bool:
    """Is this break match the dot of a known abbreviation (no sentence end)?"""
    return m.group() == "." and abbreviation_dot(text, m.start())


def tokens(text: str) -> list[Token]:
    """All syllables of cleaned ``text`` with spans; same scan as :func:`streams`."""
    out: list[Token] = []
    number = 0
    for m in _ITEM_RE.finditer(text):
        if m.group(1) is None:
            if not _abbreviation_item(text, m):
                number += bool(out) and out[-1].sentence == number
            continue
        exact, folded = syllable_keys(m.group())
        out.append(Token(m.start(), m.end(), number, exact, folded))
    return out


def query_spaces(text: str) -> str:
    """``text`` of a query :func:`clean_text` cleaned, each of its line breaks a space: the one
    rule that a line break inside a query's phrase is whitespace (:func:`normalize_query_terms`;
    the parser's labels show a phrase so too)."""
    return clean_text(text).replace("\n", " ")


def normalize_query_terms(text: str) -> list[list[tuple[str, str]]]:
    """Syllable keys of query text, one list per sentence: ``[[(exact, folded), ...], ...]``.

    Uses the very same cleaning and scan as documents, but for line breaks: in a query a line
    break (``\\n``, CR LF, CR, U+2028/9, NEL, VT, FF, any run of them: each that
    :func:`clean_text` reads as ``\\n``) is whitespace, as a tab or NBSP is — a phrase wrapped
    in a multi-line box or a pasted query (``"Kiến`` / ``Thụy"``) means ``"Kiến Thụy"``; in a
    document a line is a paragraph or ``<br>``, a sentence end (SPEC §4), but nobody types a
    paragraph inside a phrase. The parser rejects a phrase that has more than one sentence (it
    could never match): only punctuation splits one now. Memoised: thousands of topics repeat
    the same place names, and building a 5,000-topic matcher spent a quarter of its time here.
    """
    return [list(group) for group in _query_terms(text)]


@lru_cache(maxsize=65_536)
def _query_terms(text: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    groups: list[tuple[tuple[str, str], ...]] = []
    current: list[tuple[str, str]] = []
    text = query_spaces(text)
    for m in _ITEM_RE.finditer(text):
        if m.group(1) is None:
            if _abbreviation_item(text, m):
                continue
            if current:
                groups.append(tuple(current))
                current = []
            continue
        current.append(syllable_keys(m.group()))
    if current:
        groups.append(tuple(current))
    return tuple(groups)
