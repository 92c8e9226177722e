"""The bot's HTTP clients to the Bot API, and its file URL.

Why a module: :mod:`feedsvc.bot.service` builds two of them per start (the replies', charged
to the send budget, and getUpdates', cut short at a stop: :mod:`feedsvc.bot.stopping`), with
the same timeouts and TLS context; what such a client is belongs here, when the lease decides.
"""

from __future__ import annotations

from collections.abc import Callable

from feedsvc.notify.charged import Charge, ChargedRequest
from feedsvc.notify.resend import Refused
from feedsvc.notify.tls import tls_context


def file_url(base_url: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot`` (same host)."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/"


def bot_request(
    timeouts: tuple[float, float], pool: int, charge: Charge | None = None,
    refused: Refused | None = None, unsent: Callable[[Exception], bool] | None = None,
    kind: type[ChargedRequest] | None = None,
) -> ChargedRequest:  # fmt: skip
    """PTB's HTTP client with ``pool`` connections and ``timeouts`` (connect, read: seconds);
    with ``charge``, every message call awaits it first; with ``refused``, one answered 429
    waits the pause and goes again (an answer is not dropped for a short pause); with
    ``unsent``, one that never reached Telegram (a connect timeout) goes again, a few times."""
    connect, read = timeouts
    return (kind or ChargedRequest)(
        connection_pool_size=pool, connect_timeout=connect, read_timeout=read,
        write_timeout=read, pool_timeout=connect, httpx_kwargs={"verify": tls_context()},
        charge=charge, refused=refused, unsent=unsent,
    )  # fmt: skip
