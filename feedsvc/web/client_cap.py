"""Open connections per client address (``http.max_connections_per_client``), as nginx's
``limit_conn``: one host must not hold the whole process's connections.

A flood of busy keep-alive connections from one address is not stalled, so the connection cap
(:mod:`feedsvc.web.connections`), which closes connections waiting on their client, never sheds
it; 1,500 of wrk's took every turn of the event loop. Past this many open connections from one
client (:func:`feedsvc.web.clients.client_key`: an IPv4 address, an IPv6 /64), a new one is
answered ``429 Too Many Requests`` with ``Retry-After`` :data:`REFUSAL_DELAY` after it opened,
and closed; what it sent is not read as a request. A connection from one of
``http.trusted_proxies`` is not counted: a reverse proxy carries every client's requests, and
which client a connection is for is only known from its requests' ``X-Forwarded-For``, after
the connection is taken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from feedsvc.web.answers import ClosingAnswer
from feedsvc.web.clients import client_key

#: Seconds the 429 tells the client to wait before it opens another connection.
RETRY_AFTER = 1

#: Seconds a connection over its client's cap waits for its 429, as the feeds' refusals do
#: (:data:`feedsvc.web.feeds.REFUSAL_DELAY`): wrk reconnected at once after each refusal, and
#: the accepts and 429s of that churn halved the requests/s served to everyone.
REFUSAL_DELAY = 1.0

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def too_many_answer(text: str) -> ClosingAnswer:
    """The 429 to a connection over its client's cap, ``text`` the catalogue's
    ``http.too_many_connections`` in the site's language."""
    worded = ClosingAnswer.worded(429, text)
    return ClosingAnswer(429, b"retry-after: %d\r\n" % RETRY_AFTER + worded.tail)


class ClientCap:
    """Counts each client's open connections; ``limit`` 0 counts none (no cap)."""

    def __init__(self, limit: int, exempt: Sequence[str] = ()) -> None:
        self.limit = limit
        self._exempt: list[_Network] = [ipaddress.ip_network(n, strict=False) for n in exempt]
        self._open: dict[str, int] = {}

    def take(self, host: str | None) -> tuple[str | None, bool]:
        """A new connection from ``host``: the key it is counted under (None: not counted) and
        whether it is within its client's cap."""
        if not self.limit or not host or self._exempted(host):
            return None, True
        key = client_key(host)
        count = self._open.get(key, 0)
        if count >= self.limit:
            return None, False
        self._open[key] = count + 1
        return key, True

    def release(self, key: str | None) -> None:
        """A connection counted under ``key`` (:meth:`take`) is closed."""
        if key is None:
            return
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def open_from(self, host: str) -> int:
        """Connections counted for ``host``'s client now."""
        return self._open.get(client_key(host), 0)

    def _exempted(self, host: str) -> bool:
        if not self._exempt:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._exempt)
