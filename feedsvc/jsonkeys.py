"""The one rule for a JSON object that gives a key twice: it is refused, wherever it comes.

RFC 8259 §4 leaves an object with a repeated name to the parser, and parsers differ: Python's
``json`` and Pydantic keep the last value, others the first, so ``{"title": "A", "title":
"B"}`` means different things to different readers and a client with a templating bug changes a
topic without noticing. ``feedsvc import`` and ``match`` (:mod:`feedsvc.jsonlines`) and the
admin API (:mod:`feedsvc.web.api_text`) therefore refuse it, by this module's one reading.

What counts as the same key: the key *after* JSON's escapes are decoded, compared code point by
code point, as RFC 8259 §8.3 compares names and as every model in feedsvc looks a field up.
``"\\u0061"`` is ``"a"`` (the same string spelled another way: a duplicate), and so is an
escaped surrogate pair and the character it encodes. Unicode normalisation is *not* applied:
``"é"`` (NFC, U+00E9) and ``"e\\u0301"`` (NFD) are two different keys, because they are
different strings to every JSON parser and to Pydantic (the NFD one is an unknown field, not a
second ``é``); calling them one key would refuse, as ambiguous, a body whose every reader sees
two names. (Admin-typed *values* are stored in NFC, :mod:`feedsvc.fieldtext`; keys are names.)

Which duplicate is named when there are several: the first repeated occurrence in document
order (``{"a": {"b": 1, "b": 2}, "a": 3}`` names ``a.b``, which comes before the second ``a``);
a third copy of a key is the same fault as the second, named once. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: A step of a position in a JSON value: an object's key, a list's index.
Step = str | int


class DuplicateKey(Exception):
    """A JSON object gives ``key`` more than once; ``loc`` is where: the steps from the document
    down to that object, then the key (``("items", 0, "title")``). Not a ``ValueError``, so a
    reader's ``except ValueError`` (not JSON) cannot take it for a syntax error."""

    def __init__(self, loc: tuple[Step, ...]) -> None:
        self.loc = loc
        self.key = str(loc[-1])
        super().__init__(f"key {self.key!r} given more than once in one object")


class _Repeated(dict[str, Any]):
    """An object that gave a key twice: the last value per key, as ``json`` would keep it, and
    its ``pairs`` in document order, so :func:`_first_repeat` can find which came first."""

    pairs: list[tuple[str, Any]]


def loads_unique(text: str, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``json.loads(text)``, but an object with a key given twice (at any depth, in lists too)
    raises :class:`DuplicateKey` naming the first such key in document order. Anything else
    ``json.loads`` raises (``JSONDecodeError``, ``RecursionError``…) is raised as it is;
    ``parse_constant``, when given, is ``json``'s (NaN, Infinity). One parse: the objects are
    checked as the parser builds them; only a document that holds a duplicate is walked again,
    to name the first."""
    repeated = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        repeated = True
        marked = _Repeated(obj)
        marked.pairs = pairs
        return marked

    if parse_constant is None:
        value = json.loads(text, object_pairs_hook=pairs_hook)
    else:
        value = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=parse_constant)
    if repeated:
        raise DuplicateKey(_first_repeat(value))
    return value


def _first_repeat(value: Any) -> tuple[Step, ...]:
    """Where the first repeated key of ``value`` is, in document order: an object's members are
    visited in the order they were written, each value before the next key (a list's items
    likewise), and a key's second occurrence is a stop in that order. Iterative: a document
    nested as deep as ``json`` reads (about a thousand levels) is walked without Python's
    recursion limit. ``value`` holds a :class:`_Repeated`."""
    todo: list[tuple[tuple[Step, ...], Any]] = [((), value)]
    while todo:
        loc, node = todo.pop()
        if node is _REPEAT:
            return loc
        members: list[tuple[Step, Any]]
        if isinstance(node, _Repeated):
            seen: set[str] = set()
            members = []
            for key, item in node.pairs:
                if key in seen:  # the members before it are visited first (their values too)
                    members.append((key, _REPEAT))
                    break
                seen.add(key)
                members.append((key, item))
        elif isinstance(node, dict):
            members = list(node.items())
        elif isinstance(node, list):
            members = list(enumerate(node))
        else:
            continue
        todo.extend(((*loc, step), item) for step, item in reversed(members))
    raise AssertionError("no repeated key in a document parsed with one")  # pragma: no cover


#: The stop :func:`_first_repeat` puts where a key is given again.
_REPEAT = object()
