"""The admin's pages of who gets alerts and what was sent: subscriptions (every channel's,
Apprise URLs added here), a chat's pause, and the delivery log with its re-send.

Why apart from :mod:`feedsvc.web.admin_pages` (topics, status): that module passed 400 lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc import delivery_states
from feedsvc import operations as ops
from feedsvc.channel_modes import MISSING_SETTING, off_channels
from feedsvc.channels.apprise_urls import mask
from feedsvc.channels.base import CHANNELS
from feedsvc.fieldtext import control_char, shown_position
from feedsvc.recipient_names import named
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
from feedsvc.web.admin_text import field_words
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

#: Rows of the delivery log a page shows.
DELIVERIES_PER_PAGE = 100
#: The Apprise form's boxes by the request field a refusal names (``OperationError.field``).
FORM_BOXES = {"address": "url", "query": "query", "topic": "topic"}


def _given(text: str) -> str | None:
    """A box's text as sent, None when it holds nothing (or only spaces): the form has both
    a topic and a query box, and one of them is left empty. A character no save takes is
    text, judged by the use case (``"\x1c"`` is no empty box, although ``str.strip`` takes it)."""
    return text if text.strip() or control_char(text) is not None else None


def recipient_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    # -- subscriptions --------------------------------------------------------------------
    async def subscriptions(request: Request, ctx: Ctx) -> Response:
        channel = channel_param(query_param(request, "channel", ""))
        return await subscriptions_page(ctx, channel)

    async def subscriptions_page(
        ctx: Ctx, channel: str, status: int = 200, typed: dict[str, str] | None = None,
        error: dict[str, Any] | None = None,
    ) -> Response:  # fmt: skip
        """The page; ``typed``, ``error``: the Apprise form as a refused add sent it, and why
        (:func:`refused_add`)."""

        def load() -> tuple[list[sub_store.Subscription], dict[int, sub_store.Chat], Any]:
            with db.read() as conn:
                subs = sub_store.list_subscriptions(conn, channel=channel or None)
                topics = topic_store.list_topics(conn, enabled_only=True)
                return subs, sub_store.list_chats(conn), topics

        subs, chats, topics = await db_call(load)
        off = [c for c in off_channels(service.channel_modes) if any(s.channel == c for s in subs)]
        return admin.page(
            "subscriptions.html", ctx, status, subs=subs, chats=chats, channel=channel, off=off,
            channels=CHANNELS, topics=topics, setting=MISSING_SETTING,
            typed=typed or {"url": "", "topic": "", "query": ""}, error=error,
        )  # fmt: skip

    def refused_add(exc: ops.OperationError, typed: dict[str, str]) -> dict[str, Any]:
        """Why an add was refused, for the form: the box it concerns (``address`` is the URL
        box), the words under it — a query error placed as the box holds the query
        (:func:`feedsvc.fieldtext.shown_position`, "at character 18" as the topic editor,
        the API's ``column`` and the CLI's caret say it), a refused character's none (the
        box's own note names it, :func:`feedsvc.web.admin_text.removal_note`) — and, for an
        error of no box (too many subscriptions), the words above the form."""
        box = FORM_BOXES.get(exc.field or "")
        said = field_words(t, exc) if box else t.operation_error(exc)
        if box == "query" and exc.position is not None:
            shown = shown_position(typed["query"], exc.position) + 1
            said = f"{said} ({t('at_position', position=shown)})"
        return {"field": box, "text": said}

    async def apprise_add(request: Request, ctx: Ctx) -> Response:
        """The admin's form: subscribe an Apprise URL to a topic or a query. Refused, the page
        again (no redirect: what was typed would be lost) with the topic and query as sent and
        the error under its box. The URL box comes back empty, asking for the URL again
        (``apprise.url_again``): it holds a secret feedsvc only ever shows masked, and a
        refused page holding it sent the password and token back in the HTML (a tester's).
        The URL and the query go to the use case as sent: it judges a control character
        before trimming (``str.strip`` takes NEL and U+001C–U+001F), and
        places a query error in the text as typed."""
        data = await form(request)
        typed = {name: data.get(name, "") for name in ("url", "topic", "query")}
        topic, query = typed["topic"] or None, _given(typed["query"])
        url = typed["url"]
        try:
            done = await db_call(
                lambda: ops.subscribe_recipient(
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
            status = 409 if exc.kind == "conflict" else 422
            return await subscriptions_page(ctx, "", status, typed, refused_add(exc, typed))
        # added, or had it already ("Added" was said either way); switched back on, or why it
        # still receives nothing (a 429 pause, paused): README's "adding the same URL again
        # switches it back on" was done without a word
        head = "apprise.added" if done.created else "apprise.already"
        said = [t(head, address=mask(done.subscription.address)), *t.subscribed(done)]
        return admin.redirect(ctx, "/subscriptions?channel=apprise", " ".join(said))

    def chat_pause(paused: bool) -> Callable[[Request, Ctx], Any]:
        async def handler(request: Request, ctx: Ctx) -> Response:
            chat_id = id_param(request.path_params["chat_id"])  # groups have negative ids
            if chat_id is None:
                return admin.message(t("not_found"), 404, ctx)

            def run() -> sub_store.Chat | None:
                with db.write() as conn:
                    chat = sub_store.get_chat(conn, chat_id)
                    if chat is not None:
                        sub_store.set_paused(conn, chat_id, paused)
                    return chat

            chat = await db_call(run)
            if chat is None:
                return admin.message(t("not_found"), 404, ctx)
            if not paused:
                service.wake_dispatchers()  # what the chat had queued may go out now
            key = "paused_msg" if paused else "resumed_msg"
            # back where the button was: the chat's page sends ``back=chat`` (anything else,
            # or nothing, is the subscriptions page, as before; never a path a form names)
            back = (await request.form()).get("back")
            where = f"/chats/{chat_id}" if back == "chat" else "/subscriptions"
            return admin.redirect(ctx, where, t(key, chat=named(chat)))

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
        """The log by keyset (``?before=``/``?after=`` an id: ``ops.page_deliveries``), so a
        page begins where the one before ended while rows arrive; an old ``?page=N`` link is
        sent to the keyset page that begins where it begins now; past the end, a page saying
        so with the way back to the first."""
        state = query_param(request, "state", "")
        if state not in ("", delivery_log.DEAD, *delivery_states.STATES):
            state = ""
        channel = channel_param(query_param(request, "channel", ""))
        filters = {k: v for k, v in (("state", state), ("channel", channel)) if v}
        before = id_param(query_param(request, "before", ""))
        after = id_param(query_param(request, "after", ""))
        page = page_param(query_param(request, "page", "1"))
        per_page = DELIVERIES_PER_PAGE
        st, ch = state or None, channel or None
        if page > 1 and before is None and after is None:
            start = await db_call(lambda: ops.page_start(db, page, per_page, state=st, channel=ch))
            if start is not None:
                return admin.redirect(ctx, "/deliveries?" + urlencode(filters | {"before": start}))
            before = 0  # past the end: no row is older than 0
        found = await db_call(
            lambda: ops.page_deliveries(
                db, state=st, channel=ch, limit=per_page, before=before, after=after
            )
        )
        if after is not None and not found.rows:  # nothing newer: the newest page
            found = await db_call(
                lambda: ops.page_deliveries(db, state=st, channel=ch, limit=per_page)
            )
        rows = found.rows
        first_page = "?" + urlencode(filters)
        newer_href = older_href = None
        if rows and found.newer:  # a page of fewer than per_page rows at the top: the first
            newer_href = (
                first_page if found.newer <= per_page
                else "?" + urlencode(filters | {"after": rows[0].id})
            )  # fmt: skip
        if found.older:
            older_href = "?" + urlencode(filters | {"before": rows[-1].id})
        return admin.page(
            "deliveries.html",
            ctx,
            rows=rows,
            state=state,
            channel=channel,
            channels=CHANNELS,
            states=(delivery_log.DEAD, *delivery_states.STATES),
            first=found.newer + 1,
            last=found.newer + len(rows),
            total=found.total,
            newer_href=newer_href,
            older_href=older_href,
            first_page=first_page,
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
