"""The topics list's buttons that change a topic — enable, disable, delete — made against what
the list showed: each form carries the topic's version (:mod:`feedsvc.topic_versions`), the
delete's also the subscription count its question named, and ``feedsvc.operations`` refuses a
stale one under the write's lock (one decision with the API's ``If-Match``).

Why: a list opened while ``del-race2`` had no subscribers asked "Delete topic del-race2? This
cannot be undone."; three subscriptions were added meanwhile, and the delete took them too —
subscriptions nobody can restore (an Apprise URL is only ever shown masked). A delete refused so
answers a page saying what changed (the fields, the subscriptions then and now, what is stored)
with the delete button again, carrying what it shows now: the admin confirms knowingly. An
enable or disable from a stale list goes back to the list, which shows the topic as it is, with
the refusal's words.

Every answer goes back to where the list was — its filter and page, which each form carries
(:class:`~feedsvc.web.admin_topic_list.ListPlace`), the page asking again too —, never to
page 1 of the whole list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc import operations as ops
from feedsvc.digits import ascii_int
from feedsvc.topic_versions import changed_since
from feedsvc.topics_file import stays_deleted
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_pages import db_call, delete_question, form, form_place
from feedsvc.web.admin_topic_list import ListPlace

if TYPE_CHECKING:
    from feedsvc.store.topics import Topic
    from feedsvc.web.admin import Admin

#: The delete's refusals that the page asking again answers (its version or count is stale).
ASK_AGAIN = ("topic_changed_meanwhile", "topic_gained_subscriptions", "topic_version_missing")


def shown_count(text: str) -> int | None:
    """The subscription count a delete form says its question named: ASCII digits, else None
    (a page from before forms carried it: never taken as "none")."""
    value = ascii_int(text.strip())
    return value if value is not None and value >= 0 else None


def topic_action_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db
    t = admin.t

    async def stored(request: Request, ctx: Ctx, place: ListPlace) -> Topic | Response:
        """The topic the path names (in any case), or the list with why there is none."""
        try:
            return await db_call(ops.get_topic, db, request.path_params["slug"])
        except ops.OperationError as exc:
            return admin.redirect(ctx, place.path, t.operation_error(exc), ok=False)

    def switch(enabled: bool) -> Callable[[Request, Ctx], Awaitable[Response]]:
        async def handler(request: Request, ctx: Ctx) -> Response:
            data = await form(request)
            place = form_place(data)
            topic = await stored(request, ctx, place)
            if isinstance(topic, Response):
                return topic
            sent = data.get("version", "")
            try:
                await db_call(
                    lambda: ops.set_topic_enabled(db, topic.slug, enabled, expected_version=sent)
                )
            except ops.OperationError as exc:
                if exc.code == "topic_version_missing":  # a list from before forms carried it
                    said = t("stale_list_reload", slug=topic.slug)
                else:
                    said = t.operation_error(exc)
                return admin.redirect(ctx, place.path, said, ok=False)
            await db_call(service.topic_changed, topic.slug)
            done = "enabled_msg" if enabled else "disabled_msg"
            return admin.redirect(ctx, place.path, t(done, slug=topic.slug))

        return handler

    def deleted(slug: str, result: ops.TopicDeleted) -> str:
        if result.subscriptions:
            done = t("deleted_with_subs", slug=slug, subs=t.subscriptions(result.subscriptions))
        else:
            done = t("deleted", slug=slug)
        if not result.kept_deleted:
            return done
        return f"{done} {stays_deleted(t, slug, service.settings.topics.file)}"

    async def ask_again(
        ctx: Ctx, slug: str, sent: str, shown: int | None, place: ListPlace
    ) -> Response:
        """409: what changed since the page the delete came from, what is stored, and the
        delete button again with the version and count shown here, and the list's ``place``
        (its buttons and Cancel go back there). Read now, whichever check refused it: a topic
        can have been edited and gained subscriptions both."""
        try:
            topic = await db_call(ops.get_topic, db, slug)
        except ops.OperationError as exc:  # deleted meanwhile by someone else
            return admin.redirect(ctx, place.path, t.operation_error(exc), ok=False)
        counts = (await db_call(ops.subscription_counts, db)).get(topic.slug, {})
        total = sum(counts.values())
        changed = changed_since(sent, topic.spec)
        return admin.page(
            "topic_delete.html", ctx, 409, topic=topic, total=total,
            fields=None if changed is None else ", ".join(t(f) for f in changed),
            shown=shown, gained=shown is not None and total > shown,
            subs_now=t.subscriptions(counts) if counts else "0",
            question=delete_question(t, topic.slug, counts), place=place,
        )  # fmt: skip

    async def delete(request: Request, ctx: Ctx) -> Response:
        data = await form(request)
        place = form_place(data)
        topic = await stored(request, ctx, place)
        if isinstance(topic, Response):
            return topic
        sent, shown = data.get("version", ""), shown_count(data.get("subscriptions", ""))
        if shown is None:  # a page that did not say what its question named: asked again
            return await ask_again(ctx, topic.slug, sent, None, place)
        try:  # the question named the subscriptions (topics.html): they go with the topic
            result = await db_call(
                lambda: ops.delete_topic(
                    db, topic.slug, with_subscriptions=True, expected_version=sent,
                    shown_subscriptions=shown,
                )
            )  # fmt: skip
        except ops.OperationError as exc:
            if exc.code in ASK_AGAIN:
                return await ask_again(ctx, topic.slug, sent, shown, place)
            await db_call(service.topic_changed, topic.slug)  # re-render what stands
            return admin.redirect(ctx, place.path, t.operation_error(exc), ok=False)
        await db_call(service.topic_changed, topic.slug)
        return admin.redirect(ctx, place.path, deleted(topic.slug, result))

    g = admin.guard
    p = PREFIX
    return [
        Route(p + "/topics/{slug}/enable", g(switch(True)), methods=["POST"]),
        Route(p + "/topics/{slug}/disable", g(switch(False)), methods=["POST"]),
        Route(p + "/topics/{slug}/delete", g(delete), methods=["POST"]),
    ]
