"""Many queries that come and go one at a time (chats' own queries): add or remove one, match all.

:class:`~feedsvc.matching.multi.TopicMatcher` is built once over a fixed set of topics; its
Aho-Corasick automata cannot take or drop a needle without being rebuilt over *every* needle, which
at thousands of ``@slug``-expanded chat queries took a minute. A :class:`QuerySet` is indexed so
that one :meth:`~QuerySet.add` or :meth:`~QuerySet.remove` costs that query's terms only:

* each needle (``" k1 k2 "``, see :mod:`.normalize`) is a path of syllable keys in a trie,
  reference counted across the queries that use it; a document's needles are found by walking
  the trie from each key of its streams along the keys that follow, which finds exactly the
  automaton's "needle occurs in the key stream" (keys are single-space separated, a sentence
  break is a ``|`` that no key equals);
* a query is looked at only when one of its **trigger** needles is present
  (:func:`~feedsvc.matching.multi.triggers`: every match needs one of them), and a flat OR of terms
  (alias lists) is decided straight from the needles found, without evaluating anything.

So matching cost grows with what an article contains and with the queries it actually concerns, not
with the number of queries held. Terms, masks and evaluation are the same objects and closures as
the topic matcher's (one meaning of a query).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .document import Document
from .multi import Check, Found, _compile, _is_flat_or, triggers
from .query import Query, Term

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One compiled query. The parsed AST is not kept (thousands of queries × 200 terms):
    the check closes over needle ids and masks, and labels are interned strings."""

    check: Check | None  # None: a flat OR, decided from the found needles directly
    positives: tuple[tuple[int, int, str], ...]  # (needle id, field mask, label)
    triggers: tuple[int, ...] | None  # None: evaluated for every article
    needles: tuple[int, ...]  # every needle id the query holds a reference on


@dataclass(slots=True)
class _Needle:
    id: int
    key: tuple[bool, str]  # (folded, " k1 k2 ")
    keys: tuple[str, ...]
    users: int = 0


@dataclass(slots=True)
class _Node:
    """A trie over syllable keys: the path from the root spells a needle's keys."""

    children: dict[str, _Node] = field(default_factory=dict)
    needle: int | None = None  # the id of the needle whose keys end here


