"""The topic editor's live preview (``POST /admin/preview``): a query typed in the editor →
how many stored articles it matches, sample articles with their matched terms ``<mark>``ed,
and warnings for terms too broad to mean much, from :func:`feedsvc.preview.preview` (the
CLI's ``topics preview`` and the API's ``/api/topics/preview`` read the same); or the parser's
error, worded and placed, while the query is unfinished. JSON for the editor's script; the
query runs in the thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feedsvc import preview_words
from feedsvc.feeds.links import article_link
from feedsvc.fieldtext import control_char, shown_position
from feedsvc.matching import QueryError
from feedsvc.operations.errors import refused_character
from feedsvc.preview import preview
from feedsvc.web.admin import PREFIX, Ctx, admin_title
from feedsvc.web.admin_text import shown
from feedsvc.web.security_headers import ADMIN_HEADERS

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin

#: Stored articles a preview reads at most, and samples it shows.
PREVIEW_SCAN = 2000
PREVIEW_SAMPLES = 10


def preview_routes(admin: Admin) -> list[Route]:
    db = admin.service.web_db  # request work: its own pool (feedsvc.app.Service)
    t = admin.t

    def refused_answer(query: str, char: str) -> Response:
        """A query holding a character the save refuses (``U+202E``, NUL, a lone surrogate:
        :func:`feedsvc.fieldtext.control_char`) is the save's refusal, in its words, shown
        where the editor shows a query error and placed on the character. The preview matched
        it as if it could be saved (a bidi override pasted with a name: "7 articles match"),
        then Save refused it."""
        refused = refused_character("query", char, query)
        position = shown_position(query, refused.position or 0)
        return JSONResponse(
            {
                "error": t.operation_error(refused),
                "position": position,
                "column": position + 1,
                "label": t("preview_error"),
                "where": t("at_position", position=position + 1),
            },
            headers=ADMIN_HEADERS,
        )

    async def preview_json(request: Request, ctx: Ctx) -> Response:
        """``{"query": ...}`` → count, scanned, samples with ``<mark>``ed snippets, warnings;
        or ``{"error", "position", "where"}`` for a query the parser rejects (still 200: an
        unfinished query is the normal state of an editor, not a failed request).

        A form post (``query`` and ``csrf`` fields: a page without the script, a curl) is read
        as a form: the CSRF check has read its body already, and reading it again as JSON
        raised "Stream consumed", a 500."""
        if "form" in request.headers.get("content-type", ""):
            form = await request.form()  # kept by Starlette
            query: object = form.get("query")
            slug: object = form.get("slug")
        else:
            try:
                body = await request.json()
            except ValueError:
                body = None
            query = body.get("query") if isinstance(body, dict) else None
            slug = body.get("slug") if isinstance(body, dict) else None
        topic = slug if isinstance(slug, str) and slug else None  # the topic being edited
        if not isinstance(query, str):
            return JSONResponse({"error": t("query_not_text")}, 400, ADMIN_HEADERS)
        # no length cap of its own (it had 4,000, the parser 2,000, the API 5,000): a query
        # over feedsvc.limits.QUERY is the parser's ``too_long``, worded as every front end
        # words it, where the editor shows query errors (the body is capped by the admin's
        # body limit, web.body_limit)
        if not query.strip():
            return JSONResponse({"empty": True}, headers=ADMIN_HEADERS)
        if (refused := control_char(query)) is not None:
            return refused_answer(query, refused)
        try:
            result = await run_in_threadpool(
                lambda: preview(db, query, scan=PREVIEW_SCAN, samples=PREVIEW_SAMPLES, slug=topic)
            )
        except QueryError as exc:
            # as the box shows the query (a form post sends its line breaks as CR LF, the
            # script the box's value with LF): where Save places the same error
            at = None if exc.position is None else shown_position(query, exc.position)
            return JSONResponse(
                {
                    "error": t.query_error(exc),
                    "position": at,  # 0-based: admin.js slices the text by it
                    "column": None if at is None else at + 1,
                    "label": t("preview_error"),
                    "where": t("at_position", position=at + 1) if at is not None else None,
                },
                headers=ADMIN_HEADERS,
            )
        samples = [
            {
                # outside text as every admin page shows it (its bidi controls as ``\u202e``):
                # the script writes it as it is, and a U+202E reversed the rest of the title
                "title": shown(admin_title(t("reader.feed_untitled"), s.stored.article.title)),
                "url": article_link(s.stored.article.url),  # as every output links it
                "published": t.time(s.stored.article.published_at),
                "hits": [
                    {"term": h.term, "field": t(f"field.{h.field}"), "snippet_html": h.snippet_html}
                    for h in s.explanation.hits
                ],
            }
            for s in result.samples
        ]
        return JSONResponse(
            {
                "count": result.count,
                "scanned": result.scanned,
                "summary": preview_words.summary(t, result),
                "in_backfill_window": result.in_window,
                "exact": result.exact,
                "warnings": [w.message for w in preview_words.warnings(t, result)],
                "samples": samples,
            },
            headers=ADMIN_HEADERS,
        )

    guard = admin.guard
    return [Route(PREFIX + "/preview", guard(preview_json, json_errors=True), methods=["POST"])]
