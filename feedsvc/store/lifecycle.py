"""SQL of the article lifecycle (SPEC §10): is an article public, hide/unhide, withdrawals found
by reconciliation, queued deliveries of articles that stopped being public, and what changed
for readers since a moment (articles that became due, were withdrawn, hidden or shown again).
The decisions themselves: :mod:`feedsvc.lifecycle`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, not_, or_, select, update

from feedsvc.db.schema import article_topics, articles, deliveries
from feedsvc.delivery_states import WITHDRAWN
from feedsvc.keys import canonical, trim_key
from feedsvc.lifecycle.visibility import Lifecycle, Visibility, public_clause, visibility
from feedsvc.store.article_keys import equivalent_clause

CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit
NOT_INGESTED = "not_ingested"  # an unhide's answer for a pending hide it cancelled


def article_visibility(conn: Connection, article_id: int, now: datetime) -> Visibility | None:
    """The article's state at ``now`` (aware UTC); None when no such article exists."""
    row = conn.execute(
        select(articles.c.published_at, articles.c.withdrawn_at, articles.c.hidden_at).where(
            articles.c.id == article_id
        )
    ).first()
    return None if row is None else visibility(Lifecycle(*row), now)


def published_at(conn: Connection, article_id: int) -> datetime | None:
    stmt = select(articles.c.published_at).where(articles.c.id == article_id)
    found: datetime | None = conn.execute(stmt).scalar()
    return found


def is_public(conn: Connection, article_id: int, now: datetime) -> bool:
    """Is this article public at ``now``? (Digests, dispatch at send time.) A missing article
    is not public."""
    return article_visibility(conn, article_id, now) is Visibility.PUBLIC


def visibilities(
    conn: Connection, article_ids: Iterable[int], now: datetime
) -> dict[int, Visibility]:
    """Each existing article's state at ``now`` (missing ids are absent), in one query per 500."""
    ids = list(article_ids)
    out: dict[int, Visibility] = {}
    for start in range(0, len(ids), CHUNK):
        stmt = select(
            articles.c.id, articles.c.published_at, articles.c.withdrawn_at, articles.c.hidden_at
        ).where(articles.c.id.in_(ids[start : start + CHUNK]))
        for id_, *facts in conn.execute(stmt).tuples():
            out[int(id_)] = visibility(Lifecycle(*facts), now)
    return out


def public_ids(conn: Connection, article_ids: Iterable[int], now: datetime) -> set[int]:
    """The subset of ``article_ids`` public at ``now``: one query for a digest's worth."""
    ids = list(article_ids)
    out: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        stmt = select(articles.c.id).where(
            articles.c.id.in_(ids[start : start + CHUNK]), public_clause(now)
        )
        out.update(int(i) for i in conn.execute(stmt).scalars())
    return out


def ever_queued(conn: Connection, article_id: int) -> bool:
    """Has any delivery of this article ever been queued (any state, ``withdrawn`` included)?
    The outbox queues only a public article, so one means it was public and alerted once."""
    stmt = select(deliveries.c.id).where(deliveries.c.article_id == article_id).limit(1)
    return conn.execute(stmt).first() is not None


def end_queued_deliveries(
    conn: Connection, article_ids: Sequence[int], reason: str, now: datetime
) -> int:
    """The queued (``pending``, or ``held`` for a digest) deliveries of these articles end as
    ``withdrawn``; ``reason``
    (``withdrawn:<why>`` or ``hidden``) goes to ``error`` for the delivery log. Rows being sent
    (``sending``) are left to the dispatcher's check at send time. Returns rows ended."""
    ended = 0
    ids = list(article_ids)
    for start in range(0, len(ids), CHUNK):
        result = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.article_id.in_(ids[start : start + CHUNK]),
                deliveries.c.state.in_(("pending", "held")),
            )
            .values(state=WITHDRAWN, error=reason[:1000], finished_at=now, lease_until=None)
        )
        ended += result.rowcount
    return ended


