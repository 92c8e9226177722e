"""The web admin's pages: topics (the editor's live preview is :mod:`feedsvc.web.admin_preview`),
subscriptions, deliveries, status. Validation is ``feedsvc.operations``' (the same rules as the
CLI and the API); every DB call runs in the thread pool so a slow query never stalls the event
loop serving feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc import operations as ops
from feedsvc.channels.base import CHANNELS
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.feeds import feed_urls
from feedsvc.feeds.model import FORMAT_LABELS
from feedsvc.fieldtext import control_char, shown_position
from feedsvc.operations.errors import refused_character
from feedsvc.stats import topic_stats
from feedsvc.stats.charts import chart_height, charted
from feedsvc.status import status_facts
from feedsvc.store.topics import TopicSpec
from feedsvc.topic_versions import absent_version
from feedsvc.topics_file import slug_problem
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_forms import CheckboxError, checkbox, ticked_as_sent
from feedsvc.web.admin_topic_list import LIST_TOP, MAX_PAGE, ListPlace, list_place, topic_list
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.web.admin import Admin

T = TypeVar("T")
log = logging.getLogger(__name__)


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


def requested_place(request: Request) -> ListPlace:
    """Where the topics list is, from a GET's ``?q=`` and ``?page=`` (the list's own, and the
    editor's opened from it: :class:`~feedsvc.web.admin_topic_list.ListPlace`)."""
    return list_place(query_param(request, "q", ""), query_param(request, "page"))


def form_place(data: Mapping[str, str]) -> ListPlace:
    """Where the topics list a posted form came from was: its ``q`` and ``page`` fields."""
    return list_place(data.get("q"), data.get("page"))


def channel_param(text: str) -> str:
    """A ``?channel=`` filter: one of the channels, else "" (all)."""
    return text if text in CHANNELS else ""


