"""The parser callbacks of a request whose head was already read: split from
:mod:`feedsvc.web.connections`, whose ignored ``Upgrade`` offers use it
(:meth:`~feedsvc.web.connections.BoundedHttpProtocol._without_upgrade`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.web.connections import BoundedHttpProtocol


class HeadAlreadyRead:
    """The callbacks of a parser taking over a request whose head the protocol has read
    (:meth:`BoundedHttpProtocol._without_upgrade`): the replayed head's are dropped; the body,
    the request's end and every later request on the connection go to the protocol."""

    def __init__(self, protocol: BoundedHttpProtocol) -> None:
        self._protocol = protocol
        self._replaying = True

    def on_message_begin(self) -> None:
        if not self._replaying:
            self._protocol.on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self._replaying:
            self._protocol.on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._replaying:
            self._protocol.on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._replaying:
            self._replaying = False
        else:
            self._protocol.on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._protocol.on_body(body)

    def on_message_complete(self) -> None:
        self._protocol.on_message_complete()
