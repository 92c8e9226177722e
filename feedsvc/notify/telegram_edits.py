"""Deleting and editing sent alerts through the Bot API: :class:`TelegramEditor`, the Telegram
sender's :class:`~feedsvc.notify.edits.MessageEditor` (SPEC §10).

Apart from :mod:`feedsvc.notify.edits` (the outcomes, their reading, the protocol, the
console's stand-in), which every dispatcher's follow-up worker imports: only a process with a
bot token imports python-telegram-bot (``tests/test_service_imports.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, InputFile, InputMediaPhoto, LinkPreviewOptions, Message
from telegram.constants import ParseMode

from feedsvc.notify.edits import EditKind, EditOutcome, blank_photo, classify_edit
from feedsvc.notify.message import Button
from feedsvc.notify.outcome import OutcomeKind
from feedsvc.notify.refusals import keyboard_refused
from feedsvc.notify.telegram import classify_outcome, keyboard

log = logging.getLogger("feedsvc.notify")


class TelegramEditor:
    """Deletes and edits through the sender's python-telegram-bot ``Bot`` (its HTTP pool)."""

    plain_only = False

    def __init__(self, bot: Bot, token: str) -> None:
        self._bot, self._token = bot, token

    async def delete(self, chat_id: int, message_id: int) -> EditOutcome:
        return await self._run(self._bot.delete_message(chat_id, message_id))

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        caption: bool,
        html: bool,
        link_preview: bool = False,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:
        # The two Bot API methods take the same message and parse mode; only the text's field
        # differs (a caption has no link preview).
        where: dict[str, Any] = {
            "chat_id": chat_id, "message_id": message_id,
            "parse_mode": ParseMode.HTML if html else None,
        }  # fmt: skip
        if buttons:
            where["reply_markup"] = keyboard(buttons)
        preview = LinkPreviewOptions(is_disabled=not link_preview)
        outcome = await self._run(
            self._bot.edit_message_caption(caption=text, **where) if caption
            else self._bot.edit_message_text(text, link_preview_options=preview, **where)
        )  # fmt: skip
        if (
            buttons
            and outcome.kind is EditKind.REFUSED
            and keyboard_refused(OutcomeKind.BAD_CONTENT, outcome.description)
        ):
            # a keyboard Telegram refuses must not cost the correction: again without it, as
            # TelegramSender's send does (its _keyboard_fallback says why)
            return await self.edit(chat_id, message_id, text, caption=caption, html=html,
                                   link_preview=link_preview)  # fmt: skip
        return outcome

    async def cover(self, chat_id: int, message_id: int, text: str, *, html: bool) -> EditOutcome:
        picture = InputFile(blank_photo(), filename="blank.png", attach=True)  # image/png
        media = InputMediaPhoto(picture, caption=text, parse_mode=ParseMode.HTML if html else None)
        return await self._run(
            self._bot.edit_message_media(media, chat_id=chat_id, message_id=message_id)
        )

    async def uncover(
        self, chat_id: int, message_id: int, photo_url: str, text: str, *, html: bool,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> EditOutcome:  # fmt: skip
        media = InputMediaPhoto(photo_url, caption=text,
                                parse_mode=ParseMode.HTML if html else None)  # fmt: skip
        markup = keyboard(buttons) if buttons else None
        outcome = await self._run(self._bot.edit_message_media(
            media, chat_id=chat_id, message_id=message_id, reply_markup=markup
        ))  # fmt: skip
        if (
            buttons
            and outcome.kind is EditKind.REFUSED
            and keyboard_refused(OutcomeKind.BAD_CONTENT, outcome.description)
        ):  # a refused keyboard must not cost the restore (see edit)
            return await self.uncover(chat_id, message_id, photo_url, text, html=html)
        return outcome

    async def _run(self, request: Awaitable[Message | bool]) -> EditOutcome:
        outcome = classify_edit(await classify_outcome(request, self._token))
        if not outcome.kind.settled:
            log.debug("edit outcome %s: %s", outcome.kind, outcome.description)
        return outcome
