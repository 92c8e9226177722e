"""Per-user and per-chat command budgets of the chat bots (Telegram's and Zalo's): checked before
any command does anything, so a flood of commands never makes a bot flood back or the database
work for it. Channel-neutral; the ``[telegram]`` keys of the same names set them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache

from feedsvc.bot import texts
from feedsvc.config import TelegramSettings
from feedsvc.ratelimit import MAX_CLIENTS, RateLimiter

#: subscriptions one user may hold across chats (``telegram.max_subscriptions_per_user``)
MAX_USER_SUBSCRIPTIONS = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """What one user or one chat may make the bot do (``[telegram]`` keys of the same names)."""

    user_command_burst: int = 10
    user_commands_per_minute: float = 20.0
    chat_command_burst: int = 20
    chat_commands_per_minute: float = 40.0
    max_subscriptions_per_user: int = MAX_USER_SUBSCRIPTIONS

    @classmethod
    def of(cls, telegram: TelegramSettings) -> Limits:
        return cls(
            telegram.user_command_burst,
            telegram.user_commands_per_minute,
            telegram.chat_command_burst,
            telegram.chat_commands_per_minute,
            telegram.max_subscriptions_per_user,
        )


class CommandGate:
    """Per-user and per-chat command budgets, checked before any command does anything.

    Token buckets (:class:`feedsvc.ratelimit.RateLimiter`: ``burst`` at once, then so many per
    minute), memory bounded to :data:`~feedsvc.ratelimit.MAX_CLIENTS` users and as many chats
    (the least recently seen forgotten). A user or chat past its budget gets **one** reply
    saying when to try again; further commands are ignored without a reply until one is
    allowed again, so a flood never makes the bot flood back. Channel-neutral: keys are the
    callers' (``"telegram:42"``). Thread-safe.
    """

    def __init__(
        self,
        limits: Limits,
        max_keys: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        #: monotonic seconds, read when :meth:`admit` is not told ``now``: injectable, so a
        #: test of the shipped budgets (20 a minute: a token back every 3 s) does not depend
        #: on how fast a loaded machine handles its commands
        self.clock = clock
        per_second = limits.user_commands_per_minute / 60
        self._users = RateLimiter(per_second, limits.user_command_burst, max_keys)
        per_second = limits.chat_commands_per_minute / 60
        self._chats = RateLimiter(per_second, limits.chat_command_burst, max_keys)
        self._told: LRUCache[str, bool] = LRUCache(2 * max_keys)

    def admit(
        self, user: str | None, chat: str, now: float | None = None
    ) -> tuple[bool, str | None]:
        """``(True, None)``: the command may run. ``(False, reply)``: the first refusal of a
        spell, ``reply`` saying when to try again; ``(False, None)``: later ones (silence).
        ``user`` None (not known): only the chat's budget applies. ``now``: monotonic seconds.
        """
        current = self.clock() if now is None else now
        if user is not None and (wait := self._users.take(f"u:{user}", current)) is not None:
            return self._refuse(f"u:{user}", "rate_limited_user", wait)
        if (wait := self._chats.take(f"c:{chat}", current)) is not None:
            return self._refuse(f"c:{chat}", "rate_limited_chat", wait)
        self._told.pop(f"c:{chat}", None)
        if user is not None:
            self._told.pop(f"u:{user}", None)
        return True, None

    def tracked(self) -> tuple[int, int, int]:
        """Users, chats and refused keys currently remembered (each bounded)."""
        return (self._users.tracked, self._chats.tracked, len(self._told))

    def _refuse(self, key: str, reply: str, wait: float) -> tuple[bool, str | None]:
        if key in self._told:
            return False, None
        self._told[key] = True
        return False, texts.t(reply, seconds=max(1, math.ceil(wait)))
