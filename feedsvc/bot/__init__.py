"""The Telegram bot: commands and subscription management (SPEC §6), one poller per token.

``BotService`` is imported on first use (PEP 562): ``feedsvc.bot.actions`` is shared with the
admin operations and the CLI, which must not pay for importing python-telegram-bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedsvc.bot.poller_lease import LEASE_NAME
    from feedsvc.bot.service import BotService

__all__ = ["LEASE_NAME", "BotService"]


def __getattr__(name: str) -> Any:
    if name == "LEASE_NAME":
        from feedsvc.bot import poller_lease

        return poller_lease.LEASE_NAME
    if name in __all__:
        from feedsvc.bot import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
