"""Admin use cases shared by the CLI, the JSON API, the web admin and the bot.

Each function validates, runs one transaction and returns plain data, so every front end
enforces the same rules (slug format, query validity, references) and reports the same errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select

from feedsvc import metrics
from feedsvc.bot.actions import MAX_QUERY_CHARS, MAX_SUBSCRIPTIONS
from feedsvc.bot.actions import normalise as normalise_query
from feedsvc.db import Database
from feedsvc.db.schema import article_topics, articles
from feedsvc.matching import (
    QueryError,
    TopicMatcher,
    candidate_key_sets,
    document_from_article,
    parse_chat_query,
    parse_query,
)
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import delivery_log
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.articles import ARTICLE_COLUMNS, candidate_ids, count_since, row_to_article
from feedsvc.store.topics import Topic, TopicSpec
from feedsvc.topics_file import SLUG_PROBLEMS, check_queries, slug_problem

if TYPE_CHECKING:
    from feedsvc.channels.recipients import RecipientSpec


class OperationError(Exception):
    """A request that cannot be done; ``kind`` maps to an HTTP status / CLI exit code.

    kinds: ``invalid`` (422 / exit 2), ``not_found`` (404 / exit 1), ``conflict`` (409 / exit 1).
    ``position`` is the character offset of a query error, when there is one. ``message`` is
    English (CLI, API); ``code`` + ``params`` (+ the query error as ``cause``) are what the admin
    words from the message catalogue (key ``op.<code>``).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        code: str,
        params: dict[str, object] | None = None,
        field: str | None = None,
        position: int | None = None,
        cause: QueryError | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.params = params or {}
        self.field = field
        self.position = position
        self.cause = cause


def query_invalid(exc: QueryError) -> OperationError:
    return OperationError(
        "invalid", str(exc), code="query_invalid", field="query", position=exc.position, cause=exc
    )


def _unknown_topic(slug: str) -> OperationError:
    return OperationError(
        "not_found", f"unknown topic {slug!r}", code="topic_not_found", params={"slug": slug}
    )


def _check_query(spec: TopicSpec, known: dict[str, str]) -> None:
    try:
        parse_query(spec.query, (known | {spec.slug: spec.query}).get)
    except QueryError as exc:
        raise query_invalid(exc) from None


#: C0 control characters other than tab, newline and carriage return: not text (PostgreSQL
#: refuses NUL outright; XML 1.0 allows none of them), so never part of a topic's fields.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_text(spec: TopicSpec) -> None:
    for name in ("title", "description", "query"):
        found = _CONTROL.search(getattr(spec, name))
        if found:
            char = f"U+{ord(found[0]):04X}"
            raise OperationError(
                "invalid",
                f"{name} contains a control character ({char})",
                code="control_character",
                params={"field": name, "char": char},
                field=name,
            )


def save_topic(db: Database, spec: TopicSpec, origin: str, *, create_only: bool = False) -> str:
    """Create or update a topic after validating slug, title and query (with ``@refs``)."""
    if code := slug_problem(spec.slug):
        raise OperationError("invalid", f"slug {SLUG_PROBLEMS[code]}", code=code, field="slug")
    if not spec.title.strip():
        raise OperationError("invalid", "title is required", code="title_required", field="title")
    _check_text(spec)
    with db.write() as conn:
        existing = {t.slug: t for t in topic_store.list_topics(conn)}
        if create_only and spec.slug in existing:
            raise OperationError(
                "conflict",
                f"topic {spec.slug} already exists",
                code="topic_exists",
                params={"slug": spec.slug},
                field="slug",
            )
        _check_query(spec, {s: t.query for s, t in existing.items() if s != spec.slug})
        # other topics that reference this one must still parse with the new query
        users = [t.spec for s, t in existing.items() if f"@{spec.slug}" in t.query]
        problems = check_queries(
            users, {s: t.query for s, t in existing.items()} | {spec.slug: spec.query}
        )
        if problems:
            raise OperationError(
                "invalid",
                "; ".join(problems),
                code="breaks_users",
                params={"slug": spec.slug, "users": ", ".join(u.slug for u in users)},
                field="query",
            )
        return topic_store.save_topic(conn, spec, origin, db.now())


def get_topic(db: Database, slug: str) -> Topic:
    with db.read() as conn:
        topic = topic_store.get_topic(conn, slug)
    if topic is None:
        raise _unknown_topic(slug)
    return topic


def delete_topic(db: Database, slug: str) -> None:
    with db.write() as conn:
        dependants = [t.slug for t in topic_store.list_topics(conn) if f"@{slug}" in t.query]
        if dependants:
            raise OperationError(
                "conflict",
                f"{slug} is used by {', '.join(dependants)}; change those first",
                code="topic_in_use",
                params={"slug": slug, "users": ", ".join(dependants)},
            )
        if not topic_store.delete_topic(conn, slug):
            raise _unknown_topic(slug)


def set_topic_enabled(db: Database, slug: str, enabled: bool) -> None:
    with db.write() as conn:
        if topic_store.get_topic(conn, slug) is None:
            raise _unknown_topic(slug)
        topic_store.set_enabled(conn, slug, enabled, db.now())


