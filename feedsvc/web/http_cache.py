"""HTTP caching for pre-rendered documents: a :class:`Snapshot` plus request headers in, a
response out. Pure apart from what each snapshot memoises about itself (header bytes, gzip).

Decisions (RFC 9110 / 9111):

* **ETag** is strong: ``"<first 32 hex of sha256(body)>"``. The gzip-coded body is a different
  representation, so it gets its own strong tag, ``"<hash>-gz"`` (what Apache does; nginx
  instead weakens the tag). Every response carries ``Vary: Accept-Encoding``.
* **If-None-Match** (weak comparison, ``*``, lists, ``W/`` tags) matches either variant's tag
  and, when present, decides alone: If-Modified-Since is then ignored. The 304 repeats the tag
  the client sent (so its stored response is the one refreshed), ``Cache-Control``,
  ``Last-Modified`` and ``Vary``.
* **Last-Modified** is never later than the server's clock (RFC 9110 §8.8.2.1): a snapshot
  dated ahead of it (a version stored in the second after the one it replaced,
  :func:`feedsvc.store.snapshots.next_modified`) is sent with the clock's second until its own
  has come, and If-Modified-Since never answers 304 for it meanwhile. A snapshot may show an
  earlier date than its own (``shown``: an on-demand render made within the second of the
  change it is dated by, :func:`feedsvc.on_demand_dates.shown_modified`): its reader then
  holds a date older than the snapshot's, which only costs it one more 200.
* **If-Modified-Since** is compared at one-second resolution; unparsable dates and dates
  later than the server's clock are ignored (a reader stuck on a future date gets the feed). A
  304 answered on it carries no ETag: the reader's copy is only known to be as new as the
  date, not to be these bytes, and a 304's ETag would be stored as the tag of the bytes the
  reader holds (issue #13 §1); its next poll then sends a tag it really got, or none.
* **HEAD** gets the GET headers (including the real ``Content-Length``) and no body.
* **gzip** is used when ``Accept-Encoding`` allows it (``q=0`` respected) and the body is worth
  compressing; a snapshot is compressed at most once.

Speed: a feed reader's poll is the hottest request the service has. Everything that does not
depend on the request (header lines as bytes, the gzip body, the 304 header sets) is computed
once per snapshot in :class:`Replies`, so serving is a few header comparisons; the ASGI fast
path (``feedsvc.web.fast_path.FeedFastPath``) sends a :class:`Reply` without building a Response.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.datastructures import Headers as RequestHeaders
from starlette.responses import Response

from feedsvc.http_dates import parse_http_date, utc_seconds
from feedsvc.web.security_headers import snapshot_headers

#: Bodies smaller than this are sent as they are: gzip would save nothing worth a CPU cycle.
GZIP_MIN_BYTES = 512


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Snapshot:
    """A rendered document ready to serve.

    ``etag`` is a strong, quoted entity tag (see :func:`make_snapshot`); ``last_modified`` is
    timezone-aware, what If-Modified-Since is compared with; ``shown``, when set, the earlier
    date sent as ``Last-Modified`` (never later than ``last_modified``, nor than the clock);
    ``media_type`` is bare (``application/rss+xml``) or already has a charset.
    """

    body: bytes
    etag: str
    last_modified: datetime
    media_type: str
    shown: datetime | None = None
    #: Prepared replies per ``max_age`` (see :func:`replies`); not part of the value.
    prepared: dict[int, Replies] = field(default_factory=dict, compare=False, repr=False)


def strong_etag(body: bytes) -> str:
    """``"<32 hex>"``: 128 bits of SHA-256, stable across processes and replicas."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def make_snapshot(
    body: bytes, media_type: str, last_modified: datetime, shown: datetime | None = None
) -> Snapshot:
    """A snapshot whose ETag is derived from the bytes, so identical renders share it."""
    if last_modified.tzinfo is None or (shown is not None and shown.tzinfo is None):
        raise ValueError("last_modified and shown must be timezone-aware")
    modified = last_modified.astimezone(UTC)
    sent = None if shown is None else min(shown.astimezone(UTC), modified)
    return Snapshot(body, strong_etag(body), modified, media_type, sent)


def gzip_etag(etag: str) -> str:
    """The strong tag of the gzip-coded representation: ``"abc"`` → ``"abc-gz"``."""
    return etag[:-1] + '-gz"' if etag.endswith('"') else etag + "-gz"


def content_type(media_type: str) -> str:
    """Media type with ``charset=utf-8`` (validators flag feeds served without one)."""
    return media_type if "charset=" in media_type.lower() else f"{media_type}; charset=utf-8"


