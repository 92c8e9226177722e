"""Normalised articles: built once per article, then matched against any number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from itertools import chain
from operator import itemgetter

from feedsvc.articles import Article
from feedsvc.markup import field_literals

from .normalize import (
    Streams,
    chunk_keys,
    chunks,
    join_search_keys,
    streams_of,
    visible_text,
)
from .query import FIELDS

_SEARCH = itemgetter(2)  # ChunkKeys.search
#: The order fields are laid out in a document (bits: :data:`feedsvc.matching.query.FIELDS`).
FIELD_ORDER = ("title", "body", "tag", "section", "author")


@dataclass(frozen=True, slots=True)
class Field:
    """One field (or one tag) of a document: visible text and its :func:`chunks`.

    The key streams (``exact``, ``folded``) are built on first use: the topic matcher and the
    search keys work from the chunks (issue 17 §2), single queries and chat queries from the
    streams.
    """

    name: str
    text: str  # cleaned visible text; highlight spans index into it
    chunks: tuple[str, ...]
    _streams: Streams | None = dataclass_field(default=None, compare=False, repr=False)

    @property
    def bit(self) -> int:
        return FIELDS[self.name]

    @property
    def exact(self) -> str:
        return self.streams.exact

    @property
    def folded(self) -> str:
        return self.streams.folded

    @property
    def streams(self) -> Streams:
        s = self._streams
        if s is None:  # built once; frozen means "no field changes", not "nothing cached"
            s = streams_of(self.chunks)
            object.__setattr__(self, "_streams", s)
        return s


@dataclass(frozen=True, slots=True)
class Document:
    """All fields of one article, in :data:`FIELD_ORDER` (each tag is its own field).

    Nothing can match across two fields or two tags: each is searched on its own.
    """

    fields: tuple[Field, ...]


def make_field(name: str, markup: str | None) -> Field | None:
    """Normalise one text field (title, tag, section, author:
    :func:`~.normalize.visible_field_text`); None when it has no visible text."""
    if markup and "<" in markup:  # inline fast path of visible_field_text: the ingest hot path
        markup = field_literals(markup)
    text = visible_text(markup).strip()
    if not text:
        return None
    return Field(name, text, tuple(chunks(text)))


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
        fields.append(Field("body", body_text, tuple(chunks(body_text))))
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
    """Space-separated distinct exact and folded keys of every field, for an FTS index: in the
    order they first occur, fields in order, a syllable's exact key before its folded one.

    Re-check every FTS hit with the matcher: the keys lose order and sentence boundaries.
    """
    # each chunk's distinct keys are cached with it: one lookup per chunk and one dict for the
    # article; no stream is built or split (that ran ~65 µs per article: issue 17 §2).
    # TopicMatcher.search_and_match gives the same text from its own chunk cache.
    keys = [chunk_keys(f.chunks) for f in d.fields]
    return join_search_keys(map(_SEARCH, chain.from_iterable(keys)))
