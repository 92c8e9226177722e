"""Which stored articles *could* match a query: key sets for the archive search index.

Preview and backfill over a large archive cannot run the matcher on every stored article, so they
ask the database's full-text index over ``articles.search_text`` (the distinct exact and folded
syllable keys of each article, :func:`~feedsvc.matching.search_keys`) for *candidates* and re-check
each candidate with the real matcher.  The index knows neither order, sentence breaks nor fields,
so it can only over-approximate; what must never happen is that it misses a real match.

:func:`candidate_key_sets` turns a query into an OR of AND-sets of keys ("an article containing
every key of at least one set"), following the same reasoning as :func:`.multi.triggers`:

* a term needs all of its keys (a phrase's syllables, order ignored; ``~`` terms use folded keys,
  which ``search_text`` holds too); its field restriction is ignored (the re-check applies it);
* an OR needs one branch, so its sets are the union of its children's; one branch without sets
  (e.g. under a NOT) makes the whole OR unusable;
* an AND needs every child, so the cross product of its usable children's sets is still necessary
  (more selective than one child); past :data:`MAX_SETS` combinations, the child with the fewest
  sets is used alone;
* a NOT gives nothing (absence cannot be looked up).

Only keys made of letters and ASCII digits are used: both backends' tokenizers keep such a key as
one token (SQLite FTS5 ``unicode61``, PostgreSQL's ``simple`` parser), while a key with a stray
combining mark might be split or dropped — except the few letters ``unicode61``'s older Unicode
tables still call marks (:data:`SQLITE_SPLITS`), left out too: SQLite's index keeps no positions
(``detail=none``, migration 0014), so a quoted key it split would be a phrase query, an error
there.  Dropping a key from an AND-set only widens it; a set left empty makes the query unusable
(None: the caller falls back to scanning).
"""

from __future__ import annotations

import unicodedata
from itertools import product

from .normalize import LOOKED_UP_KEY_CHARS
from .query import And, Node, Not, Or, Query, Term

#: Above this many AND-sets an AND falls back to its most selective child.
MAX_SETS = 64
#: Longer keys are left out (PostgreSQL does not index words over 2047 bytes; a long article's
#: search text leaves them out too, :data:`~.normalize.LOOKED_UP_KEY_CHARS`).
MAX_KEY_CHARS = LOOKED_UP_KEY_CHARS

#: Letters to Python's ``unicodedata`` that SQLite's ``unicode61`` tokenizer splits a word at
#: (its Unicode tables predate their change from spacing marks to letters): New
#: Tai Lue vowel signs and tone marks, two Vedic signs. ``tests/test_search_index.py`` checks
#: every letter against the running SQLite.
SQLITE_SPLITS = frozenset(chr(c) for c in (*range(0x19B0, 0x19C1), 0x19C8, 0x19C9, 0x1CF2, 0x1CF3))

KeySets = list[frozenset[str]]


def indexable_key(key: str) -> bool:
    """True when both backends' tokenizers keep ``key`` as exactly one token."""
    return 0 < len(key) <= MAX_KEY_CHARS and all(
        ("0" <= ch <= "9") or (unicodedata.category(ch).startswith("L") and ch not in SQLITE_SPLITS)
        for ch in key
    )


def _sets(node: Node) -> KeySets | None:
    if isinstance(node, Term):
        return [frozenset(k for k in node.keys if indexable_key(k))]
    if isinstance(node, Not):
        return None
    found = [_sets(child) for child in node.children]
    if isinstance(node, Or):
        if any(f is None for f in found):
            return None
        return _dedupe([s for f in found if f is not None for s in f])
    assert isinstance(node, And)
    usable = [f for f in found if f is not None]
    if not usable:
        return None
    size = 1
    for f in usable:
        size *= len(f)
    if size > MAX_SETS:
        return min(usable, key=len)
    return _dedupe([frozenset().union(*combo) for combo in product(*usable)])


def _dedupe(sets: KeySets) -> KeySets:
    """Drop repeated sets and sets that contain another one (``a OR (a AND b)`` needs ``a``)."""
    unique = sorted(set(sets), key=lambda s: (len(s), sorted(s)))
    kept: KeySets = []
    for s in unique:
        if not any(k <= s for k in kept):
            kept.append(s)
    return kept


def candidate_key_sets(query: Query) -> list[list[str]] | None:
    """OR of AND-sets of syllable keys that every match of ``query`` contains; None: no usable
    sets (only negations, or a term without indexable keys), so the caller must scan."""
    sets = _sets(query.root)
    if not sets or any(not s for s in sets):
        return None
    return [sorted(s) for s in sets]