class _Interner:
    """``(folded, needle)`` → id, reference counted, each needle a path in one of two tries
    (exact keys, folded keys) so a document scan walks from each of its keys only as far as
    some needle continues — shared prefixes ("công an …") cost one walk, not one test each."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[bool, str], _Needle] = {}
        self.by_id: dict[int, _Needle] = {}
        self.roots = {False: _Node(), True: _Node()}
        self._next = 0
        self.taken: list[int] = []  # ids referenced since the caller last cleared it

    def id(self, term: Term) -> int:
        key = (term.folded, term.needle)
        needle = self.by_key.get(key)
        if needle is None:
            needle = _Needle(self._next, key, term.keys)
            self._next += 1
            self.by_key[key] = self.by_id[needle.id] = needle
            node = self.roots[term.folded]
            for k in term.keys:
                node = node.children.setdefault(k, _Node())
            node.needle = needle.id
        needle.users += 1
        self.taken.append(needle.id)
        return needle.id

    def release(self, ids: tuple[int, ...]) -> None:
        """One reference less on each of ``ids`` (as taken); unused needles are forgotten and
        their trie paths pruned."""
        for nid in ids:
            needle = self.by_id[nid]
            needle.users -= 1
            if needle.users:
                continue
            del self.by_key[needle.key], self.by_id[nid]
            path = [self.roots[needle.key[0]]]
            for k in needle.keys:
                path.append(path[-1].children[k])
            path[-1].needle = None
            for depth in range(len(needle.keys), 0, -1):
                node = path[depth]
                if node.children or node.needle is not None:
                    break
                del path[depth - 1].children[needle.keys[depth - 1]]


class QuerySet(Generic[K]):
    """Parsed queries under keys of type ``K`` (e.g. subscription ids); not thread-safe (its
    owner serialises :meth:`add`/:meth:`remove` with :meth:`match`)."""

    def __init__(self) -> None:
        self._entries: dict[K, _Entry] = {}
        self._needles = _Interner()
        self._direct: dict[int, dict[K, int]] = {}  # needle id → flat-OR key → field mask
        self._triggers: dict[int, set[K]] = {}  # needle id → keys to evaluate when present
        self._always: set[K] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def needles(self) -> int:
        """Distinct needles held (memory grows with these, not with queries sharing them)."""
        return len(self._needles.by_id)

    def add(self, key: K, query: Query) -> None:
        """Compile ``query`` under ``key`` (replacing what ``key`` held); costs its terms only."""
        self.remove(key)
        interner = self._needles
        interner.taken = []
        positives = tuple(
            (interner.id(term), term.mask, sys.intern(term.label))
            for term, positive in query.terms()
            if positive
        )
        flat = _is_flat_or(query.root)
        check = None if flat else _compile(query.root, interner)
        found = None if flat else triggers(query.root)
        trigger_ids = None if found is None else tuple(interner.id(t) for t in found[1])
        entry = _Entry(check, positives, trigger_ids, tuple(interner.taken))
        interner.taken = []
        self._entries[key] = entry
        if flat:
            for nid, mask, _label in positives:
                direct = self._direct.setdefault(nid, {})
                direct[key] = direct.get(key, 0) | mask
        elif trigger_ids is None:
            self._always.add(key)
        else:
            for nid in trigger_ids:
                self._triggers.setdefault(nid, set()).add(key)

    def remove(self, key: K) -> bool:
        """Drop ``key``'s query and every needle no other query uses; False if it had none."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        if entry.check is None:
            for nid, _mask, _label in entry.positives:
                direct = self._direct.get(nid)
                if direct is not None and direct.pop(key, None) is not None and not direct:
                    del self._direct[nid]
        for nid in entry.triggers or ():
            keys = self._triggers.get(nid)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._triggers[nid]
        self._always.discard(key)
        self._needles.release(entry.needles)
        return True

    def scan(self, d: Document) -> Found:
        """Every needle held that occurs in ``d``, with the fields (bits) it occurs in: from
        each key of each stream, the trie is walked along the following keys (a sentence
        break ``|`` is never a key, so no walk crosses one)."""
        found: Found = {}
        roots = self._needles.roots
        for f in d.fields:
            bit = f.bit
            for folded, stream in ((False, f.exact), (True, f.folded)):
                top = roots[folded].children
                if not top:
                    continue
                keys = stream.split()
                end = len(keys)
                for i, k in enumerate(keys):
                    node = top.get(k)
                    j = i + 1
                    while node is not None:
                        if node.needle is not None:
                            found[node.needle] = found.get(node.needle, 0) | bit
                        if j == end or not node.children:
                            break
                        node = node.children.get(keys[j])
                        j += 1
        return found

    def match_keys(self, d: Document) -> set[K]:
        """The keys of every query ``d`` matches (no labels: the cheap form for fan-out)."""
        return self._matched(self.scan(d))

    def match(self, d: Document) -> dict[K, list[str]]:
        """``key → matched term labels`` (query order, distinct) for every query ``d`` matches."""
        found = self.scan(d)
        result: dict[K, list[str]] = {}
        for key in self._matched(found):
            positives = self._entries[key].positives
            labels = [label for nid, mask, label in positives if found.get(nid, 0) & mask]
            result[key] = list(dict.fromkeys(labels))
        return result

    def _matched(self, found: Found) -> set[K]:
        matched: set[K] = set()
        candidates: set[K] = set(self._always)
        for nid, bits in found.items():
            for key, mask in self._direct.get(nid, {}).items():
                if bits & mask:
                    matched.add(key)
            more = self._triggers.get(nid)
            if more:
                candidates |= more
        for key in candidates - matched:
            check = self._entries[key].check
            if check is not None and check(found):
                matched.add(key)
        return matched
