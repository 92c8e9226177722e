"""What Apprise's HTTP requests raised or were told during one ``notify()``, which Apprise
itself hides.

Apprise's HTTP plugins call ``requests`` and turn every ``RequestException`` into a logged
warning and ``False``: a destination that refused the connection (nothing sent, retrying is
safe) and one that took the notification but answered after the socket read timeout (it may
show it: retrying duplicates it) look the same. :func:`watch_transport` sees the exceptions on
their way through ``requests.Session.send`` (every ``requests.get/post/request`` goes through it),
for the calling thread only, and re-raises them unchanged; :func:`after_request_sent` says
which side of "the request went out" each one fell on. A destination that throttles (HTTP 429,
or 503 with ``Retry-After``: RFC 9110 §10.2.3, RFC 6585 §4) is likewise only ``False`` to
Apprise's caller, which then retried at the usual pace into the same refusal; the watch also
keeps each such answer's ``Retry-After`` in seconds (:func:`retry_after_seconds`).

One notification may also be several requests: a URL with several targets
(``ntfy://host/topic1/topic2``, a Slack or Matrix URL naming several channels), a message
Apprise splits (``?overflow=split`` on a service with a short limit). Apprise answers ``False``
when any one failed, even after others were shown. The watch therefore counts, among the
requests that carry the notification (:meth:`Watched.carries`: their payload holds a piece of
its text, which a log-in or room-join request does not), those the destination accepted
(a 2xx answer) and those that failed: ``parts_sent``, ``parts_failed``.

Apprise hides the status of an error answer too: a deleted webhook (404, 410), a revoked
credential (401, 403) and a message the destination refuses (400, 413, 422) are all ``False``,
like a 500. The watch keeps the final status of every request that was answered with no 2xx
(``failures``: the status and whether the request carried the notification), so the channel's
classifier (:func:`feedsvc.channels.apprise.classify`) can tell "never again" from "later".
A redirect's hops are ``Session.send`` calls inside the outer one: only the outermost call's
answer, the one the plugin sees, is kept there.
``requests`` is imported on first use (the CLI's start-up imports this module).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from feedsvc.http_dates import parse_lenient_date

_local = threading.local()
_install_lock = threading.Lock()
_installed = False


def _install() -> None:
    """Wrap ``requests.Session.send`` once per process: exceptions and throttling answers are
    noted for a thread that watches (:func:`watch_transport`), then raised or returned as
    before; other callers see no change."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import requests

        original = requests.Session.send

        @wraps(original)
        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            seen: Watched | None = getattr(_local, "watched", None)
            carries = seen is not None and seen.carries(request.url, request.body)
            depth = getattr(_local, "depth", 0)  # > 0: a redirect's hop inside a send
            _local.depth = depth + 1
            try:
                response = original(self, request, **kwargs)
            except BaseException as exc:
                if seen is not None:
                    seen.errors.append(exc)
                    seen.parts_failed += carries
                raise
            finally:
                _local.depth = depth
            if seen is not None:
                seen.note(response.status_code, response.headers.get("Retry-After"))
                if depth == 0 and not 200 <= response.status_code < 300:
                    seen.failures.append(Failure(response.status_code, carries))
                if carries and 200 <= response.status_code < 300:
                    seen.parts_sent += 1
                elif carries:
                    seen.parts_failed += 1
            return response

        requests.Session.send = send  # type: ignore[method-assign]
        _installed = True


@dataclass(frozen=True)
class Failure:
    """A request answered with a status other than 2xx: the final ``status`` (after any
    redirects ``requests`` followed) and whether the request ``carries`` the notification
    (:meth:`Watched.carries`; False for a log-in or a room look-up)."""

    status: int
    carries: bool


@dataclass
class Watched:
    """What one thread's HTTP requests met while watched: ``errors`` in order,
    ``throttled``, one entry per throttling answer: its ``Retry-After`` in seconds, or None
    when it gave none (or none that parses); ``failures``, every answer that was no 2xx, in
    order (:class:`Failure`); of the requests that carried the notification (``text``: its
    title and body; empty: every request counts), ``parts_sent`` the destination accepted
    (2xx) and ``parts_failed`` it did not (another status, or no answer)."""

    errors: list[BaseException] = field(default_factory=list)
    throttled: list[float | None] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    text: str = ""
    parts_sent: int = 0
    parts_failed: int = 0

    def carries(self, url: str | None, body: object) -> bool:
        """Whether a request to ``url`` with ``body`` (``requests``' prepared body: bytes, text
        or None) carries the notification: some :data:`PIECE` characters of its payload (the
        body, its JSON or form values, the URL's query values) appear in ``text``. A request
        that carries none (a log-in, a room join, an upload of nothing of it) is not a part."""
        if not self.text:
            return True
        return any(_shares_piece(value, self.text) for value in _payload(url, body))

    def note(self, status: int, retry_after: str | None) -> None:
        if status == 429 or (status == 503 and retry_after is not None):
            self.throttled.append(retry_after_seconds(retry_after))


#: Characters in a row a request's payload must share with the notification's text to carry it
#: (at least half of them letters or digits: a run of spaces or dashes proves nothing).
PIECE = 12


def _shares_piece(value: str, text: str) -> bool:
    step = PIECE // 2  # a run of 1.5 * PIECE shared characters holds one of these windows
    for start in range(0, max(len(value) - step + 1, 1), step):
        window = value[start : start + step * 2]
        if len(window) < PIECE or sum(c.isalnum() for c in window) < PIECE // 2:
            continue
        if window in text:
            return True
    return False


def _payload(url: str | None, body: object) -> list[str]:
    """The texts a request sends: its body as text, the strings in it when it is JSON (which
    escapes non-ASCII letters) or a form, and the query values of ``url`` (GET-style APIs)."""
    import json
    from urllib.parse import parse_qsl, urlsplit

    found = [v for _, v in parse_qsl(urlsplit(url or "").query)]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not isinstance(text, str) or not text:
        return found
    found.append(text)
    try:
        found += _strings(json.loads(text))
    except ValueError:
        found += [v for _, v in parse_qsl(text)]
    return found


def _strings(value: object) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@contextmanager
def watch_transport(text: str = "") -> Iterator[Watched]:
    """What the calling thread's ``requests`` calls meet while inside; ``text``: the
    notification's title and body (:meth:`Watched.carries`)."""
    _install()
    watched = Watched(text=text)
    outer = getattr(_local, "watched", None)
    _local.watched = watched
    try:
        yield watched
    finally:
        _local.watched = outer


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header in seconds from ``now`` (UTC; default the clock): delay-seconds
    (``"120"``) or an HTTP-date (``"Wed, 21 Oct 2026 07:28:00 GMT"``), RFC 9110 §10.2.3; a date
    already past is 0. None for no header or one that is neither (the caller picks a default);
    the caller also bounds it (:func:`feedsvc.notify.outcome.bounded_pause`)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    when = parse_lenient_date(text)
    if when is None:
        return None
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def after_request_sent(exc: BaseException) -> bool:
    """True when ``exc`` ended a request that had been written to the destination (no answer,
    or an answer cut off): it may have acted on it. False when nothing reached it (connect
    refused or timed out, name not resolved, TLS or proxy failure, a bad URL)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(
        exc,
        requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError,
    ):
        return False
    if isinstance(exc, requests.ReadTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NameResolutionError is a NewConnectionError: no connection, nothing sent
        return not isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    )
