"""Many topics, one pass over each article.

Every term of every topic becomes a needle (``" k1 k2 "``) in one of two Aho-Corasick automata
(exact keys, folded keys), over one character per syllable key (:mod:`.codes`).  Scanning each
field's two code strings once yields every needle that occurs and in which fields — which is
*all* a query needs, so topics are then evaluated from that table without touching the text
again.

Only *candidate* topics are evaluated: a topic is a candidate when one of its *trigger* needles
was found, where every match of the topic needs at least one trigger present (:func:`triggers`):
a term triggers itself, an OR needs a trigger of any branch (union), an AND needs all its
children, so the triggers of its most selective positive child suffice, and anything under a NOT
gives none.  A topic left without triggers (e.g. ``NOT NOT a``) is evaluated for every article —
correct, just slower.  (The parser already rejects queries that an empty article would match.)

A built matcher is immutable (its cache of chunks met aside: :class:`.codes.Codes`, safe to share
between threads): rebuild it when topics change and swap the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

from ahocorasick_rs import AhoCorasick

from .codes import EXACT, FOLDED, SEARCH, Codes
from .document import Document
from .normalize import join_search_keys
from .parser import parse_topic
from .query import And, Node, Not, Or, Query, QueryError, Term

Found = dict[int, int]  # needle id → bitmask of fields where it occurs
Check = Callable[[Found], bool]


@dataclass(frozen=True, slots=True)
class _Topic:
    slug: str
    query: Query
    check: Check
    positives: tuple[tuple[int, int, str], ...]  # (needle id, field mask, label)
    triggers: tuple[int, ...] | None  # needle ids; None: evaluate on every article


class NeedleIds(Protocol):
    """Gives each distinct ``(folded, needle)`` a small int (:class:`_Needles` here, the
    reference-counted interner of :mod:`.queryset` there): checks index ``Found`` by it."""

    def id(self, term: Term) -> int: ...


class _Needles:
    """Interns ``(folded, needle)`` pairs to small ints."""

    def __init__(self) -> None:
        self.ids: dict[tuple[bool, str], int] = {}

    def id(self, term: Term) -> int:
        key = (term.folded, term.needle)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
        return found

    def codes(self) -> Codes:
        return Codes(key for _folded, needle in self.ids for key in needle.split())

    def automaton(self, folded: bool, codes: Codes) -> _Automaton | None:
        """The needles of one kind (exact or folded keys) as codes; None when there are none."""
        words = [(needle, i) for (f, needle), i in self.ids.items() if f == folded]
        if not words:
            return None
        search = AhoCorasick([codes.needle(needle) for needle, _ in words])
        return _Automaton(search, tuple(i for _, i in words))


@dataclass(frozen=True, slots=True)
class _Automaton:
    """One kind's needles as codes: pattern ``i`` of ``search`` is needle id ``ids[i]``."""

    search: AhoCorasick
    ids: tuple[int, ...]


def _weight(term: Term) -> float:
    """Rough frequency estimate: longer phrases are rarer; folded keys merge more syllables."""
    return (2.0 if term.folded else 1.0) * 0.1 ** (len(term.keys) - 1)


def triggers(node: Node) -> tuple[float, frozenset[Term]] | None:
    """``(estimated frequency, terms)`` such that a match needs one of them; None if none can."""
    if isinstance(node, Term):
        return _weight(node), frozenset((node,))
    if isinstance(node, Not):
        return None
    found = [triggers(c) for c in node.children]
    if isinstance(node, And):
        usable = [t for t in found if t is not None]
        return min(usable, key=lambda t: (t[0], len(t[1]))) if usable else None
    if any(t is None for t in found):
        return None
    sets = [t for t in found if t is not None]
    return sum(t[0] for t in sets), frozenset().union(*(t[1] for t in sets))


def _compile(node: Node, needles: NeedleIds) -> Check:
    """Turn an AST into a closure over the ``found`` table.

    An OR of terms (place-name alias lists, the common case) becomes one flat loop over
    ``(needle, mask)`` pairs instead of a closure per term.
    """
    if isinstance(node, Term):
        nid, mask = needles.id(node), node.mask
        return lambda found: bool(found.get(nid, 0) & mask)
    if isinstance(node, Not):
        inner = _compile(node.child, needles)
        return lambda found: not inner(found)
    if isinstance(node, Or) and all(isinstance(c, Term) for c in node.children):
        pairs = tuple((needles.id(t), t.mask) for t in node.children if isinstance(t, Term))
        return lambda found: any(found.get(nid, 0) & mask for nid, mask in pairs)
    parts = tuple(_compile(c, needles) for c in node.children)
    if isinstance(node, And):
        return lambda found: all(part(found) for part in parts)
    return lambda found: any(part(found) for part in parts)


