"""Alerts: message formatting and the senders the dispatcher uses (SPEC §6).

``TelegramSender`` is imported on first use (PEP 562): it brings python-telegram-bot, which a
process without a bot token never needs (``tests/test_service_imports.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedsvc.notify.console import ConsoleSender
from feedsvc.notify.message import AlertMessage, format_alert, utf16_len
from feedsvc.notify.outcome import BotApiSender, OutcomeKind, Sender, SendOutcome

if TYPE_CHECKING:
    from feedsvc.notify.telegram import TelegramSender

__all__ = [
    "AlertMessage",
    "BotApiSender",
    "ConsoleSender",
    "OutcomeKind",
    "SendOutcome",
    "Sender",
    "TelegramSender",
    "format_alert",
    "utf16_len",
]


def __getattr__(name: str) -> Any:
    if name == "TelegramSender":
        from feedsvc.notify.telegram import TelegramSender

        return TelegramSender
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