@dataclass(frozen=True, slots=True)
class EditorState:
    """An article as the editors' tools show it (admin page, CLI, API)."""

    id: int  # 0 for a pending hide (no article yet)
    source_key: str
    title: str
    url: str
    published_at: datetime | None  # None only for a pending hide of a key no table here holds
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    hidden_at: datetime | None
    hidden_reason: str | None
    hidden_by: str | None
    #: hidden while not public (scheduled or withdrawn by the source): see :func:`set_hidden`
    hidden_unpublic: bool = False
    #: a hide recorded for a key ingest has not stored yet (``store.pending_hides``): applied
    #: when ingest stores it, the article arriving hidden
    pending: bool = False
    #: an unhide's answer only: it made the article public for the first time and released it
    #: to its subscribers, as at its time (:func:`feedsvc.lifecycle.editors.unhide_article`)
    released: bool = False
    #: an editor's answer only: the key as given, when it named this stored key in another
    #: Unicode form (:mod:`feedsvc.store.article_keys`: the two look the same)
    typed_as: str | None = None
    #: an editor's answer only: other stored keys canonically equivalent to this one (they
    #: look the same), not acted on
    lookalikes: tuple[str, ...] = ()

    @property
    def ingested(self) -> bool:
        """An article row (not a pending hide, nor the key of a pending hide just cancelled)."""
        return self.id != 0

    def visibility(self, now: datetime) -> Visibility:
        if self.published_at is None or not self.ingested:
            return Visibility.HIDDEN  # a pending hide: hidden once it exists
        return visibility(Lifecycle(self.published_at, self.withdrawn_at, self.hidden_at), now)

    def state(self, now: datetime) -> str:
        """The state as the API says it: :meth:`visibility`'s, or ``not_ingested`` for the key
        of a pending hide an unhide just cancelled (no article, nothing hidden)."""
        if not self.ingested and not self.pending:
            return NOT_INGESTED
        return self.visibility(now).value


_EDITOR_COLUMNS = (
    articles.c.id,
    articles.c.source_key,
    articles.c.title,
    articles.c.url,
    articles.c.published_at,
    articles.c.withdrawn_at,
    articles.c.withdrawn_reason,
    articles.c.hidden_at,
    articles.c.hidden_reason,
    articles.c.hidden_by,
    articles.c.hidden_unpublic,
)


def editor_state(conn: Connection, source_key: str) -> EditorState | None:
    row = conn.execute(select(*_EDITOR_COLUMNS).where(articles.c.source_key == source_key)).first()
    return None if row is None else EditorState(*row)


