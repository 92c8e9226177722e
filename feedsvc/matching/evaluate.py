"""Matching one query against one document, and explaining the match."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from .document import Document, Field
from .normalize import Token, tokens
from .query import Query, Term, evaluate

SNIPPET_CONTEXT = 60  # characters of context on each side of a highlighted match


def term_in_field(term: Term, f: Field) -> bool:
    """True when ``term`` occurs in ``f`` (whole syllables, adjacent, one sentence)."""
    return bool(term.mask & f.bit) and term.needle in (f.folded if term.folded else f.exact)


def term_in_document(term: Term, d: Document) -> bool:
    return any(term_in_field(term, f) for f in d.fields)


def match_document(q: Query, d: Document) -> bool:
    """Does ``d`` match ``q``?"""
    return evaluate(q.root, lambda t: term_in_document(t, d))


@dataclass(frozen=True, slots=True)
class Hit:
    """One matched term in one field, with a snippet around its first occurrence."""

    term: str
    field: str
    snippet_html: str
    snippet_text: str

    def to_json(self) -> dict[str, str]:
        return {
            "term": self.term,
            "field": self.field,
            "snippet_html": self.snippet_html,
            "snippet_text": self.snippet_text,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    hits: list[Hit]

    def to_json(self) -> dict[str, Any]:
        return {"hits": [h.to_json() for h in self.hits]}


def find_span(term: Term, toks: list[Token]) -> tuple[int, int] | None:
    """Character span of the first occurrence of ``term`` in a field's tokens."""
    keys = term.keys
    n = len(keys)
    for i in range(len(toks) - n + 1):
        window = toks[i : i + n]
        got = tuple(t.folded if term.folded else t.exact for t in window)
        if got == keys and window[0].sentence == window[-1].sentence:
            return window[0].start, window[-1].end
    return None


def snippet(text: str, start: int, end: int) -> tuple[str, str]:
    """``(html, plain)`` snippets: ``<mark>`` / ``[[ ]]`` around ``text[start:end]``."""
    lo = max(0, start - SNIPPET_CONTEXT)
    hi = min(len(text), end + SNIPPET_CONTEXT)
    if lo > 0 and " " in text[lo:start]:
        lo = text.index(" ", lo) + 1
    if hi < len(text) and " " in text[end:hi]:
        hi = text.rindex(" ", end, hi)
    pre = ("…" if lo > 0 else "") + " ".join(text[lo:start].split())
    post = " ".join(text[end:hi].split()) + ("…" if hi < len(text) else "")
    pre += " " if text[lo:start][-1:].isspace() and pre else ""
    post = (" " if text[end:hi][:1].isspace() and post else "") + post
    mid = text[start:end]
    as_html = f"{html.escape(pre)}<mark>{html.escape(mid)}</mark>{html.escape(post)}"
    return as_html, f"{pre}[[{mid}]]{post}"


def explain(q: Query, d: Document) -> Explanation | None:
    """Which positive terms matched in which fields, with snippets; None if ``d`` doesn't match."""
    if not match_document(q, d):
        return None
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    cache: dict[int, list[Token]] = {}
    for term, positive in q.terms():
        if not positive:
            continue
        for idx, f in enumerate(d.fields):
            if (term.label, f.name) in seen or not term_in_field(term, f):
                continue
            toks = cache.get(idx)
            if toks is None:
                toks = cache[idx] = tokens(f.text)
            span = find_span(term, toks)
            if span is None:  # pragma: no cover - streams and tokens share one segmentation
                continue
            seen.add((term.label, f.name))
            as_html, as_text = snippet(f.text, *span)
            hits.append(Hit(term.label, f.name, as_html, as_text))
    return Explanation(hits)
