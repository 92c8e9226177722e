"""Token buckets with bounded memory: the web's per-client limit and the bot's command limits.

One implementation for every "so many at once, then so many per second" rule, so a fix to the
arithmetic or the memory bound reaches all of them.
"""

from __future__ import annotations

import threading
import time

from cachetools import LRUCache

#: Distinct clients a limiter remembers; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``rate`` per second.

    Memory is bounded (:data:`MAX_CLIENTS` buckets, least recently used forgotten, which only
    ever gives a forgotten client a fresh burst). Thread-safe.
    """

    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(max_clients)
        self._lock = threading.Lock()

    @property
    def tracked(self) -> int:
        """Clients remembered now (at most ``max_clients``)."""
        return len(self._buckets)

    def take(self, client: str, now: float | None = None) -> float | None:
        """Spend one token: None when allowed, else the seconds until a token is back."""
        current = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), current))
            tokens = min(float(self.burst), tokens + (current - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, current)
                return (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0, current)
            return None
