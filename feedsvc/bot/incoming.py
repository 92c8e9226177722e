"""What an incoming Telegram message says: the text a command is read from
(:func:`command_text`), its head and argument, who sent it (:func:`sender_key`) and the chat
(thread) it came from (:func:`own_target`). Split from :mod:`feedsvc.bot.handlers` (and
:mod:`feedsvc.bot.addressing`) so that each stays under ~400 lines; pure reading, no I/O."""

from __future__ import annotations

from telegram import Chat, Message, Update
from telegram.ext import filters

from feedsvc.bot.actions import Target
from feedsvc.bot.typed import read_command, visible_start


def command_text(message: Message) -> str:
    """The text a command is read from: the message's text, or a photo's (a document's, a
    video's) caption, from its first character that shows
    (:func:`~feedsvc.bot.typed.visible_start`). ``/sub kien-thuy`` typed under a picture is a
    command to the user who sent it (Telegram marks it a ``bot_command`` in
    ``caption_entities``); read only from ``text``, it got no answer at all."""
    return visible_start(message.text if message.text is not None else message.caption or "")


def command_head(message: Message) -> tuple[str, str]:
    """``(name, addressee)`` of the command ``/name@addressee`` a message begins with, the
    name in lower case as Telegram's clients (and PTB's ``CommandHandler``) match it;
    ``("", "")`` when it begins with none."""
    command = read_command(command_text(message))
    return (command[0], command[1]) if command is not None else ("", "")


def command_arg(message: Message) -> str:
    """Everything after ``/cmd`` or ``/cmd@Bot``, untouched but for what does not show at its
    ends (CommandHandler's args split it); of a caption too (:func:`command_text`)."""
    command = read_command(command_text(message))
    return command[2] if command is not None else ""


class _LooseCommand(filters.MessageFilter):
    """A message that begins with a command PTB's ``CommandHandler`` does not see (it reads a
    ``bot_command`` entity at offset 0 of ``text`` only): a photo's caption, or text whose
    command follows characters that do not show (``\u200b/sub an ninh``: the entity, if any,
    is not at offset 0)."""

    def filter(self, message: Message) -> bool:
        return read_command(command_text(message)) is not None


#: :class:`_LooseCommand`, as a PTB filter
LOOSE_COMMAND = _LooseCommand(name="LOOSE_COMMAND")


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
