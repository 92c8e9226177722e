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


def share_trust_with_requests() -> str | None:
    """Give ``requests`` (Apprise's plugins send through it) the CA bundle httpx honours.

    An operator whose outbound TLS is re-signed (a company proxy, an internal ntfy or
    Mattermost on a private CA) sets ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``; every httpx client
    here reads them (:func:`tls_context`), but ``requests`` reads only ``REQUESTS_CA_BUNDLE``
    or ``CURL_CA_BUNDLE`` (requests' ``Session.merge_environment_settings``) and otherwise
    certifi's bundle, so an Apprise destination behind the same proxy failed verification
    while Telegram and Zalo worked. Sets ``REQUESTS_CA_BUNDLE`` in this process's environment
    to the file (or, without one, the directory) when neither of requests' own variables is
    set: an operator's explicit choice for requests is kept. Only an existing file or one
    existing directory is handed on: OpenSSL takes a ``:``-separated list of directories,
    requests a single path (given the list, every Apprise send raised ``OSError``, public
    destinations too; a reviewer's finding), so a list leaves requests on certifi as before.
    As for httpx, the bundle named replaces certifi's. Returns the path now used, or ``None``
    when nothing was set. Called before Apprise's first send; idempotent."""
    import os

    if os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
        return None
    path = os.environ.get("SSL_CERT_FILE")
    if not (path and os.path.isfile(path)):
        path = os.environ.get("SSL_CERT_DIR")  # one directory: requests takes no list
        if not (path and os.pathsep not in path and os.path.isdir(path)):
            return None
    os.environ["REQUESTS_CA_BUNDLE"] = path
    return path