@dataclass(frozen=True)
class BackfillResult:
    """``scanned``: articles considered (published in the window); ``checked``: those the
    matcher looked at (index candidates, or all of them without usable key sets)."""

    scanned: int
    matched: int
    added: int
    checked: int = 0


def backfill_topic(
    db: Database, slug: str, days: float | None = 30, batch: int = 2000
) -> BackfillResult:
    """Match stored articles (of the last ``days``) against a topic and fill its feed.

    When the topic's query yields key sets, only the archive search index's candidates are
    re-checked (every one of them: a backfill must be complete, so nothing is capped); otherwise
    every article of the window is matched, in id batches.
    No alerts: deliveries are only ever created by ingest for new articles.
    """
    topic = get_topic(db, slug)
    with db.read() as conn:
        known = {t.slug: t.query for t in topic_store.list_topics(conn)}
    matcher = TopicMatcher.build({slug: topic.query}, refs=known)
    if slug in matcher.errors:
        raise query_invalid(matcher.errors[slug])
    since = db.now() - timedelta(days=days) if days else None
    key_sets = candidate_key_sets(matcher.queries()[slug])
    with db.read() as conn:
        ids = candidate_ids(conn, key_sets, None, since)
        scanned = count_since(conn, since) if ids is not None else 0
    checked = matched = added = 0
    for rows in _backfill_batches(db, ids, since, batch):
        checked += len(rows)
        with db.read() as conn:  # only this batch's ids: the topic may already hold 100k+
            have = set(
                conn.execute(
                    select(article_topics.c.article_id).where(
                        article_topics.c.topic_id == topic.id,
                        article_topics.c.article_id.in_([row.id for row in rows]),
                    )
                ).scalars()
            )
        hits = {}
        for row in rows:
            terms = matcher.match(document_from_article(row_to_article(row))).get(slug)
            if terms is not None:
                matched += 1
                if row.id not in have:
                    hits[row.id] = terms
        if hits:
            with db.write() as conn:
                topic_store.add_topic_matches(conn, topic.id, hits, db.now())
            added += len(hits)
    return BackfillResult(scanned if ids is not None else checked, matched, added, checked)


def _backfill_batches(
    db: Database, ids: list[int] | None, since: datetime | None, batch: int
) -> Iterator[Sequence[Row[Any]]]:
    """Article rows to match, ``batch`` at a time: the given candidate ids, or (None) every
    article published since ``since`` in id order (keyset paging, one short read each)."""
    columns = (articles.c.id, *ARTICLE_COLUMNS)
    if ids is not None:
        for start in range(0, len(ids), batch):
            with db.read() as conn:
                chunk = ids[start : start + batch]
                yield conn.execute(select(*columns).where(articles.c.id.in_(chunk))).all()
        return
    last_id = 0
    while True:
        with db.read() as conn:
            stmt = select(*columns).where(articles.c.id > last_id)
            if since is not None:
                stmt = stmt.where(articles.c.published_at >= since)
            rows = conn.execute(stmt.order_by(articles.c.id).limit(batch)).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def resend_delivery(db: Database, delivery_id: int) -> None:
    """Queue a dead letter again; a delivery still queued or already sent is a conflict."""
    with db.write() as conn:
        if not delivery_store.resend(conn, delivery_id, db.now()):
            state = delivery_log.delivery_state(conn, delivery_id)
            if state is None:
                raise OperationError(
                    "not_found",
                    f"unknown delivery {delivery_id}",
                    code="delivery_not_found",
                    params={"id": delivery_id},
                )
            raise OperationError(
                "conflict",
                f"delivery {delivery_id} is {state}, not a dead letter",
                code="delivery_not_dead",
                params={"id": delivery_id, "state": state},
            )


CHAT_TYPES = ("private", "group", "supergroup", "channel")


