"""The Telegram channel: SPEC §6's limits, and the existing sender (:mod:`feedsvc.notify`).

Message: HTML within 4,096 UTF-16 units (:func:`feedsvc.notify.format_alert`); pacing 1 message
a second to a private chat, 20 a minute to a group or channel (``store.claims``' intervals),
``telegram.global_rate`` overall (default 25/s, Telegram's ~30/s with room); a chat is disabled
after 3 "blocked"/"chat not found" in a row; errors are classified by
:func:`feedsvc.notify.telegram.classify`. Without a token the console sender stands in (the
demo), with the same bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.budget import send_budget
from feedsvc.channels.base import ChannelLimits, SendOutcome, Target
from feedsvc.notify import BotApiSender, Sender, format_alert
from feedsvc.notify.edits import editor_of
from feedsvc.notify.message import TEXT_LIMIT, AlertMessage, with_options
from feedsvc.store.claims import GROUP_INTERVAL, PRIVATE_INTERVAL

LIMITS = ChannelLimits(
    name="telegram",
    max_text=TEXT_LIMIT,
    text_unit="utf16",
    global_rate=25.0,
    private_interval=PRIVATE_INTERVAL,
    group_interval=GROUP_INTERVAL,
    disable_after=3,
    max_in_flight=64,
)


class TelegramChannel:
    """Telegram through a :class:`~feedsvc.notify.Sender` (the Bot API, or the console)."""

    def __init__(
        self,
        sender: Sender,
        tz: tzinfo,
        *,
        images: bool = False,
        global_rate: float | None = None,
    ) -> None:
        self.sender = sender
        self.tz = tz
        self.images = images
        self.limits = LIMITS if global_rate is None else replace(LIMITS, global_rate=global_rate)
        #: deleting and editing sent alerts (the Bot API, or the console's log): SPEC §10
        self.editor = editor_of(sender)
        #: the channel's send budget in this process (bound to the state DB by its dispatcher)
        self.budget = send_budget(self)
        if isinstance(sender, BotApiSender):  # every message call it makes is charged
            sender.charge_with(self.budget.charge)

    async def start(self) -> None:
        await self.sender.start()

    async def close(self) -> None:
        await self.sender.close()

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        """Format (HTML, optional photo) and send; ``target.plain_text`` sends the plain form.

        A re-send after an unknown outcome goes as text (``target.after_unknown``): Telegram
        fetches a photo from the article's image host before it answers, so a slow host timed
        out the photo again and the alert ended ``unknown_outcome``, a dead letter, though its
        text would have gone (a second copy is possible either way: SPEC §6)."""
        with_image = self.images and not target.after_unknown
        msg = format_alert(article, topics, self.tz, with_image=with_image)
        return await self.send_message(target, msg)

    async def send_message(self, target: Target, msg: AlertMessage) -> SendOutcome:
        """Send ``msg`` with the target's options (no sound, forum thread, buttons, notice)."""
        msg = with_options(msg, target.options)
        send = self.sender.send_plain if target.plain_text else self.sender.send
        return await send(target.chat_id, msg, target.link_preview)
