"""The Telegram bot: commands and subscription management (SPEC §6), one poller per token."""

from feedsvc.bot.service import LEASE_NAME, BotService

__all__ = ["LEASE_NAME", "BotService"]
