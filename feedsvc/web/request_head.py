"""One request head's bytes, read before the parser sees them (issue #12 §7): counted against
the head and request-line limits of :class:`feedsvc.web.connections.BoundedHttpProtocol`, and
the request line's raw non-ASCII bytes written percent-encoded.

A request target is ASCII (RFC 9112 §3.2, RFC 3986 §2.1), so a browser sends the search
``/?q=Kiến`` as ``/?q=Ki%E1%BA%BFn``. curl, wget and scripts send what was typed, the UTF-8
bytes raw; llhttp refuses those (a 400 "malformed request") where nginx and Apache take them.
Writing each such byte ``%XX`` gives the application exactly what a browser would have sent for
the same text, and nothing else of the request changes: the method and the version are ASCII
tokens (a non-ASCII byte there stays a parse error, now of a ``%``), and control characters
stay refused by the parser.
"""

from __future__ import annotations

import re

_HEAD_END = b"\r\n\r\n"
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def percent_encoded(line: bytes) -> bytes:
    """``line`` with every byte from 0x80 up written ``%XX`` (upper-case hex, RFC 3986 §2.1);
    ASCII bytes as they are."""
    return _NON_ASCII.sub(lambda m: b"%%%02X" % m[0][0], line)


class HeadCount:
    """The head being read on one connection: its bytes so far (:attr:`size`, as sent), its
    request line's (:attr:`line_size`, as the parser gets it: encoded), whether that line is
    still open, and the head's last 3 bytes, to find a ``CRLF CRLF`` split across reads."""

    def __init__(self) -> None:
        self.size = 0
        self.line_size = 0  # leading blank lines (which llhttp skips) not counted
        self.line_open = True
        self._line_begun = False  # a byte other than CR or LF has come
        self._tail = b""

    def take(self, data: bytes) -> tuple[int, bytes]:
        """How many bytes of ``data`` belong to this head (all of it, or up to and including
        its ``CRLF CRLF``: llhttp ends a head no other way), counted, and those bytes as the
        parser is to get them (:func:`percent_encoded` inside the request line)."""
        tail = self._tail
        end = (tail + data if tail else data).find(_HEAD_END)
        take = len(data) if end < 0 else end + len(_HEAD_END) - len(tail)
        part = data if take == len(data) else data[:take]
        self.size += take
        self._tail = (tail + part)[-3:]
        return take, self._line(part) if self.line_open else part

    def _line(self, part: bytes) -> bytes:
        """``part`` with its request-line bytes encoded and counted."""
        start = 0
        if not self._line_begun:
            start = len(part) - len(part.lstrip(b"\r\n"))
            self._line_begun = start < len(part)
        newline = part.find(b"\n", start)
        stop = len(part) if newline < 0 else newline + 1
        line = percent_encoded(part[start:stop])
        self.line_size += len(line)
        if newline >= 0:
            self.line_open = False
        if len(line) == stop - start:
            return part
        return part[:start] + line + part[stop:]
