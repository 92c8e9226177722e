"""``/api/topics``: CRUD, enable/disable, live preview and backfill.

Thin adapters over :mod:`feedsvc.operations` and :mod:`feedsvc.preview`: the rules (slug format,
query validity with ``@refs``, dependants on delete) live there, shared with the CLI and the web
admin, so an API client can never store a topic the shell would reject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc import operations as ops
from feedsvc import preview_words
from feedsvc.catalogue import Translator
from feedsvc.echoes import echoed
from feedsvc.feeds import feed_urls
from feedsvc.feeds.sanitize import link_url
from feedsvc.logs import quoted
from feedsvc.matching import QueryError
from feedsvc.preview import preview
from feedsvc.slugs import typed_slug
from feedsvc.stats import TopicStats, activity, topic_stats
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import Topic
from feedsvc.topics_file import stays_deleted
from feedsvc.web import api_topic_writes as writes
from feedsvc.web.api_base import Call, Endpoint
from feedsvc.web.api_models import (
    BackfillIn,
    BackfillOut,
    ConditionIn,
    DayCount,
    DeletedTopicOut,
    HitOut,
    HourOut,
    PreviewIn,
    PreviewOut,
    SampleOut,
    StatsOut,
    StatsParams,
    TopicIn,
    TopicList,
    TopicOut,
    TopicPut,
    TopicStatsOut,
    TopicStatsRow,
)
from feedsvc.web.preconditions import TOPIC, none_match_any, unmodified_since

if TYPE_CHECKING:
    from feedsvc.app import Service

STATS_DAYS = 7


def stats_out(stats: TopicStats) -> TopicStatsOut:
    return TopicStatsOut(
        articles=stats.articles,
        newest_article=stats.newest_article,
        subscribers=stats.subscribers,
        alerts_per_day=[DayCount(day=d, count=n) for d, n in stats.alerts_per_day],
        polls_per_day=[DayCount(day=d, count=n) for d, n in stats.polls_per_day],
    )


def _stats(service: Service) -> dict[str, TopicStats]:
    return {s.slug: s for s in topic_stats(service.web_db, service.settings.tz, STATS_DAYS)}


def topic_out(service: Service, topic: Topic, stats: TopicStats | None = None) -> TopicOut:
    return TopicOut(
        slug=topic.slug,
        title=topic.title,
        description=topic.description,
        query=topic.query,
        enabled=topic.enabled,
        origin=topic.origin,
        updated_at=topic.updated_at,
        version=topic.version,
        feeds=feed_urls(service.settings.http.public_url, topic.slug),
        stats=stats_out(stats) if stats is not None else None,
    )


def list_topics(service: Service, call: Call) -> tuple[int, TopicList]:
    with service.web_db.read() as conn:
        topics = topic_store.list_topics(conn)
    stats = _stats(service)
    return 200, TopicList(topics=[topic_out(service, t, stats.get(t.slug)) for t in topics])


def one_topic_out(service: Service, topic: Topic) -> TopicOut:
    """A topic as every answer that returns one gives it: with its figures (``stats``), as
    ``GET`` does (a ``POST``'s or ``PUT``'s answer had ``"stats": null``)."""
    return topic_out(service, topic, _stats(service).get(topic.slug))


def create_topic(service: Service, call: Call) -> tuple[int, TopicOut]:
    body = call.body_as(TopicIn)
    status = writes.save(service, body.slug, body, create_only=True)
    service.topic_changed(typed_slug(body.slug))  # its feed URLs answer at once
    return status, one_topic_out(service, ops.get_topic(service.web_db, typed_slug(body.slug)))


def get_topic(service: Service, call: Call) -> tuple[int, TopicOut]:
    return 200, one_topic_out(service, ops.get_topic(service.web_db, call.path["slug"]))


def stats(service: Service, call: Call) -> tuple[int, StatsOut]:
    days = call.params_as(StatsParams).days
    hourly = activity(service.web_db, days)
    rows = [
        TopicStatsRow(slug=s.slug, title=s.title, **stats_out(s).model_dump())
        for s in topic_stats(service.web_db, service.settings.tz, days)
    ]
    return 200, StatsOut(
        days=days,
        timezone=service.settings.site.timezone,
        hourly=[
            HourOut(hour=h, articles=a, alerts=n)
            for h, a, n in zip(hourly.hours, hourly.articles, hourly.alerts, strict=True)
        ],
        topics=rows,
    )


def put_topic(service: Service, call: Call) -> tuple[int, TopicOut]:
    """``{slug}`` naming an existing topic in another case updates that topic (one rule for
    naming topics: :mod:`feedsvc.slugs`); a new topic's slug follows the slug rules."""
    slug = call.path["slug"]
    body = call.body_as(TopicPut)
    if body.slug is not None and body.slug.strip().lower() != slug.strip().lower():
        raise ops.OperationError(
            "invalid",
            f"slug {quoted(echoed(body.slug))} in the body is not the path's "
            f"{quoted(echoed(slug))}: a PUT never "
            "renames "
            "a topic (create the new one, move its subscriptions, remove the old one)",
            code="slug_mismatch",
            params={"slug": slug},
            field="slug",
        )
    create = none_match_any(call.headers)
    if create and (stored := writes.named_topic(service, slug)) is not None:  # `Kien-Thuy` too
        raise writes.not_met(ops.topic_exists(stored), "If-None-Match")
    condition = writes.condition(call)  # the body's "version" (a GET's sent back) too
    if condition is None and unmodified_since(call.headers) is not None:
        condition = writes.since(service, call, writes.current(service, slug), None)
    status = writes.save(service, slug, body, create_only=False, if_match=condition,
                   if_none_match=create)  # fmt: skip
    topic = ops.get_topic(service.web_db, slug)
    service.topic_changed(topic.slug)
    return status, one_topic_out(service, topic)


