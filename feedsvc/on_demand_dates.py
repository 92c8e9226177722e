"""The dates of feeds rendered on demand (``feedsvc.on_demand``: search feeds, ``?limit=``
variants) — their ``Last-Modified``, the date it shows, and their own feed-level date — from
the changes they show (stored articles' ``last_changed_at`` and ``published_at``) and the date
of the settings they show (:func:`settings_dated`): nothing else is stored for them, so nothing
else could date them alike on every replica. Pure but for the reads of :func:`limit_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.feeds.model import DATED_BY, EMPTY_FEED_DATE
from feedsvc.http_dates import utc_seconds
from feedsvc.store.article_reads import StoredArticle, topic_last_change
from feedsvc.store.records import Topic
from feedsvc.store.snapshots import SECOND, feed_mark
from feedsvc.web.http_cache import Snapshot


def results_modified(
    listed: Sequence[StoredArticle],
    left_out: Sequence[StoredArticle],
    now: datetime,
    changed: datetime | None = None,
) -> datetime:
    """A search feed's ``Last-Modified``: no earlier than the last time its results changed,
    never after ``now`` (issue #13 §1). That is the latest of, per listed article, when it
    appeared (its ``published_at``: a scheduled one appears then) and when feedsvc stored its
    current state (a late article joining old results, an edit, an unhide), per matching
    article left out, when it was withdrawn or hidden (it left then), and ``changed``, the
    store's last article change (:func:`~feedsvc.store.article_reads.last_article_change`): an
    article edited so it no longer matches is in neither list, and nothing records that it
    once did. The newest item's date alone would stay put when a late article joins or one is
    taken down or edited out, and readers polling with only If-Modified-Since would get 304
    for ever; an unrelated change costs such a reader one 200 of the same bytes (a reader
    sending the ETag is answered by it alone)."""
    moments = [s.article.published_at for s in listed]
    moments += [s.changed_at for s in (*listed, *left_out) if s.changed_at is not None]
    moments += [changed] if changed is not None else []
    return min(max(moments, default=EMPTY_FEED_DATE), now)


def rendered_modified(shown: datetime, rendered_at: datetime | None) -> datetime:
    """An on-demand render's ``Last-Modified``: the date of what it shows (``shown``:
    :func:`results_modified`, :func:`limit_modified`) or, when later, of what it is rendered
    with besides the articles (``rendered_at``: ``Served.rendered_at``, the stored digest of
    the settings their bytes show — the site's title, URL and language, the public URL,
    feedsvc's version; the reader page's also its timezone —, dated by :func:`settings_dated`,
    never ahead of the clock). Why: a restart with another ``site.title``
    changed these feeds' bytes, not their date, and a reader polling with only
    If-Modified-Since kept the old title (a tester's)."""
    return shown if rendered_at is None else max(shown, rendered_at)


def rendered_changed(shown: datetime | None, rendered_at: datetime | None) -> datetime | None:
    """An on-demand render's own date (``FeedMeta.changed``: RSS ``lastBuildDate``, Atom
    ``updated``; JSON Feed has none) given the date of what it shows (``shown``:
    ``SearchResult.changed_at``, :func:`limit_changed`): that, or when later the date of the
    settings its bytes show (``rendered_at``, as :func:`rendered_modified` takes it), so it is
    the instant of its ``Last-Modified`` after a restart with other shown settings, as a topic
    feed's is. Why: only ``Last-Modified`` took the settings' date; a restart with another
    ``site.title`` left ``lastBuildDate``/``updated`` at the results' date, and changing the
    title back served the first version's bytes (its ETag) again under a later date (a
    tester's, D7). Only the store's last change anywhere stays out (it would change every
    search feed's bytes at any article's change): ``Last-Modified`` alone moves with it."""
    if rendered_at is None:
        return shown
    return rendered_at if shown is None else max(shown, rendered_at)


def settings_dated(started: datetime, dated_by: Iterable[datetime | None]) -> datetime:
    """The date a process started at ``started`` stores a new rendering-settings digest with:
    the whole second before ``started``'s, unless something that dated the process before's
    on-demand renders (``dated_by``: the store's last article change, the digests it replaces,
    the topics' versions) lies in that second or later; then the start of ``started``'s second.
    Never later than ``started``, so never ahead of the clock (RFC 9110 §8.8.2.1).

    Why the second before: dated ``started`` itself, this process's renders within that
    second were sent the second before (:func:`shown_modified`) and the next restart with the
    same settings sent that second: ``Last-Modified`` moved with the same ETag and bytes, and
    If-Modified-Since got a 200 (a tester's). A date in a passed second is sent as it is.
    Why not always: a process before, rendering in ``started``'s second a feed dated by a
    change in the second before, sent that second; the new settings' bytes dated so would have
    been answered 304 to its reader. Every on-demand date sent is a whole second earlier than
    the moment of its render, so the old process sent nothing as late as ``started``'s second.
    Why not the second after the latest change (the reverted fix of 8fb0525b): with a change in
    ``started``'s second that was ahead of the clock, and so were the feeds it dated."""
    this = utc_seconds(started)
    before = this - SECOND
    latest = max((m for m in dated_by if m is not None), default=None)
    return before if latest is None or latest < before else this


def shown_modified(last_modified: datetime, now: datetime) -> datetime | None:
    """The ``Last-Modified`` an on-demand render made at ``now`` shows
    (:attr:`~feedsvc.web.http_cache.Snapshot.shown`): None (its own date) once the second of
    that date has passed; else the second before it. Why: these feeds are dated by the changes
    they show, at one-second resolution, and nothing stored tells one render from the next, so
    a render made within the second of its date may miss a change later in that second; the
    render after it is dated that same second, and a reader that sent back the first one's
    date was answered 304 (it kept a taken-down article). Shown a second earlier, the date gets
    that reader the next render once more; If-Modified-Since is compared with the render's own
    date, so a reader of an older version still gets this one."""
    second = utc_seconds(last_modified)
    return None if now >= second + SECOND else second - SECOND


def newest(articles: Sequence[Article]) -> datetime:
    """The feed's Last-Modified: its newest item's update, or the empty-feed date."""
    return max(
        (max(a.updated_at or a.published_at, a.published_at) for a in articles),
        default=EMPTY_FEED_DATE,
    )


def limit_modified(
    base: Snapshot | None, items: Sequence[Article], topic: Topic, changed: datetime | None
) -> datetime:
    """A ``?limit=`` variant's ``Last-Modified``: the latest of its default feed's (``base``,
    or without one its newest item's date), the topic's version (an edit, a backfill:
    ``updated_at``) and the store's last article change (``changed``:
    :func:`~feedsvc.store.article_reads.last_article_change`). The default feed's alone stayed
    put when an article past its items was taken down, corrected or edited out of the topic:
    the variant's bytes changed, its date did not, and a reader polling it with only
    If-Modified-Since got 304 and kept the withdrawn article (a tester's, 2026-12-06)."""
    moments = [base.last_modified if base else newest(items), topic.updated_at]
    return max([*moments, changed] if changed is not None else moments)


def limit_changed(
    conn: Connection, topic: Topic, items: Sequence[Article], limit: int, now: datetime
) -> datetime | None:
    """A ``?limit=`` variant's own date (``FeedMeta.changed``): the latest of its default
    feed's last change (when that feed's stored JSON Feed bytes last changed,
    ``publish.metas.topic_feed_dated``: an item taken down, edited out, corrected) and of the
    topic's articles within the span its ``items`` cover, shown or not
    (:func:`~feedsvc.store.article_reads.topic_last_change`: one taken down past the default
    items). From the state DB alone, so the same state renders the same bytes; an article edited
    out of the topic past the default items is not seen (its match row went with the edit), and
    only the variant's Last-Modified (:func:`limit_modified`) moves then."""
    since = items[-1].published_at if items and len(items) >= limit else None
    default = feed_mark(conn, topic.slug, DATED_BY)
    moments = [topic_last_change(conn, topic.id, now, since)]
    moments += [default.rendered_at] if default is not None else []
    return max((m for m in moments if m is not None), default=None)
