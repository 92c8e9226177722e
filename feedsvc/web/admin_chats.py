"""The admin's chat page (issue 15): how one chat gets its alerts — digest schedule, quiet
hours, silent — shown and changed through :mod:`feedsvc.digest.options`, the rules the bot's
``/digest``, ``/quiet``, ``/silent`` and ``PATCH /api/chats/{chat_id}`` use. Errors are worded
from the catalogue (``digest.error.*``) next to the field they concern.

The form carries the version of the options it shows (:mod:`feedsvc.digest.versions`): Save
writes only what the admin changed there, and a change the chat's owner (``/quiet`` in
Telegram), the API or another admin page made since is never overwritten — an option changed
both here and there is a 409 naming it, with its stored value, what was typed kept
(:class:`feedsvc.digest.options.ChatChangedMeanwhile`). An empty digest or quiet box is
``off``, as its help line says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc.catalogue.operation_words import REFUSED_CHARACTER
from feedsvc.digest import ChatSettings, SettingError, versions
from feedsvc.digest import options as chat_options
from feedsvc.recipient_names import named
from feedsvc.store import digests as digest_store
from feedsvc.store import subscriptions as sub_store
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_forms import CheckboxError, checkbox, ticked_as_sent
from feedsvc.web.admin_pages import id_param

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

#: The boxes' labels (catalogue keys), by option: the form's and a conflict's words.
LABELS = {"digest": "chat_digest", "quiet": "chat_quiet", "silent": "chat_silent"}


def boxes(settings: ChatSettings) -> dict[str, Any]:
    """What the form's boxes hold for stored ``settings``: ``digest`` and ``quiet`` as text
    (``off`` for none), ``silent`` ticked or not."""
    quiet = settings.quiet.stored() if settings.quiet else "off"
    return {"digest": settings.digest.text(), "quiet": quiet, "silent": settings.silent}


def chat_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db
    t = admin.t

    def load(chat_id: int) -> dict[str, Any] | None:
        with db.read() as conn:
            chat = sub_store.get_chat(conn, chat_id)
            settings = digest_store.get_settings(conn, chat_id)
            held = digest_store.held_count(conn, chat_id)
            subs = sub_store.list_subscriptions(conn, chat_id)
        if chat is None or settings is None:
            return None
        return {"chat": chat, "settings": settings, "held": held, "subs": subs,
                "words": chat_options.describe(settings, t),
                "version": versions.version_of(settings)}  # fmt: skip

    def conflict(
        found: dict[str, Any], ctx: Ctx, exc: chat_options.ChatChangedMeanwhile,
        values: dict[str, Any],
    ) -> Response:  # fmt: skip
        """The page again after :class:`~feedsvc.digest.options.ChatChangedMeanwhile`: the
        flash names the options and the stored values are listed under it; each box holds
        what was typed where the admin changed it, the stored value elsewhere (Save again
        must not take back what it did not touch), and the form the stored version: Save
        again overwrites, deliberately. 409 for a change meanwhile, 400 for no version."""
        stored = boxes(exc.now)
        kept = {f: values[f] if f in exc.edited else stored[f] for f in versions.FIELDS}
        words = chat_options.describe(exc.now, t)
        said = t(f"{exc.code}", chat=named(found["chat"]),
                 fields=", ".join(t(LABELS[f]) for f in exc.fields))  # fmt: skip
        refusal = {"text": said, "now": [(t(LABELS[f]), words[f]) for f in exc.fields]}
        status = 409 if exc.code == "chat_changed_meanwhile" else 400
        found = found | {"settings": exc.now, "words": words, "version": exc.version}
        return admin.page("chat.html", ctx, status, **found, values=kept, error=None,
                          refusal=refusal)  # fmt: skip

    async def chat_page(request: Request, ctx: Ctx) -> Response:
        chat_id = id_param(request.path_params["chat_id"])
        found = None if chat_id is None else await run_in_threadpool(load, chat_id)
        if chat_id is None or found is None:
            return admin.message(t("not_found"), 404, ctx)
        if request.method == "GET":
            return admin.page("chat.html", ctx, **found, values=None, error=None)
        form = await request.form()
        # whole, never cut: an over-long value is the parser's ``too_long`` error, not a shorter
        # value validated instead (digest.settings.MAX_CHARS)
        values: dict[str, Any] = {name: str(form.get(name) or "") for name in ("digest", "quiet")}
        fields = {k: str(v) for k, v in form.items()}
        # the version the page was opened with, kept through a refused value (not the stored
        # one: that would make the next Save overwrite what changed meanwhile unchecked)
        seen = fields.get("version", "")
        found["version"] = seen
        # a refused form shows the box as sent, as it shows the texts (its stored value was
        # shown: a "silent" ticked with a mistyped digest came back unticked)
        values["silent"] = ticked_as_sent(fields, "silent", found["settings"].silent)
        try:
            silent = checkbox(fields, "silent")
            # an empty box is off (chat_digest_help, chat_quiet_help say so); the API's "" is
            # refused instead, where null is off: a form has no null
            changes = chat_options.parse_changes(
                values["digest"] or "off", values["quiet"] or "off", silent
            )
        except CheckboxError as exc:
            error = {"field": exc.field, "text": t("op.checkbox_invalid", field=exc.field)}
            return admin.page("chat.html", ctx, 422, **found, values=values, error=error)
        except SettingError as exc:
            # a refused character's words are the box's note (admin_text.removal_note), as
            # for a topic's fields: the box no longer holds it, "remove it" asks for what is done
            said = "" if exc.code in REFUSED_CHARACTER else chat_options.error_text(exc, t)
            error = {"field": exc.field, "text": said}
            return admin.page("chat.html", ctx, 422, **found, values=values, error=error)
        tz = service.settings.tz
        try:
            await run_in_threadpool(lambda: chat_options.apply(db, chat_id, changes, tz, seen=seen))
        except chat_options.ChatNotFound:
            return admin.message(t("not_found"), 404, ctx)
        except chat_options.ChatChangedMeanwhile as exc:
            return conflict(found, ctx, exc, values)
        service.dispatcher.wake.set()  # held alerts may be due now
        return admin.redirect(ctx, f"/chats/{chat_id}", t("chat_saved", chat=named(found["chat"])))

    guard = admin.guard
    return [Route(PREFIX + "/chats/{chat_id}", guard(chat_page), methods=["GET", "POST"])]
