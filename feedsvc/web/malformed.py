"""What feedsvc says about a request httptools cannot parse (a bad method token, an unknown HTTP
version, a control character or a space in a header name, bare LF line ends, a TLS handshake
sent to the plain port, a bad chunk size…): why, for its one log line.

The answer itself (400, the catalogue's ``http.bad_request`` in ``site.language``,
``Connection: close``) is written by :class:`feedsvc.web.connections.BoundedHttpProtocol`,
which both protocol paths share; uvicorn's own was an English ``Invalid HTTP request
received.`` whatever the site's language. A hostile or broken client is not a fault of the
service: one WARNING line, no traceback, and nothing of the request's bytes (they may hold
escape sequences for the operator's terminal, or someone's token): only the parser's reason,
one of llhttp's fixed phrases, and the peer's address. Those lines are bounded
(:data:`REFUSALS`, a :class:`feedsvc.bounded_log.BoundedLog`): the first few a minute in full,
the rest counted in one summary line (a flood of bare-LF requests wrote 42,204 lines in 5 s).
An exception raised by our own code in a parser callback (not a client's doing) is the one
case logged with its traceback, at ERROR, and never held back.
"""

from __future__ import annotations

import logging

import httptools

from feedsvc.bounded_log import BoundedLog

log = logging.getLogger(__name__)

#: The refusals' log lines, bounded (:func:`log_refusal`).
REFUSALS = BoundedLog(
    log, ("malformed HTTP request answered 400", "malformed HTTP requests answered 400")
)


class TwoHosts(ValueError):
    """A request head with more than one ``Host`` line: RFC 9112 §3.2 says 400. uvicorn kept
    both and the app read the first, while a proxy or cache in front may read the last: two
    parties disagreeing on which site a request is for (tester3 F8). Raised in the head
    callback (:meth:`feedsvc.web.connections.BoundedHttpProtocol.on_headers_complete`) so the
    parser refuses the request like any malformed one."""

    def __str__(self) -> str:
        return "more than one Host header"


def refuse_two_hosts(headers: list[tuple[bytes, bytes]]) -> None:
    """Raise :class:`TwoHosts` when ``headers`` (uvicorn's, names lower-cased) give Host twice."""
    if sum(1 for name, _ in headers if name == b"host") > 1:
        raise TwoHosts


#: Exceptions a parser callback raises because of what the client sent: uvicorn's head
#: callback reads the URL with ``httptools.parse_url`` and its path as ASCII; two Host lines.
CLIENT_FAULTS = (httptools.HttpParserError, UnicodeError, TwoHosts)
#: The longest reason logged, in characters.
MAX_REASON = 120


def parse_failure(exc: httptools.HttpParserError) -> str:
    """Why the parser refused a request, for the log: llhttp's phrase (``Invalid method
    encountered``), or for an exception in a callback its type; printable ASCII, bounded.
    Logs an exception of our own in a callback (not in :data:`CLIENT_FAULTS`) at ERROR."""
    cause = exc.__context__ if isinstance(exc, httptools.HttpParserCallbackError) else None
    if cause is None:
        reason = str(exc)
    elif isinstance(cause, TwoHosts):
        reason = str(cause)
    elif isinstance(cause, CLIENT_FAULTS):
        reason = f"{type(cause).__name__} in the request head"
    else:
        log.error("HTTP parser callback failed", exc_info=cause)
        reason = f"{type(cause).__name__} in a parser callback"
    return printable(reason)


def printable(text: str) -> str:
    """``text`` as printable ASCII (anything else escaped, ``\\x1b`` as ``\\\\x1b``), at most
    :data:`MAX_REASON` characters: safe in any log line and terminal."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in escaped)
    return escaped[:MAX_REASON]


def log_refusal(client: tuple[str, int] | None, reason: str) -> None:
    """The one line for a refused request: who and why (never the request's bytes), through
    :data:`REFUSALS` (counted by the client's address past the window's first lines)."""
    peer = f"{client[0]}:{client[1]}" if client else "unknown peer"
    source = client[0] if client else None
    REFUSALS.log("malformed HTTP request from %s answered 400: %s", peer, reason, source=source)