class TopicMatcher:
    """A compiled set of topics; build with :meth:`build`."""

    def __init__(
        self, topics: list[_Topic], needles: _Needles, errors: dict[str, QueryError]
    ) -> None:
        self._topics = topics
        self._codes = needles.codes()
        self._exact = needles.automaton(False, self._codes)
        self._folded = needles.automaton(True, self._codes)
        self._kinds = [
            (a.search, a.ids, get)
            for a, get in ((self._exact, EXACT), (self._folded, FOLDED))
            if a is not None
        ]
        self.errors = errors
        by_needle: dict[int, list[int]] = {}
        direct: dict[int, list[tuple[int, int, int]]] = {}
        always: list[int] = []
        for index, topic in enumerate(topics):
            if _is_flat_or(topic.query.root):
                for ordinal, (nid, mask, _label) in enumerate(topic.positives):
                    direct.setdefault(nid, []).append((index, mask, ordinal))
            elif topic.triggers is None:
                always.append(index)
            else:
                for nid in topic.triggers:
                    by_needle.setdefault(nid, []).append(index)
        self._always = tuple(always)
        self._triggers = {nid: tuple(ix) for nid, ix in by_needle.items()}
        self._direct = {nid: tuple(entries) for nid, entries in direct.items()}

    @classmethod
    def build(
        cls, topics: Mapping[str, str], *, refs: Mapping[str, str] | None = None
    ) -> TopicMatcher:
        """Compile ``slug → query text``; a bad topic goes to ``.errors`` and is skipped.

        ``@slug`` references resolve among ``topics`` and, failing that, ``refs`` (e.g. disabled
        topics that others still include but that should not match on their own).
        """
        extra = refs or {}

        def resolve(slug: str) -> str | None:
            return topics.get(slug, extra.get(slug))

        compiled: list[_Topic] = []
        errors: dict[str, QueryError] = {}
        needles = _Needles()
        for slug, text in topics.items():
            try:
                query = parse_topic(text, resolve, slug)
            except QueryError as exc:
                errors[slug] = exc
                continue
            positives = tuple(
                (needles.id(term), term.mask, term.label)
                for term, positive in query.terms()
                if positive
            )
            trig = triggers(query.root)
            trigger_ids = None if trig is None else tuple(needles.id(t) for t in trig[1])
            check = _compile(query.root, needles)
            compiled.append(_Topic(slug, query, check, positives, trigger_ids))
        return cls(compiled, needles, errors)

    def __len__(self) -> int:
        return len(self._topics)

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self._topics]

    def queries(self) -> dict[str, Query]:
        return {t.slug: t.query for t in self._topics}

    def scan(self, d: Document) -> Found:
        """Every needle present in ``d`` with the fields it occurs in."""
        return self._scan(d, [])

    def _scan(self, d: Document, search: list[Iterable[tuple[str, ...]]]) -> Found:
        """:meth:`scan`, scanning each field's syllable codes (:mod:`.codes`); each field's
        chunks' search keys are appended to ``search``."""
        found: Found = {}
        for f in d.fields:
            bit = f.bit
            coded = self._codes.lookup(f.chunks)
            search.append(map(SEARCH, coded))
            for automaton, ids, get in self._kinds:
                # every occurrence of every needle, overlapping ones too (as the streams' scan)
                for i, _start, _end in automaton.find_matches_as_indexes(
                    "".join(map(get, coded)), True
                ):
                    nid = ids[i]
                    found[nid] = found.get(nid, 0) | bit
        return found

    def _direct_hits(self, found: Found) -> tuple[dict[int, list[int]], set[int]]:
        """Flat-OR topics decided from ``found`` (index → ordinals of matched positive terms),
        and the other topics to evaluate (those with a trigger present, and the triggerless)."""
        hits: dict[int, list[int]] = {}
        candidates: set[int] = set(self._always)
        direct, triggers = self._direct, self._triggers
        for nid, bits in found.items():
            for index, mask, ordinal in direct.get(nid, ()):
                if bits & mask:
                    hits.setdefault(index, []).append(ordinal)
            more = triggers.get(nid)
            if more is not None:
                candidates.update(more)
        return hits, candidates

    def match(self, d: Document) -> dict[str, list[str]]:
        """``slug → matched term labels`` for every matching topic, in topic order.

        Labels are in query order.  A flat OR of terms (alias lists, beats) is decided straight
        from the found table; other topics are evaluated when one of their triggers was found.
        """
        return self._matches(self.scan(d))

    def search_and_match(self, d: Document) -> tuple[str, dict[str, list[str]]]:
        """``(search_keys(d), self.match(d))`` from one lookup per chunk (ingest's step for
        every article: :func:`feedsvc.matching.worker.match_text`)."""
        search: list[Iterable[tuple[str, ...]]] = []
        found = self._scan(d, search)
        return join_search_keys(chain.from_iterable(search)), self._matches(found)

    def _matches(self, found: Found) -> dict[str, list[str]]:
        hits, candidates = self._direct_hits(found)
        for index in candidates:
            topic = self._topics[index]
            if topic.check(found):
                terms = enumerate(topic.positives)
                hits[index] = [i for i, (nid, mask, _) in terms if found.get(nid, 0) & mask]
        result: dict[str, list[str]] = {}
        topics = self._topics
        for index in sorted(hits):
            found_terms, ordinals = topics[index].positives, hits[index]
            if len(ordinals) == 1:  # the common case, kept cheap
                labels = [found_terms[ordinals[0]][2]]
            else:
                labels = list(dict.fromkeys(found_terms[i][2] for i in sorted(ordinals)))
            result[topics[index].slug] = labels
        return result

    def match_slugs(self, d: Document) -> list[str]:
        """The slugs :meth:`match` would return, without working out labels (``feedsvc match
        --topics`` prints slugs only)."""
        found = self.scan(d)
        hits, candidates = self._direct_hits(found)
        topics = self._topics
        matched = set(hits)
        matched.update(i for i in candidates if topics[i].check(found))
        return [topics[i].slug for i in sorted(matched)]


def _is_flat_or(node: Node) -> bool:
    """A single term or an OR of terms: true exactly when one of its terms is present."""
    return isinstance(node, Term) or (
        isinstance(node, Or) and all(isinstance(c, Term) for c in node.children)
    )