def find_for_editors(conn: Connection, text: str, limit: int) -> list[EditorState]:
    """Newest first: articles whose source key is ``text`` — in any Unicode form (a CMS's
    decomposed key typed composed: :mod:`feedsvc.store.article_keys`) and in any case, as the
    backend's ``lower`` folds it (``host-1`` finds ``HOST-1``, which an editor typed from a
    listing in another case and was told nothing matched) —, or whose title contains it
    (case-insensitive as the backend's LIKE is; SQLite: ASCII letters only). Empty ``text``:
    the newest articles. ``%`` and ``_`` are matched literally."""
    stmt = select(*_EDITOR_COLUMNS)
    text = trim_key(text)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        form = canonical(text)
        stored_form = func.coalesce(articles.c.source_key_nfc, articles.c.source_key)
        stmt = stmt.where(
            or_(
                articles.c.source_key == text,
                equivalent_clause(articles, [form]),
                func.lower(stored_form) == func.lower(form),
                articles.c.title.ilike(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(articles.c.published_at.desc(), articles.c.id.desc()).limit(limit)
    return [EditorState(*row) for row in conn.execute(stmt)]


def editor_states(conn: Connection, ids: Sequence[int]) -> list[EditorState]:
    """The articles with these ids (any order; unknown ids left out)."""
    if not ids:
        return []
    stmt = select(*_EDITOR_COLUMNS).where(articles.c.id.in_(list(ids)))
    return [EditorState(*row) for row in conn.execute(stmt)]


def lock_article(conn: Connection, source_key: str) -> None:
    """Wait for the article's row (PostgreSQL: ``FOR UPDATE``; SQLite's write transaction
    already holds the database). Why: the change's ``last_changed_at`` must be taken after the
    wait — a stamp older than the commit by more than the feeds' look-back
    (:data:`feedsvc.touched.LIFECYCLE_OVERLAP`) is a hide no render ever shows."""
    conn.execute(
        select(articles.c.id).where(articles.c.source_key == source_key).with_for_update()
    ).first()


def set_hidden(
    conn: Connection,
    source_key: str,
    hidden: bool,
    now: datetime,
    reason: str | None = None,
    by: str | None = None,
) -> EditorState | None:
    """Hide (or unhide) one article; its queued deliveries end as ``withdrawn`` when hidden.
    ``last_changed_at`` moves so every replica re-renders the feeds holding it. Hiding an
    already hidden article keeps the first time; with a ``reason`` it replaces the reason and
    ``hidden_by`` (who gave it), without one it changes nothing (a re-hide without a reason
    erased the takedown's reason and author). The first hide records whether the article was
    public at that moment (``hidden_unpublic``: not when still scheduled — its time at or after
    now — or withdrawn by the source); later hides keep it, the unhide clears it: what an
    unhide reads to tell an article's first public moment
    (:func:`feedsvc.lifecycle.editors.first_public`), whatever its time becomes meanwhile.
    None: no such key."""
    found = editor_state(conn, source_key)
    if found is None:
        return None
    if hidden and found.hidden_at is not None and reason is None:
        return found  # already hidden, nothing new to record
    values: dict[str, object] = {"last_changed_at": now}
    if hidden:
        values |= {"hidden_at": found.hidden_at or now, "hidden_reason": reason, "hidden_by": by}
        if found.hidden_at is None:
            published = found.published_at
            unpublic = found.withdrawn_at is not None or (published is None or published >= now)
            values["hidden_unpublic"] = unpublic
    else:
        values |= {
            "hidden_at": None, "hidden_reason": None, "hidden_by": None, "hidden_unpublic": False,
        }  # fmt: skip
    conn.execute(update(articles).where(articles.c.id == found.id).values(values))
    if hidden:
        end_queued_deliveries(conn, [found.id], "hidden", now)
    return editor_state(conn, source_key)


def change_marker(conn: Connection, since: datetime, now: datetime) -> tuple[object, ...]:
    """A value that differs whenever an article became due or was stored, withdrawn, hidden or
    shown again around ``(since, now]``: the newest public ``published_at``, the newest
    ``last_changed_at``, and how many changes the window holds (a change committed late,
    behind a newer one, still changes the count). Three indexed probes."""
    due = select(func.max(articles.c.published_at)).where(articles.c.published_at <= now)
    newest = select(func.max(articles.c.last_changed_at))
    count = select(func.count()).where(
        articles.c.last_changed_at > since, articles.c.last_changed_at <= now
    )
    return tuple(conn.execute(stmt).scalar() for stmt in (due, newest, count))


@dataclass(frozen=True, slots=True)
class ArticleState:
    """What decides whether a render already shows an article: its last write
    (``last_changed_at``: stored, edited, withdrawn, hidden, shown again) and its time
    (``published_at``: a scheduled article becomes public then, with no write)."""

    article_id: int
    changed_at: datetime
    published_at: datetime


_STATE_COLUMNS = (articles.c.id, articles.c.last_changed_at, articles.c.published_at)


def changed_articles(conn: Connection, since: datetime, now: datetime) -> list[ArticleState]:
    """Articles whose public state may have changed in ``(since, now]``: written
    (``last_changed_at`` moved: ingest here or anywhere, the CLI, an editor, reconciliation) or
    due (``published_at`` passed). Both are indexed. Which of them a render already shows is
    the caller's to know (:mod:`feedsvc.touched`)."""
    stmt = select(*_STATE_COLUMNS).where(_changed(since, now))
    return [ArticleState(int(i), *rest) for i, *rest in conn.execute(stmt).tuples()]


def _changed(since: datetime, now: datetime) -> ColumnElement[bool]:
    """Written (``last_changed_at``) or due (``published_at``) in ``(since, now]``."""
    return or_(
        and_(articles.c.published_at > since, articles.c.published_at <= now),
        and_(articles.c.last_changed_at > since, articles.c.last_changed_at <= now),
    )


def changed_keys(conn: Connection, since: datetime, now: datetime) -> list[tuple[str, str]]:
    """``(source_key, url)`` of the articles :func:`changed_articles` finds: what a restart
    looks for in the stored renders of topics no match row names any more
    (``publish.takedowns``: an edit that took the article out of a topic)."""
    stmt = select(articles.c.source_key, articles.c.url).where(_changed(since, now))
    return [(key, url) for key, url in conn.execute(stmt).tuples()]


def unpublic_articles(conn: Connection, now: datetime) -> list[tuple[str, str]]:
    """``(source_key, url)`` of every article not public at ``now`` (withdrawn, hidden,
    scheduled): what a restart looks for in the stored renders (``publish.takedowns``)."""
    stmt = select(articles.c.source_key, articles.c.url).where(not_(public_clause(now)))
    return [(key, url) for key, url in conn.execute(stmt).tuples()]


def topics_changed(conn: Connection, since: datetime, now: datetime) -> set[int]:
    """Ids of the topics matching an article written or due in ``(since, now]`` (as
    :func:`changed_articles`): whose stored feeds may not show the public state at ``now``.

    An edit that took an article out of a topic is not seen here (its match row is gone): a
    restart finds such topics in the stored bytes instead (:func:`changed_keys`,
    ``feedsvc.publish.takedowns``)."""
    stmt = (
        select(article_topics.c.topic_id)
        .join(articles, articles.c.id == article_topics.c.article_id)
        .where(_changed(since, now))
        .distinct()
    )
    return {int(i) for i in conn.execute(stmt).scalars()}


def article_states(conn: Connection, article_ids: Sequence[int]) -> list[ArticleState]:
    """The current state of these articles (unknown ids left out), one query per 500."""
    out: list[ArticleState] = []
    for start in range(0, len(article_ids), CHUNK):
        chunk = list(article_ids[start : start + CHUNK])
        rows = conn.execute(select(*_STATE_COLUMNS).where(articles.c.id.in_(chunk))).tuples()
        out += [ArticleState(int(i), *rest) for i, *rest in rows]
    return out
