"""The chunk-keyed fast paths against straightforward references (issue 17 §2).

The topic matcher scans syllable codes built from cached chunks (:mod:`feedsvc.matching.codes`),
the search text comes from each chunk's cached keys, and a field's key streams are built from
the same cache. Each is checked here against the obvious slow way, on generated articles and on
text that has broken normalisers before; any difference fails.

* streams: one regex scan of the whole text, a break (not an abbreviation's dot) as ``|``;
* search keys: every syllable of every field in order, its exact key then its folded key, each
  key once;
* the matcher: every needle tested with ``in`` on every field's stream, and every topic
  evaluated on its own (``match_document``), labels = its positive terms present.
"""

from __future__ import annotations

import random
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.matching import codes as codes_module
from feedsvc.matching import normalize
from feedsvc.matching.abbreviations import abbreviation_dot
from feedsvc.matching.document import Document, document_from_text, search_keys
from feedsvc.matching.evaluate import match_document, term_in_document
from feedsvc.matching.multi import TopicMatcher, _compile, _Needles
from feedsvc.matching.normalize import _ITEM_RE, clean_text, streams
from feedsvc.matching.query import Query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
try:
    from matching import Generator  # type: ignore[import-not-found]
finally:
    sys.path.pop(0)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


#: Text that has broken normalisers: NFD, stray and doubled combining marks, zero-width and bidi
#: characters inside words, entities, abbreviations, numbers, '|', other line breaks, astral
#: characters, Ð/ð, tone placement, digits inside syllables.
HOSTILE = [
    nfd("Công an TP. Hải Phòng bắt giữ đối tượng ở Kiến Thụy"),
    "Kiê\u0301\u00adn Thu\u0323y\u200b, Hải\u200dPhòng; Núi\ufeffĐối",
    "Đoàn Xá &amp; Núi Đối &ndash; &quot;an ninh&quot; &#x110;&#7889;i",
    "TP.HCM, Q.1, Q. 3, P. Lê Chân, Th.S. An, PGS.TS. Bình, x. y, TP.. TP., H. Kiến Thụy",
    "1.000 người, 1,5 tỷ, 10:30 sáng 12/5/2025; 5a ẫ2 a2 à covid-19",
    "an|ninh a | b || c\u2028Đồ\u2029Sơn\r\nhòa hoà HÒA hoÀ qúy quý thủy thuỷ",
    "a\u0301\u0301 o\u0302\u0323 \u0301x ð Ð đ Đ \U0001d400\U0001f600 ꙮ ǅ ﬁ Ⅻ ²x x²",
    "<p>Kiến<b>Thụy</b> Hải<br>Phòng</p><script>an ninh</script><p>công &amp an</p>",
    "  ",
    "!!! … — / -",
]
#: Topics over the same words: nested needles (one a suffix or prefix of another), fields,
#: folded terms, NOT, @-free ORs and ANDs.
HOSTILE_TOPICS = {
    "kt": '"Kiến Thụy" OR "Thụy" OR "Kiến"',
    "hp": '"TP. Hải Phòng" OR "tp hai phong" OR ~"hai phong"',
    "nums": '"1.000" OR "1,5" OR "10:30" OR "5a" OR "a2" OR à',
    "hoa": 'hòa ("quý" OR ~"thuy") -"do son"',
    "dos": '~"do son" OR title:"Đồ Sơn"',
    "an": '"an ninh" OR "công an" OR "an"',
    "nested": '"a b" OR "b" OR "b c" OR ~"a b c"',
    "tag": 'tag:("Kiến Thụy" OR "Hải Phòng") OR section:"an ninh"',
    "odd": '"ð" OR "x²" OR "ﬁ" OR "ǅ" OR "ꙮ"',
    "gs": '"PGS.TS. Bình" OR "Th.S. An" OR "Q. 3"',
    "not": '"Núi Đối" -"Đoàn Xá"',
}


def reference_streams(text: str) -> tuple[str, str]:
    """Both streams of cleaned ``text`` from one scan of the whole text."""
    exact: list[str] = []
    folded: list[str] = []
    for m in _ITEM_RE.finditer(text):
        if m.group(1) is None:
            if m.group() == "." and abbreviation_dot(text, m.start()):
                continue
            exact.append("|")
            folded.append("|")
            continue
        e, f = normalize.syllable_keys(m.group())
        exact.append(e)
        folded.append(f)
    return " " + "".join(k + " " for k in exact), " " + "".join(k + " " for k in folded)


def reference_search_keys(d: Document) -> str:
    out: dict[str, None] = {}
    for f in d.fields:
        exact, folded = reference_streams(f.text)
        for e, fo in zip(exact.split(), folded.split(), strict=True):
            out.setdefault(e)
            out.setdefault(fo)
    out.pop("|", None)
    return " ".join(out)


def reference_match(queries: dict[str, Query], d: Document) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for slug, q in queries.items():
        if match_document(q, d):
            labels = [t.label for t, positive in q.terms() if positive and term_in_document(t, d)]
            out[slug] = list(dict.fromkeys(labels))
    return out


