"""python-telegram-bot handlers: who may do what, which chat a command acts on, then one action.

Permissions: anyone in a private chat manages that chat; in a group only its admins (or the
configured bot admins) change subscriptions; a channel is managed from a private chat by a
configured admin who is also an admin of the channel, with the bot an admin there too (otherwise
the alerts could never be posted). Arguments are the raw text after the command, so quotes and
multi-word phrases survive ("/sub \"công an\" OR \"an ninh\"").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import tzinfo
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from feedsvc.bot import actions, gate, options, texts
from feedsvc.bot.actions import Target
from feedsvc.bot.addressing import ADMIN_STATUSES, channel_target, is_ours
from feedsvc.bot.buttons import ButtonHandlers
from feedsvc.bot.incoming import (
    LOOSE_COMMAND,
    command_arg,
    command_head,
    command_text,
    own_target,
    sender_key,
)
from feedsvc.bot.replies import PASSING
from feedsvc.bot.replies import reply as _reply
from feedsvc.db import Database
from feedsvc.digest import SettingError, parse_switch
from feedsvc.notify.answers import pause_seconds
from feedsvc.notify.telegram import failure_outcome, scrub_token
from feedsvc.recipient_names import telegram_chat

log = logging.getLogger("feedsvc.bot")
Context = ContextTypes.DEFAULT_TYPE
BotApp = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], None]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
GONE_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
POSTING_STATUSES = ADMIN_STATUSES | {ChatMemberStatus.MEMBER}  # may post (channels: admins)
# A channel named in a command: @username (Telegram: 5-32 chars) or a -100… numeric id (chat
# ids fit in 52 bits), in ASCII: "-100١٢٣٤٥" is query text, not an id.
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_CHANNEL_REF = re.compile(r"@[A-Za-z][A-Za-z0-9_]{4,31}|-100[0-9]{5,13}", re.ASCII)


class Handlers:
    """The bot's callbacks; :meth:`install` registers them on an :class:`Application`."""

    def __init__(
        self,
        db: Database,
        admins: list[int],
        token: str,
        limits: gate.Limits | None = None,
        tz: tzinfo = DEFAULT_TZ,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.admins = frozenset(admins)
        self._token = token
        self.limits = limits or gate.Limits()
        self.gate = gate.CommandGate(self.limits, clock=clock)
        self.tz = tz
        self.buttons = ButtonHandlers(db, self.admins, self.gate)
        self._commands: dict[str, Callback] = {}  # name → checked callback (:meth:`install`)

    def install(self, app: BotApp) -> None:
        only_messages = filters.UpdateType.MESSAGE
        commands: dict[str, Callback] = {
            "start": self.start, "help": self.help, "topics": self.topics, "sub": self.sub,
            "unsub": self.unsub, "list": self.list, "pause": self.pause, "resume": self.resume,
            "preview": self.preview, "digest": self.digest, "quiet": self.quiet,
            "silent": self.silent, "settings": self.settings,
        }  # fmt: skip
        self._commands = {name: self._checked(callback) for name, callback in commands.items()}
        for name, checked in self._commands.items():
            app.add_handler(CommandHandler(name, checked, filters=only_messages))
        app.add_handler(CallbackQueryHandler(self.buttons.pressed))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.migrated))
        app.add_handler(MessageHandler(filters.COMMAND & only_messages, self.unknown))
        app.add_handler(MessageHandler(LOOSE_COMMAND & only_messages, self.loose))
        edits = filters.UpdateType.EDITED_MESSAGE & (filters.COMMAND | LOOSE_COMMAND)
        app.add_handler(MessageHandler(edits, self.edited))
        app.add_handler(ChatMemberHandler(self.member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.error)

    # --- commands ---------------------------------------------------------------------------
    async def start(self, update: Update, context: Context) -> None:
        """``/start``, or ``/start <slug>`` from a ``t.me/<bot>?start=<slug>`` link (the reader
        pages' Telegram buttons): that subscribes this chat to the topic."""
        message, chat = _message(update), _chat(update)
        if command_arg(message):
            start = functools.partial(
                actions.start_topic, per_user=self.limits.max_subscriptions_per_user
            )
            await self._change(update, context, start, texts.start())
            return
        await asyncio.to_thread(actions.register, self.db, own_target(chat))
        await _reply(message, texts.start())

    async def help(self, update: Update, context: Context) -> None:
        await _reply(_message(update), texts.help_text())

    async def topics(self, update: Update, context: Context) -> None:
        await _reply(_message(update), await asyncio.to_thread(actions.enabled_topics, self.db))

    async def sub(self, update: Update, context: Context) -> None:
        subscribe = functools.partial(
            actions.subscribe, per_user=self.limits.max_subscriptions_per_user
        )
        await self._change(update, context, subscribe, texts.t("sub_usage"))

    async def unsub(self, update: Update, context: Context) -> None:
        await self._change(update, context, actions.unsubscribe, texts.t("unsub_usage"))

    async def list(self, update: Update, context: Context) -> None:
        message = _message(update)
        found = await self._target(update, context, command_arg(message), write=False)
        if found is not None:
            await _reply(message, await asyncio.to_thread(actions.list_for, self.db, found[0]))

    async def pause(self, update: Update, context: Context) -> None:
        await self._set_paused(update, context, True)

    async def resume(self, update: Update, context: Context) -> None:
        await self._set_paused(update, context, False)

    async def unknown(self, update: Update, context: Context) -> None:
        """Hint at /help, but only when the command is ours: groups host other bots too."""
        message = _message(update)
        if is_ours(message, context.bot.username, any_name=False) and await self._admitted(update):
            await self._heard(update)
            await _reply(message, texts.t("unknown_command"))

    async def loose(self, update: Update, context: Context) -> None:
        """A command PTB's ``CommandHandler`` does not see (it reads only a ``bot_command`` at
        offset 0 of ``text``): a photo's (a document's…) caption, or text whose command follows
        invisible characters (``incoming.LOOSE_COMMAND``). Dispatched here, by the rules a typed
        one meets: ``/cmd@OtherBot`` is another bot's, an unknown name is :meth:`unknown`'s."""
        name, addressee = command_head(_message(update))
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return
        await self._commands.get(name, self.unknown)(update, context)

    async def edited(self, update: Update, context: Context) -> None:
        """A command edited after it was sent is not run again (an edit of ``/unsub 1`` must
        not remove a second line, nor a fixed typo act twice), but it is answered: silently
        ignored, the user who corrected ``/sub kien-thuu`` to ``/sub kien-thuy`` waited for an
        answer that never came. In groups only a command of ours, as :meth:`unknown` says."""
        message = _message(update)
        if is_ours(message, context.bot.username, any_name=True) and await self._admitted(update):
            await self._heard(update)
            head = (command_text(message) or "/").split(maxsplit=1)[0]
            await _reply(message, texts.t("edited_command", command=escape(head)))

    # --- service updates --------------------------------------------------------------------
    async def migrated(self, update: Update, context: Context) -> None:
        message = _message(update)
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        log.info("%s migrated to supergroup %s", telegram_chat(old), telegram_chat(new))
        await asyncio.to_thread(actions.follow_migration, self.db, old, new)

    async def member(self, update: Update, context: Context) -> None:
        """Bot removed/kicked/blocked → chat disabled; added back, unblocked or given rights
        (e.g. made admin of a channel that refused it "need administrator rights") → live."""
        change = update.my_chat_member
        if change is None:
            return
        chat, status = change.chat, change.new_chat_member.status
        if status in GONE_STATUSES:
            reason = texts.removed_reason(chat.type == ChatType.PRIVATE, status)
            if await asyncio.to_thread(actions.bot_removed, self.db, chat.id, reason):
                log.info("%s disabled: %s", telegram_chat(chat.id), reason)
        elif status in POSTING_STATUSES:
            await asyncio.to_thread(actions.register, self.db, own_target(chat))
            log.info("%s (re-)enabled: bot is %s", telegram_chat(chat.id), status)

    async def error(self, update: object, context: Context) -> None:
        """A handler's own failure, before its effect (a reply's failure never comes here:
        :func:`replies.reply`): logged token-free and apologised for; never a traceback shown. A
        passing failure of a Bot API call (a 5xx, a timeout: the channel's ``TRANSIENT`` or
        ``AMBIGUOUS``) is one WARNING line; anything else is ERROR with its traceback (a bug).
        A call the chat refuses (403: the user blocked the bot) is no fault: one line, no
        apology; nor is one Telegram keeps refusing with 429 (the chat's pause is recorded for
        its alerts)."""
        err = context.error
        if isinstance(err, Forbidden):
            return log.info("bot: reply not delivered: %s", scrub_token(str(err), self._token))
        if isinstance(err, RetryAfter):  # paused longer than an answer waits, or still after
            # its re-sends (the budget's REPLY_PAUSE_WAIT): an apology would be refused too
            return log.warning("bot: reply not delivered: Telegram asked to wait %.0f s",
                               pause_seconds(err))  # fmt: skip
        outcome = failure_outcome(err, self._token) if isinstance(err, TelegramError) else None
        if outcome is not None and outcome.kind in PASSING:
            log.warning("bot: a command was not done: Telegram did not answer a call (%s)",
                        outcome.description)  # fmt: skip
        else:
            detail = "".join(traceback.format_exception(err)) if err else "unknown error"
            log.error("bot handler failed: %s", scrub_token(detail, self._token))
        if isinstance(update, Update) and update.effective_message is not None:
            await _reply(update.effective_message, texts.t("apology"))

    # --- helpers ----------------------------------------------------------------------------
    def _checked(self, callback: Callback) -> Callback:
        """``callback`` behind the command rate limits and the one check of what users type
        (`actions.argument_problem`)."""

        async def checked(update: Update, context: Context) -> None:
            message = _message(update)
            if not await self._admitted(update):
                return
            await self._heard(update)
            problem = actions.argument_problem(command_arg(message))
            if problem is not None:
                await _reply(message, problem)
                return
            await callback(update, context)

        return checked

    async def _heard(self, update: Update) -> None:
        """A command of ours came from this chat: switched off after refusing alerts, it is
        live again (:func:`actions.heard_from`)."""
        chat = _chat(update)
        if await asyncio.to_thread(actions.heard_from, self.db, "telegram", str(chat.id)):
            log.info("%s re-enabled: it wrote to the bot again", telegram_chat(chat.id))

    async def _admitted(self, update: Update) -> bool:
        """Within this user's and this chat's command budgets (`gate.CommandGate`); when
        not, the first refusal is answered and the rest ignored. Bot admins are not limited."""
        user_id = update.effective_user.id if update.effective_user else None
        if user_id is not None and user_id in self.admins:
            return True
        allowed, reply = self.gate.admit(sender_key(update), f"telegram:{_chat(update).id}")
        if reply is not None:
            await _reply(_message(update), reply)
        return allowed

    async def _change(
        self, update: Update, context: Context, action: Callable[[Database, Target, str], str],
        usage: str,
    ) -> None:  # fmt: skip
        message = _message(update)
        found = await self._target(update, context, command_arg(message), write=None)
        if found is None:
            return
        target, arg = found
        if not arg:
            await _reply(message, usage)
            return
        await _reply(message, await asyncio.to_thread(action, self.db, target, arg))

    async def _set_paused(self, update: Update, context: Context, paused: bool) -> None:
        message = _message(update)
        found = await self._target(update, context, command_arg(message))
        if found is not None:
            reply = await asyncio.to_thread(actions.set_paused, self.db, found[0], paused)
            await _reply(message, reply)

    async def preview(self, update: Update, context: Context) -> None:
        """``/preview on|off``: link previews under this chat's alerts (off by default)."""
        message = _message(update)
        found = await self._target(update, context, command_arg(message), write=None)
        if found is None:
            return
        target, arg = found
        try:  # the one on/off reader (/silent's too): bật/tắt whatever their Unicode form
            choice = parse_switch(arg, "preview")
        except SettingError:
            await _reply(message, texts.t("preview_usage"))
            return
        await _reply(message, await asyncio.to_thread(actions.set_preview, self.db, target, choice))

    # --- delivery options (issue 15) -----------------------------------------------------------
    async def digest(self, update: Update, context: Context) -> None:
        await self._option(update, context, "digest")

    async def quiet(self, update: Update, context: Context) -> None:
        await self._option(update, context, "quiet")

    async def silent(self, update: Update, context: Context) -> None:
        await self._option(update, context, "silent")

    async def settings(self, update: Update, context: Context) -> None:
        message = _message(update)
        found = await self._target(update, context, command_arg(message), write=False)
        if found is not None:
            await _reply(message, await asyncio.to_thread(options.show, self.db, found[0]))

    async def _option(self, update: Update, context: Context, field: str) -> None:
        """``/digest``, ``/quiet``, ``/silent``: without an argument, the usage and the current
        settings; else set it (the same admin rule as /sub in groups and channels)."""
        message = _message(update)
        found = await self._target(update, context, command_arg(message), write=None)
        if found is None:
            return
        target, arg = found
        if not arg:
            shown = await asyncio.to_thread(options.show, self.db, target)
            await _reply(message, texts.t(f"{field}_usage") + "\n\n" + shown)
            return
        reply = await asyncio.to_thread(options.set_option, self.db, target, field, arg, self.tz)
        await _reply(message, reply)

    async def _target(
        self, update: Update, context: Context, arg: str, *, write: bool | None = True
    ) -> tuple[Target, str] | None:
        """The chat to act on and the rest of the argument; None when refused (already said).
        ``write`` None: a change only when there is an argument; without one the command shows
        its usage (and settings, as /settings does to anyone), so a group member asking
        ``/digest`` is not told "only admins change subscriptions"."""
        message, chat = _message(update), _chat(update)
        user_id = update.effective_user.id if update.effective_user else None
        parts = arg.split(maxsplit=1)
        first, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
        if chat.type == ChatType.PRIVATE and _CHANNEL_REF.fullmatch(first):
            is_ref = first.startswith("@") and await asyncio.to_thread(
                actions.is_topic, self.db, first[1:]
            )
            if not is_ref:  # "@slug" of a topic is a query reference, not a channel
                if user_id not in self.admins:
                    named = first.startswith("@")  # a topic meant, maybe: say both
                    refusal = texts.not_topic_nor_channel(first) if named else None
                    await _reply(message, refusal or texts.t("not_bot_admin"))
                    return None
                assert user_id is not None
                channel = await channel_target(context.bot, first, user_id)
                if isinstance(channel, str):
                    await _reply(message, channel)
                    return None
                return replace(channel, user=self._user_key(update)), rest.strip()
        if (bool(arg) if write is None else write) and not await self._may_change(
            message, context, user_id
        ):
            await _reply(message, texts.t("not_group_admin"))
            return None
        return replace(own_target(chat, message), user=self._user_key(update)), arg

    def _user_key(self, update: Update) -> str | None:
        """Whom the per-user subscription cap counts: None for bot admins (not capped)."""
        user = update.effective_user
        return None if user is not None and user.id in self.admins else sender_key(update)

    async def _may_change(self, message: Message, context: Context, user_id: int | None) -> bool:
        chat = message.chat
        if chat.type == ChatType.PRIVATE or (user_id is not None and user_id in self.admins):
            return True
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous group admin speaks as the group itself
        if user_id is None:
            return False
        member = await context.bot.get_chat_member(chat.id, user_id)
        return member.status in ADMIN_STATUSES


def _message(update: Update) -> Message:
    assert update.effective_message is not None  # the filters only pass message updates
    return update.effective_message


def _chat(update: Update) -> Chat:
    assert update.effective_chat is not None
    return update.effective_chat
