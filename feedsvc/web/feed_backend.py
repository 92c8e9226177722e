"""What the feed routes need from storage (:class:`FeedBackend`, implemented by
``feedsvc.publish``), the render work it may hand back (:class:`RenderJob`) and its refusal when
there is no capacity to render (:class:`Overloaded`, a 503)."""

from __future__ import annotations

import enum
from concurrent.futures import Executor
from typing import Protocol

from feedsvc.web.http_cache import Snapshot


class NoQr(enum.Enum):
    """Why ``/topics/{slug}/telegram.svg`` (or ``zalo.svg``) is a 404: the answer says which
    (newcomer F2: without a bot it said the topic did not exist). Values are the catalogue keys
    of the 404 text."""

    #: no such topic, or it is switched off (not public: not told apart from unknown)
    TOPIC = "http.no_topic"
    #: the topic is served but no Telegram bot is configured: there is no link to draw
    BOT = "http.no_telegram_bot"
    #: the slug is longer than a ``/start`` payload may be (``pages.START_PAYLOAD_MAX``)
    SLUG = "http.telegram_slug_too_long"
    #: the topic is served but the pages show no Zalo link (``zalo.link`` unset, Zalo off)
    ZALO = "http.no_zalo_link"


class RenderJob(Protocol):
    """A render the backend reserved capacity for: call it once off the event loop (in
    ``executor``, its own threads), or :meth:`discard` it (frees the capacity; a no-op after
    the call)."""

    @property
    def executor(self) -> Executor: ...

    def __call__(self) -> Snapshot: ...

    def discard(self) -> None: ...


class FeedBackend(Protocol):
    """What the HTTP layer needs from storage (implemented by ``feedsvc.publish``).

    Every method is called on the event loop and must be cheap; work that is not (a render
    from the DB) comes back as a :class:`RenderJob`, which the routes run in the thread pool.
    """

    def snapshot(self, slug: str, fmt: str, limit: int) -> Snapshot | None:
        """The topic feed at the default limit, or None for an unknown/disabled slug (→ 404).
        Never touches the DB."""
        ...

    def limited(self, slug: str, fmt: str, limit: int) -> Snapshot | RenderJob | None:
        """A non-default ``?limit=`` of the topic feed (None → 404); may raise
        :class:`Overloaded` (→ 503)."""
        ...

    def search_job(self, query: str, fmt: str, limit: int) -> Snapshot | RenderJob:
        """Ad-hoc query feed; raises ``ValueError`` (``QueryError``) for a bad query (→ 400)
        and :class:`Overloaded` when there is no capacity to render it (→ 503)."""
        ...

    def opml(self) -> Snapshot:
        """OPML 2.0 of all enabled topic feeds (see ``feedsvc.feeds.opml.render_opml``)."""
        ...

    def index_html(self, page: int = 1) -> Snapshot:
        """Page ``page`` of ``/`` (clamped to the pages there are; see
        :mod:`feedsvc.pages.listing`), ``text/html``. A snapshot: cheap."""
        ...

    def index_search(self, query: str, page: int) -> Snapshot:
        """Page ``page`` of ``/?q=query``, the topics matching the (cleaned) query, rendered
        on demand from the listed topics' parts: called off the event loop."""
        ...

    def index_unread(self) -> Snapshot:
        """``/`` for a query string that is not UTF-8 text (:mod:`feedsvc.web.queries`): the
        first page of every topic with the notice that the search could not be read
        (``reader.query_not_text``), the search box shown; called off the event loop."""
        ...

    def page(self, slug: str) -> Snapshot | None:
        """``/topics/{slug}`` (see :func:`feedsvc.pages.render_topic`); None → 404."""
        ...

    def missing_page(self, slug: str) -> bytes:
        """The HTML 404 page of ``/topics/{slug}`` when :meth:`page` is None (see
        :func:`feedsvc.pages.render_missing`), in the site's language; cheap."""
        ...

    def telegram_qr(self, slug: str) -> Snapshot | NoQr:
        """``/topics/{slug}/telegram.svg``, the QR code of the topic's Telegram link (see
        :func:`feedsvc.pages.qr_svg`), ``image/svg+xml``; else why there is none (→ 404 worded
        by it). May draw it (~7 ms): called off the event loop."""
        ...

    def zalo_qr(self, slug: str) -> Snapshot | NoQr:
        """``/topics/{slug}/zalo.svg``, the QR code of the Zalo bot's link the topic's page
        shows, drawn as :meth:`telegram_qr`'s; else why there is none (→ 404)."""
        ...

    def gone(self, slug: str) -> bool:
        """Whether ``slug`` names a topic that was deleted (→ 410 Gone: feed readers
        unsubscribe); False for a switched-off topic or a slug never known (→ 404). Never
        touches the DB."""
        ...

    def gone_page(self, slug: str) -> bytes:
        """The HTML 410 page of a deleted topic (see :func:`feedsvc.pages.render_gone`), in
        the site's language; cheap."""
        ...

    def polled(self, slug: str) -> None:
        """A topic feed was served (200 or 304): counted in memory, on the event loop."""
        ...


#: the format name of a search's reader page beside the feeds' (``search_job``): what a
#: browser opening ``/feeds/search.FMT?q=`` is shown
SEARCH_PAGE = "html"


class Overloaded(Exception):
    """No capacity for this render now (→ 503 with ``Retry-After: retry_after`` seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