def http_date(dt: datetime) -> str:
    """IMF-fixdate, e.g. ``Wed, 15 Dec 2021 03:34:00 GMT``."""
    return format_datetime(utc_seconds(dt), usegmt=True)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when ``gzip`` (or ``*``) is acceptable with a non-zero q-value."""
    if not accept_encoding:
        return False
    star: bool | None = None
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def parse_if_none_match(value: str) -> list[str] | None:
    """Opaque tags from If-None-Match with ``W/`` dropped (weak comparison); None means ``*``."""
    if value.strip() == "*":
        return None
    return [tag[2:] if tag.startswith(("W/", "w/")) else tag for tag in list_members(value)]


def list_members(value: str) -> list[str]:
    """The members of a list-valued field's (joined) value, in order, trimmed; empty ones
    dropped, as RFC 9110 §5.6.1 asks of a recipient (``"a", , "b"`` is two)."""
    return [member for raw in value.split(",") if (member := raw.strip())]


def request_list(headers: RequestHeaders, name: str) -> list[str] | None:
    """The members of the request field ``name`` over every line it was sent on
    (:func:`list_field`, :func:`list_members`); None when it was not sent, [] when it was sent
    empty. The one reading of a conditional request's list (a feed's ``If-None-Match``, a
    topic ``PUT``'s ``If-Match`` / ``If-None-Match``): the ``PUT`` read the first line alone,
    so ``If-None-Match: "x"`` then ``If-None-Match: *`` was a 400 and the reverse a 412."""
    joined = list_field(headers.getlist(name))
    return None if joined is None else list_members(joined)


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    """True when ``header`` (an HTTP-date) is at or after ``last_modified`` (1 s resolution).
    A date later than the server's clock is invalid (RFC 2616 §14.25 a; Apache and Tomcat
    ignore it): a reader that stored a future ``Last-Modified`` (a 2064 article dated every
    feed before issue #13) would otherwise get 304 until 2064."""
    since = parse_http_date(header)
    if since is None:  # no date: ignored, the whole answer sent
        return False
    if since.timestamp() > time.time():
        return False
    return utc_seconds(last_modified) <= since


def _matched_etag(inm: str, candidates: tuple[str, ...], current: str) -> str | None:
    """The tag to send back in a 304, or None when If-None-Match does not match."""
    tags = parse_if_none_match(inm)
    if tags is None:
        return current
    for tag in tags:
        if tag in candidates:
            return tag
    return None


Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send: status, header lines (lower-case names, as ASGI wants) and body."""

    status: int
    headers: Headers
    body: bytes
    #: ``headers`` as HTTP/1.1 header lines, joined once for ``feedsvc.web.wire``.
    lines: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in self.headers)
        object.__setattr__(self, "lines", lines)


def _line(name: str, value: str) -> tuple[bytes, bytes]:
    return name.encode("latin-1"), value.encode("latin-1")


class Replies:
    """Every response one snapshot can get, with what is request-independent built once."""

    def __init__(self, snapshot: Snapshot, max_age: int) -> None:
        # Keep the body and date, never the snapshot: the snapshot holds this object in
        # ``prepared``, and a back reference would make a cycle that only the cyclic GC frees
        # (every replaced feed would linger until a full collection).
        self.body = snapshot.body
        self.last_modified = snapshot.last_modified
        self.etag = snapshot.etag
        self.gzip_etag = gzip_etag(snapshot.etag)
        self.can_gzip = len(snapshot.body) >= GZIP_MIN_BYTES
        self._cache_control = _line("cache-control", f"public, max-age={max(0, max_age)}")
        # nosniff, and a reader page's CSP (security_headers): precomputed, free per poll
        self._tail = [
            _line("vary", "Accept-Encoding"),
            *(_line(k, v) for k, v in snapshot_headers(snapshot.media_type).items()),
        ]
        shown = snapshot.shown or snapshot.last_modified
        #: the whole second ``Last-Modified`` shows, while it is still ahead of the clock
        #: (None once it is not: checked per reply until then, a second or two at most)
        second = int(shown.timestamp())
        self._ahead: int | None = second if second > time.time() else None
        self._common = self._lines(http_date(shown))
        self._type = _line("content-type", content_type(snapshot.media_type))
        self._plain = self._ok(self.etag, snapshot.body)
        self._gzipped: tuple[Reply, Reply] | None = None  # built on the first gzip request
        self._lock = threading.Lock()
        self._not_modified = {
            tag: Reply(304, [*self._common, _line("etag", tag)], b"")
            for tag in (self.etag, self.gzip_etag)
        }
        self._not_modified_since = Reply(304, list(self._common), b"")

    def _lines(self, last_modified: str) -> Headers:
        """The header lines every reply has, with ``last_modified`` as its HTTP-date."""
        return [self._cache_control, _line("last-modified", last_modified), *self._tail]

    def _ok(
        self, etag: str, body: bytes, *extra: tuple[bytes, bytes], common: Headers | None = None
    ) -> tuple[Reply, Reply]:
        """(GET, HEAD) replies: HEAD gets the same headers, real Content-Length included."""
        headers = [
            *(self._common if common is None else common),
            _line("etag", etag),
            self._type,
            *extra,
            _line("content-length", str(len(body))),
        ]
        return Reply(200, headers, body), Reply(200, headers, b"")

    def _gzip(self) -> tuple[Reply, Reply]:
        with self._lock:
            if self._gzipped is None:
                packed = gzip.compress(self.body, compresslevel=6, mtime=0)
                self._gzipped = self._ok(self.gzip_etag, packed, _line("content-encoding", "gzip"))
            return self._gzipped

    def reply(
        self, method: str, accept_encoding: str | None, inm: str | None, ims: str | None
    ) -> Reply:
        """The response to a GET or HEAD with these request headers (None = absent)."""
        if self._ahead is not None:
            if self._ahead > time.time():
                return self._early(method, accept_encoding, inm)
            self._ahead = None
        use_gzip = self.can_gzip and accepts_gzip(accept_encoding)
        current = self.gzip_etag if use_gzip else self.etag
        if inm is not None:
            matched = _matched_etag(inm, (self.etag, self.gzip_etag), current)
            if matched is not None:
                return self._not_modified[matched]
        elif ims is not None and _not_modified_since(ims, self.last_modified):
            return self._not_modified_since
        get, head = self._gzip() if use_gzip else self._plain
        return head if method == "HEAD" else get

    def _early(self, method: str, accept_encoding: str | None, inm: str | None) -> Reply:
        """A reply while the date shown is ahead of the clock: ``Last-Modified`` is the clock's
        second (RFC 9110 §8.8.2.1: never later than ``Date``), and If-Modified-Since is not
        looked at, since a valid one is earlier than the snapshot's date (a 304 on it told a
        reader holding the version stored earlier in that second it had this one). If-None-Match
        answers as ever. Built per reply: rare (a date ahead by a second or two, or stored by a
        replica whose clock is ahead)."""
        common = self._lines(http_date(datetime.fromtimestamp(int(time.time()), UTC)))
        use_gzip = self.can_gzip and accepts_gzip(accept_encoding)
        current = self.gzip_etag if use_gzip else self.etag
        if inm is not None:
            matched = _matched_etag(inm, (self.etag, self.gzip_etag), current)
            if matched is not None:
                return Reply(304, [*common, _line("etag", matched)], b"")
        if use_gzip:
            packed = self._gzip()[0].body
            get, head = self._ok(current, packed, _line("content-encoding", "gzip"), common=common)
        else:
            get, head = self._ok(current, self.body, common=common)
        return head if method == "HEAD" else get


def replies(snapshot: Snapshot, max_age: int) -> Replies:
    """The snapshot's :class:`Replies` for ``max_age``, built on first use and kept with it."""
    found = snapshot.prepared.get(max_age)
    if found is None:
        found = snapshot.prepared.setdefault(max_age, Replies(snapshot, max_age))
    return found


