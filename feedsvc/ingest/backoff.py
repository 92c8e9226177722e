"""When the next ingest tick may run after failures, and what to probe meanwhile.

Exponential backoff (one poll interval, doubling, capped at :data:`MAX_BACKOFF_SECONDS`) keeps
a failing tick from hammering anything. But an *outage* (the source or the state DB does not
answer at all) is different from a tick that fails while everything answers: waiting out a
5-minute step after the CMS came back delays every alert by up to 5 minutes. So after an outage
each scheduled tick inside the backoff probes the side that was down (a ``SELECT 1``) and
retries at once when it answers; a failure while both sides answer (a bad mapping, a query the
CMS refuses) is only retried when its step is over, since probing would succeed at once.

Such a failure right after an outage is a new run of its own: its steps start again at one poll
interval. Counted on from the outage's tries, its first step was already minutes long, with no
probe to cut it short — and one comes whenever the side answers again between a tick's failed
statement and the probe that follows (a state DB file put back then: its last error read "does
not exist", the probe answered, and ingest waited 32 s at its sixth failed try with a 1 s poll;
with the default 30 s poll, the 5-minute cap from its fifth).

Time here is :func:`time.monotonic` seconds: backoff is this process's own business, and the
state DB's clock may be exactly what is unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

MAX_BACKOFF_SECONDS = 300.0

#: Which side did not answer when the tick failed: the CMS / built-in table, or our state DB.
Outage = Literal["source", "state"]


@dataclass
class Backoff:
    poll_seconds: float
    clock: Callable[[], float] = field(default=time.monotonic)
    failures: int = 0  # consecutive failed ticks (this process's count)
    outage: Outage | None = None
    retry_at: float | None = None
    steps: int = 0  # the doublings of the current step (failures since an outage's end)

    def due(self) -> bool:
        """True when no backoff step is running (a tick may go ahead without a probe)."""
        return self.retry_at is None or self.clock() >= self.retry_at

    def failed(self, outage: Outage | None, recorded: int | None = None) -> float:
        """Note a failed tick; ``recorded`` is the state DB's consecutive count when it could be
        written (it survives restarts). Returns the delay in seconds before the next try."""
        self.failures = max(self.failures + 1, recorded or 0)
        after_outage = outage is None and self.outage is not None  # see the module docstring
        self.steps = 1 if after_outage else max(self.steps + 1, recorded or 0)
        self.outage = outage
        delay = min(self.poll_seconds * 2.0 ** (self.steps - 1), MAX_BACKOFF_SECONDS)
        self.retry_at = self.clock() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = self.steps = 0
        self.outage = None
        self.retry_at = None

    def seconds_left(self) -> float:
        return 0.0 if self.retry_at is None else max(0.0, self.retry_at - self.clock())
