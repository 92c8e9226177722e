"""One TLS context for every HTTP client that talks to a messaging API (Telegram's senders, its
bot and getMe; Zalo's client). Each httpx client otherwise builds its own, loading the whole CA
bundle: ~30 ms of CPU per client (measured: ``httpx.AsyncClient()`` on this project's 2-core
machine), paid again whenever PTB rebuilds a closed client. A service makes several at start;
the test suite made thousands."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's verified client context, built once: httpx's own default
    (``httpx.create_ssl_context``: certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``
    when set, as every httpx client honours them). An ``SSLContext`` may be shared by
    clients and threads (Python's ``ssl`` docs: contexts hold settings, sockets their state)."""
    import httpx

    return httpx.create_ssl_context()
