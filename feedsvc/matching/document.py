"""Normalised articles: built once per article, then matched against any number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.articles import Article

from .normalize import streams, visible_text
from .query import FIELDS

#: The order fields are laid out in a document (bits: :data:`feedsvc.matching.query.FIELDS`).
FIELD_ORDER = ("title", "body", "tag", "section", "author")


@dataclass(frozen=True, slots=True)
class Field:
    """One field (or one tag) of a document: visible text plus its key streams."""

    name: str
    text: str  # cleaned visible text; highlight spans index into it
    exact: str
    folded: str

    @property
    def bit(self) -> int:
        return FIELDS[self.name]


@dataclass(frozen=True, slots=True)
class Document:
    """All fields of one article, in :data:`FIELD_ORDER` (each tag is its own field).

    Nothing can match across two fields or two tags: each is searched on its own.
    """

    fields: tuple[Field, ...]


def make_field(name: str, markup: str | None) -> Field | None:
    """Normalise one field; None when it has no visible text."""
    text = visible_text(markup).strip()
    if not text:
        return None
    s = streams(text)
    return Field(name, text, s.exact, s.folded)


def _join_blocks(*parts: str | None) -> str:
    """Visible text of several HTML/plain parts, separated by a sentence break."""
    return "\n".join(t for t in (visible_text(p).strip() for p in parts) if t)


def build_document(
    title: str | None,
    summary: str | None,
    body: str | None,
    tags: Iterable[str] = (),
    section: str | None = None,
    author: str | None = None,
) -> Document:
    """The one place that decides which article parts go into which field."""
    fields: list[Field | None] = [make_field("title", title)]
    body_text = _join_blocks(summary, body)
    if body_text:
        s = streams(body_text)
        fields.append(Field("body", body_text, s.exact, s.folded))
    fields.extend(make_field("tag", t) for t in tags)
    fields.append(make_field("section", section))
    fields.append(make_field("author", author))
    return Document(tuple(f for f in fields if f is not None))


def document_from_article(a: Article) -> Document:
    """Normalise an :class:`~feedsvc.articles.Article` (body = summary + body)."""
    return build_document(a.title, a.summary, a.body, a.tags, a.section, a.author)


def document_from_text(
    title: str,
    body_html: str = "",
    *,
    summary: str | None = None,
    tags: Iterable[str] = (),
    section: str | None = None,
    author: str | None = None,
) -> Document:
    """Convenience for tests, previews and the CLI: a document from loose strings."""
    return build_document(title, summary, body_html, tags, section, author)


def search_keys(d: Document) -> str:
    """Space-separated distinct exact and folded keys of every field, for an FTS index.

    Re-check every FTS hit with the matcher: the keys lose order and sentence boundaries.
    """
    # one split of all streams and a dict for first-seen order: C loops, not a Python one per
    # key (this ran ~130 µs per article in ingest, more than the matching at 100 topics)
    seen = dict.fromkeys(" ".join([s for f in d.fields for s in (f.exact, f.folded)]).split())
    seen.pop("|", None)
    return " ".join(seen)
