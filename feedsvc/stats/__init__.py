"""What people follow: subscribers per topic (by channel), alerts sent and feed polls per day,
each topic's newest article, and articles ingested / alerts sent per hour — for the admin's
topics and status pages, their charts, ``GET /api/topics`` and ``GET /api/stats``.

Days and hours are the site's (``site.timezone``): the database buckets by UTC hour
(:mod:`feedsvc.store.stats`) and this module turns hours into local days, so a zone with a
whole-hour offset (Asia/Ho_Chi_Minh) is exact; a half-hour zone counts at most one hour's events
into the neighbouring day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from feedsvc.db import Database
from feedsvc.store import stats as store
from feedsvc.store.article_reads import topic_article_counts
from feedsvc.store.topics import list_topics

MAX_DAYS = 90


@dataclass(frozen=True, slots=True)
class TopicStats:
    """One topic's figures over ``days`` local days (oldest first, today last)."""

    slug: str
    title: str
    enabled: bool
    articles: int
    newest_article: datetime | None
    subscribers: dict[str, int]  # channel → chats
    alerts_per_day: list[tuple[date, int]]
    polls_per_day: list[tuple[date, int]]

    @property
    def subscribers_total(self) -> int:
        return sum(self.subscribers.values())

    @staticmethod
    def average(series: list[tuple[date, int]]) -> float:
        return sum(n for _, n in series) / len(series) if series else 0.0


@dataclass(frozen=True, slots=True)
class Activity:
    """Articles ingested and alerts sent per hour, ``hours`` in UTC, oldest first."""

    hours: list[datetime] = field(default_factory=list)
    articles: list[int] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)


def _days(tz: ZoneInfo, now: datetime, days: int) -> list[date]:
    today = now.astimezone(tz).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _since(tz: ZoneInfo, now: datetime, days: int) -> datetime:
    """The start (UTC) of the first local day of the window."""
    first = _days(tz, now, days)[0]
    return datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)


def topic_stats(db: Database, tz: ZoneInfo, days: int = 7) -> list[TopicStats]:
    """Every topic's figures for the last ``days`` local days (1..90), topics in slug order."""
    days = max(1, min(days, MAX_DAYS))
    now = db.now()
    window = _days(tz, now, days)
    since = _since(tz, now, days)
    with db.read() as conn:
        topics = list_topics(conn)
        counts = topic_article_counts(conn, now)
        newest = store.newest_articles(conn, now)
        subs = store.subscribers(conn)
        alerts = store.topic_alerts_per_hour(conn, since)
        polls = store.polls_per_day(conn, window[0])
    alert_days: dict[tuple[int, date], int] = {}
    for (topic_id, hour), n in alerts.items():
        key = (topic_id, hour.astimezone(tz).date())
        alert_days[key] = alert_days.get(key, 0) + n
    return [
        TopicStats(
            slug=t.slug,
            title=t.title,
            enabled=t.enabled,
            articles=counts.get(t.id, 0),
            newest_article=newest.get(t.id),
            subscribers=subs.get(t.id, {"telegram": 0}),
            alerts_per_day=[(d, alert_days.get((t.id, d), 0)) for d in window],
            polls_per_day=[(d, polls.get((t.slug, d), 0)) for d in window],
        )
        for t in topics
    ]


def activity(db: Database, days: int = 7) -> Activity:
    """Hourly articles ingested and alerts sent over the last ``days`` × 24 hours."""
    days = max(1, min(days, MAX_DAYS))
    now = db.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=n) for n in range(days * 24 - 1, -1, -1)]
    with db.read() as conn:
        ingested = store.articles_per_hour(conn, hours[0])
        sent = store.alerts_per_hour(conn, hours[0])
    return Activity(hours, [ingested.get(h, 0) for h in hours], [sent.get(h, 0) for h in hours])
