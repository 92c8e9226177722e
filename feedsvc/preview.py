"""Topic preview: what would this query match among the published articles?

Shared by ``feedsvc topics preview``, the API and the web admin's live editor, so the preview an
admin sees is computed exactly like ingest matching (same normaliser, same evaluator).

Over a large archive the matcher cannot look at every article interactively, so when the query
yields key sets (:func:`feedsvc.matching.candidate_key_sets`) the archive search index supplies
candidates from the *whole* archive, newest first, and only those are re-checked; the newest
``scan`` candidates are checked, so the count is exact when there are no more than that.  A
query without usable key sets (e.g. only negations under a NOT) falls back to matching the
newest ``scan`` articles. Samples, counts and the "of N" they are out of are all public
articles (SPEC §10: no hidden, withdrawn or scheduled one): the "of N" counted every stored
row ("1 of all 4" with 3 of the 4 scheduled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from feedsvc.backfill_window import BACKFILL_DAYS, window_start
from feedsvc.bot.typed import keyboard_phrases, plain_quotes
from feedsvc.db import Database
from feedsvc.matching import (
    Explanation,
    candidate_key_sets,
    document_from_article,
    explain,
    match_document,
    parse_typed,
)
from feedsvc.matching.evaluate import term_in_document
from feedsvc.query_hints import OperatorWord, operator_words
from feedsvc.store.article_reads import (
    StoredArticle,
    count_public,
    latest_articles,
    stored_articles,
)
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.topics import list_topics

BROAD_SHARE = 0.3  # a term matching more than this share of articles is flagged


@dataclass
class Sample:
    stored: StoredArticle
    explanation: Explanation


@dataclass(frozen=True)
class BroadTerm:
    """A term matching more than :data:`BROAD_SHARE` of the articles looked at: the preview's
    warning as data, so each front end words it (the admin from the message catalogue)."""

    term: str
    count: int
    scanned: int
    indexed: bool  # ``scanned`` is every stored article (else: the most recent ones)
    exact: bool = True  # False: ``count`` is a lower bound (the preview's, cut at ``scan``)

    @property
    def share(self) -> str:
        """``count`` of ``scanned`` as a percentage, ``≥33%`` when ``count`` is a lower bound:
        "2000 of 6050 (33%)" read as the share where 6,008 (99%) matched (a tester's report)."""
        return f"{'' if self.exact else '≥'}{self.count / self.scanned:.0%}"

    def english(self) -> str:
        least = "" if self.exact else "at least "
        return (
            f"term {self.term} matches {least}{self.count} of "
            f"{scope(self.scanned, self.indexed)} ({self.share}): too broad?"
        )


@dataclass(frozen=True)
class KeyboardQuotes:
    """A phrase typed between a keyboard's quotes (``«an ninh»``, ``'an ninh'``, ``‚an ninh‘``)
    in a topic's query, which the topic language reads as separate words while a chat's
    ``/sub`` and a search feed read the phrase (:mod:`feedsvc.typed_query`): the preview's
    warning as data. ``position``: its first character, counted from 1."""

    typed: str
    phrase: str
    position: int

    def english(self) -> str:
        return (
            f"{self.typed} (character {self.position}) is separate words in a topic's query;"
            f" for the phrase, write {self.phrase}"
        )


def keyboard_quotes(query: str) -> list[KeyboardQuotes]:
    """Each phrase of ``query`` between quotes that are not the language's own
    (:func:`feedsvc.bot.typed.keyboard_phrases`). Why: a topic saved with them matched the
    words anywhere, silently (a tester's); read as the phrase, every saved topic holding them
    would match otherwise after an upgrade. Pure."""
    spans = keyboard_phrases(query)
    return [KeyboardQuotes(query[a:b], plain_quotes(query[a:b]), a + 1) for a, b in spans]


def scope(scanned: int, indexed: bool) -> str:
    """What a preview covered, in English: ``all 30000 published articles`` (every public one,
    through the search index) or ``the 1990 latest published articles`` (no usable index terms:
    the public ones among the newest ``scan`` stored). The one wording of the CLI and the API;
    the admin's is the catalogue's ``preview_count*``, which says the same."""
    if indexed:
        return f"all {scanned} published articles"
    return f"the {scanned} latest published articles"


@dataclass
class PreviewResult:
    """``scanned``: public articles the preview covers (all of them when ``indexed``);
    ``checked``: articles the matcher re-checked; ``exact``: ``count`` is the true number of
    matches among ``scanned`` (False: a lower bound, more candidates than ``scan``)."""

    query: str
    scanned: int
    count: int
    samples: list[Sample] = field(default_factory=list)
    broad_terms: list[BroadTerm] = field(default_factory=list)
    operator_words: list[OperatorWord] = field(default_factory=list)
    keyboard_quotes: list[KeyboardQuotes] = field(default_factory=list)
    indexed: bool = False
    checked: int = 0
    exact: bool = True
    #: of ``count``, the matches published within the default backfill window
    #: (:data:`~feedsvc.backfill_window.BACKFILL_DAYS`): what a save's backfill puts in the feed
    in_window: int = 0
    #: ``in_window`` is the true number (False: a lower bound, the newest ``scan`` checked
    #: all lay within the window and more were not)
    window_exact: bool = True
    window_days: int = BACKFILL_DAYS

    def english(self) -> str:
        """``3 of all 30000 published articles match``; ``at least 2000 of …`` when the count was
        cut at ``scan`` (it read as the number of matches where 3,000 matched)."""
        least = "" if self.exact else "at least "
        verb = "matches" if self.count == 1 else "match"  # "1 of all 10 … match" was said
        return f"{least}{self.count} of {scope(self.scanned, self.indexed)} {verb}"

    def english_window(self) -> str:
        """``topics preview``'s line on the backfill window, beside :meth:`english`."""
        least = "" if self.window_exact else "at least "
        return (
            f"({least}{self.in_window} of them published in the last {self.window_days} days: "
            f"what a backfill puts in the feed, `topics backfill` without --days and the admin's "
            f"backfill on save)"
        )

    @property
    def warnings(self) -> list[str]:
        """The warnings in English (CLI, API): words meant as operators and phrases meant
        by a keyboard's quotes first."""
        said: list[OperatorWord | KeyboardQuotes | BroadTerm] = [
            *self.operator_words,
            *self.keyboard_quotes,
            *self.broad_terms,
        ]
        return [w.english() for w in said]


def topic_queries(db: Database) -> dict[str, str]:
    """Every topic's query by slug (what ``@slug`` resolves to)."""
    with db.read() as conn:
        return {t.slug: t.query for t in list_topics(conn)}


def _stored_slug(queries: dict[str, str], slug: str) -> str:
    """``slug`` as stored when typed in another case (``KIEN-THUY``: a save takes it for
    kien-thuy, so the preview's cycle check must too; a verifier's), else as given."""
    return next((s for s in queries if s.casefold() == slug.casefold()), slug)


def preview(
    db: Database, query: str, *, scan: int = 2000, samples: int = 10, slug: str | None = None
) -> PreviewResult:
    """Raises :class:`feedsvc.matching.QueryError` for an invalid query. ``slug``: the topic
    whose query this is (the admin's editor, the API's ``slug``, ``--slug``), so a reference
    back to it is the cycle a save refuses: the preview counted matches of
    ``"Đồ Sơn" OR @kt-an`` typed into kien-thuy (which @kt-an uses), then Save refused it."""
    queries = topic_queries(db)
    own = _stored_slug(queries, slug) if slug else None
    parsed = parse_typed(query, queries.get, own, saved=queries.get(own) if own else None)
    key_sets = candidate_key_sets(parsed)
    with db.read() as conn:
        now = db.now()  # samples and counts are what readers see: public articles (SPEC §10)
        ids = candidate_ids(conn, key_sets, scan + 1, until=now)
        if ids is None:
            checked = latest_articles(conn, scan, now)
            public = sum(not stored.retired for stored in checked)
            result = PreviewResult(query=query, scanned=public, count=0)
        else:
            checked = stored_articles(conn, ids[:scan])
            total = count_public(conn, now)
            result = PreviewResult(query, total, 0, indexed=True, exact=len(ids) <= scan)
    result.checked = len(checked)
    since = window_start(now)
    cut = not result.exact if result.indexed else len(checked) >= scan  # more not looked at
    result.window_exact = _window_exact(checked, since, cut=cut)
    result.operator_words = operator_words(query)
    result.keyboard_quotes = keyboard_quotes(query)
    checked = [stored for stored in checked if not stored.retired]
    term_counts: dict[str, int] = {}
    positives = [term for term, positive in parsed.terms() if positive]
    for stored in checked:
        document = document_from_article(stored.article)
        if len(result.samples) < samples:
            explanation = explain(parsed, document)
            if explanation is None:
                continue
            result.samples.append(Sample(stored, explanation))
            labels = {hit.term for hit in explanation.hits}
        else:  # snippets are only needed for samples; matching alone is much cheaper
            if not match_document(parsed, document):
                continue
            labels = {t.label for t in positives if term_in_document(t, document)}
        result.count += 1
        result.in_window += since is None or stored.article.published_at >= since
        for term in labels:
            term_counts[term] = term_counts.get(term, 0) + 1
    # among candidates only, counts are lower bounds when not exact: broad terms may go unflagged
    if result.scanned >= 20:
        for term, n in sorted(term_counts.items(), key=lambda kv: -kv[1]):
            if n / result.scanned > BROAD_SHARE:
                broad = BroadTerm(term, n, result.scanned, result.indexed, result.exact)
                result.broad_terms.append(broad)
    return result


def _window_exact(checked: list[StoredArticle], since: datetime | None, *, cut: bool) -> bool:
    """Whether the matches counted in the backfill window are all of them: every article
    looked at (``checked``, newest first) was all there was to look at (``cut`` False), or
    the oldest reaches back before the window, so none of it was left unchecked."""
    if not cut or since is None:
        return not cut
    return bool(checked) and min(s.article.published_at for s in checked) < since
