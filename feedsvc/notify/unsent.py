"""``UNSENT``: what httpx raises before a request is complete — no connection made, a proxy's
CONNECT refused, the request cut while written —, so the server cannot have acted on it. Both
bots' (Telegram's classifier, :mod:`feedsvc.notify.telegram`; Zalo's,
:mod:`feedsvc.channels.zalo.channel`); apart from the Telegram edge so that Zalo's channel does
not import python-telegram-bot — pure, httpx's names only."""

from __future__ import annotations

import httpx

UNSENT = (httpx.PoolTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.WriteTimeout,
          httpx.WriteError, httpx.ProxyError)  # fmt: skip
