"""What follows a committed ingest batch: its counts in the tick's result, one warning per row
quarantined for the first time, one per URL field stored without the user name and password
its row held (:func:`say_dropped`), and the after-commit listeners (feeds, the dispatchers'
wake-up), none of which may undo the commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from feedsvc.article_urls import DROPPED
from feedsvc.articles import Article
from feedsvc.db.outage import report as outage_report
from feedsvc.ingest.model import AfterCommit, Change, TickResult
from feedsvc.keys import spelled
from feedsvc.store.quarantine import Quarantined

log = logging.getLogger(__name__)


def report(
    source: str,
    result: TickResult,
    changes: Sequence[Change],
    fresh: Sequence[Quarantined],
    listeners: Sequence[AfterCommit],
) -> None:
    """Count ``changes`` and ``fresh`` (rows of source ``source`` quarantined, not listed
    before) into ``result``, log each of ``fresh``, and call ``listeners`` with the changes
    (a listener's exception is logged, never raised: a state-DB outage as one line of that
    outage, :func:`feedsvc.db.outage.report` — the feeds' render it stopped is retried at the
    next sync — anything else with its traceback)."""
    for q in fresh:
        log.warning(
            "source %s row id=%s%s quarantined (%s): %s",
            source,
            q.source_id,
            f" ({spelled(q.source_key)})" if q.source_key else "",
            q.stage,
            q.reason,
        )
    result.quarantined += fresh
    result.stored += len(changes)
    result.new += sum(c.is_new for c in changes)
    result.updated += sum(not c.is_new for c in changes)
    result.matches += sum(len(c.topic_ids) for c in changes)
    if changes:
        for callback in listeners:
            try:
                callback(changes)
            except Exception as exc:  # a broken listener must not undo a committed ingest
                if not outage_report(exc, "after-ingest"):  # a full disk: no traceback
                    log.exception("after-ingest callback failed")


def say_dropped(
    source: str, items: Iterable[tuple[str, Article]], changes: Sequence[Change]
) -> None:
    """Log, for each of ``items`` (``(source row id, article)``) stored by this batch
    (``changes``: new or a new version, so an overlap re-read of the row says nothing again),
    each URL field whose user name and password the parse dropped
    (``Article.credentials_dropped``), naming the row, its key and the field, and the URL as
    stored (without them): the CMS row is the one to correct. Never the password itself."""
    stored = {id(c.article) for c in changes}  # the item's own article: not another row's
    for row_id, article in items:
        if not article.credentials_dropped or id(article) not in stored:
            continue
        for name in article.credentials_dropped:
            log.warning(
                "source %s row id=%s (%s): %s %s %s",
                source,
                row_id,
                spelled(article.source_key),
                name,
                DROPPED,
                article.url if name == "url" else article.image_url,
            )
