"""Whom a command addresses: a channel named in it (:func:`channel_target`, a configured
admin managing a channel from a private chat) and whether a command is this bot's at all
(:func:`is_ours`: groups host other bots, whose commands get no answer from this one).
Split from :mod:`feedsvc.bot.handlers` to keep it under ~400 lines."""

from __future__ import annotations

from telegram import Bot, Message
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

from feedsvc.bot import texts
from feedsvc.bot.actions import Target
from feedsvc.bot.incoming import command_head

ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


async def channel_target(bot: Bot, ref: str, user_id: int) -> Target | str:
    """Resolve ``@name``/``-100…`` to a channel both the sender and the bot administer."""
    try:
        chat = await bot.get_chat(ref if ref.startswith("@") else int(ref))
    except (BadRequest, Forbidden):
        return texts.channel_not_found(ref)
    if chat.type != ChatType.CHANNEL:
        return texts.not_a_channel(ref)
    label = f"@{chat.username}" if chat.username else chat.title or ref
    try:
        sender = await bot.get_chat_member(chat.id, user_id)
        me = await bot.get_chat_member(chat.id, bot.id)
    except (BadRequest, Forbidden):
        return texts.bot_not_channel_admin(label)
    if sender.status not in ADMIN_STATUSES:
        return texts.sender_not_channel_admin(label)
    if me.status not in ADMIN_STATUSES:
        return texts.bot_not_channel_admin(label)
    return Target(chat.id, ChatType.CHANNEL, chat.title, label=texts.channel_label(label))


def is_ours(message: Message, username: str | None, *, any_name: bool) -> bool:
    """Whether a command is for this bot: in a private chat, or ``/cmd@<our name>``; with
    ``any_name``, also a bare ``/cmd`` naming one of our commands (groups host other bots)."""
    name, addressee = command_head(message)
    if message.chat.type == ChatType.PRIVATE:
        return True
    if addressee:
        return addressee.lower() == (username or "").lower()
    return any_name and name in texts.COMMAND_NAMES
