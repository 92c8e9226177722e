"""Feed-serving routes (SPEC §5), decoupled from storage by the
:class:`~feedsvc.web.feed_backend.FeedBackend` protocol; how a request is read (feed name,
``?limit=``, browser navigation) lives in :mod:`feedsvc.web.feed_requests`.

Routes are plain Starlette ``Route`` handlers with no per-request middleware work. The hottest
request, a feed reader polling a topic feed, is answered before Starlette by
:class:`feedsvc.web.fast_path.FeedFastPath` from the snapshot's prepared
:class:`~feedsvc.web.http_cache.Replies`, which the routes use too, so both answer alike.

Threading: ``snapshot``, ``opml`` and ``index_html`` are called on the event loop and must be
cheap (in-memory snapshots). ``index_search`` filters the listed topics and renders a page of
them (~ms), in a worker thread. ``search`` queries the database and renders, so it runs in
Starlette's thread pool; feed renders are serialised by ``feedsvc.feeds.xmlfeeds.RENDER_LOCK``
because feedgen swaps the process locale while formatting RSS dates.
"""

from __future__ import annotations

import asyncio
import importlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, cast
from xml.sax.saxutils import escape as xml_escape

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from feedsvc.echoes import echoed
from feedsvc.logs import escape_controls
from feedsvc.pages.listing import clean_query, read_page, shown_position, shown_query
from feedsvc.pages.render import QR_CHATS, START_PAYLOAD_MAX, qr_path
from feedsvc.slugs import slug_forms
from feedsvc.web.clients import RateLimiter, request_client
from feedsvc.web.error_pages import add_vary, route_path, varies_by
from feedsvc.web.fast_path import count_feed_response
from feedsvc.web.feed_backend import SEARCH_PAGE, FeedBackend, NoQr, Overloaded, RenderJob
from feedsvc.web.feed_requests import (
    DEFAULT_LIMIT,
    NAVIGATION_HEADERS,
    SEARCH_SLUG,
    BadRequest,
    browser_navigation,
    name_with_lower_suffix,
    parse_limit,
    split_feed_name,
    wants_html,
)
from feedsvc.web.http_cache import (
    Snapshot,
    make_snapshot,
    snapshot_response,
    text_response,
)
from feedsvc.web.queries import QueryNotText, QueryRefused, query_for_url, query_param
from feedsvc.web.security_headers import READER_PAGE_HEADERS
from feedsvc.web.slashes import redirect_target

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.matching import QueryError
    from feedsvc.web.error_pages import ErrorPages

ERROR_MAX_AGE = 10  # seconds a 404 may be cached: short, a topic may be created any moment
REFUSAL_DELAY = 1.0  # seconds a 429/503 waits before it is sent (see ``refusal``)


def _load_xsl(words: Translator) -> Snapshot | None:
    """``/feed.xsl``, its words in the site's language (``words``): the note a browser shows
    above a feed it renders with it was Vietnamese on every site, an English one's too."""
    try:
        text = resources.files("feedsvc.web").joinpath("static/feed.xsl").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    for mark, value in (
        ("@LANG@", words.language),
        ("@NOTE_BEFORE@", words("reader.xsl_before")),
        ("@NOTE_AFTER@", words("reader.xsl_after")),
    ):
        text = text.replace(mark, xml_escape(value))
    return make_snapshot(text.encode("utf-8"), "text/xsl", datetime(2024, 1, 1, tzinfo=UTC))


def _searched(q: str) -> str:
    """A search feed's ``q`` as searched and shown: no bidi override, zero-width or control."""
    return shown_query(q).strip()


def query_error_type() -> type[Exception]:
    """``feedsvc.matching.QueryError`` if that module defines it yet, else ``ValueError``.

    Looked up at route-building time so this module does not depend on the matcher's import.
    """
    try:
        module = importlib.import_module("feedsvc.matching")
    except ImportError:
        return ValueError
    return cast(type[Exception], getattr(module, "QueryError", ValueError))


