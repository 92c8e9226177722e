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
    when set, as every httpx client honours them). Shared because every client that takes it
    speaks HTTP/1.1 from the service's event loop: httpcore sets the context's ALPN protocols
    at each new connection, so a client with ``http2=True`` would need a context of its own."""
    import httpx

    return httpx.create_ssl_context()