def list_field(values: Sequence[str]) -> str | None:
    """A list-valued request field (``If-None-Match``, ``Accept-Encoding``) sent on several
    lines, as one value: RFC 9110 §5.3 lets a recipient join them, in order, with commas. The
    first line alone was read, so a client sending a stale tag and the current one on two
    ``If-None-Match`` lines got the whole feed (200) where one line listing both got a 304 (a
    tester's report). None when the field is absent."""
    return ", ".join(values) if values else None


def snapshot_response(
    snapshot: Snapshot, headers: RequestHeaders, method: str, max_age: int
) -> Response:
    """Serve ``snapshot`` honouring conditional GET, HEAD and gzip; see the module docstring.

    ``headers`` is the request's headers (Starlette's, case-insensitive, with every line).
    """
    reply = replies(snapshot, max_age).reply(
        method,
        list_field(headers.getlist("accept-encoding")),
        list_field(headers.getlist("if-none-match")),
        headers.get("if-modified-since"),
    )
    response = Response(status_code=reply.status)
    response.body = reply.body
    response.raw_headers = list(reply.headers)
    return response


def text_response(status: int, message: str, max_age: int = 0) -> Response:
    """A plain-text error (400/404) that caches may keep briefly (``max_age`` seconds)."""
    cache = f"public, max-age={max_age}" if max_age > 0 else "no-store"
    return Response(
        content=message.encode("utf-8"),
        status_code=status,
        headers={
            "content-type": "text/plain; charset=utf-8",
            "cache-control": cache,
            "x-content-type-options": "nosniff",  # the query text is echoed: never sniff HTML
        },
    )
