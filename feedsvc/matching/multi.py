"""Many topics, one pass over each article.

Every term of every topic becomes a needle (``" k1 k2 "``) in one of two Aho-Corasick automata
(exact keys, folded keys).  Scanning a document's two joined key streams once yields every needle
that occurs and in which fields — which is *all* a query needs, so topics are then evaluated from
that table without touching the text again.

Only *candidate* topics are evaluated: a topic is a candidate when one of its trigger terms was
found.  The triggers are its positive terms (under an even number of NOTs).  This is complete
because the parser rejects any query that is true when every term is false: in negation normal
form a query is monotone in its literals, so with every positive term absent it is at most its
all-false value, i.e. false.  Hence every match has at least one positive term present, ``a OR b``
included.

A built matcher is immutable: rebuild it when topics change and swap the reference.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ahocorasick

from .document import Document
from .parser import parse_topic
from .query import And, Node, Not, Query, QueryError, Term

Found = dict[int, int]  # needle id → bitmask of fields where it occurs
Check = Callable[[Found], bool]


@dataclass(frozen=True, slots=True)
class _Topic:
    slug: str
    query: Query
    check: Check
    positives: tuple[tuple[int, int, str], ...]  # (needle id, field mask, label)


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

    def automaton(self, folded: bool) -> Any | None:
        words = [(needle, i) for (f, needle), i in self.ids.items() if f == folded]
        if not words:
            return None
        auto = ahocorasick.Automaton()
        for needle, i in words:
            auto.add_word(needle, i)
        auto.make_automaton()
        return auto


def _compile(node: Node, needles: _Needles) -> Check:
    """Turn an AST into a closure over the ``found`` table."""
    if isinstance(node, Term):
        nid, mask = needles.id(node), node.mask
        return lambda found: bool(found.get(nid, 0) & mask)
    if isinstance(node, Not):
        inner = _compile(node.child, needles)
        return lambda found: not inner(found)
    parts = tuple(_compile(c, needles) for c in node.children)
    if isinstance(node, And):
        return lambda found: all(p(found) for p in parts)
    return lambda found: any(p(found) for p in parts)


class TopicMatcher:
    """A compiled set of topics; build with :meth:`build`."""

    def __init__(
        self, topics: list[_Topic], needles: _Needles, errors: dict[str, QueryError]
    ) -> None:
        self._topics = topics
        self._exact = needles.automaton(False)
        self._folded = needles.automaton(True)
        self.errors = errors
        triggers: dict[int, list[int]] = {}
        for index, topic in enumerate(topics):
            for nid in dict.fromkeys(nid for nid, _mask, _label in topic.positives):
                triggers.setdefault(nid, []).append(index)
        self._triggers = {nid: tuple(ix) for nid, ix in triggers.items()}

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
            compiled.append(_Topic(slug, query, _compile(query.root, needles), positives))
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
        found: Found = {}
        if self._exact is not None and d.fields:
            _scan(self._exact, d.exact_all, d.exact_starts, d.bits, found)
        if self._folded is not None and d.fields:
            _scan(self._folded, d.folded_all, d.folded_starts, d.bits, found)
        return found

    def match(self, d: Document) -> dict[str, list[str]]:
        """``slug → matched term labels`` for every matching topic, in topic order."""
        found = self.scan(d)
        candidates: set[int] = set()
        triggers = self._triggers
        for nid in found:
            hit = triggers.get(nid)
            if hit is not None:
                candidates.update(hit)
        result: dict[str, list[str]] = {}
        for index in sorted(candidates):
            topic = self._topics[index]
            if topic.check(found):
                labels = (lab for nid, mask, lab in topic.positives if found.get(nid, 0) & mask)
                result[topic.slug] = list(dict.fromkeys(labels))
        return result


def _scan(
    auto: Any, text: str, starts: tuple[int, ...], bits: tuple[int, ...], found: Found
) -> None:
    """Record each automaton hit in ``found`` under the bit of the field it falls in."""
    if len(starts) == 1:
        bit = bits[0]
        for _end, nid in auto.iter(text):
            found[nid] = found.get(nid, 0) | bit
        return
    for end, nid in auto.iter(text):
        bit = bits[bisect_right(starts, end) - 1]
        found[nid] = found.get(nid, 0) | bit
