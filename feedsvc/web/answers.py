"""The answers the HTTP protocol writes itself, no ASGI app involved: a head too large (431),
a request that cannot be parsed (400), a body that stalled (408) — and the default headers they
share with every ASGI answer (:func:`default_lines`). Split from
:mod:`feedsvc.web.connections`, which re-exports these names."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from uvicorn.protocols.http.httptools_impl import STATUS_LINE


@dataclass(frozen=True)
class ClosingAnswer:
    """A whole plain-text answer that ends the connection, written straight to the socket by
    the protocol (no ASGI app answers a head that is too large or cannot be parsed). Only the
    part after the status line and uvicorn's default headers is kept here: those come at write
    time (:meth:`BoundedHttpProtocol.write_closing`), so the answer carries the ``Date`` of the
    moment it is sent (RFC 9110 §6.6.1), as every answer through ASGI does. The headers are the
    ones :func:`feedsvc.web.http_cache.text_response` gives the same errors through ASGI."""

    status: int
    tail: bytes  # the headers after the default ones, the blank line and the body

    @classmethod
    def worded(cls, status: int, text: str) -> ClosingAnswer:
        """``text`` from the catalogue in the site's language, its length counted in UTF-8
        bytes."""
        body = (text + "\n").encode("utf-8")
        return cls(
            status,
            b"content-type: text/plain; charset=utf-8\r\ncache-control: no-store\r\n"
            b"x-content-type-options: nosniff\r\n"
            + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body,
        )  # fmt: skip

    def bytes_with(self, default_lines: bytes) -> bytes:
        """The answer's bytes, ``default_lines`` (uvicorn's ``date``, any configured headers)
        after the status line, in the order uvicorn writes an ASGI app's answer."""
        return STATUS_LINE[self.status] + default_lines + self.tail


def too_large_answer(text: str) -> ClosingAnswer:
    """The 431 answer (the head is not parsed, so no ASGI app answers it): ``text`` is the
    catalogue's ``http.head_too_large`` in the site's language (:func:`bind_limits`)."""
    return ClosingAnswer.worded(431, text)


def default_lines(defaults: list[tuple[bytes, bytes]]) -> bytes:
    """uvicorn's default headers (``server_state.default_headers``: ``date``, refreshed each
    second by the server's loop, and ``server``/configured headers when set) as header lines,
    the one source of them for every answer the protocol writes itself (the 400, the 431, a
    feed poll answered in the parser callbacks). Before the server's first tick the list may
    still lack ``date``: one is made here then, and not kept."""
    global _last_defaults
    if _last_defaults[0] is defaults:
        return _last_defaults[1]
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
    if not any(name == b"date" for name, _ in defaults):
        return b"date: " + formatdate(usegmt=True).encode("ascii") + b"\r\n" + lines
    _last_defaults = (defaults, lines)  # uvicorn replaces the list each second
    return lines


_last_defaults: tuple[list[tuple[bytes, bytes]] | None, bytes] = (None, b"")
