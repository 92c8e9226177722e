"""The web admin's articles page (SPEC §10): find an article by title or key, hide it (with a
reason) or unhide it. The rules are :mod:`feedsvc.lifecycle.editors`' (shared with the CLI and
the API); forms carry the CSRF token like every other admin form (:meth:`Admin.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc.fieldtext import control_char
from feedsvc.keys import MAX_KEY, MAX_TYPED_KEY, spelled, trim_key
from feedsvc.lifecycle import editors
from feedsvc.lifecycle.hooks import release_hooks
from feedsvc.lifecycle.typed_keys import key_notes, near_keys
from feedsvc.logs import unescape_controls
from feedsvc.operations import OperationError
from feedsvc.web.admin import PREFIX, Ctx
from feedsvc.web.admin_text import field_words
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.store.lifecycle import EditorState
    from feedsvc.web.admin import Admin

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class Ahead:
    """What a search by key that found nothing shows (:func:`article_routes`' ``_ahead``):
    ``note`` above it, the stored keys that begin with or contain the key typed (``near``:
    each with its search's quoted text, a link listing that article with its own buttons),
    and whether the form hiding ``key`` before ingest is offered (``offer``)."""

    key: str
    note: str
    offer: bool
    near: list[tuple[str, str]] = field(default_factory=list)


def article_routes(admin: Admin) -> list[Route]:
    service = admin.service
    db = service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    async def listing(request: Request, ctx: Ctx) -> Response:
        q = query_param(request, "q", "")  # as typed: kept so in the box
        text = unescape_controls(q)  # read as the CLI reads the spelling both print (keys.spelled)
        try:  # searched whole: an over-long search is an error, never a cut of it
            found = await run_in_threadpool(editors.find_articles, db, text, PER_PAGE)
        except OperationError as exc:  # a refused character: said by the box (admin_text)
            error = field_words(t, exc)
            return admin.page("articles.html", ctx, 422, q=q, rows=[], error=error, ahead=None)
        now = db.now()
        rows = [(a, "pending" if a.pending else a.visibility(now).value) for a in found]
        ahead = None if rows else await run_in_threadpool(_ahead, text)
        return admin.page("articles.html", ctx, q=q, rows=rows, error=None, ahead=ahead)

    def _ahead(text: str) -> Ahead | None:
        """A search that found nothing, for a text that can be a key: what to say, the stored
        keys that begin with or contain it, and whether to offer to hide it ahead of ingest (a
        takedown cannot wait for the next poll). A key the built-in source table holds,
        imported and waiting for ingest: offered. One it does not hold, with the built-in
        source, is not imported (feedsvc sees the table): said so, and offered — "so it
        arrives hidden if it is imported" — only when no stored key begins with or contains
        it (part of a key typed: a key is looked up whole, and the offer recorded a hide for
        the part). For an external CMS, which feedsvc cannot look into, the key may be
        there: offered. None for a text that is no key. ``text``: the search read back
        (:func:`feedsvc.logs.unescape_controls`); every key shown, spelled
        (:func:`feedsvc.keys.spelled`)."""
        key = trim_key(text)
        if not key or control_char(key) is not None or len(key) > MAX_TYPED_KEY:
            return None  # a bidi control is found when stored, never hidden ahead
        waiting = editors.waiting_problem(db, key)
        if waiting:
            return Ahead(key, t.operation_error(waiting), len(key) <= MAX_KEY)
        near = [(k, _quote(spelled(k))) for k in near_keys(db, key)]
        shown = spelled(key)
        if service.settings.source.url:  # an external CMS's key feedsvc has not read: maybe
            return Ahead(key, t("hide_ahead_note", key=shown), len(key) <= MAX_KEY, near)
        offer = not near and len(key) <= MAX_KEY
        said = [t("hide_ahead_builtin", key=shown), *([t("hide_ahead_import")] if offer else [])]
        return Ahead(key, " ".join(said), offer, near)

    def action(hide: bool) -> Route:
        async def handler(request: Request, ctx: Ctx) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
            key = unescape_controls(form.get("key", ""))  # sent spelled (``key_text``)
            back = _back(form.get("q", ""), key)

            ahead = form.get("pending") == "1"  # the "hide before ingest" form

            def run() -> EditorState:
                if hide:
                    found = editors.hide_article(db, key, form.get("reason"), "admin", ahead)
                else:
                    hooks = release_hooks(service.settings)  # per request, as the API's
                    found = editors.unhide_article(db, key, hooks)
                service.publisher.sync()  # gone from (back in) this replica's feeds now
                return found

            try:
                found = await run_in_threadpool(run)
            except OperationError as exc:
                return admin.redirect(ctx, back, t.operation_error(exc), ok=False)
            done = "article_hidden" if hide else "article_unhidden"
            if not found.ingested:  # recorded for ingest, or that record cancelled
                done = "hide_pending" if hide else "hide_pending_cancelled"
            # the stored key used when typed in another Unicode form, its lookalikes left alone
            notes = [t(code, **params) for code, params in key_notes(found)]
            said = " ".join([t(done, key=spelled(found.source_key)), *notes])
            return admin.redirect(ctx, back, said)

        name = "hide" if hide else "unhide"
        return Route(f"{PREFIX}/articles/{name}", admin.guard(handler), methods=["POST"])

    return [
        Route(PREFIX + "/articles", admin.guard(listing), methods=["GET"]),
        action(True),
        action(False),
    ]


def _back(q: str, key: str) -> str:
    """Where an action sends the editor: the list filtered as it was (``q``), else by the
    article's key — the first the listing takes (:func:`feedsvc.lifecycle.editors.
    search_problem`), else the plain list. A filter the listing refuses (over 255 characters,
    a control character) carried into the redirect made a successful hide answer 422.
    ``q`` as typed, ``key`` as stored: carried as the listing reads them (spelled)."""
    for typed in (q, spelled(key) if key else ""):
        if typed and editors.search_problem(unescape_controls(typed)) is None:
            return "/articles?q=" + _quote(typed)
    return "/articles"


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
