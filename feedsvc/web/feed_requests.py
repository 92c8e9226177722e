"""Reading a feed request: the feed's name (``slug.fmt``), ``?limit=`` (its query parameters are
read with :func:`feedsvc.web.queries.query_param`), whether a person's browser is navigating, and
the 400 (:class:`BadRequest`) for a parameter that cannot be served. Shared by the routes and the
fast path."""

from __future__ import annotations

from collections.abc import Mapping

from feedsvc.digits import ascii_count, ascii_decimal
from feedsvc.echoes import echoed
from feedsvc.feeds.model import FORMATS

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SEARCH_SLUG = "search"


class BadRequest(ValueError):
    """A request parameter we cannot serve. Its text is English (logs, tests); the 400 body is
    worded from ``key`` and ``params`` in the site's language (``http.*`` in the catalogue),
    or from the query error ``cause``."""

    def __init__(
        self, message: str, key: str, cause: Exception | None = None, **params: object
    ) -> None:
        super().__init__(message)
        self.key = key
        self.cause = cause
        self.params = params


def parse_limit(value: str | None) -> int:
    """``?limit=``: default 50; else a whole number ≥ 1 in ASCII digits
    (:func:`feedsvc.digits.ascii_count`: ``int()`` would read ``"１２"``), one above 200 read as
    200 (SPEC §5: "up to 200"; a reader asking ``?limit=1000`` always got the newest 200, and
    feed URLs are a stable interface, so it is not refused). ``0``, a sign or anything but
    digits is :class:`BadRequest`, whose text states this rule. Spaces and tabs around the
    digits are allowed, as they always were (``int(value.strip())`` before the ASCII-digits rule,
    4b17a6b): feed URLs are a stable interface (SPEC §9) and a reader's template may pad the
    value; the API's and the CLI's numbers refuse them (README says both)."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    limit = ascii_count(value.strip(" \t"), MAX_LIMIT)
    if not limit:
        shown = repr(echoed(value))  # its start when long (feedsvc.echoes)
        raise BadRequest(
            f"limit must be a whole number of 1 or more (above {MAX_LIMIT}: the newest"
            f" {MAX_LIMIT}), got {shown}",
            "http.bad_limit",
            limit=MAX_LIMIT,
            value=shown,
        )
    return limit


def split_feed_name(name: str) -> tuple[str, str] | None:
    """``"kien-thuy.rss"`` → ``("kien-thuy", "rss")``; None if there is no known extension."""
    slug, dot, fmt = name.rpartition(".")
    if not dot or not slug or fmt not in FORMATS:
        return None
    return slug, fmt


def name_with_lower_suffix(name: str) -> str:
    """``"Kien-Thuy.RSS"`` → ``"Kien-Thuy.rss"``: a feed's address with its extension in
    lower case, what a reader typing ``.RSS`` or ``.Atom`` meant (answered with a 301 to it,
    as a slug's case is; the 404 said the address must end in ``.rss``, which it did)."""
    slug, dot, fmt = name.rpartition(".")
    return f"{slug}{dot}{fmt.lower()}" if dot else name


def browser_navigation(headers: Mapping[str, str]) -> bool:
    """A person opening the URL in a browser tab, not a feed reader, ``curl`` or a cache.

    Fetch Metadata (``Sec-Fetch-Mode: navigate`` + ``Sec-Fetch-Dest: document``) is only sent
    by browsers, for top-level navigations; an ``Accept`` that names HTML confirms it. A feed
    reader, even one inside a browser (``fetch()`` is ``cors``/``empty``), never qualifies.
    """
    return (
        headers.get("sec-fetch-mode") == "navigate"
        and headers.get("sec-fetch-dest") == "document"
        and accepts_html(headers.get("accept", ""))
    )


def wants_html(headers: Mapping[str, str]) -> bool:
    """An error answer a person will read in a browser: its ``Accept`` names HTML (every
    browser's navigation does; curl, scripts and feed readers do not), so the site's HTML page
    rather than one plain-text line."""
    return accepts_html(headers.get("accept", ""))


def accepts_html(accept: str) -> bool:
    """``accept`` (an ``Accept`` header's value) names ``text/html`` with a weight above 0.

    A media range is compared whole and without case (RFC 9110 §12.5.1): ``text/html;q=0``
    says HTML is *not* acceptable, and ``text/html-fragment`` or ``x-text/html`` are other
    types; a weight that is not a number counts as 1, as most servers read it. ``*/*`` and
    ``text/*`` do not count: curl and feed readers send them, and they are not reading a page.
    """
    for media_range in accept.split(","):
        kind, *params = media_range.split(";")
        if kind.strip().lower() != "text/html":
            continue
        if _weight(params) > 0:
            return True
    return False


def _weight(params: list[str]) -> float:
    """The ``q`` of a media range's parameters (1 when absent or not a number 0–1)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            weight = ascii_decimal(value.strip())
            return weight if weight is not None and 0 <= weight <= 1 else 1.0
    return 1.0


#: The answer to a browser opening a feed: the topic's page, at that format's address box.
#: Never stored by a cache (the same URL gives feed readers the feed) and saying what it
#: depends on.
NAVIGATION_HEADERS = {
    "cache-control": "no-store",
    "vary": "Sec-Fetch-Mode, Sec-Fetch-Dest, Accept",
}