def reference_found(matcher: TopicMatcher, needles: _Needles, d: Document) -> dict[int, int]:
    """Needle id → fields, by ``in`` on each field's reference streams."""
    found: dict[int, int] = {}
    for f in d.fields:
        exact, folded = reference_streams(f.text)
        for (is_folded, needle), nid in needles.ids.items():
            if needle in (folded if is_folded else exact):
                found[nid] = found.get(nid, 0) | f.bit
    return found


def check(topics: dict[str, str], docs: list[Document]) -> None:
    matcher = TopicMatcher.build(topics)
    queries = matcher.queries()
    needles = _Needles()
    for q in queries.values():  # needle ids in the order TopicMatcher.build gives them
        [needles.id(term) for term, positive in q.terms() if positive]
        _compile(q.root, needles)
    for d in docs:
        for f in d.fields:
            assert tuple(f.streams) == reference_streams(f.text), f.text
            assert f.streams == streams(f.text)
        keys = search_keys(d)
        assert keys == reference_search_keys(d)
        got_keys, got = matcher.search_and_match(d)
        assert got_keys == keys
        assert got == reference_match(queries, d) == matcher.match(d)
        assert matcher.match_slugs(d) == list(got)
        assert _by_needle(matcher.scan(d), needles) == _by_needle(
            reference_found(matcher, needles, d), needles
        )


def _by_needle(found: dict[int, int], needles: _Needles) -> dict[tuple[bool, str], int]:
    names = {nid: key for key, nid in needles.ids.items()}
    return {names[nid]: bits for nid, bits in found.items()}


def hostile_documents() -> list[Document]:
    docs = []
    for i, text in enumerate(HOSTILE):
        other = HOSTILE[(i + 3) % len(HOSTILE)]
        docs.append(document_from_text(text, other, summary=text, tags=[other, text], section=text))
        docs.append(document_from_text(nfd(text).upper(), f"<p>{text}</p>{other}"))
    docs.append(document_from_text(" ".join(HOSTILE), "<p>" + "</p><p>".join(HOSTILE) + "</p>"))
    return docs


def test_hostile_text_and_topics_agree_with_references() -> None:
    topics = dict(HOSTILE_TOPICS)
    # every hostile text's phrases as topics too: whole sentences, NFD, folded
    for i, text in enumerate(HOSTILE):
        words = clean_text(text).split()
        for j in range(0, len(words), 3):
            phrase = " ".join(words[j : j + 3]).replace('"', "")
            topics[f"h{i}-{j}"] = f'"{phrase}" OR ~"{nfd(phrase)}"'
    matcher = TopicMatcher.build(topics)
    topics = {slug: q for slug, q in topics.items() if slug not in matcher.errors}
    check(topics, hostile_documents())


def test_generated_articles_and_topics_agree_with_references() -> None:
    gen = Generator(seed=random.Random(11).randint(0, 1000))
    topics = Generator(seed=5).topics(400)
    docs = []
    for _ in range(40):
        a = gen.article()
        tags = a["tags"]
        assert isinstance(tags, list)
        title, body, summary = str(a["title"]), str(a["body"]), str(a["summary"])
        doc = document_from_text(title, body, summary=summary, tags=tags, section=str(a["section"]))
        docs.append(doc)
    check(topics, docs + hostile_documents())


def test_two_character_codes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """More needle keys than code characters: two characters per key, same answers."""
    monkeypatch.setattr(codes_module, "CAPACITY", 16)  # 8 x 8 two-character codes: 63 keys
    matcher = TopicMatcher.build(HOSTILE_TOPICS)
    assert matcher._codes.width == 2 and 16 <= len(matcher._codes._table) < 64
    check(HOSTILE_TOPICS, hostile_documents())


def test_caches_cleared_mid_article_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that fills up is cleared while an article is being read (the normaliser's
    keyed a stream by chunks it had just remembered, and raised KeyError)."""
    docs = hostile_documents()  # built before: their chunks are looked up again below
    monkeypatch.setattr(normalize, "_CACHE_MAX", 3)
    monkeypatch.setattr(codes_module, "CACHE_CHUNKS", 3)
    normalize._CHUNKS.clear()
    check(HOSTILE_TOPICS, docs + hostile_documents())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([*HOSTILE, *HOSTILE_TOPICS.values(), "a", "b", "c", ".", ",", "\n"]),
        min_size=1,
        max_size=6,
    ).map(" ".join),
    st.text(max_size=40),
)
def test_fuzzed_text_agrees_with_references(text: str, noise: str) -> None:
    docs = [document_from_text(text + noise, noise + text, tags=[noise, text])]
    check(HOSTILE_TOPICS, docs)


def test_needle_keys_get_one_character_each() -> None:
    codes = codes_module.Codes(["kiên1", "thuy5", "kiên1"])
    assert codes.width == 1 and len(codes.needle(" kiên1 thuy5 ")) == 2
    assert codes.filler not in codes.needle(" kiên1 thuy5 ")
    exact, _folded, search = codes.lookup(["Kiến", "Thụy,", "ở"])[1]
    assert exact == codes.needle(" thuy5 ") + codes.filler  # the comma is a break
    assert search == ("thuy5", "thuy")
