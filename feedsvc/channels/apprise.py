"""The Apprise channel: admin-configured destinations (Discord, Slack, Matrix, Mattermost,
Teams, ntfy, e-mail, JSON/XML webhooks), one Apprise URL each (SPEC §11, FIELD-NOTES "Apprise").

An Apprise URL holds credentials: it is a secret. It is validated on subscribe and written in
one form, its letters outside ASCII percent-encoded (:func:`.apprise_urls.checked_url`), shown
only masked (:func:`.apprise_urls.mask`: the scheme and a fingerprint that tells destinations
apart), and registered with :func:`feedsvc.logs.register_secret` (whole and
by its credential-looking parts) before anything can log it. Apprise's own records tell the URL
in forms no exact-match scrubber knows (abbreviated, decoded, rebuilt as an e-mail address):
they are dropped while a URL is checked and cleaned of it during a send (:mod:`.apprise_logs`).

``notify()`` is synchronous network I/O: sends run in this channel's own thread pool (so a hung
destination never takes the threads the database work uses), each bounded by Apprise's socket
timeouts and by :data:`SEND_TIMEOUT` overall, counted from when a thread starts the send (time
queued behind hung destinations does not count). Apprise reports only success or failure; what
its HTTP requests raised and answered is watched (:mod:`.apprise_transport`), so :func:`classify`
tells a failure before the request went out (refused, unreachable, a 5xx: retried with backoff,
dead-lettered after the outbox's attempts) from one after it (a read timeout, a connection
closed before the answer: the destination may have shown it, an unknown outcome the outbox
re-sends once). A throttling answer (429, or 503 with ``Retry-After``) pauses that recipient
for as long as it asked, the alert kept, like a Telegram or Zalo 429. No answer within
:data:`SEND_TIMEOUT` is an unknown outcome too, unless the send never left the pool's queue
(its threads still held by hung destinations past their bound): nothing was sent, retried.
An answer that says "never" is not retried (:func:`refusal`): 404/410 (a deleted webhook) and
401/403 (a revoked credential) are the recipient that can never receive, ``chat_not_found`` and
``blocked`` as for Telegram and Zalo (the recipient disabled after :attr:`ChannelLimits.
disable_after` in a row); 400/413/422 on the request carrying the message is this message
refused, ``bad_content`` (a dead letter; the recipient's next alerts go on). Each was retried
25 times over about 1.6 h, every later alert of the recipient waiting behind it.

A notification Apprise sends as several requests (a URL with several targets, a message it
splits) that reached the destination in part is ``sent``, with a note (the delivery log and
``feedsvc status`` list it with its error), never retried: Apprise can only send it whole
again, so a retry shows it a second time (or a fifth, with a part that keeps failing) to every
target that had it, while the failed part misses one alert, which the note says. Partial is
told from the requests' payloads (:meth:`.apprise_transport.Watched.carries`), so a log-in that
succeeded before the message failed is no part sent: that is retried as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, tzinfo
from typing import Any

from feedsvc.articles import Article
from feedsvc.channels import apprise_logs
from feedsvc.channels.apprise_transport import (
    Failure,
    Watched,
    after_request_sent,
    watch_transport,
)
from feedsvc.channels.apprise_urls import header_problem, mask, plugin_for, secret_parts
from feedsvc.channels.base import ChannelLimits, OutcomeKind, SendOutcome, Target
from feedsvc.channels.plain import link_left_out_line, plain_alert, plain_title
from feedsvc.logs import register_secret
from feedsvc.notify.message import AlertMessage, trim_utf16
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER
from feedsvc.notify.tls import share_trust_with_requests

log = logging.getLogger(__name__)

LIMITS = ChannelLimits(
    name="apprise",
    max_text=2000,  # Discord's message limit; Apprise splits or truncates for smaller services
    text_unit="utf16",
    global_rate=5.0,
    # Discord webhooks take 5 requests per 2 s, Slack's about 1 per second: one a second each
    private_interval=timedelta(seconds=1.05),
    group_interval=timedelta(seconds=1.05),
    disable_after=3,  # 401/403/404/410 in a row (:func:`refusal`), as Telegram's blocked
    max_in_flight=8,  # also the thread pool's size
)
CONNECT_TIMEOUT = 5.0  # seconds, Apprise's socket_connect_timeout
READ_TIMEOUT = 10.0  # seconds, Apprise's socket_read_timeout
SEND_TIMEOUT = 20.0  # seconds for one notify() in all (it may do several requests)
TITLE_CAP = 250
#: Seconds a recipient is paused after a throttling answer that gave no usable Retry-After:
#: the one default of every channel (:data:`feedsvc.notify.outcome.DEFAULT_RETRY_AFTER`).
RETRY_AFTER_DEFAULT = DEFAULT_RETRY_AFTER


class AppriseChannel:
    """Alerts to Apprise URLs (see the module docstring)."""

    def __init__(
        self, tz: tzinfo, *, send_timeout: float = SEND_TIMEOUT, read_timeout: float = READ_TIMEOUT
    ) -> None:
        self.tz = tz
        self.limits = LIMITS
        self.send_timeout = send_timeout
        self.read_timeout = read_timeout  # seconds, Apprise's socket read timeout per request
        self._pool: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self._pool is None:
            share_trust_with_requests()  # an operator's SSL_CERT_FILE, as Telegram's and Zalo's
            self._pool = ThreadPoolExecutor(LIMITS.max_in_flight, thread_name_prefix="apprise")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # a send still blocked in a socket ends on its own timeout
            pool.shutdown(wait=False, cancel_futures=True)

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        """The plain alert without its title line, the title in Apprise's title field: Apprise
        itself puts the title above the body for a service that has no title field
        (``NotifyBase._apply_overflow``, ``title_maxlen`` 0), so a body that began with it
        showed the title twice there, and twice at every service that has one (tester)."""
        alert = plain_alert(article, topics, self.tz, LIMITS.max_text, titled=False)
        if said := link_left_out_line("apprise", target.delivery_id, alert, LIMITS.max_text):
            log.info("%s", said)  # by the delivery's id: no URL, the article's nor the address
        title = trim_utf16(plain_title(article), TITLE_CAP)
        return await self._send(target.address, title, alert.text)

    async def send_message(self, target: Target, msg: AlertMessage) -> SendOutcome:
        """A message composed elsewhere (a digest part): its plain text, titled by its first
        line (the digest's heading), which the body then leaves out, as :meth:`deliver` does
        (a one-line message is its body, untitled: Apprise sends no empty body)."""
        text = trim_utf16(msg.plain_text, LIMITS.max_text)
        first, _, rest = text.partition("\n")
        body = rest.strip("\n")
        if not body:
            return await self._send(target.address, "", text)
        return await self._send(target.address, trim_utf16(first, TITLE_CAP), body)

    async def _send(self, url: str, title: str, body: str) -> SendOutcome:
        """One notification through the pool. :attr:`send_timeout` (seconds) bounds the send
        from the moment a thread starts it, so time spent queued behind hung destinations
        never turns a send that had only just begun into an unknown outcome; a send still
        queued when its bound passes is cancelled (nothing was sent: transient)."""
        register_secret(url, *secret_parts(url))
        if self._pool is None:
            await self.start()
        assert self._pool is not None
        started: list[float] = []  # time.monotonic() at which a thread began the send

        def run() -> tuple[bool | None, Watched]:
            started.append(time.monotonic())
            return _notify(url, title, body, self.read_timeout)

        work = self._pool.submit(run)
        waited = asyncio.wrap_future(work)
        deadline = time.monotonic() + self.send_timeout
        while True:
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    # shielded: on timeout ``work`` is cancelled below, only if never started
                    result, watched = await asyncio.shield(waited)
                break
            except TimeoutError:
                if work.cancel():  # still queued behind threads that hung destinations hold
                    return SendOutcome.transient("not sent: every send thread was busy")
                if not started or started[0] + self.send_timeout <= time.monotonic():
                    return SendOutcome.ambiguous(f"no answer within {self.send_timeout:.0f} s")
                deadline = started[0] + self.send_timeout  # began late: its own full bound
            except Exception as exc:  # Apprise or a plugin raised: the URL never appears
                return raised(url, exc)
        outcome = classify(result, watched)
        if outcome.kind is OutcomeKind.TRANSIENT and watched.errors:  # Apprise caught it
            return raised(url, watched.errors[-1], outcome)
        return outcome


def raised(url: str, exc: BaseException, otherwise: SendOutcome | None = None) -> SendOutcome:
    """The outcome of a send to ``url`` that raised ``exc`` (out of Apprise, or caught by it:
    ``requests``' ``InvalidHeader``): ``chat_not_found`` when ``url`` has a part its service
    sends in an HTTP header that no header can carry (:func:`.apprise_urls.header_problem`;
    a URL stored before subscribing checked that, whose every alert raised
    ``UnicodeEncodeError`` and was retried, unlogged, as transient), logged under the URL's
    mask; ``bad_content`` for another ``UnicodeError`` (this message cannot be encoded: sent
    again, it raises again); else ``otherwise``, or ``transient``."""
    if isinstance(exc, ValueError):  # UnicodeError, InvalidHeader, InvalidURL are ValueErrors
        part = header_problem(url)
        if part is not None:
            log.warning("apprise %s: address unusable, its %s cannot be sent in an HTTP "
                        "header (%s)", mask(url), part, type(exc).__name__)  # fmt: skip
            return SendOutcome.chat_not_found(
                f"the address's {part} cannot be sent in an HTTP header ({type(exc).__name__})"
            )
    if isinstance(exc, UnicodeError):
        log.warning(
            "apprise %s: this message cannot be encoded (%s)", mask(url), type(exc).__name__
        )
        return SendOutcome.bad_content(f"Apprise raised {type(exc).__name__}")
    return otherwise or SendOutcome.transient(f"Apprise raised {type(exc).__name__}")


def classify(result: bool | None, watched: Watched) -> SendOutcome:
    """The channel's one classifier: ``notify()``'s answer (None: Apprise no longer takes the
    URL) and what its HTTP requests met (:class:`Watched`: the transport errors they raised
    and the throttling answers they got, both of which Apprise turns into False).

    A notification some of whose requests the destination accepted (``watched.parts_sent``)
    is ``sent`` with the count of failed ones as its description: not retried (module
    docstring).
    A destination that throttled (429, or 503 with ``Retry-After``) is ``retry_after``: the
    recipient is paused for the longest ``Retry-After`` it gave (:data:`RETRY_AFTER_DEFAULT`
    when none), the alert kept, as for a Telegram or Zalo 429.
    A failure whose request had gone out unanswered (read timeout, connection closed before
    the answer) is ``ambiguous``: the destination may have shown it, so a blind retry may
    duplicate it. A failure every answer of which says "never" is permanent (:func:`refusal`).
    Any other failure (a 5xx, a refused or unreachable destination, a plugin that is not HTTP)
    is ``transient``. Descriptions name exception types and status codes only: the text of an
    exception holds the URL, and an answer's body may echo it.
    """
    if result is None:
        return SendOutcome.bad_content("not a URL Apprise can send to")
    if result:
        return SendOutcome.sent(0)
    if watched.parts_sent:  # sending it whole again duplicates what arrived: see the docstring
        parts = watched.parts_sent + watched.parts_failed
        return SendOutcome.sent(0, f"partly sent: {watched.parts_failed} of {parts} requests "
                                   "failed, not retried (a retry repeats the others)")  # fmt: skip
    errors = watched.errors
    unanswered = [e for e in errors if after_request_sent(e)]
    if unanswered:
        return SendOutcome.ambiguous(f"no answer after sending ({type(unanswered[-1]).__name__})")
    if watched.throttled:
        waits = [w for w in watched.throttled if w is not None]
        seconds = max(waits) if waits else RETRY_AFTER_DEFAULT
        return SendOutcome.retry_after(seconds, "the destination asked to wait (HTTP 429/503)")
    if errors:
        return SendOutcome.transient(f"not sent ({type(errors[-1]).__name__})")
    refused = refusal(watched.failures)
    if refused is not None:
        return refused
    statuses = ", ".join(str(f.status) for f in watched.failures)
    said = f" (HTTP {statuses})" if statuses else ""
    return SendOutcome.transient(f"the destination did not accept the notification{said}")


#: Answers that say the recipient can never receive (RFC 9110 §15.5): the address is gone (a
#: deleted webhook, channel or topic), or its credentials are refused (revoked, wrong).
GONE = frozenset({404, 410})
DENIED = frozenset({401, 403})
#: Answers that refuse this message, not the recipient: malformed, too large, unprocessable.
MESSAGE_REFUSED = frozenset({400, 413, 422})


def refusal(failures: Sequence[Failure]) -> SendOutcome | None:
    """The permanent outcome a send's error answers (:class:`.apprise_transport.Failure`, in
    order) say, or None when any of them may pass (5xx, 429, a 3xx not followed, another 4xx):
    then the whole notification is retried. Conservative where a send made several requests
    (a log-in, a look-up, one request per target): only when every failed request says
    "never". A message refused (400/413/422) counts only from a request that carried it (a
    log-in's 400 is no fault of the message) and wins over a recipient-level answer (a
    notification half refused is dead-lettered, never the recipient disabled); otherwise the
    last failed request's: ``blocked`` (401/403) or ``chat_not_found`` (404/410), the kinds
    Telegram's and Zalo's classifiers give a chat that can never receive."""
    if not failures:
        return None
    kinds = [_permanent(f) for f in failures]
    if any(kind is None for kind in kinds):
        return None
    statuses = ", ".join(str(f.status) for f in failures)
    if OutcomeKind.BAD_CONTENT in kinds:
        return SendOutcome.bad_content(f"HTTP {statuses}: the destination refused this message")
    if kinds[-1] is OutcomeKind.BLOCKED:
        return SendOutcome.blocked(f"HTTP {statuses}: the destination refused the credentials")
    return SendOutcome.chat_not_found(f"HTTP {statuses}: the destination no longer exists")


def _permanent(failure: Failure) -> OutcomeKind | None:
    if failure.status in DENIED:
        return OutcomeKind.BLOCKED
    if failure.status in GONE:
        return OutcomeKind.CHAT_NOT_FOUND
    if failure.status in MESSAGE_REFUSED and failure.carries:
        return OutcomeKind.BAD_CONTENT
    return None


def _notify(url: str, title: str, body: str, read_timeout: float) -> tuple[bool | None, Watched]:
    """One notification (blocking): its result (None when Apprise no longer takes the URL) and
    what its HTTP requests met. Apprise's records of WARNING and above are logged cleaned of
    the URL, under its mask (:func:`.apprise_logs.sending`)."""
    plugin: Any = plugin_for(url)
    if plugin is None:
        return None, Watched()
    plugin.socket_connect_timeout = CONNECT_TIMEOUT
    plugin.socket_read_timeout = read_timeout
    with apprise_logs.sending(url, mask(url)), watch_transport(f"{title}\n{body}") as watched:
        return bool(plugin.notify(body=body, title=title)), watched
