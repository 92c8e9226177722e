"""WebSub (PubSubHubbub) publisher pings: tell the hub a feed changed, so readers that
subscribed through it (Inoreader, Feedly, …) fetch it at once instead of on their next poll.

The ping is a hint: it runs on a background thread, is bounded by a timeout, and a failure is
only logged — feeds are correct without it.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0


class HubPinger:
    def __init__(self, hub_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.hub_url = hub_url
        self.timeout = timeout

    def ping(self, feed_urls: Sequence[str]) -> threading.Thread | None:
        """Announce ``feed_urls`` in the background; returns the thread (tests join it)."""
        if not feed_urls:
            return None
        thread = threading.Thread(
            target=self._post, args=(list(feed_urls),), name="websub-ping", daemon=True
        )
        thread.start()
        return thread

    def _post(self, feed_urls: list[str]) -> None:
        body = urllib.parse.urlencode(
            [("hub.mode", "publish"), *(("hub.url", url) for url in feed_urls)]
        ).encode()
        request = urllib.request.Request(
            self.hub_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("WebSub ping to %s failed: %s", self.hub_url, exc)
            return
        log.debug("WebSub hub %s answered %s for %d feed(s)", self.hub_url, status, len(feed_urls))
