"""A channel's token and the state DB: recorded once the channel accepts it, read at start
(``Service.prepare``) and by a stand-in while it runs.

A channel whose token was accepted (an alert delivered, the bot's getMe: :class:`TokenWatch`,
``store.channel_tokens``; a token never accepted — a placeholder, a typo — marks nothing of
the kind: its refusals are recorded, read as ``refused`` everywhere while they last) and
that a later start lacks is ``waiting`` (:mod:`feedsvc.channel_modes`), said once as an ERROR
naming the setting and how many alerts wait. The console (Telegram) and the off worker (Zalo)
stay what a DB that never had the token gets — the demo, a first install — and stand down as
soon as another process records one (a replica started without the token before any with it:
it ran the console for its whole life, a tester's), accepted or refused (a replica whose token
the channel refuses: the console logged its chats' alerts as sent meanwhile, the off worker
ended them as failed, while they were that replica's to send once its token is fixed).

Each process records its own word (``store.channel_tokens``: per process, its token by
fingerprint): two replicas with different tokens for a channel no longer overwrite each other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection

from feedsvc.channel_modes import (
    MISSING_SETTING,
    Mode,
    channel_modes,
    token_fingerprint,
    waiting_channels,
)
from feedsvc.config import Settings
from feedsvc.db import Database, outage
from feedsvc.db.errors import describe
from feedsvc.notify.outcome import OutcomeKind, SendOutcome
from feedsvc.store import channel_tokens

log = logging.getLogger(__name__)


def settle_modes(db: Database, settings: Settings, *, dispatching: bool = True) -> dict[str, Mode]:
    """Every channel's mode for this process (one read; the schema must be current); the
    ERROR for a ``waiting`` channel only where it matters, in a process that dispatches."""
    with db.read() as conn:
        seen = channel_tokens.tokens_seen(conn)
        modes = channel_modes(settings, seen)
        waiting = {c: channel_tokens.queued_for(conn, c) for c in waiting_channels(modes)}
    for channel, queued in waiting.items() if dispatching else ():
        log.error(
            "%s is not set, but this state DB has sent with it (last %s UTC): %s alerts wait "
            "for it (%d now), none is sent, logged or ended; set it and restart (or, to drop "
            "the channel for good: feedsvc db forget-token %s)",
            MISSING_SETTING[channel], f"{seen[channel]:%Y-%m-%d %H:%M}", channel, queued, channel,
        )  # fmt: skip
    return modes


#: Seconds between two records of what the channel says of a token that keeps its word (one
#: UPDATE of one row): a delivered alert's or a refused send's, else
#: :meth:`TokenWatch.keep_fresh`'s getMe; what another process reads as "a process holds it
#: now" (``channel_modes.ACCEPTED_FRESH_SECONDS``/``REFUSED_FRESH_SECONDS``, three of these)
NOTE_SECONDS = 60.0

#: What a channel said of the token: accepted (``channel_tokens``) or refused
#: (``channel_refusals``, migration 0038)
Word = Literal["accepted", "refused"]


class TokenWatch:
    """A dispatcher's side of ``channel_tokens`` and ``channel_refusals`` (Telegram's and
    Zalo's; None elsewhere), the one writer of what the channel says of this process's token:
    :meth:`accepted` records it once an alert is delivered with it, :meth:`refused` once a
    send is refused for it, :meth:`confirm` by getMe (again at most once every
    :data:`NOTE_SECONDS` while the word stays the same, at once when it changes: a ``db
    forget-token`` while it sends is undone within that); for a stand-in (the console: no
    token here), :meth:`stands_down` says when another process has recorded one (accepted, or
    refused now), after which nothing more is claimed here and ``on_down`` is called (the
    service shows the channel ``waiting`` from then on). ``token``: this process's, kept only as
    its fingerprint (``channel_modes.token_fingerprint``), recorded with a refusal."""

    def __init__(
        self, channel: str, *, stand_in: bool, token: str | None = None,
        on_down: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.channel = channel
        self.stand_in = stand_in
        self.fingerprint = None if token is None else token_fingerprint(token)
        self.on_down = on_down
        self._noted_at: float | None = None  # time.monotonic() of the last record
        self._word: Word | None = None  # what it recorded
        self._down = False

    async def confirm(self, db: Database, ask: Callable[[], Awaitable[SendOutcome]]) -> None:
        """``ask`` the channel who the bot is (getMe, folded by the channel's classifier): an
        answer records the token, so a replica without it stands down before this one's first
        alert (a verifier's: a burst queued before it went to the other replica's console); a
        refusal records that, so every process reads ``refused`` on a quiet channel (it read
        ``on`` until an alert waited); no answer records nothing (the logs say why)."""
        try:
            outcome = await ask()
        except Exception:  # a classifier's gap: nothing is known of the token
            return
        if outcome.kind is OutcomeKind.TOKEN_REFUSED:
            await asyncio.to_thread(self.record, db, "refused")
        elif outcome.delivered:
            await asyncio.to_thread(self.record, db, "accepted")

    async def keep_fresh(self, db: Database, ask: Callable[[], Awaitable[SendOutcome]]) -> None:
        """Until cancelled (the fleet's stop): every :data:`NOTE_SECONDS`, when no alert's
        outcome has recorded the channel's word meanwhile, :meth:`confirm` it by getMe — a
        service with the token and no alert to send for an hour read as gone to a web-only
        replica and an operator's shell, which said ``waiting``; one with a refused token read
        ``on`` everywhere (``channel_modes.shown_modes``)."""
        while True:
            await asyncio.sleep(NOTE_SECONDS)  # a timer, not a wait for something
            if self.due():
                await self.confirm(db, ask)

    def due(self, word: Word | None = None) -> bool:
        """Whether ``word`` (None: the last one again) would be recorded now: none recorded
        here yet, another word than the last, or the last :data:`NOTE_SECONDS` ago or more."""
        at = self._noted_at
        changed = word is not None and word != self._word
        return at is None or changed or time.monotonic() - at >= NOTE_SECONDS

    def record(self, db: Database, word: Word = "accepted") -> None:
        """The channel said ``word`` of the token (getMe: here, or the bot's): record it in a
        transaction of its own; a failure is an outage's one line or a WARNING, never raised
        (the next getMe or alert's outcome records it)."""
        try:
            with db.write() as conn:
                self.heard(conn, db.now(), word)
        except Exception as exc:
            if not outage.report(exc, f"{self.channel} token"):
                log.warning("%s: cannot record what the channel said of the token: %s",
                            self.channel, describe(exc))  # fmt: skip

    def withdraw(self, db: Database) -> None:
        """At an orderly stop: a refusal this process recorded goes with it (the refused token
        is no longer held: every surface stops saying ``refused`` at once, not when the record
        ages out, ``channel_modes.REFUSED_FRESH_SECONDS``, which still covers a crash); a
        failure is a WARNING, never raised."""
        if self._word != "refused":
            return
        try:
            with db.write() as conn:
                channel_tokens.forget_refusal(conn, self.channel)
        except Exception as exc:
            log.warning("%s: cannot withdraw this process's refusal (it ages out): %s",
                        self.channel, describe(exc))  # fmt: skip

    def accepted(self, conn: Connection, now: datetime) -> None:
        """In the transaction recording a delivered alert: the token works."""
        self.heard(conn, now, "accepted")

    def refused(self, conn: Connection, now: datetime) -> None:
        """In the transaction recording an alert the channel refused for the token."""
        self.heard(conn, now, "refused")

    def heard(self, conn: Connection, now: datetime, word: Word) -> None:
        """Record ``word`` (UTC ``now``) when :meth:`due`; a stand-in has no token to record."""
        if self.stand_in or not self.due(word):
            return
        if word == "accepted":
            channel_tokens.note_tokens(conn, [self.channel], now)
        else:
            channel_tokens.note_refusal(conn, self.channel, now, token=self.fingerprint)
        self._noted_at, self._word = time.monotonic(), word

    def stands_down(self, conn: Connection, clock: Callable[[], datetime]) -> bool:
        """In a claim's transaction (``clock``: the DB's, UTC, asked only of a stand-in):
        whether this stand-in must claim nothing — another process recorded the token,
        accepted or refused now (said once; for good: its alerts are that process's to send
        once its token works)."""
        if not self.stand_in or self._down:
            return self._down
        setting = MISSING_SETTING[self.channel]
        if channel_tokens.has_token(conn, self.channel):
            why = f"has sent with {setting}"
        elif channel_tokens.refused_fresh(conn, self.channel, clock()):
            why = f"holds a {setting} the channel refuses"
        else:
            return False
        self._down = True
        log.error(
            "%s: another process %s since this one started without it: this process sends "
            "no more %s alerts (they wait for a process whose token the channel accepts)",
            self.channel, why, self.channel,
        )  # fmt: skip
        if self.on_down is not None:
            self.on_down()
        return True