def add_subscription(
    db: Database,
    chat_id: int | None,
    chat_type: str | None,
    *,
    topic: str | None,
    query: str | None,
    channel: str = "telegram",
    address: str | None = None,
) -> tuple[sub_store.Subscription, bool]:
    """Subscribe a recipient — a Telegram chat (``chat_id``), or ``(channel, address)`` of any
    channel (:mod:`feedsvc.channels.recipients`) — to a topic or to its own query, with the bot's
    rules (enabled topics only, queries parsed against enabled topics, length and count limits).
    Idempotent: returns the subscription and whether it was created."""
    from feedsvc.channels.recipients import RecipientError, recipient_spec

    try:
        spec = recipient_spec(channel, chat_id, chat_type, address)
    except RecipientError as exc:
        raise OperationError(
            "invalid", exc.message, code=exc.code, params=exc.params, field=exc.field
        ) from None
    if (topic is None) == (query is None):
        raise OperationError(
            "invalid", "give exactly one of topic or query", code="topic_or_query", field="topic"
        )
    if query is not None:
        query = normalise_query(query)
        if not query:
            raise OperationError("invalid", "query is empty", code="query_empty", field="query")
        if len(query) > MAX_QUERY_CHARS:
            raise OperationError(
                "invalid",
                f"query longer than {MAX_QUERY_CHARS} characters",
                code="query_too_long",
                params={"limit": MAX_QUERY_CHARS},
                field="query",
            )
    with db.write() as conn:
        now = db.now()
        topic_id = None
        if topic is not None:
            found = topic_store.get_topic(conn, topic)
            if found is None or not found.enabled:
                state = "unknown" if found is None else "disabled"
                raise OperationError(
                    "invalid",
                    f"{state} topic {topic!r}",
                    code=f"topic_{state}",
                    params={"slug": topic},
                    field="topic",
                )
            topic_id = found.id
        else:
            known = {t.slug: t.query for t in topic_store.list_topics(conn, enabled_only=True)}
            try:
                parse_chat_query(query or "", known.get)
            except QueryError as exc:
                raise query_invalid(exc) from None
        chat_id = _ensure_recipient(conn, spec, now)
        existing = sub_store.find_subscription(conn, chat_id, topic_id=topic_id, query=query)
        if existing is None and sub_store.count_subscriptions(conn, chat_id) >= MAX_SUBSCRIPTIONS:
            raise OperationError(
                "conflict",
                f"chat {chat_id} already has {MAX_SUBSCRIPTIONS} subscriptions",
                code="too_many_subscriptions",
                params={"chat": chat_id, "limit": MAX_SUBSCRIPTIONS},
            )
        created = sub_store.subscribe(conn, chat_id, topic_id=topic_id, query=query, now=now)
        sub_id = sub_store.find_subscription(conn, chat_id, topic_id=topic_id, query=query)
        sub = sub_store.get_subscription(conn, sub_id or 0)
    assert sub is not None
    return sub, created


def _ensure_recipient(conn: Connection, spec: RecipientSpec, now: datetime) -> int:
    """The recipient's chat id, its row created if missing (an Apprise row's title is its
    masked URL, so every listing of titles is safe to show)."""
    from feedsvc.channels.recipients import shown_address

    if spec.chat_id is not None:  # Telegram
        chat = sub_store.get_chat(conn, spec.chat_id)
        title = chat.title if chat else None
        sub_store.ensure_chat(conn, spec.chat_id, spec.chat_type, title, now)
        return spec.chat_id
    found = sub_store.find_recipient(conn, spec.channel, spec.address)
    title = found.title if found else None
    if spec.channel == "apprise":
        title = shown_address(spec.channel, spec.address)
    chat = sub_store.ensure_recipient(conn, spec.channel, spec.address, spec.chat_type, title, now)
    return chat.chat_id


def remove_subscription(db: Database, subscription_id: int) -> sub_store.Subscription:
    with db.write() as conn:
        sub = sub_store.get_subscription(conn, subscription_id)
        if sub is None or not sub_store.delete_subscription(conn, subscription_id):
            raise OperationError(
                "not_found",
                f"unknown subscription {subscription_id}",
                code="subscription_not_found",
                params={"id": subscription_id},
            )
    return sub


def set_chat_paused(db: Database, chat_id: int, paused: bool) -> sub_store.Chat:
    """Pause or resume a chat's alerts (what the chat's own /pause and /resume do)."""
    with db.write() as conn:
        if sub_store.get_chat(conn, chat_id) is None:
            raise OperationError(
                "not_found",
                f"unknown chat {chat_id}",
                code="chat_not_found",
                params={"chat": chat_id},
            )
        sub_store.set_paused(conn, chat_id, paused)
        chat = sub_store.get_chat(conn, chat_id)
    assert chat is not None
    return chat


def list_deliveries(
    db: Database,
    *,
    state: str | None = None,
    chat_id: int | None = None,
    topic: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[delivery_log.DeliveryRow], int]:
    """The delivery log, newest first; ``topic`` is a slug (its matched articles), ``state``
    a state or ``dead`` (every dead letter), ``channel`` one channel's recipients."""
    if state is not None and state not in (*delivery_store.STATES, delivery_log.DEAD):
        raise OperationError(
            "invalid",
            f"unknown delivery state {state!r}",
            code="state_invalid",
            params={"state": state},
            field="state",
        )
    with db.read() as conn:
        topic_id = None
        if topic is not None:
            found = topic_store.get_topic(conn, topic)
            if found is None:
                return [], 0
            topic_id = found.id
        return delivery_log.list_deliveries(
            conn, state=state, chat_id=chat_id, topic_id=topic_id, channel=channel,
            limit=limit, offset=offset,
        )  # fmt: skip


@dataclass(frozen=True)
class StatusDetails:
    """What :func:`feedsvc.status.collect_status` leaves out: the outbox's side."""

    queue_depth: int
    chat_pauses: list[sub_store.ChatPause]
    recent_errors: list[delivery_log.DeliveryRow]


def status_details(db: Database, errors: int = 10) -> StatusDetails:
    with db.read() as conn:
        depth = delivery_store.queue_depth(conn)
        pauses = sub_store.chat_pauses(conn, db.now())
        recent = delivery_log.recent_errors(conn, errors)
    metrics.QUEUE_DEPTH.set(depth)  # also fresh on replicas that do not dispatch
    return StatusDetails(depth, pauses, recent)
