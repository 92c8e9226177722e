"""A process's channel modes, settled against its state DB at start (``Service.prepare``).

A channel started with its token is recorded (``store.channel_tokens``); one whose token is
not set on a DB that has run with it is ``waiting`` (:mod:`feedsvc.channel_modes`), said once
as an ERROR naming the setting and how many alerts wait. The console (Telegram) and the off
worker (Zalo) stay what a DB that never had the token gets: the demo, a first install.
"""

from __future__ import annotations

import logging

from feedsvc.channel_modes import MISSING_SETTING, Mode, channel_modes, waiting_channels
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.store import channel_tokens

log = logging.getLogger(__name__)


def settle_modes(db: Database, settings: Settings) -> dict[str, Mode]:
    """Record the channels this process has a token for, and answer every channel's mode
    (one write transaction; the schema must be current)."""
    tokens = {"telegram": settings.telegram_token(), "zalo": settings.zalo_token()}
    with db.write() as conn:
        channel_tokens.note_tokens(conn, [c for c, token in tokens.items() if token], db.now())
        seen = channel_tokens.tokens_seen(conn)
        modes = channel_modes(settings, seen)
        waiting = {c: channel_tokens.queued_for(conn, c) for c in waiting_channels(modes)}
    for channel, queued in waiting.items():
        log.error(
            "%s is not set, but this state DB ran with it (last started so %s UTC): %s "
            "alerts wait for it (%d now), none is sent, logged or ended; set it and restart",
            MISSING_SETTING[channel], f"{seen[channel]:%Y-%m-%d %H:%M}", channel, queued,
        )  # fmt: skip
    return modes
