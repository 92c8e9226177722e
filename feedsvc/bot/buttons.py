"""The buttons under alerts (issue 15 §2): "mute this topic" and its undo.

A press is a callback query: the bot always answers it (Telegram shows a spinner until then),
then changes the alert's keyboard so the same place offers the way back: mute → the button
becomes "↩ Bật lại …" (undo), undo → "🔕 Tắt …" again. In groups and channels only admins (of
the chat, or the bot's configured admins) may press them; anyone else gets a short answer and
nothing changes. Callback data is ``mute:<topic id>`` / ``undo:<topic id>[:<thread id>]``
(:func:`feedsvc.digest.edge.callback_data`), within Telegram's 64 bytes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from feedsvc.bot import options, texts
from feedsvc.bot.actions import Target
from feedsvc.bot.gate import CommandGate
from feedsvc.bot.replies import PASSING, answer_query, reply_failed
from feedsvc.db import Database
from feedsvc.digest.edge import MUTE, UNDO, button_title, callback_data, parse_callback
from feedsvc.notify.telegram import failure_outcome

log = logging.getLogger("feedsvc.bot")
Context = ContextTypes.DEFAULT_TYPE
ADMINS = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


class ButtonHandlers:
    """``gate``: the bot's command budgets. A press writes to the state DB and edits a message
    (the bot's Telegram budget, shared by every chat), so it counts as a command of its user
    and chat (#12 §2); bot admins are not limited."""

    def __init__(self, db: Database, admins: frozenset[int], gate: CommandGate) -> None:
        self.db = db
        self.admins = admins
        self.gate = gate

    async def pressed(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        parsed = parse_callback(query.data or "")
        message = query.message
        if parsed is None or message is None:
            await answer_query(query)  # not ours (an old keyboard): stop the spinner, say nothing
            return
        action, topic_id, thread = parsed
        chat = message.chat
        if query.from_user.id not in self.admins:
            allowed, refusal = self.gate.admit(f"telegram:{query.from_user.id}",
                                               f"telegram:{chat.id}")  # fmt: skip
            if not allowed:  # answered all the same: Telegram shows a spinner until then
                await answer_query(query, refusal, alert=refusal is not None)
                return
        if not await self._may_change(query, context, chat.id, chat.type):
            await answer_query(query, texts.translator()("digest.mute_denied"), alert=True)
            return
        words = texts.translator()
        if action == MUTE:
            title, thread = await asyncio.to_thread(options.mute, self.db, chat.id, topic_id)
            swap = (MUTE, callback_data(UNDO, topic_id, thread), "digest.button.undo")
            answer = "digest.muted"
        else:
            user = None if query.from_user.id in self.admins else f"telegram:{query.from_user.id}"
            target = Target(chat.id, chat.type, chat.title or chat.effective_name, user=user)
            undone = await asyncio.to_thread(
                options.unmute, self.db, target, topic_id, thread,
                per_user=self.gate.limits.max_subscriptions_per_user,
            )  # fmt: skip
            if isinstance(undone, options.Refused):  # a cap, as /sub would say
                await answer_query(query, undone.reply, alert=True)
                return
            title = undone
            swap = (UNDO, callback_data(MUTE, topic_id), "digest.button.mute")
            answer = "digest.unmuted"
        if title is None:
            await answer_query(query, words("digest.mute_gone"), alert=True)
            return
        await answer_query(query, texts.button_answer(answer, title))
        await self._swap_button(query, topic_id, swap, words(swap[2], topic=button_title(title)))

    async def _swap_button(
        self, query: CallbackQuery, topic_id: int, swap: tuple[str, str, str], text: str
    ) -> None:
        """Replace the pressed button (same row) with its counterpart; best effort."""
        message = query.message
        markup = getattr(message, "reply_markup", None)
        if markup is None:
            return
        rows: list[list[InlineKeyboardButton]] = []
        for row in markup.inline_keyboard:
            new_row = []
            for button in row:
                parsed = parse_callback(button.callback_data or "") if isinstance(
                    button.callback_data, str) else None  # fmt: skip
                if parsed is not None and parsed[0] == swap[0] and parsed[1] == topic_id:
                    button = InlineKeyboardButton(text, callback_data=swap[1])
                new_row.append(button)
            rows.append(new_row)
        try:
            await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
        except TelegramError as exc:
            # a passing failure (sent again only when it never reached Telegram: the request
            # edge's) is one WARNING naming the chat, as an answer's; a refusal ("message is
            # not modified") stays one INFO line
            outcome = failure_outcome(exc, query.get_bot().token)
            if outcome is not None and outcome.kind in PASSING and message is not None:
                reply_failed(message.chat.id, outcome, "keyboard edit")
            else:
                log.info("could not update the alert's buttons: %s", exc)

    async def _may_change(
        self, query: CallbackQuery, context: Context, chat_id: int, chat_type: Any
    ) -> bool:
        user_id = query.from_user.id
        if chat_type == ChatType.PRIVATE or user_id in self.admins:
            return True
        try:
            member = await context.bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            return False
        return member.status in ADMINS