def delete_topic(service: Service, call: Call) -> tuple[int, DeletedTopicOut]:
    """The deleted topic, and for a topics-file topic that every start keeps deleted, the line
    ``feedsvc topics remove`` and the admin's delete print (:func:`stays_deleted`). With
    ``If-Match``, only the version named is deleted (a stale one took a topic edited since,
    and the subscription added with the edit)."""
    topic, wanted = writes.target(service, call)
    # an API client's DELETE is deliberate (SPEC §9): its subscriptions go too, and are counted
    deleted = writes.conditional(
        service,
        topic,
        wanted,
        lambda expected: ops.delete_topic(
            service.web_db, topic.slug, with_subscriptions=True, expected_version=expected
        ),
    )
    service.topic_changed(topic.slug)
    said = None
    if deleted.kept_deleted and call.words is not None:
        said = stays_deleted(call.words, topic.slug, service.settings.topics.file)
    out = topic_out(service, topic).model_dump()
    return 200, DeletedTopicOut(
        **out,
        kept_deleted=deleted.kept_deleted,
        kept_deleted_message=said,
        subscriptions_removed=deleted.subscriptions_total,
        subscriptions_removed_by_channel=dict(deleted.subscriptions),
    )


def _switch(service: Service, call: Call, enabled: bool) -> tuple[int, TopicOut]:
    """Enable or disable; with ``If-Match`` or a body's ``version``, only the version named
    (412 otherwise). The condition is judged first, as a ``PUT``'s: an unknown topic is 404
    without one, 412 with one (:func:`feedsvc.web.api_topic_writes.target`)."""
    topic, wanted = writes.target(service, call)
    stored = topic.slug  # as stored (any case)
    slug = writes.conditional(
        service,
        topic,
        wanted,
        lambda expected: ops.set_topic_enabled(
            service.web_db, stored, enabled, expected_version=expected
        ),
    )
    service.topic_changed(slug)
    return 200, one_topic_out(service, ops.get_topic(service.web_db, slug))


def enable_topic(service: Service, call: Call) -> tuple[int, TopicOut]:
    return _switch(service, call, True)


def disable_topic(service: Service, call: Call) -> tuple[int, TopicOut]:
    return _switch(service, call, False)


def preview_topic(service: Service, call: Call) -> tuple[int, PreviewOut]:
    body = call.body_as(PreviewIn)
    try:
        result = preview(service.web_db, body.query, scan=body.scan, samples=body.samples,
                         slug=body.slug)  # fmt: skip
    except QueryError as exc:
        raise ops.query_invalid(exc) from None
    # worded as the API's other messages, in the request's language (the admin's words)
    settings = service.settings
    words = call.words or Translator(settings.admin.language, settings.site.timezone)
    said = preview_words.warnings(words, result)
    samples = []
    for sample in result.samples:
        a = sample.stored.article
        hits = sample.explanation.hits
        samples.append(
            SampleOut(
                article_id=sample.stored.id,
                source_key=a.source_key,
                title=a.title,
                url=link_url(a.url),
                published_at=a.published_at,
                terms=sorted({h.term for h in hits}),
                hits=[HitOut.model_validate(h.to_json()) for h in hits],
            )
        )
    return 200, PreviewOut(
        query=result.query,
        scanned=result.scanned,
        count=result.count,
        indexed=result.indexed,
        checked=result.checked,
        exact=result.exact,
        in_backfill_window=result.in_window,
        in_backfill_window_exact=result.window_exact,
        backfill_window_days=result.window_days,
        warnings=[w.message for w in said],
        warning_codes=[w.code for w in said],
        samples=samples,
    )