async def db_call(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the thread pool: a page's database work off the event loop."""
    return await run_in_threadpool(fn, *args)


async def form(request: Request) -> dict[str, str]:
    """A posted form's text fields (a file field, which no admin form has, is left out)."""
    data = await request.form()
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def delete_question(t: Translator, slug: str, subs: Mapping[str, int] | None) -> str:
    """The delete button's question names the subscriptions that go with the topic (the same
    count the delete takes, every chat's: stats count only chats switched on): the topics
    list's and the page that asks again (:mod:`feedsvc.web.admin_topic_actions`)."""
    if not subs:
        return t("confirm_delete_topic", slug=slug)
    return t("confirm_delete_topic_subs", slug=slug, subs=t.subscriptions(subs))


def page_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    # -- topics ---------------------------------------------------------------------------
    async def topics_list(request: Request, ctx: Ctx) -> Response:
        """One page of the topics (``?q=`` filters by title or slug, ``?page=N``), from one
        read of the topics and subscriptions (:func:`ops.topic_uses`) and one of the stats:
        never a query per row (:mod:`feedsvc.web.admin_topic_list`). Its forms and editor
        links carry the page shown (clamped) and its filter: an action comes back here."""
        asked = requested_place(request)
        uses = await db_call(ops.topic_uses, db)
        listing = topic_list(uses, asked.q, asked.page, t)
        all_stats = await db_call(topic_stats, db, service.settings.tz)
        stats = {s.slug: s for s in all_stats}
        charted_topics, more = charted(all_stats)
        public = service.settings.http.public_url
        shown = listing.topics
        links = {tp.slug: feed_urls(public, tp.slug) for tp in shown}
        counts = uses.counts
        confirms = {tp.slug: delete_question(t, tp.slug, counts.get(tp.slug)) for tp in shown}
        # the delete form carries the count its question names: more at delete time is asked
        # again (web.admin_topic_actions)
        shown_subs = {slug: sum(by_channel.values()) for slug, by_channel in counts.items()}
        at = listing.paging
        place = asked.at(at.page)

        def page_href(number: int) -> str:
            return admin.location(place.at(number).path)

        return admin.page(
            "topics.html", ctx, topics=shown, links=links, formats=FORMAT_LABELS, stats=stats,
            confirms=confirms, used_by=listing.used_by, shown_subs=shown_subs, q=place.q,
            place=place, paging=at, all_topics=listing.all_topics,
            prev_href=page_href(at.page - 1) if at.page > 1 else None,
            next_href=page_href(at.page + 1) if at.page < at.pages else None,
            charted=len(charted_topics), chart_more=more,
            chart_height=chart_height(len(charted_topics)),
        )  # fmt: skip

    async def topic_new(request: Request, ctx: Ctx) -> Response:
        if request.method == "GET":  # "no topic yet, as of now": a repeated Save is told apart
            version = absent_version(await db_call(db.now))
            place = requested_place(request)
            return editor_page(ctx, TopicSpec("", "", ""), new=True, version=version, place=place)
        return await save(request, ctx, None)

    async def topic_edit(request: Request, ctx: Ctx) -> Response:
        slug = request.path_params["slug"]  # in any case (feedsvc.slugs): the stored one used
        try:
            topic = await db_call(ops.get_topic, db, slug)
        except ops.OperationError:
            if request.method == "GET" or slug_problem(slug):  # never a topic: no form for it
                return admin.message(t("not_found"), 404, ctx)
            return await save(request, ctx, slug)  # deleted meanwhile: said by the save
        if request.method == "GET":  # the version it is saved against (feedsvc.topic_versions)
            place = requested_place(request)
            return editor_page(ctx, topic.spec, new=False, version=topic.version, place=place)
        return await save(request, ctx, topic.slug)

    def backfilled(slug: str, r: Any) -> str:
        """The flash after a backfill, by the button or on save (:meth:`Translator.backfilled`:
        "in the feed" and "added" only what readers see)."""
        return t.backfilled(slug, r)

    def editor_page(
        ctx: Ctx,
        spec: TopicSpec,
        *,
        new: bool,
        error: ops.OperationError | None = None,
        status: int | None = None,
        version: str = "",
        backfill: bool | None = None,
        place: ListPlace = LIST_TOP,
    ) -> Response:
        """``version``: the topic's version the form saves against — the one it was opened
        with, kept through a refused save, the stored one after a conflict (saving again is
        then a deliberate overwrite); a new topic's, "none yet" as of when it was opened
        (:func:`~feedsvc.topic_versions.absent_version`: the same create sent again is
        answered as the first). ``backfill``: the "backfill on save" box as a refused
        form sent it (None: a form just opened, ticked for a new topic). A query error is
        placed as the query's box shows it (:func:`feedsvc.fieldtext.shown_position`: the
        browser sent its line breaks as CR LF, the box and the live preview have LF).
        ``place``: where the list it was opened from was, which its Save and Cancel go back to
        (:class:`~feedsvc.web.admin_topic_list.ListPlace`), kept through a refused save."""
        if error is not None and error.field == "query" and error.position is not None:
            error.position = shown_position(spec.query, error.position)
        return admin.page(
            "editor.html",
            ctx,
            status or (422 if error else 200),
            spec=spec,
            new=new,
            error=error,
            backfill=new if backfill is None else backfill,
            version=version,
            place=place,
        )

    async def save(request: Request, ctx: Ctx, slug: str | None) -> Response:
        data = await form(request)
        place = form_place(data)  # where the list the editor was opened from was
        editor = partial(editor_page, place=place)
        typed_slug = slug or data.get("slug", "")
        spec = TopicSpec(
            slug=typed_slug.strip(),
            title=data.get("title", ""),  # normalised by ops.save_topic (feedsvc.fieldtext)
            query=data.get("query", ""),
            description=data.get("description", ""),
        )
        sent = data.get("version", "")
        # a refused save shows the boxes as sent (spec.enabled, once read, and this one)
        typed_backfill = ticked_as_sent(data, "backfill", slug is None)
        try:
            spec = replace(spec, enabled=checkbox(data, "enabled"))
            backfill = checkbox(data, "backfill")
        except CheckboxError as exc:
            error = ops.OperationError(
                "invalid", f"{exc.field} is on or off", code="checkbox_invalid",
                params={"field": exc.field}, field=exc.field,
            )  # fmt: skip
            spec = replace(spec, enabled=ticked_as_sent(data, "enabled", spec.enabled))
            return editor(
                ctx, spec, new=slug is None, error=error, version=sent, backfill=typed_backfill
            )
        if (char := control_char(typed_slug)) is not None:
            # judged as sent: the strip above takes NEL and U+001C–U+001F for spaces, and
            # "kt\u0085" was saved as "kt" where the API and the CLI refuse it
            error = refused_character("slug", char)
            spec = replace(spec, slug=typed_slug)
            return editor(
                ctx, spec, new=slug is None, error=error, version=sent, backfill=typed_backfill
            )
        # an edit always states the version it was opened at; "" (no field) is refused there;
        # a new topic's says since when none was there (ops: the same create sent again)
        try:
            outcome = await db_call(
                lambda: ops.save_topic(
                    db,
                    spec,
                    "admin",
                    create_only=slug is None,
                    update_only=slug is not None,
                    expected_version=sent,
                )
            )
        except ops.OperationError as exc:
            if exc.code == "topic_not_found":  # an edit of a topic that never was: as its GET
                return admin.message(t("not_found"), 404, ctx)
            if exc.code in ("topic_deleted_meanwhile", "topic_deleted_since_opened"):
                # 409, and what the editor typed is kept, in a "new topic" form opened now:
                # saving it again creates the topic, deliberately (the edit URL never does)
                version = absent_version(await db_call(db.now))
                return editor(
                    ctx, spec, new=True, error=exc, status=409, version=version,
                    backfill=typed_backfill,
                )  # fmt: skip
            if exc.code in ("topic_changed_meanwhile", "topic_version_missing"):
                # what was typed kept, the stored version taken: Save again overwrites
                status = 409 if exc.kind == "conflict" else 400
                now = str(exc.params["version"])
                return editor(
                    ctx, spec, new=False, error=exc, status=status, version=now,
                    backfill=typed_backfill,
                )  # fmt: skip
            return editor(
                ctx, spec, new=slug is None, error=exc, version=sent, backfill=typed_backfill
            )
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
        return admin.redirect(ctx, place.path, message, ok=ok)

    def backfill_now(slug: str) -> ops.BackfillResult:
        """The admin's backfill (30 days), stopped between batches when the service stops."""
        return ops.backfill_topic(db, slug, stopping=lambda: service.interrupted)

    def topic_action(
        action: Callable[[str], object], done: Callable[[str, object], str]
    ) -> Callable[[Request, Ctx], Any]:
        async def handler(request: Request, ctx: Ctx) -> Response:
            back = form_place(await form(request)).path  # the list's place the button was on
            try:  # the slug as stored: the path may name the topic in another case
                slug = (await db_call(ops.get_topic, db, request.path_params["slug"])).slug
            except ops.OperationError as exc:
                return admin.redirect(ctx, back, t.operation_error(exc), ok=False)
            try:
                result = await db_call(action, slug)
            except ops.OperationError as exc:
                # a backfill stopped part-way (the query changed) stored its batches done: the
                # feeds show them; after any other refusal this re-renders what stands
                await db_call(service.topic_changed, slug)
                return admin.redirect(ctx, back, t.operation_error(exc), ok=False)
            await db_call(service.topic_changed, slug)  # also after a backfill
            return admin.redirect(ctx, back, done(slug, result))

        return handler

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
    # enable, disable and delete, made against the version the list showed: admin_topic_actions
    backfill = topic_action(backfill_now, backfilled)
    p = PREFIX
    return [
        Route(p + "/topics", g(topics_list), methods=["GET"]),
        Route(p + "/topics/new", g(topic_new), methods=["GET", "POST"]),
        Route(p + "/topics/{slug}/edit", g(topic_edit), methods=["GET", "POST"]),
        Route(p + "/topics/{slug}/backfill", g(backfill), methods=["POST"]),
        Route(p + "/status", g(status), methods=["GET"]),
    ]
