"""The Zalo bot: the Telegram bot's commands, in Vietnamese, over the same actions.

Commands go through :mod:`feedsvc.bot.actions` exactly as on Telegram (argument checks, the
per-user and per-chat command budgets of :class:`~feedsvc.bot.gate.CommandGate`, subscription
caps, idempotence), acting on the chat's recipient row ``("zalo", chat id)``; the limits are the
``[telegram]`` keys of the same names, one policy for both bots. Zalo offers no way we
know of to tell a group's admins, so in a group only the read-only commands answer; subscribing
happens in a private chat (SPEC §11: private chats are the main case).

Updates arrive through ``POST /zalo/webhook`` (``zalo.webhook_secret`` set; see
:mod:`feedsvc.web.zalo`) or from :class:`ZaloPoller` (long polling, one poller across replicas
through the ``zalo-poller`` lease); both meet in :meth:`ZaloBot.handle`, which acts on each
update at most once (tester4 G1): one older than :data:`~feedsvc.channels.zalo.updates.MAX_AGE`
is dropped, and of the copies of one update (webhook retries, replays, polling after the webhook,
a copy at each replica) only the one whose key the state DB records first acts
(:mod:`feedsvc.store.zalo_updates`). A command that fails after that is not retried by a copy:
the user sends it again. A reply's ``sendMessage`` waits for a slot of the Zalo send
budget (the client charges it: the next free slot, the chat's pace after an alert; never
dropped), so up to :data:`MAX_CONCURRENT` replies wait at once. Nothing here raises out: a
failed reply is logged without the token and the update dropped (a user simply sends the
command again).

One chat's updates act strictly in the order received, each reply sent before the next
command runs (``/sub`` then ``/unsub`` must leave no subscription, ``/quiet`` then
``/settings`` must show the new hours), while other chats run at once:
:class:`~feedsvc.channels.zalo.lanes.ChatLanes`, a bounded lane per chat, forgotten when idle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from feedsvc.bot import actions, gate, options, texts
from feedsvc.bot.actions import Target
from feedsvc.channels.base import OutcomeKind
from feedsvc.channels.recipients import recipient_name
from feedsvc.channels.zalo.api import ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.channel import classify
from feedsvc.channels.zalo.lanes import ChatLanes
from feedsvc.channels.zalo.updates import (
    MAX_AGE,
    REPLY_LIMIT,
    Incoming,
    parse_command,
    parse_update,
    plain_reply,
)
from feedsvc.db import Database
from feedsvc.graphemes import utf16_units
from feedsvc.notify.outcome import REPLY_RETRIES
from feedsvc.notify.resend import Refused, resent_after_pause
from feedsvc.store import subscriptions as subs
from feedsvc.store import zalo_updates

log = logging.getLogger("feedsvc.zalo")
READ_ONLY = frozenset({"help", "topics", "list", "settings"})
#: the delivery options of issue 15 that mean something on Zalo (no silent messages there): the
#: commands, and the lines of ``/settings`` (no ``/silent`` line inviting an unknown command)
OPTIONS = ("digest", "quiet")
#: every command the Zalo bot runs
COMMANDS = frozenset({"start", "help", "topics", "list", "pause", "resume", "sub", "unsub",
                      "settings", *OPTIONS})  # fmt: skip
#: the Telegram bot's commands the Zalo bot has not (``/silent``: Zalo sends no silent
#: messages; ``/preview``: no link-preview switch): a user who knows them from Telegram is told
#: so and what to use instead (``bot.zalo_no_<name>``), not "unknown command" (tester)
TELEGRAM_ONLY = frozenset(texts.COMMAND_NAMES) - COMMANDS
SITE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # site.timezone's default; the service passes its own
MAX_CONCURRENT = 16  # updates handled at once, across chats (one per chat at a time)
#: updates of one chat waiting behind the one being handled, at least (a chat's command budget,
#: ``chat_command_burst``, and its refusal always fit: what is dropped beyond is a flood the
#: budget would silence)
MAX_WAITING_PER_CHAT = 32
PRUNE_EVERY = 600.0  # seconds between two prunings of the handled updates' keys, per process


class ZaloBot:
    """Answers Zalo updates, each chat's in order (:meth:`accept`). ``handle`` is safe to call
    concurrently; only the lanes keep a chat's commands in order."""

    def __init__(
        self, db: Database, api: ZaloBotAPI, limits: gate.Limits | None = None,
        tz: tzinfo = SITE_ZONE, refused: Refused | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.api = api
        self.refused = refused  # the send budget's: a reply's 429 (None: dropped, logged)
        self.tz = tz
        self.limits = limits or gate.Limits()
        self.gate = gate.CommandGate(self.limits)
        per_chat = max(MAX_WAITING_PER_CHAT, self.limits.chat_command_burst + 1)
        self.lanes = ChatLanes(self.handle, concurrency=MAX_CONCURRENT, per_chat=per_chat)
        self._next_prune = 0.0  # time.monotonic() of the next pruning

    def accept(self, body: Any) -> bool:
        """Queue one update behind its chat's earlier ones, without waiting (the webhook answers
        at once); False when it carries neither text nor a caption (ignored) or its chat
        already has a full lane of commands waiting (dropped:
        :class:`~feedsvc.channels.zalo.lanes.ChatLanes`)."""
        incoming = parse_update(body)
        if incoming is None:
            return False
        return self.lanes.submit(incoming.chat_id, incoming)

    async def drain(self) -> None:
        """Wait until every update accepted so far (and meanwhile) is handled; cancelled, the
        handling is cancelled (``ChatLanes.drain``)."""
        await self.lanes.drain()

    async def handle(self, incoming: Incoming) -> None:
        """Run the command in ``incoming`` and send the reply (if any). The lanes call it one
        update of a chat at a time, within their bound of :data:`MAX_CONCURRENT`."""
        try:
            reply = await asyncio.to_thread(self._answer_once, incoming)
        except Exception:
            log.exception("zalo: command failed")
            reply = texts.t("apology")
        if reply is not None:
            await self._reply(incoming.chat_id, plain_reply(reply))

    async def _reply(self, chat_id: str, text: str) -> None:
        """Send one answer. One refused with a 429 waits the pause asked and goes again when
        :attr:`refused` says so (the pause recorded for the chat's alerts too), as on Telegram
        (:func:`feedsvc.notify.resend.resent_after_pause`), and so does one that never
        reached Zalo (a connection not made), a few times; otherwise, or on any other failure
        (an unknown outcome: a read timeout, a 5xx, a gateway's page: it may have arrived), it
        is dropped with one WARNING line naming the chat. No apology: the command has had its
        effect."""
        try:
            if self.refused is None:
                await self.api.send_message(chat_id, text)
            else:
                await resent_after_pause(lambda: self.api.send_message(chat_id, text),
                                         _zalo_pause, self.refused, chat_id,
                                         _never_reached)  # fmt: skip
        except (ZaloError, httpx.HTTPError) as exc:
            said = self.api.scrub(f"{type(exc).__name__} {exc}".strip())
            outcome = classify(exc)
            if outcome.never_acted:
                why = f"not sent, tried {REPLY_RETRIES + 1} times"
            elif outcome.kind is OutcomeKind.AMBIGUOUS:
                why = "no answer from Zalo; not sent again: it may have arrived"
            elif outcome.kind is OutcomeKind.TRANSIENT:  # a 5xx, a gateway's page
                why = "failed with an unknown outcome; not sent again: it may have arrived"
            else:
                why = "not sent"
            log.warning("zalo: reply to %s: %s (%s)", recipient_name("zalo", chat_id), why, said)

    def _answer_once(self, incoming: Incoming) -> str | None:
        """:meth:`answer` for the first copy of a fresh update; None (no reply) otherwise. Any
        such update, a command or not, is the chat writing to the OA: switched off after
        refusing alerts, it is live again (:func:`actions.heard_from`)."""
        if not self._first_delivery(incoming):
            return None
        if actions.heard_from(self.db, "zalo", incoming.chat_id):
            log.info(
                "zalo: %s re-enabled: it wrote to the OA again",
                recipient_name("zalo", incoming.chat_id),
            )
        return self.answer(incoming)

    def _first_delivery(self, incoming: Incoming) -> bool:
        """Whether ``incoming`` may act: not older than ``MAX_AGE``, and the first copy of its
        update the state DB records (an update without a key cannot be told apart: it acts)."""
        now = self.db.now()
        if incoming.sent_at is not None and now - incoming.sent_at > MAX_AGE:
            log.info("zalo: an update dated %s (older than %d h) ignored", incoming.sent_at
                     .isoformat(timespec="seconds"), MAX_AGE.total_seconds() // 3600)  # fmt: skip
            return False
        if incoming.key is None:
            return True
        with self.db.write() as conn:
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY
                zalo_updates.prune(conn, now)
            first = zalo_updates.first_delivery(conn, incoming.chat_id, incoming.key, now)
        if not first:
            log.debug("zalo: a copy of an update already handled ignored")
        return first

    def answer(self, incoming: Incoming) -> str | None:
        """The reply (Telegram HTML, as :mod:`feedsvc.bot.texts` words it) to ``incoming``, after
        doing what it asks; None for text that is no command. Blocking (DB)."""
        command = parse_command(incoming.text)
        if command is None:
            return None
        name, arg = command
        user = f"zalo:{incoming.user_id}" if incoming.user_id else None
        allowed, refusal = self.gate.admit(user, f"zalo:{incoming.chat_id}")
        if not allowed:
            return refusal  # one reply per spell, then silence
        if name in TELEGRAM_ONLY:  # whatever its argument, in a group too: no chat has it
            return texts.t(f"zalo_no_{name}")
        problem = actions.argument_problem(arg)
        if problem is not None:
            return problem
        if incoming.chat_type == "group" and name not in READ_ONLY:
            return texts.t("zalo_private_only")
        target = self._target(incoming, user)
        if name == "settings":
            reply = options.show(self.db, target, OPTIONS)
        elif name in OPTIONS:
            if not arg:
                return texts.t(f"{name}_usage") + "\n\n" + options.show(self.db, target, OPTIONS)
            return options.set_option(self.db, target, name, arg, self.tz, OPTIONS)
        else:
            group = incoming.chat_type == "group"
            reply = _run(self.db, target, name, arg, self.limits.max_subscriptions_per_user, group)
        if incoming.chat_type == "group" and name in ("help", "settings"):
            reply += "\n\n" + texts.t("zalo_private_only")  # what a group can and cannot do
        return reply

    def _target(self, incoming: Incoming, user: str | None) -> Target:
        with self.db.write() as conn:
            chat = subs.ensure_recipient(
                conn, "zalo", incoming.chat_id, incoming.chat_type, incoming.title, self.db.now()
            )
        return Target(chat.chat_id, chat.type, chat.title, user=user)


def _run(db: Database, target: Target, name: str, arg: str, per_user: int, group: bool) -> str:
    """One command through the channel-neutral actions; in a ``group`` (read-only commands), the
    words that point to /sub say it works in a private chat (tester4 G3)."""
    if name == "start":
        if arg:
            return actions.start_topic(db, target, arg, per_user=per_user)
        actions.register(db, target)
        return texts.t("start") + "\n\n" + texts.t("zalo_help")
    if name == "help":
        return texts.t("zalo_help")
    if name == "topics":
        head = "zalo_group_topics_head" if group else "topics_head"
        return actions.enabled_topics(db, head, REPLY_LIMIT)
    if name == "list":
        return actions.list_for(db, target, "zalo_group_" if group else "", REPLY_LIMIT,
                                _sent_units)  # fmt: skip
    if name in ("pause", "resume"):
        return actions.set_paused(db, target, name == "pause")
    if name in ("sub", "unsub"):
        if not arg:
            return texts.t(f"{name}_usage")
        if name == "sub":
            return actions.subscribe(db, target, arg, per_user=per_user, limit=REPLY_LIMIT)
        return actions.unsubscribe(db, target, arg, REPLY_LIMIT)
    return texts.t("unknown_command")


def _sent_units(line: str) -> int:
    """A reply line's length as Zalo gets it (plain text: tags dropped, entities decoded), in
    UTF-16 units: measured as Telegram HTML, 50 long subscriptions were cut to 12 characters
    and the last still dropped, in a list whose plain text was 1,296 units of 2,000."""
    return utf16_units(plain_reply(line))


def _zalo_pause(exc: Exception) -> float | None:
    """The pause a 429 asks (the channel's one classifier), None for any other failure."""
    outcome = classify(exc)
    return outcome.seconds if outcome.kind is OutcomeKind.RETRY_AFTER else None


def _never_reached(exc: Exception) -> bool:
    """Whether an answer that raised ``exc`` may go again as it is: what the channel's one
    classifier says surely did not take effect (``never_acted``: no connection made, the
    request not complete); never a 5xx nor an error page not Zalo's (a gateway may have passed
    the request on), an unknown outcome (a read timeout:
    :func:`feedsvc.notify.resend.resent_after_pause` says why), a refusal, nor a bug."""
    failed = isinstance(exc, ZaloError | httpx.TransportError)
    return failed and classify(exc).never_acted
