"""The web admin's pages: topics (the editor's live preview is :mod:`feedsvc.web.admin_preview`),
subscriptions, deliveries, status. Validation is ``feedsvc.operations``' (the same rules as the
CLI and the API); every DB call runs in the thread pool so a slow query never stalls the event
loop serving feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc import delivery_states
from feedsvc import operations as ops
from feedsvc.channel_modes import MISSING_SETTING, off_channels
from feedsvc.channels.apprise import mask
from feedsvc.channels.base import CHANNELS
from feedsvc.channels.recipients import shown_address
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.feeds import feed_urls
from feedsvc.feeds.model import FORMAT_LABELS
from feedsvc.stats import topic_stats
from feedsvc.status import status_facts
from feedsvc.store import delivery_log
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import TopicSpec
from feedsvc.topics_file import stays_deleted
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_forms import CheckboxError, checkbox
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

T = TypeVar("T")
log = logging.getLogger(__name__)
#: Pages past this are empty anyway (100 rows a page); the offset stays a small integer.
MAX_PAGE = 1_000_000


def id_param(text: str) -> int | None:
    """A row id from a URL: ASCII digits (:func:`feedsvc.digits.ascii_int`) within the ids the
    API accepts, else None (→ 404). ``int()`` alone would take "１２"-like digits, 5,000-digit
    numbers (ValueError) and values a database column cannot hold (OverflowError on SQLite, an
    error on PostgreSQL)."""
    value = ascii_int(text)
    return value if value is not None and abs(value) <= MAX_ID else None


def page_param(text: str) -> int:
    """``?page=``: 1 for anything that is not a page number; at most :data:`MAX_PAGE`."""
    value = id_param(text.strip())
    return 1 if value is None or value < 1 else min(value, MAX_PAGE)


DELIVERIES_PER_PAGE = 100


def channel_param(text: str) -> str:
    """A ``?channel=`` filter: one of the channels, else "" (all)."""
    return text if text in CHANNELS else ""


def page_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    async def db_call(fn: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(fn, *args)

    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        return {k: str(v) for k, v in data.items() if isinstance(v, str)}

    # -- topics ---------------------------------------------------------------------------
    async def topics_list(request: Request, ctx: Ctx) -> Response:
        def load() -> list[topic_store.Topic]:
            with db.read() as conn:
                return topic_store.list_topics(conn)

        topics = await db_call(load)
        stats = {s.slug: s for s in await db_call(topic_stats, db, service.settings.tz)}
        public = service.settings.http.public_url
        links = {tp.slug: feed_urls(public, tp.slug) for tp in topics}
        counts = await db_call(ops.subscription_counts, db)
        confirms = {tp.slug: delete_question(tp.slug, counts.get(tp.slug)) for tp in topics}
        return admin.page(
            "topics.html", ctx, topics=topics, links=links, formats=FORMAT_LABELS, stats=stats,
            confirms=confirms,
        )  # fmt: skip

    def delete_question(slug: str, subs: dict[str, int] | None) -> str:
        """The delete button's question names the subscriptions that go with the topic (the
        same count the delete takes, every chat's: stats count only chats switched on)."""
        if not subs:
            return t("confirm_delete_topic", slug=slug)
        return t("confirm_delete_topic_subs", slug=slug, subs=t.subscriptions(subs))

    async def topic_new(request: Request, ctx: Ctx) -> Response:
        if request.method == "GET":
            return editor(ctx, TopicSpec("", "", ""), new=True)
        return await save(request, ctx, None)

    async def topic_edit(request: Request, ctx: Ctx) -> Response:
        slug = request.path_params["slug"]  # in any case (feedsvc.slugs): the stored one used
        try:
            topic = await db_call(ops.get_topic, db, slug)
        except ops.OperationError:
            if request.method == "GET":
                return admin.message(t("not_found"), 404, ctx)
            return await save(request, ctx, slug)  # deleted meanwhile: said by the save
        if request.method == "GET":  # the version it is saved against (feedsvc.topic_versions)
            return editor(ctx, topic.spec, new=False, version=topic.version)
        return await save(request, ctx, topic.slug)

    def backfilled(slug: str, r: Any) -> str:
        """The flash after a backfill, by the button or on save."""
        return t(
            "backfilled",
            slug=slug,
            scanned=r.scanned,
            matched=r.matched,
            added=r.added,
            removed=r.removed,
        )

    def editor(
        ctx: Ctx,
        spec: TopicSpec,
        *,
        new: bool,
        error: ops.OperationError | None = None,
        status: int | None = None,
        version: str = "",
    ) -> Response:
        """``version``: the topic's version the form saves against — the one it was opened
        with, kept through a refused save, the stored one after a conflict (saving again is
        then a deliberate overwrite)."""
        return admin.page(
            "editor.html",
            ctx,
            status or (422 if error else 200),
            spec=spec,
            new=new,
            error=error,
            backfill=new,
            version=version,
        )

    async def save(request: Request, ctx: Ctx, slug: str | None) -> Response:
        data = await form(request)
        spec = TopicSpec(
            slug=(slug or data.get("slug", "")).strip(),
            title=data.get("title", ""),  # normalised by ops.save_topic (feedsvc.fieldtext)
            query=data.get("query", ""),
            description=data.get("description", ""),
        )
        sent = data.get("version", "")
        try:
            spec = replace(spec, enabled=checkbox(data, "enabled"))
            backfill = checkbox(data, "backfill")
        except CheckboxError as exc:
            error = ops.OperationError(
                "invalid", f"{exc.field} is on or off", code="checkbox_invalid",
                params={"field": exc.field}, field=exc.field,
            )  # fmt: skip
            return editor(ctx, spec, new=slug is None, error=error, version=sent)
        # an edit always states the version it was opened at; "" (no field) is refused there
        expected = None if slug is None else sent
        try:
            outcome = await db_call(
                lambda: ops.save_topic(
                    db,
                    spec,
                    "admin",
                    create_only=slug is None,
                    update_only=slug is not None,
                    expected_version=expected,
                )
            )
        except ops.OperationError as exc:
            if exc.code == "topic_deleted_meanwhile":
                # 409, and what the editor typed is kept, in a "new topic" form: saving it
                # again creates the topic, deliberately (the edit URL never does)
                return editor(ctx, spec, new=True, error=exc, status=409)
            if exc.code in ("topic_changed_meanwhile", "topic_version_missing"):
                # what was typed kept, the stored version taken: Save again overwrites
                status = 409 if exc.kind == "conflict" else 400
                now = str(exc.params["version"])
                return editor(ctx, spec, new=False, error=exc, status=status, version=now)
            return editor(ctx, spec, new=slug is None, error=exc, version=sent)
        message, ok = t(f"saved_{outcome}", slug=spec.slug), True
        if backfill:
            try:  # the topic is saved whatever the backfill does: said so, not the editor's error
                r = await db_call(backfill_now, spec.slug)
                message += " " + backfilled(spec.slug, r)
            except ops.OperationError as exc:  # the query changed meanwhile: batches done stay
                message, ok = f"{message} {t.operation_error(exc)}", False
            except SQLAlchemyError:  # locked or down: not the outage page, as if not saved
                log.warning("backfill of %s after its save failed", spec.slug, exc_info=True)
                message, ok = f"{message} {t('backfill_db_failed')}", False
        await db_call(service.topic_changed, spec.slug)
        return admin.redirect(ctx, "/topics", message, ok=ok)

    def backfill_now(slug: str) -> ops.BackfillResult:
        """The admin's backfill (30 days), stopped between batches when the service stops."""
        return ops.backfill_topic(db, slug, stopping=lambda: service.interrupted)

    def topic_action(
        action: Callable[[str], object], done: Callable[[str, object], str]
    ) -> Callable[[Request, Ctx], Any]:
        async def handler(request: Request, ctx: Ctx) -> Response:
            try:  # the slug as stored: the path may name the topic in another case
                slug = (await db_call(ops.get_topic, db, request.path_params["slug"])).slug
            except ops.OperationError as exc:
                return admin.redirect(ctx, "/topics", t.operation_error(exc), ok=False)
            try:
                result = await db_call(action, slug)
            except ops.OperationError as exc:
                # a backfill stopped part-way (the query changed) stored its batches done: the
                # feeds show them; after any other refusal this re-renders what stands
                await db_call(service.topic_changed, slug)
                return admin.redirect(ctx, "/topics", t.operation_error(exc), ok=False)
            await db_call(service.topic_changed, slug)  # also after a backfill
            return admin.redirect(ctx, "/topics", done(slug, result))

        return handler

    # -- subscriptions --------------------------------------------------------------------
    async def subscriptions(request: Request, ctx: Ctx) -> Response:
        channel = channel_param(query_param(request, "channel", ""))

        def load() -> tuple[list[sub_store.Subscription], dict[int, sub_store.Chat], Any]:
            with db.read() as conn:
                subs = sub_store.list_subscriptions(conn, channel=channel or None)
                topics = topic_store.list_topics(conn, enabled_only=True)
                return subs, sub_store.list_chats(conn), topics

        subs, chats, topics = await db_call(load)
        off = [c for c in off_channels(service.settings) if any(s.channel == c for s in subs)]
        return admin.page(
            "subscriptions.html", ctx, subs=subs, chats=chats, channel=channel, off=off,
            channels=CHANNELS, topics=topics, shown_address=shown_address, setting=MISSING_SETTING,
        )  # fmt: skip

    async def apprise_add(request: Request, ctx: Ctx) -> Response:
        """The admin's form: subscribe an Apprise URL to a topic or a query."""
        data = await form(request)
        topic, query = data.get("topic") or None, data.get("query", "").strip() or None
        url = data.get("url", "").strip()
        try:
            await db_call(
                lambda: ops.add_subscription(
                    db,
                    None,
                    None,
                    topic=topic,
                    query=query,
                    channel="apprise",
                    address=url,
                    topics_config=service.settings.topics,
                )
            )
        except ops.OperationError as exc:
            return admin.redirect(ctx, "/subscriptions", t.operation_error(exc), ok=False)
        return admin.redirect(
            ctx, "/subscriptions?channel=apprise", t("apprise.added", address=mask(url))
        )

    def chat_pause(paused: bool) -> Callable[[Request, Ctx], Any]:
        async def handler(request: Request, ctx: Ctx) -> Response:
            chat_id = id_param(request.path_params["chat_id"])  # groups have negative ids
            if chat_id is None:
                return admin.message(t("not_found"), 404, ctx)

            def run() -> bool:
                with db.write() as conn:
                    if sub_store.get_chat(conn, chat_id) is None:
                        return False
                    sub_store.set_paused(conn, chat_id, paused)
                    return True

            if not await db_call(run):
                return admin.message(t("not_found"), 404, ctx)
            if not paused:
                service.wake_dispatchers()  # what the chat had queued may go out now
            key = "paused_msg" if paused else "resumed_msg"
            return admin.redirect(ctx, "/subscriptions", t(key, chat=chat_id))

        return handler

    async def sub_delete(request: Request, ctx: Ctx) -> Response:
        sub_id = id_param(request.path_params["sub_id"])
        if sub_id is None:
            return admin.message(t("not_found"), 404, ctx)

        def run() -> int:
            with db.write() as conn:
                for sub in sub_store.list_subscriptions(conn):
                    if sub.id == sub_id:
                        return sub_store.unsubscribe_id(conn, sub.chat_id, sub_id)
            return 0

        if not await db_call(run):
            return admin.message(t("not_found"), 404, ctx)
        return admin.redirect(ctx, "/subscriptions", t("sub_deleted", id=sub_id))

    # -- deliveries -----------------------------------------------------------------------
    async def deliveries(request: Request, ctx: Ctx) -> Response:
        state = query_param(request, "state", "")
        if state not in ("", delivery_log.DEAD, *delivery_states.STATES):
            state = ""
        channel = channel_param(query_param(request, "channel", ""))
        page = page_param(query_param(request, "page", "1"))
        per_page = DELIVERIES_PER_PAGE
        rows, total = await db_call(
            lambda: ops.list_deliveries(
                db,
                state=state or None,
                channel=channel or None,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
        )
        return admin.page(
            "deliveries.html",
            ctx,
            rows=rows,
            state=state,
            channel=channel,
            channels=CHANNELS,
            states=(delivery_log.DEAD, *delivery_states.STATES),
            page=page,
            first=(page - 1) * per_page + 1,
            last=(page - 1) * per_page + len(rows),
            total=total,
            more=page * per_page < total,
        )

    async def resend(request: Request, ctx: Ctx) -> Response:
        delivery_id = id_param(request.path_params["delivery_id"])
        back = "/deliveries?state=dead"
        if delivery_id is None:
            return admin.message(t("not_found"), 404, ctx)
        try:
            await db_call(ops.resend_delivery, db, delivery_id, off_channels(service.settings))
        except ops.OperationError as exc:
            return admin.redirect(ctx, back, t.operation_error(exc), ok=False)
        service.wake_dispatchers()
        return admin.redirect(ctx, back, t("resent", id=delivery_id))

    # -- status ---------------------------------------------------------------------------
    async def status(request: Request, ctx: Ctx) -> Response:
        def load() -> dict[str, Any]:
            facts = status_facts(service, service.web_db)
            details = ops.status_details(db, errors=20)
            return {"facts": facts, "held": details.chat_pauses, "errors": details.recent_errors}

        data = await db_call(load)
        topic_errors = service.index.errors()
        return admin.page("status.html", ctx, topic_errors=topic_errors, **data)

    g = admin.guard
    enable = topic_action(
        lambda s: ops.set_topic_enabled(db, s, True), lambda s, _r: t("enabled_msg", slug=s)
    )
    disable = topic_action(
        lambda s: ops.set_topic_enabled(db, s, False), lambda s, _r: t("disabled_msg", slug=s)
    )

    def deleted(slug: str, result: object) -> str:
        assert isinstance(result, ops.TopicDeleted)
        if result.subscriptions:
            done = t("deleted_with_subs", slug=slug, subs=t.subscriptions(result.subscriptions))
        else:
            done = t("deleted", slug=slug)
        if not result.kept_deleted:
            return done
        return f"{done} {stays_deleted(t, slug, service.settings.topics.file)}"

    # the button asked, naming the subscriptions (delete_question): they go with the topic
    delete = topic_action(lambda s: ops.delete_topic(db, s, with_subscriptions=True), deleted)

    backfill = topic_action(backfill_now, backfilled)
    p = PREFIX
    return [
        Route(p + "/topics", g(topics_list), methods=["GET"]),
        Route(p + "/topics/new", g(topic_new), methods=["GET", "POST"]),
        Route(p + "/topics/{slug}/edit", g(topic_edit), methods=["GET", "POST"]),
        Route(p + "/topics/{slug}/enable", g(enable), methods=["POST"]),
        Route(p + "/topics/{slug}/disable", g(disable), methods=["POST"]),
        Route(p + "/topics/{slug}/delete", g(delete), methods=["POST"]),
        Route(p + "/topics/{slug}/backfill", g(backfill), methods=["POST"]),
        Route(p + "/subscriptions", g(subscriptions), methods=["GET"]),
        Route(p + "/chats/{chat_id}/pause", g(chat_pause(True)), methods=["POST"]),
        Route(p + "/chats/{chat_id}/resume", g(chat_pause(False)), methods=["POST"]),
        Route(p + "/subscriptions/{sub_id}/delete", g(sub_delete), methods=["POST"]),
        Route(p + "/subscriptions/apprise", g(apprise_add), methods=["POST"]),
        Route(p + "/deliveries", g(deliveries), methods=["GET"]),
        Route(p + "/deliveries/{delivery_id}/resend", g(resend), methods=["POST"]),
        Route(p + "/status", g(status), methods=["GET"]),
    ]
