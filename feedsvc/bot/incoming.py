"""What an incoming Telegram message says: the text a command is read from
(:func:`command_text`), its head and argument, who sent it (:func:`sender_key`) and the chat
(thread) it came from (:func:`own_target`). Split from :mod:`feedsvc.bot.handlers` (and
:mod:`feedsvc.bot.addressing`) so that each stays under ~400 lines; pure reading, no I/O."""

from __future__ import annotations

import re

from telegram import Chat, Message, Update
from telegram.ext import filters

from feedsvc.bot.actions import Target

#: a caption that begins with a command (Telegram's command names: 1-32 of ``[A-Za-z0-9_]``)
CAPTION_COMMAND = filters.CaptionRegex(re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@\w+)?(?:\s|$)"))


def command_text(message: Message) -> str:
    """The text a command is read from: the message's text, or a photo's (a document's, a
    video's) caption. ``/sub kien-thuy`` typed under a picture is a command to the user who
    sent it (Telegram marks it a ``bot_command`` in ``caption_entities``); read only from
    ``text``, it got no answer at all."""
    return message.text if message.text is not None else message.caption or ""


def command_head(message: Message) -> tuple[str, str]:
    """``(name, addressee)`` of the command ``/name@addressee`` a message begins with, the
    name in lower case as Telegram's clients (and PTB's ``CommandHandler``) match it."""
    head = (command_text(message) or "/").split(maxsplit=1)[0]
    name, _, addressee = head[1:].partition("@")
    return name.lower(), addressee


def command_arg(message: Message) -> str:
    """Everything after ``/cmd`` or ``/cmd@Bot``, untouched (CommandHandler's args split it);
    of a caption too (:func:`command_text`)."""
    parts = command_text(message).split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def sender_key(update: Update) -> str | None:
    """The channel-neutral key of who sent a command: ``telegram:<user id>``, or for a message
    sent *as* a chat (anonymous group admins share one user id, 1087968824, Telegram's
    GroupAnonymousBot) ``telegram:chat:<that chat's id>``."""
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return f"telegram:chat:{message.sender_chat.id}"
    user = update.effective_user
    return f"telegram:{user.id}" if user is not None else None


def own_target(chat: Chat, message: Message | None = None) -> Target:
    """The chat itself; a message sent inside a forum topic thread names that thread (alerts
    of a ``/sub`` there go to it)."""
    title = chat.title or chat.effective_name
    thread = (
        message.message_thread_id
        if message is not None and message.is_topic_message and message.message_thread_id
        else None
    )
    return Target(chat.id, chat.type, title, thread_id=thread)
