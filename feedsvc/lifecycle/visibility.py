"""Is an article public now, and if not, why: the one decision every reader of articles shares.

Feeds, search feeds, previews, reader pages, alerts and digests all show an article only when
it is public. The same rule is expressed twice, kept side by side here: :func:`visibility` for
one article already in memory, and :func:`public_clause` for SQL over ``articles`` (which the
store modules use so the database filters, not Python).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_

from feedsvc.articles import Article
from feedsvc.db.schema import articles


class Visibility(StrEnum):
    """An article's state for readers, in the order the reasons are checked."""

    PUBLIC = "public"
    HIDDEN = "hidden"  # an editor hid it: wins over everything the source says
    WITHDRAWN = "withdrawn"  # the source took it back
    SCHEDULED = "scheduled"  # published_at is still in the future


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The lifecycle facts of one article (aware UTC datetimes)."""

    published_at: datetime
    withdrawn_at: datetime | None = None
    hidden_at: datetime | None = None


def visibility(article: Lifecycle, now: datetime) -> Visibility:
    """The article's state at ``now`` (aware UTC). Hidden before withdrawn before scheduled, so
    the most durable reason is the one reported: a hidden article stays hidden when the source
    publishes it again, and a withdrawn one does not appear when its time comes."""
    if article.hidden_at is not None:
        return Visibility.HIDDEN
    if article.withdrawn_at is not None:
        return Visibility.WITHDRAWN
    if article.published_at > now:
        return Visibility.SCHEDULED
    return Visibility.PUBLIC


def is_public(article: Lifecycle, now: datetime) -> bool:
    return visibility(article, now) is Visibility.PUBLIC


def as_of(article: Article, now: datetime) -> Article:
    """The article as readers may see it at ``now``: an ``updated_at`` still in the future (a
    CMS clock ahead, a pre-dated edit) is not shown yet, so no feed date (item ``updated``,
    feed ``updated``/``lastBuildDate``, ``Last-Modified``) is ever in the future."""
    if article.updated_at is not None and article.updated_at > now:
        return replace(article, updated_at=None)
    return article


def public_clause(now: datetime, table: Any = articles) -> ColumnElement[bool]:
    """SQL twin of :func:`is_public` over ``articles`` (or an alias of it): the WHERE clause
    every public listing adds. ``now`` is bound as a parameter (aware UTC)."""
    return and_(
        table.c.hidden_at.is_(None),
        table.c.withdrawn_at.is_(None),
        table.c.published_at <= now,
    )


def retired_clause(table: Any = articles) -> ColumnElement[bool]:
    """Withdrawn or hidden (whatever the date): its queued deliveries end as ``withdrawn``."""
    return ~and_(table.c.hidden_at.is_(None), table.c.withdrawn_at.is_(None))


def scheduled_clause(after: datetime, table: Any = articles) -> ColumnElement[bool]:
    """``published_at`` later than ``after`` (whatever else): scheduled then. An alert of such
    an article was sent while it was public, before a correction moved it into the future; its
    queued deliveries are not ended, they wait for its time (the dispatcher's check)."""
    clause: ColumnElement[bool] = table.c.published_at > after
    return clause
