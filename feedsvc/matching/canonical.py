"""A canonical form of a parsed query: equal for queries that match the same way by construction.

Used to key caches of query results (search feeds), so ``?q=Kiến Thụy``, ``?q=kiến  thuỵ``,
``?q=thuỵ kiến`` and ``?q=(kiến thụy) kiến`` share one entry instead of each costing a search.
What the parser already normalises — case, Unicode form, tone-mark placement, spacing, quoting
of one-syllable words, ``@slug`` expansion — arrives here as equal syllable keys; on top of it:

* a term is its keys, ``~`` and field mask only (the label and position as typed are dropped);
* AND and OR are commutative, associative and idempotent: children are flattened, de-duplicated
  and sorted; a group left with one child is that child;
* ``NOT NOT x`` is ``x``.

Nothing else is rewritten (no absorption, no De Morgan): two queries with the same canonical form
match the same documents, which is all a cache key needs; the converse is not attempted.
"""

from __future__ import annotations

import hashlib

from .query import And, Node, Not, Or, Query, Term

Canonical = tuple[object, ...]


def canonical_form(node: Node) -> Canonical:
    """A hashable, order-independent form of ``node`` (see the module docstring)."""
    if isinstance(node, Term):
        return ("t", node.keys, node.folded, node.mask)
    if isinstance(node, Not):
        inner = canonical_form(node.child)
        return inner[1] if inner[0] == "n" else ("n", inner)  # type: ignore[return-value]
    kind = "and" if isinstance(node, And) else "or"
    assert isinstance(node, And | Or)
    children: set[Canonical] = set()
    for child in node.children:
        form = canonical_form(child)
        if form[0] == kind:
            children.update(form[1])  # type: ignore[arg-type]
        else:
            children.add(form)
    if len(children) == 1:
        return children.pop()
    return (kind, tuple(sorted(children, key=repr)))


def query_digest(query: Query) -> str:
    """SHA-256 (hex) of the canonical form: a fixed-size cache key for any query size."""
    return hashlib.sha256(repr(canonical_form(query.root)).encode("utf-8")).hexdigest()