def backfill_topic(service: Service, call: Call) -> tuple[int, BackfillOut]:
    days = call.body_as(BackfillIn).days
    slug = ops.get_topic(service.web_db, call.path["slug"]).slug  # as stored (any case)
    try:
        result = ops.backfill_topic(
            service.web_db, slug, days or None, stopping=lambda: service.interrupted
        )
    finally:  # the feeds show what was added and removed now; also the batches done before
        service.publisher.refresh([slug])  # a 409 ``backfill_topic_changed`` stopped it
    return 200, BackfillOut(
        scanned=result.scanned, matched=result.matched, added=result.added, removed=result.removed,
        in_feed=result.in_feed, added_to_feed=result.added_to_feed,
        not_in_feed=result.not_in_feed,
    )  # fmt: skip


#: How every topic write reads its ``If-Match`` (:mod:`feedsvc.web.preconditions`).
IF_MATCH_RULE = (
    ' Several strong tags (`"v1", "v2"`, or on several lines; at most 16 tags in all, '
    "else 400 `if_match_too_long`): met when any one is. Weak tags only: 412 "
    '`if_match_weak`; strong tags none of which is a topic version (`"abc"`): 412 '
    "`if_match_unknown`; a bare unquoted version or anything else that is no list of "
    "entity tags: 400 `if_match_invalid`."
)
#: The body a topic's DELETE, enable and disable take (:class:`ConditionIn`).
BODY_VERSION = (
    ' Body optional: `{"version": "<version>"}` is the same condition as `If-Match: '
    '"<version>"` (400 `version_invalid` when it is no version; with an `If-Match` not '
    "listing it among its strong tags, 400 `version_mismatch`, before any 412); a body that "
    "is no JSON is 415 or 400, as on `PUT`. With a condition (`If-Match`, `*` too, or a body "
    "`version`), a topic deleted since is 412 `topic_deleted_meanwhile` (a slug no topic has "
    "had: 412 `topic_not_found`), as on `PUT`; without one, 404 `topic_not_found`."
)
#: What every topic write does with If-None-Match and the dates (feedsvc.web.preconditions).
OTHER_CONDITIONS = (
    " `If-None-Match: *`: 412 `topic_exists` when the topic exists (any other `If-None-Match` "
    "400 `if_none_match_invalid`). `If-Unmodified-Since`: 412 `if_unmodified_since_not_met` "
    "when `updated_at` is after it (ignored when it is no HTTP-date — garbage, empty, a list "
    "of dates —, beside `If-Match` or a body `version`, and on a topic that does not exist, "
    "which has no date: a `PUT` creates it, the others answer 404: RFC 9110 §13.1.4). "
    "`If-Modified-Since` is ignored (§13.1.3: a `GET`'s condition, not a write's). The "
    "headers' 400s come before the body's."
)
SWITCH_IF_MATCH = (
    "`If-Match` (optional): the topic's `version` (its `ETag`) as last read, quoted; the "
    "switch happens only while the stored topic is still that version (or differs only by "
    "being already switched so), else 412 `topic_changed_meanwhile`, nothing changed."
    + IF_MATCH_RULE
    + BODY_VERSION
    + OTHER_CONDITIONS
    + " The answer has the topic's new `ETag`."
)

