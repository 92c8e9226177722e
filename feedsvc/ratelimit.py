"""Limits with bounded memory: token buckets (the web's per-client limit and the bot's command
limits) and the failure window of the admin token (:class:`FailureLimiter`).

One implementation for every "so many at once, then so many per second" rule, so a fix to the
arithmetic or the memory bound reaches all of them; one for "so many failures a minute".
"""

from __future__ import annotations

import threading
import time
from collections import deque

from cachetools import LRUCache

#: Distinct clients a limiter remembers; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000

#: Failed admin-token checks allowed per window and client address, then refused (429).
TOKEN_FAILURES = 5
TOKEN_WINDOW = 60.0


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


class FailureLimiter:
    """Failed admin-token checks per client address in a sliding window (in memory, per
    process): the login form's, the API's and ``/readyz``'s Bearer token, one budget
    (``web.admin_auth.check_bearer``).

    Per process is enough: the token is long and random, the limit only has to make online
    guessing pointless, and a restart resetting it costs an attacker a restart per 5 guesses.
    """

    def __init__(
        self,
        limit: int = TOKEN_FAILURES,
        window: float = TOKEN_WINDOW,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, client: str, now: float | None = None) -> float | None:
        """Seconds until the client may try again, or None when it may try now."""
        current = now if now is not None else time.monotonic()
        with self._lock:
            times = self._recent(client, current)
            if len(times) < self.limit:
                return None
            return max(1.0, times[0] + self.window - current)

    def failed(self, client: str, now: float | None = None) -> None:
        current = now if now is not None else time.monotonic()
        with self._lock:
            self._recent(client, current).append(current)
            if len(self._failures) > self.max_clients:
                self._shrink(current)

    def _shrink(self, now: float) -> None:
        """Bound memory under a spray of addresses (IPv6 makes them cheap): forget clients whose
        failures have all left the window, then, if a spray is still too wide, the oldest ones."""
        for stale in [c for c, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[stale]
        excess = len(self._failures) - self.max_clients
        for oldest in list(self._failures)[: max(0, excess)]:  # dicts keep insertion order
            del self._failures[oldest]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
