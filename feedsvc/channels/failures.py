"""Say when a channel's sends start failing, once per run of failures (a dispatcher's
``on_outcome`` callback, set by the fleet).

A send that fails as transient (5xx, a network error, an answer that is not the Bot API's —
a wrong ``telegram.base_url``, a proxy's page) is retried with backoff and recorded on the
delivery, but nothing was logged: a worker replica (``--no-http --no-bot``: no getMe at start)
with a wrong ``telegram.base_url`` said nothing at all while every alert failed (a tester's).
The first such failure after a send that went through (or at start) is one WARNING with the
channel's words; the first send that goes through after them, one INFO.
"""

from __future__ import annotations

import logging

from feedsvc.notify.outcome import OutcomeKind, SendOutcome

log = logging.getLogger("feedsvc.dispatch")

#: outcomes that say the path to the channel fails, not the chat or the message
FAILING = frozenset({OutcomeKind.TRANSIENT, OutcomeKind.AMBIGUOUS})


class SendFailures:
    """``(delivery id, outcome)`` → at most one log line per change between failing and not."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.failing = 0  # failed sends in the current run of failures

    def __call__(self, delivery_id: int, outcome: SendOutcome) -> None:
        if outcome.kind in FAILING:
            if not self.failing:
                log.warning("%s: sending fails (%s); alerts are retried with backoff; said once "
                            "until a send goes through", self.channel,
                            outcome.description or outcome.kind.value)  # fmt: skip
            self.failing += 1
        elif outcome.delivered and self.failing:
            log.info("%s: sending works again after %d failed send(s)", self.channel, self.failing)
            self.failing = 0