ENDPOINTS = [
    Endpoint(
        "GET", "/api/topics", list_topics, "List topics", "topics", {200: TopicList},
        description="Each topic with its feeds and the last 7 days' figures (`stats`): "
        "articles, newest article, subscribers by channel, alerts sent and feed polls per day.",
    ),
    Endpoint(
        "GET", "/api/stats", stats, "What people follow", "topics", {200: StatsOut},
        params=StatsParams,
        description="Articles ingested and alerts sent per hour over the last `days` × 24 "
        "hours (UTC hours), and per topic the figures of `GET /api/topics` over `days` local "
        "days (site.timezone).",
    ),
    Endpoint(
        "POST", "/api/topics", create_topic, "Create a topic", "topics", {201: TopicOut},
        body=TopicIn, errors=(409, 422), etag=True,
        description="The query is parsed first: an invalid one is a 422 with its position. "
        "The answer is the topic as GET gives it (with `stats`) and its `ETag`.",
    ),
    Endpoint(
        "POST", "/api/topics/preview", preview_topic, "Preview a query", "topics",
        {200: PreviewOut}, body=PreviewIn, errors=(422,),
        description="Count and highlighted samples among the most recent `scan` stored "
        "articles, with warnings for over-broad terms. Nothing is saved.",
    ),
    Endpoint("GET", "/api/topics/{slug}", get_topic, "Get a topic", "topics", {200: TopicOut},
             errors=(404,), etag=True,
             description='Sent with `ETag: "<version>"` (strong): its `version`, which the '
             "topic's writes take as `If-Match`."),
    Endpoint(
        "PUT", "/api/topics/{slug}", put_topic, "Create or update a topic", "topics",
        {200: TopicOut, 201: TopicOut}, body=TopicPut, errors=(400, 412, 422), etag=True,
        conditions=TOPIC,
        description="`If-Match` (optional): the topic's `version` (its `ETag`) as last read, "
        "quoted; the "
        "save happens only while the stored topic is still that version, else 412 "
        "`topic_changed_meanwhile` (nothing saved; a topic deleted since: "
        "`topic_deleted_meanwhile`; no such topic: `topic_not_found`). `If-Match: *` updates "
        "only an existing topic. `If-None-Match: *` creates only a new one: an existing topic "
        "is 412 `topic_exists`." + IF_MATCH_RULE + " A `version` in the body (a GET's body "
        "sent back) is the same condition as `If-Match: \"<version>\"`; with an `If-Match` "
        "not listing it among its strong tags, 400 `version_mismatch`, before any 412."
        + OTHER_CONDITIONS
        + " The answer is the topic as GET gives it (with `stats`) and its new `ETag`.",
    ),
    Endpoint(
        "DELETE", "/api/topics/{slug}", delete_topic, "Delete a topic and its matches",
        "topics", {200: DeletedTopicOut}, body=ConditionIn, errors=(400, 404, 409, 412),
        conditions=TOPIC,
        description="409 while other topics' queries or chats' own queries reference it with "
        "`@slug` (`topic_in_use`, `topic_in_chat_queries`, `topic_in_use_and_chat_queries`). "
        "Its subscriptions are deleted with it, counted in `subscriptions_removed` (by channel: "
        "`subscriptions_removed_by_channel`); to keep them, disable the topic instead. A topic "
        "listed in the topics file stays deleted at every start while its entry there is "
        "unchanged (`kept_deleted`, worded with how to bring it back in "
        "`kept_deleted_message`). `If-Match` (optional): the topic's `version` as last read, "
        "quoted; the topic is deleted only while it is still that version, else 412 "
        "`topic_changed_meanwhile` (nothing deleted)." + IF_MATCH_RULE + BODY_VERSION
        + OTHER_CONDITIONS + " The version covers the topic's fields, not its subscriptions.",
    ),
    Endpoint("POST", "/api/topics/{slug}/enable", enable_topic, "Enable a topic", "topics",
             {200: TopicOut}, body=ConditionIn, errors=(400, 404, 412),
             description=SWITCH_IF_MATCH, etag=True, conditions=TOPIC),
    Endpoint("POST", "/api/topics/{slug}/disable", disable_topic, "Disable a topic", "topics",
             {200: TopicOut}, body=ConditionIn, errors=(400, 404, 412),
             description=SWITCH_IF_MATCH, etag=True, conditions=TOPIC),
    Endpoint(
        "POST", "/api/topics/{slug}/backfill", backfill_topic,
        "Refresh a topic's feed from stored articles", "topics", {200: BackfillOut},
        body=BackfillIn, errors=(404, 409, 422, 503),
        description="Matches stored articles of the last `days` (0: all) against the topic's "
        "current query: adds those it matches, drops (`removed`) the topic's matches it no "
        "longer makes, e.g. after the query was narrowed; re-renders the topic's feeds, which "
        "show the result at once. `matched` and `added` include hidden, withdrawn and "
        "scheduled articles (kept for when they are public); what readers see: `in_feed`, "
        "`added_to_feed`, the rest `not_in_feed`. Sends no alerts. 409 "
        "`backfill_topic_changed`: the query (or one it references) changed meanwhile; the "
        "batches done stay (and are in the feeds), run it again. 409 "
        "`backfill_topic_deleted`: the topic was deleted meanwhile. 503 "
        "`backfill_stopped`: the service is stopping (SIGTERM); the batches done are stored, "
        "run it again once the service is back.",
    ),
]  # fmt: skip
