"""What Apprise's HTTP requests raised during one ``notify()``, which Apprise itself hides.

Apprise's HTTP plugins call ``requests`` and turn every ``RequestException`` into a logged
warning and ``False``: a destination that refused the connection (nothing sent, retrying is
safe) and one that took the notification but answered after the socket read timeout (it may
show it: retrying duplicates it) look the same. :func:`watch_transport` sees the exceptions on
their way through ``requests.Session.send`` (every ``requests.get/post/request`` goes through it),
for the calling thread only, and re-raises them unchanged; :func:`after_request_sent` says
which side of "the request went out" each one fell on. ``requests`` is imported on first use
(the CLI's start-up imports this module).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

_local = threading.local()
_install_lock = threading.Lock()
_installed = False


def _install() -> None:
    """Wrap ``requests.Session.send`` once per process: exceptions are noted for a thread
    that watches (:func:`watch_transport`), then raised as before; other callers see no
    change."""
    global _installed
    with _install_lock:
        if _installed:
            return
        import requests

        original = requests.Session.send

        @wraps(original)
        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            try:
                return original(self, request, **kwargs)
            except BaseException as exc:
                seen: list[BaseException] | None = getattr(_local, "errors", None)
                if seen is not None:
                    seen.append(exc)
                raise

        requests.Session.send = send  # type: ignore[method-assign]
        _installed = True


@contextmanager
def watch_transport() -> Iterator[list[BaseException]]:
    """The list the calling thread's ``requests`` errors are appended to while inside."""
    _install()
    errors: list[BaseException] = []
    outer = getattr(_local, "errors", None)
    _local.errors = errors
    try:
        yield errors
    finally:
        _local.errors = outer


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