def feed_routes(
    backend: FeedBackend,
    cache_seconds: int,
    limiter: RateLimiter | None = None,
    t: Translator | None = None,
    base: str | None = None,
    mount: str = "",
    pages: ErrorPages | None = None,
) -> list[Route]:
    """Routes for ``/feeds/{slug}.{rss,atom,json}``, ``/feeds/search.*``, ``/feeds.opml``,
    ``/``, ``/topics/{slug}``, ``/topics/{slug}/telegram.svg`` (and ``zalo.svg``) and
    ``/feed.xsl``.
    ``cache_seconds`` feeds ``Cache-Control: public, max-age=N``.

    Requests that may render on demand (search feeds, a non-default ``?limit=``) first spend a
    token of ``limiter`` for their client (429 with ``Retry-After`` when out), and the backend
    may refuse them with :class:`Overloaded` (503 with ``Retry-After``).
    GET routes answer HEAD too (Starlette adds it); :func:`snapshot_response` drops the body.
    Error texts are worded by ``t`` (the site's language; Vietnamese by default). A slug in
    another case answers 301 to the stored one at ``base`` (:func:`~feedsvc.web.slashes.
    redirect_base`: ``http.public_url`` when set, else a path-absolute ``Location``). A
    browser's navigation to a topic's feed answers 303 to its reader page, path-absolute under
    ``mount`` (:func:`~feedsvc.web.mount.mount_path`): the host the browser asked stays.
    ``pages``: a browser's page for each error (:mod:`feedsvc.web.error_pages`; at a feed's
    address only a browser's navigation); None, the line for everyone.
    """
    if t is None:
        from feedsvc.catalogue import Translator

        t = Translator("vi")
    words = t

    def answer(request: Request, status: int, text: str, max_age: int = 0) -> Response:
        """The worded line, or a browser's page of it (:mod:`feedsvc.web.error_pages`)."""
        plain = text_response(status, text + "\n", max_age)
        if pages is None:
            return plain
        return pages.answer(route_path(request.scope), request.headers, status, text, plain)

    def error(
        request: Request, status: int, key: str, max_age: int = 0, **params: object
    ) -> Response:
        # a slug echoed from the URL shows its controls as escapes: `%1b]0;…%07` set the
        # terminal title of whoever curled a crafted link, and `%00` answered a raw NUL; and
        # only its start when long (feedsvc.echoes: a 30 KB path was answered 30 KB)
        shown = {
            k: escape_controls(echoed(v)) if isinstance(v, str) else v for k, v in params.items()
        }
        return answer(request, status, words(key, **shown), max_age)

    def serve(request: Request, snapshot: Snapshot) -> Response:
        return snapshot_response(snapshot, request.headers, request.method, cache_seconds)

    def serve_feed(request: Request, snapshot: Snapshot, fmt: str, slug: str) -> Response:
        response = serve(request, snapshot)
        count_feed_response(fmt, response.status_code)
        if slug != SEARCH_SLUG:
            backend.polled(slug)
        return response

    async def feed(request: Request) -> Response:
        name = request.path_params["name"]
        parsed = split_feed_name(name)
        if parsed is None:
            if (cased := split_feed_name(name_with_lower_suffix(name))) is not None:
                slug, fmt = cased  # `.RSS`: the address as served, its slug's case too (one hop)
                served = partial(backend.snapshot, fmt=fmt, limit=DEFAULT_LIMIT)
                if slug.lower() == SEARCH_SLUG:
                    slug = SEARCH_SLUG
                elif (stored := stored_slug(slug, served)) is not None:
                    slug = stored
                count_feed_response(fmt, 301)
                return moved(request, f"/feeds/{slug}.{fmt}")
            return error(request, 404, "http.feed_suffix")
        slug, fmt = parsed
        if slug != SEARCH_SLUG and slug.lower() == SEARCH_SLUG:  # `/feeds/Search.rss?q=…`
            count_feed_response(fmt, 301)
            return moved(request, f"/feeds/{SEARCH_SLUG}.{fmt}")
        try:  # a parameter not text is refused when read (web.queries), never read as U+FFFD
            # given twice, as the search and the limit read them (web.queries: /readyz's rule)
            query = query_param(request, "q", "", same=_searched) if slug == SEARCH_SLUG else ""
            limit = parse_limit(query_param(request, "limit", same=parse_limit))
            if limit == DEFAULT_LIMIT and slug != SEARCH_SLUG:  # the cached snapshot: a lookup
                snapshot = backend.snapshot(slug, fmt, limit)
            else:  # may render: rate-limited per client, then off the event loop
                wait = limiter.take(request_client(request)) if limiter is not None else None
                if wait is not None:
                    count_feed_response(fmt, 429)
                    return await refusal(request, 429, "http.too_many", wait)
                if slug == SEARCH_SLUG and browser_navigation(request.headers):
                    return search_page(await _search(query, fmt, limit, SEARCH_PAGE), fmt)
                if slug == SEARCH_SLUG:
                    return serve_feed(request, await _search(query, fmt, limit), fmt, slug)
                found = backend.limited(slug, fmt, limit)
                snapshot = None if found is None else await rendered(found)
        except BadRequest as exc:
            count_feed_response(fmt, 400)
            return answer(request, 400, bad_request(exc))
        except QueryRefused as exc:  # the app's words for it (queries.refused_response)
            count_feed_response(fmt, 400)
            return answer(request, 400, words(exc.key, **exc.params))
        except Overloaded as exc:
            count_feed_response(fmt, 503)
            return await refusal(request, 503, "http.busy", exc.retry_after)
        if snapshot is None:
            served = partial(backend.snapshot, fmt=fmt, limit=DEFAULT_LIMIT)
            if slug != SEARCH_SLUG and (stored := stored_slug(slug, served)) is not None:
                count_feed_response(fmt, 301)
                return moved(request, f"/feeds/{stored}.{fmt}")
            if slug != SEARCH_SLUG and backend.gone(slug):
                count_feed_response(fmt, 410)
                return gone(request, slug, browser_navigation(request.headers), navigated=True)
            count_feed_response(fmt, 404)
            if slug != SEARCH_SLUG and browser_navigation(request.headers):
                return missing_navigated(slug)
            return error(request, 404, "http.no_topic", ERROR_MAX_AGE, slug=slug)
        if browser_navigation(request.headers) and backend.page(slug) is not None:
            page_url = redirect_target(mount or None, f"/topics/{slug}", b"")  # the host asked
            return RedirectResponse(f"{page_url}#{fmt}", 303, NAVIGATION_HEADERS)
        return serve_feed(request, snapshot, fmt, slug)

    async def _search(q: str, fmt: str, limit: int, rendered_as: str | None = None) -> Snapshot:
        """The search for ``q`` as the feed of ``fmt`` (asked for), or ``rendered_as``
        (:data:`~feedsvc.web.feed_backend.SEARCH_PAGE`: its reader page)."""
        query = _searched(q)  # shown in the feed's title and self URL
        if not query:
            # the format asked for: an .atom or .json reader was pointed at the .rss address
            raise BadRequest(
                f"missing query: use /feeds/search.{fmt}?q=WORDS", "http.missing_query", fmt=fmt
            )
        try:
            found = backend.search_job(query, rendered_as or fmt, limit)
        except query_error as exc:  # placed in what was sent, not in the query cleaned
            if (at := getattr(exc, "position", None)) is not None:
                exc = cast("QueryError", exc).placed(shown_position(q, at))
            raise BadRequest(f"invalid query: {exc}", "http.invalid_query", exc) from exc
        return await rendered(found)

    async def rendered(found: Snapshot | RenderJob) -> Snapshot:
        """The snapshot, rendering it in the thread pool first if it is a job."""
        if isinstance(found, Snapshot):
            return found
        try:
            return await asyncio.get_running_loop().run_in_executor(found.executor, found)
        finally:
            found.discard()  # frees its slot if the job never ran (e.g. cancelled)

    async def opml(request: Request) -> Response:
        return serve(request, backend.opml())

    async def index(request: Request) -> Response:
        """``/``, ``/?page=N``, ``/?q=WORDS&page=N``: never an error for what a client sends
        (:mod:`feedsvc.pages.listing` reads it; a ``q`` or ``page`` that is not UTF-8 text, the
        first page of every topic with a notice, :mod:`feedsvc.web.queries`; other parameters
        are not read) but one given twice with values that disagree (the app's 400); a
        filtered view may render, so it spends a client's token like a search feed (429 when
        out), and renders in a thread."""
        try:
            page = read_page(query_param(request, "page", same=read_page))
            query = clean_query(query_param(request, "q", same=clean_query))
        except QueryNotText:  # every topic with a notice, never a search for U+FFFD
            return serve(request, await anyio.to_thread.run_sync(backend.index_unread))
        if not query:
            return serve(request, backend.index_html(page))
        wait = limiter.take(request_client(request)) if limiter is not None else None
        if wait is not None:
            return await refusal(request, 429, "http.too_many", wait)
        return serve(request, await anyio.to_thread.run_sync(backend.index_search, query, page))

    def stored_slug(slug: str, served: Callable[[str], object | None]) -> str | None:
        """The stored slug ``slug`` names in another case or with stray characters, when
        ``served`` has something under it (:func:`feedsvc.slugs.slug_forms`, the rule the bots,
        the CLI and the API look topics up by); None: ``slug`` names nothing else."""
        return next((f for f in slug_forms(slug) if f != slug and served(f) is not None), None)

    def moved(request: Request, path: str) -> Response:
        """301 to the topic's address as stored (its query string kept): a browser shows the
        one address, a feed reader follows and keeps it; a URL that was served (a stored
        slug) is never redirected, so every reader and cache gets today's bytes there."""
        query = query_for_url(request)
        headers = {"cache-control": f"public, max-age={cache_seconds}"}
        target = redirect_target(base, path, b"")  # ``path`` escaped here
        return RedirectResponse(target + (f"?{query}" if query else ""), 301, headers)

    async def page(request: Request) -> Response:
        slug = request.path_params["slug"]
        snapshot = backend.page(slug)
        if snapshot is None:
            if (stored := stored_slug(slug, backend.page)) is not None:
                return moved(request, f"/topics/{stored}")
            if backend.gone(slug):
                return gone(request, slug, wants_html(request.headers), navigated=False)
            return missing(request, slug)
        return serve(request, snapshot)

    def missing(request: Request, slug: str) -> Response:
        """``/topics/{slug}`` naming no enabled topic: for a browser (an ``Accept`` naming
        HTML) the site's page saying so, with the way to every topic; a reader following an
        old link got one plain-text line and no way on. Anything else (curl, a script, a feed
        reader) keeps the one line, its controls escaped. Cached briefly, by ``Accept``."""
        if wants_html(request.headers):
            response = Response(backend.missing_page(slug), 404, media_type="text/html")
            response.headers["cache-control"] = f"public, max-age={ERROR_MAX_AGE}"
            response.headers.update(READER_PAGE_HEADERS)
        else:
            response = error(request, 404, "http.no_topic", ERROR_MAX_AGE, slug=slug)
        response.headers["vary"] = "Accept"
        return response

    def search_page(snapshot: Snapshot, fmt: str) -> Response:
        """A person opening a search feed's address: the search's page (there is no topic page
        to send them to), never kept by a cache (feed readers get the feed there)."""
        count_feed_response(fmt, 200)
        headers = {**NAVIGATION_HEADERS, **READER_PAGE_HEADERS}
        return Response(snapshot.body, 200, headers, media_type="text/html")

    def gone(request: Request, slug: str, page: bool, *, navigated: bool) -> Response:
        """410 Gone for a deleted topic's feed or page (:meth:`FeedBackend.gone`): what feed
        readers take for "unsubscribe" (RFC 9110 §15.5.11), where a 404 kept them polling for
        good. One line saying so (its controls escaped), or for ``page`` (a browser: a feed's
        navigation, ``navigated``; a page's ``Accept`` naming HTML) the site's page of it.
        Cacheable as long as a feed (``cache_seconds``): a slug created again serves within
        that; a navigation's page is never kept, as a feed address's page never is."""
        if not page:
            response = error(request, 410, "http.topic_gone", cache_seconds, slug=slug)
            return add_vary(response, varies_by(route_path(request.scope)))
        headers = dict(READER_PAGE_HEADERS)
        if navigated:
            headers |= NAVIGATION_HEADERS
        else:
            headers |= {"cache-control": f"public, max-age={cache_seconds}", "vary": "Accept"}
        return Response(backend.gone_page(slug), 410, headers, media_type="text/html")

    def missing_navigated(slug: str) -> Response:
        """A person opening the feed address of a topic that is not there (an old link): the
        page ``/topics/{slug}`` would show, never kept by a cache (the address is a feed's:
        feed readers get the plain line)."""
        headers = {**NAVIGATION_HEADERS, **READER_PAGE_HEADERS}
        return Response(backend.missing_page(slug), 404, headers, media_type="text/html")

    async def chat_qr(request: Request) -> Response:
        """``/topics/{slug}/{chat}.svg``: the QR code of a chat's link on the topic's page
        (:data:`~feedsvc.pages.QR_CHATS`: ``telegram``, ``zalo``), one route, one renderer
        and cache (:func:`~feedsvc.pages.qr_svg`); any other name is not found, as before."""
        slug, chat = request.path_params["slug"], request.path_params["chat"]
        if chat not in QR_CHATS:
            raise HTTPException(404)
        draw = backend.telegram_qr if chat == "telegram" else backend.zalo_qr
        found = await anyio.to_thread.run_sync(draw, slug)
        if isinstance(found, NoQr) and (stored := stored_slug(slug, backend.page)) is not None:
            return moved(request, qr_path(stored, chat))
        if isinstance(found, NoQr):
            return error(
                request, 404, found.value, ERROR_MAX_AGE, slug=slug, most=START_PAYLOAD_MAX
            )
        return serve(request, found)

    xsl = _load_xsl(words)
    query_error = query_error_type()

    def bad_request(exc: BadRequest) -> str:
        cause = exc.cause
        if cause is None:
            return words(exc.key, **exc.params)
        if not (isinstance(cause, query_error) and hasattr(cause, "code")):
            return words(exc.key, details=str(cause))
        coded = cast("QueryError", cause)
        details = words.query_error(coded, "search")  # a reader's: no topics to split
        if coded.column is not None:  # the character it points at, counted from 1
            details = f"{words('at_position', position=coded.column)}: {details}"
        return words(exc.key, details=details)

    async def refusal(request: Request, status: int, key: str, wait: float) -> Response:
        """429/503 with ``Retry-After``, sent after :data:`REFUSAL_DELAY`: a client that does
        not wait as told (a flood) then costs one cheap answer per second per connection
        instead of keeping the event loop busy answering it."""
        await asyncio.sleep(REFUSAL_DELAY)
        seconds = max(1, math.ceil(wait))
        response = error(request, status, key, seconds=seconds)
        response.headers["Retry-After"] = str(seconds)
        return response

    async def stylesheet(request: Request) -> Response:
        if xsl is None:
            return error(request, 404, "http.no_stylesheet")
        return serve(request, xsl)

    return [
        Route("/", index, methods=["GET", "HEAD"], name="index"),
        Route("/feeds.opml", opml, methods=["GET", "HEAD"], name="opml"),
        Route("/feed.xsl", stylesheet, methods=["GET", "HEAD"], name="feed_xsl"),
        Route("/feeds/{name}", feed, methods=["GET", "HEAD"], name="feed"),
        Route("/topics/{slug}", page, methods=["GET", "HEAD"], name="topic_page"),
        Route("/topics/{slug}/{chat}.svg", chat_qr, methods=["GET", "HEAD"], name="qr"),
    ]
