"""What a delivery channel is to the dispatcher: its limits, and one call per alert.

A recipient is (channel, address) (SPEC §11). Each channel module declares its
:class:`ChannelLimits` once (message length, pacing, shared send rate, when a recipient is
disabled, concurrency) and classifies its own errors into the channel-neutral
:class:`~feedsvc.notify.SendOutcome`; :mod:`feedsvc.dispatch` then runs the same outbox
(leases, send-then-record, unknown outcomes, dead letters) for every channel, one dispatcher
per channel with its own budget and send slots, so a slow or failing channel never slows
another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, runtime_checkable

from feedsvc.articles import Article
from feedsvc.notify.message import AlertMessage, DeliveryOptions
from feedsvc.notify.outcome import OutcomeKind, SendOutcome

__all__ = [
    "CHANNELS", "Channel", "ChannelLimits", "MessageChannel", "OutcomeKind", "SendOutcome",
    "Target",
]  # fmt: skip

CHANNELS = ("telegram", "zalo", "apprise")


# Calls are planned at 99 % of global_rate: a little room for arrival jitter, since Telegram
# counts arrivals. Bunching from event-loop lag is prevented by the channel's release gate
# (:func:`feedsvc.waiting.release_gate`), calls ``ChannelLimits.release_gap`` apart.
RATE_MARGIN = 0.99


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """One channel's limits, declared in its own module (the one place that knows them).

    ``max_text`` is the longest alert text the channel takes, in ``text_unit`` ("utf16" code
    units for Telegram, "chars" for code points); ``global_rate`` is sends per second across
    all replicas (a token bucket of its own in the state DB); ``private_interval`` and
    ``group_interval`` are the least gap between two sends to one recipient; ``disable_after``
    is how many permanent failures in a row disable a recipient; ``max_in_flight`` bounds this
    channel's concurrent sends in one process.
    """

    name: str
    max_text: int
    text_unit: str
    global_rate: float
    private_interval: timedelta
    group_interval: timedelta
    disable_after: int = 3
    max_in_flight: int = 64

    @property
    def bucket(self) -> str:
        """The shared send budget's row in ``rate_buckets`` (``telegram-global`` for Telegram,
        the name it always had)."""
        return f"{self.name}-global"

    @property
    def release_gap(self) -> float:
        """Seconds between two calls leaving this process at ``global_rate`` (with
        :data:`RATE_MARGIN`): the release gate's spacing."""
        return 1 / (self.global_rate * RATE_MARGIN)

    def interval(self, chat_type: str) -> timedelta:
        """The pacing gap for a recipient of ``chat_type`` (``private`` or anything else)."""
        return self.private_interval if chat_type == "private" else self.group_interval


@dataclass(frozen=True, slots=True)
class Target:
    """Where one claimed delivery goes: the recipient row as the channel needs it."""

    chat_id: int
    channel: str
    address: str  # Apprise: a URL with credentials; never log it
    chat_type: str
    link_preview: bool
    plain_text: bool  # Telegram: re-send as plain text after "can't parse entities"
    # the chat's options for this message (issue 15): sound, forum thread, buttons, a notice;
    # a channel applies what it has (feedsvc.notify.message.with_options) and ignores the rest
    options: DeliveryOptions = field(default_factory=DeliveryOptions)
    #: an earlier try of this alert went unanswered (a read timeout, a crash mid-send): the
    #: re-send leaves out what can make a send slow and is only an extra — Telegram's photo,
    #: which Telegram fetches from the article's image host before it answers
    after_unknown: bool = False
    #: the claimed delivery's row id (None: a send not from the outbox), how a channel's log
    #: line names the alert for an operator: an article's key may be its URL (a CMS's
    #: permalink as GUID), which such a line must not print
    delivery_id: int | None = None


@runtime_checkable
class Channel(Protocol):
    """A delivery channel: formats and sends one alert, folding every result and error into a
    :class:`SendOutcome` (never raising for a send that failed)."""

    limits: ChannelLimits

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(
        self, target: Target, article: Article, topics: Sequence[str]
    ) -> SendOutcome: ...


@runtime_checkable
class MessageChannel(Channel, Protocol):
    """A channel that can also send a message composed elsewhere (a digest, issue 15). A
    channel without it gets its held alerts one by one when their digest falls due."""

    async def send_message(self, target: Target, msg: AlertMessage) -> SendOutcome: ...
