"""Alerts: message formatting and the senders the dispatcher uses (SPEC §6)."""

from feedsvc.notify.console import ConsoleSender
from feedsvc.notify.message import AlertMessage, format_alert, utf16_len
from feedsvc.notify.outcome import OutcomeKind, Sender, SendOutcome
from feedsvc.notify.telegram import TelegramSender

__all__ = [
    "AlertMessage",
    "ConsoleSender",
    "OutcomeKind",
    "SendOutcome",
    "Sender",
    "TelegramSender",
    "format_alert",
    "utf16_len",
]
