"""Which topics a query names as ``@slug``, and which topics reach a topic through such
references at any depth: what a topic's delete is refused for and which topics a change to its
query can break. Read from the lexer's tokens (:mod:`.lexer`), never from characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .lexer import read_tokens
from .query import QueryError


def references(text: str) -> frozenset[str]:
    """The slugs ``text`` names as ``@slug`` (its REF tokens, not its characters: ``@rt-1`` is
    no reference to ``rt``, and ``"email @rt"`` is a phrase). A text the lexer refuses names
    none (a stored query always lexed when it was saved)."""
    try:
        return frozenset(tok.text for tok in read_tokens(text) if tok.kind == "REF")
    except QueryError:
        return frozenset()


def referenced_by(queries: Mapping[str, str]) -> dict[str, set[str]]:
    """Slug → the slugs of ``queries`` (slug → query) that name it as ``@slug`` themselves
    (:func:`references`): what a delete of that slug is refused for, and the first step of
    :func:`users_of`."""
    named_by: dict[str, set[str]] = {}
    for user, query in queries.items():
        for ref in references(query):
            named_by.setdefault(ref, set()).add(user)
    return named_by


def users_of(slug: str, queries: Mapping[str, str]) -> frozenset[str]:
    """The slugs of ``queries`` (slug → query) whose query reaches ``slug`` through ``@slug``
    references at any depth: ``a`` → ``@b``, ``b`` → ``@slug`` gives ``{a, b}``. A change to
    ``slug``'s query can break each of them (nesting depth, expanded terms), not only those
    naming it (a 10-deep chain grew to 11 and its first topic was skipped by the matcher)."""
    return users_of_any([slug], queries)


def users_of_any(slugs: Iterable[str], queries: Mapping[str, str]) -> frozenset[str]:
    """:func:`users_of` for several slugs at once: the union, with every query lexed once.
    Asked slug by slug, a topics file of 1,000 new topics lexed every query 1,000 times (a
    million lexes, 30 s of ``topics import`` holding SQLite's write lock: a tester's)."""
    named_by = referenced_by(queries)
    found: set[str] = set()
    todo = list(slugs)
    while todo:
        for user in named_by.get(todo.pop(), ()):
            if user not in found:
                found.add(user)
                todo.append(user)
    return frozenset(found)
