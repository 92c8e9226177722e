"""HTTP caching for pre-rendered documents: a :class:`Snapshot` plus request headers in, a
Starlette response out. Pure apart from a small in-process cache of gzipped bodies.

Decisions (RFC 9110 / 9111):

* **ETag** is strong: ``"<first 32 hex of sha256(body)>"``. The gzip-coded body is a different
  representation, so it gets its own strong tag, ``"<hash>-gz"`` (what Apache does; nginx
  instead weakens the tag). Every response carries ``Vary: Accept-Encoding``.
* **If-None-Match** (weak comparison, ``*``, lists, ``W/`` tags) matches either variant's tag
  and, when present, decides alone: If-Modified-Since is then ignored. The 304 repeats the tag
  the client sent (so its stored response is the one refreshed), ``Cache-Control``,
  ``Last-Modified`` and ``Vary``.
* **If-Modified-Since** is compared at one-second resolution; unparsable dates are ignored.
* **HEAD** gets the GET headers (including the real ``Content-Length``) and no body.
* **gzip** is used when ``Accept-Encoding`` allows it (``q=0`` respected) and the body is worth
  compressing; compressed bytes are cached per ETag (LRU) so a hot feed is compressed once.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.responses import Response

#: Bodies smaller than this are sent as they are: gzip would save nothing worth a CPU cycle.
GZIP_MIN_BYTES = 512


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A rendered document ready to serve.

    ``etag`` is a strong, quoted entity tag (see :func:`make_snapshot`); ``last_modified`` is
    timezone-aware; ``media_type`` is bare (``application/rss+xml``) or already has a charset.
    """

    body: bytes
    etag: str
    last_modified: datetime
    media_type: str


def strong_etag(body: bytes) -> str:
    """``"<32 hex>"``: 128 bits of SHA-256, stable across processes and replicas."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def make_snapshot(body: bytes, media_type: str, last_modified: datetime) -> Snapshot:
    """A snapshot whose ETag is derived from the bytes, so identical renders share it."""
    if last_modified.tzinfo is None:
        raise ValueError("last_modified must be timezone-aware")
    return Snapshot(body, strong_etag(body), last_modified.astimezone(UTC), media_type)


def gzip_etag(etag: str) -> str:
    """The strong tag of the gzip-coded representation: ``"abc"`` → ``"abc-gz"``."""
    return etag[:-1] + '-gz"' if etag.endswith('"') else etag + "-gz"


def content_type(media_type: str) -> str:
    """Media type with ``charset=utf-8`` (validators flag feeds served without one)."""
    return media_type if "charset=" in media_type.lower() else f"{media_type}; charset=utf-8"


def http_date(dt: datetime) -> str:
    """IMF-fixdate, e.g. ``Wed, 15 Dec 2021 03:34:00 GMT``."""
    return format_datetime(dt.astimezone(UTC).replace(microsecond=0), usegmt=True)


class GzipCache:
    """LRU of gzipped bodies keyed by strong ETag (thread-safe; mtime=0 for stable bytes)."""

    def __init__(self, max_entries: int = 512) -> None:
        self._max = max_entries
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str, body: bytes) -> bytes:
        with self._lock:
            hit = self._data.get(etag)
            if hit is not None:
                self._data.move_to_end(etag)
                return hit
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        with self._lock:
            self._data[etag] = packed
            while len(self._data) > self._max:
                self._data.popitem(last=False)
        return packed

    def __len__(self) -> int:
        return len(self._data)


DEFAULT_GZIP_CACHE = GzipCache()


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
    tags: list[str] = []
    for raw in value.split(","):
        tag = raw.strip()
        if tag.startswith(("W/", "w/")):
            tag = tag[2:]
        if tag:
            tags.append(tag)
    return tags


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:  # "-0000" or obsolete forms: HTTP dates are always GMT
        since = since.replace(tzinfo=UTC)
    return last_modified.astimezone(UTC).replace(microsecond=0) <= since


def _matched_etag(inm: str, candidates: tuple[str, ...], current: str) -> str | None:
    """The tag to send back in a 304, or None when If-None-Match does not match."""
    tags = parse_if_none_match(inm)
    if tags is None:
        return current
    for tag in tags:
        if tag in candidates:
            return tag
    return None


def snapshot_response(
    snapshot: Snapshot,
    headers: Mapping[str, str],
    method: str,
    max_age: int,
    gzip_cache: GzipCache = DEFAULT_GZIP_CACHE,
) -> Response:
    """Serve ``snapshot`` honouring conditional GET, HEAD and gzip; see the module docstring.

    ``headers`` is the request's headers (case-insensitive mapping such as Starlette's).
    """
    use_gzip = len(snapshot.body) >= GZIP_MIN_BYTES and accepts_gzip(headers.get("accept-encoding"))
    etag = gzip_etag(snapshot.etag) if use_gzip else snapshot.etag
    common = {
        "cache-control": f"public, max-age={max(0, max_age)}",
        "last-modified": http_date(snapshot.last_modified),
        "vary": "Accept-Encoding",
    }
    inm = headers.get("if-none-match")
    ims = headers.get("if-modified-since")
    if inm is not None:
        matched = _matched_etag(inm, (snapshot.etag, gzip_etag(snapshot.etag)), etag)
        if matched is not None:
            return Response(status_code=304, headers={**common, "etag": matched})
    elif ims is not None and _not_modified_since(ims, snapshot.last_modified):
        return Response(status_code=304, headers={**common, "etag": etag})

    body = gzip_cache.get(snapshot.etag, snapshot.body) if use_gzip else snapshot.body
    out = {**common, "etag": etag, "content-type": content_type(snapshot.media_type)}
    if use_gzip:
        out["content-encoding"] = "gzip"
    if method == "HEAD":
        out["content-length"] = str(len(body))
        return Response(content=b"", headers=out)
    return Response(content=body, headers=out)


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
