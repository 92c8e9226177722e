"""The admin's pages of who gets alerts and what was sent: subscriptions (every channel's,
Apprise URLs added here), a chat's pause, and the delivery log with its re-send.

Why apart from :mod:`feedsvc.web.admin_pages` (topics, status): that module passed 400 lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc import delivery_states
from feedsvc import operations as ops
from feedsvc.channel_modes import MISSING_SETTING, off_channels
from feedsvc.channels.apprise import mask
from feedsvc.channels.base import CHANNELS
from feedsvc.channels.recipients import shown_address
from feedsvc.store import delivery_log
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_pages import (
    channel_param,
    db_call,
    form,
    id_param,
    page_param,
)
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

#: Rows of the delivery log a page shows.
DELIVERIES_PER_PAGE = 100


def recipient_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    # -- subscriptions --------------------------------------------------------------------
    async def subscriptions(request: Request, ctx: Ctx) -> Response:
        channel = channel_param(query_param(request, "channel", ""))

        def load() -> tuple[list[sub_store.Subscription], dict[int, sub_store.Chat], Any]:
            with db.read() as conn:
                subs = sub_store.list_subscriptions(conn, channel=channel or None)
                topics = topic_store.list_topics(conn, enabled_only=True)
                return subs, sub_store.list_chats(conn), topics

        subs, chats, topics = await db_call(load)
        off = [c for c in off_channels(service.channel_modes) if any(s.channel == c for s in subs)]
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
            # back where the button was: the chat's page sends ``back=chat`` (anything else,
            # or nothing, is the subscriptions page, as before; never a path a form names)
            back = (await request.form()).get("back")
            where = f"/chats/{chat_id}" if back == "chat" else "/subscriptions"
            return admin.redirect(ctx, where, t(key, chat=chat_id))

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
            await db_call(ops.resend_delivery, db, delivery_id, off_channels(service.channel_modes))
        except ops.OperationError as exc:
            return admin.redirect(ctx, back, t.operation_error(exc), ok=False)
        service.wake_dispatchers()
        return admin.redirect(ctx, back, t("resent", id=delivery_id))

    g = admin.guard
    p = PREFIX
    return [
        Route(p + "/subscriptions", g(subscriptions), methods=["GET"]),
        Route(p + "/chats/{chat_id}/pause", g(chat_pause(True)), methods=["POST"]),
        Route(p + "/chats/{chat_id}/resume", g(chat_pause(False)), methods=["POST"]),
        Route(p + "/subscriptions/{sub_id}/delete", g(sub_delete), methods=["POST"]),
        Route(p + "/subscriptions/apprise", g(apprise_add), methods=["POST"]),
        Route(p + "/deliveries", g(deliveries), methods=["GET"]),
        Route(p + "/deliveries/{delivery_id}/resend", g(resend), methods=["POST"]),
    ]
