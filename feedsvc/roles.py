"""Which parts of the service a process runs (``feedsvc run --no-http/--no-scheduler/--no-bot``),
and those roles in the words of the "feedsvc started" log line — pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedsvc.config import Settings


@dataclass(frozen=True)
class Roles:
    http: bool = True
    scheduler: bool = True
    bot: bool = True


ALL_ROLES = Roles()  # `feedsvc run` without flags


def describe_roles(
    settings: Settings, roles: Roles, *, bot_running: bool, telegram: str = "console",
    zalo: str = "off", listening: Sequence[str] = (),
) -> str:  # fmt: skip
    """The roles in words, e.g. ``HTTP on 127.0.0.1:8080, ingest and alerts, bot off (no
    Telegram token: alerts go to the log)``: an operator sees at start what this process does.
    ``telegram``, ``zalo``: the channels' modes (``feedsvc.channel_modes``). ``listening``:
    each address bound (``127.0.0.1:8080``, ``[::1]:8080``): ``localhost`` is both, and the
    line named the name while one was listened on; none given, ``http.host:http.port``."""
    http = settings.http
    where = " and ".join(listening) or f"{http.host}:{http.port}"
    parts = [
        f"HTTP on {where}" if roles.http else "HTTP off (--no-http)",
        "ingest and alerts" if roles.scheduler else "no ingest or alerts (--no-scheduler)",
    ]
    if not roles.bot:
        parts.append("bot off (--no-bot)")
    elif not bot_running:
        parts.append("bot off (no Telegram token)")
    else:
        parts.append("bot on")
    if roles.scheduler and not settings.telegram_token():
        parts.append(
            "Telegram alerts wait for the token (this state DB has sent with one)"
            if telegram == "waiting"
            else "alerts go to the log (no Telegram token)"
        )
    if roles.scheduler and zalo == "waiting":
        parts.append("Zalo alerts wait for the token (this state DB has sent with one)")
    return ", ".join(parts)
