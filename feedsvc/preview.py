"""Topic preview: what would this query match among recently stored articles?

Shared by ``feedsvc topics preview``, the API and the web admin's live editor, so the preview an
admin sees is computed exactly like ingest matching (same normaliser, same evaluator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from feedsvc.db import Database
from feedsvc.matching import Explanation, document_from_article, explain, parse_query
from feedsvc.store.articles import StoredArticle, latest_articles
from feedsvc.store.topics import list_topics

BROAD_SHARE = 0.3  # a term matching more than this share of articles is flagged


@dataclass
class Sample:
    stored: StoredArticle
    explanation: Explanation


@dataclass
class PreviewResult:
    query: str
    scanned: int
    count: int
    samples: list[Sample] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def resolver(db: Database) -> Callable[[str], str | None]:
    with db.read() as conn:
        queries = {t.slug: t.query for t in list_topics(conn)}
    return queries.get


def preview(db: Database, query: str, *, scan: int = 2000, samples: int = 10) -> PreviewResult:
    """Raises :class:`feedsvc.matching.QueryError` for an invalid query."""
    parsed = parse_query(query, resolver(db))
    with db.read() as conn:
        recent = latest_articles(conn, scan)
    result = PreviewResult(query=query, scanned=len(recent), count=0)
    term_counts: dict[str, int] = {}
    for stored in recent:
        explanation = explain(parsed, document_from_article(stored.article))
        if explanation is None:
            continue
        result.count += 1
        for term in {hit.term for hit in explanation.hits}:
            term_counts[term] = term_counts.get(term, 0) + 1
        if len(result.samples) < samples:
            result.samples.append(Sample(stored, explanation))
    if result.scanned >= 20:
        for term, n in sorted(term_counts.items(), key=lambda kv: -kv[1]):
            if n / result.scanned > BROAD_SHARE:
                result.warnings.append(
                    f"term {term} matches {n} of {result.scanned} recent articles "
                    f"({n / result.scanned:.0%}): too broad?"
                )
    return result
