"""Zalo (SPEC §11): a thin Bot API client, plain-text alerts, and the bot's commands.

The names below are loaded on first use (PEP 562): the client and the channel import ``httpx``
(and with it ``rich`` and ``pygments`` where installed, ~0.1-0.25 s of CPU), which a process
without a Zalo token never needs, though it reads Zalo's ids and updates
(:mod:`feedsvc.channels.zalo.updates`, through :mod:`feedsvc.channels.recipients`)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedsvc.channels.zalo.api import ZaloBotAPI, ZaloError
    from feedsvc.channels.zalo.channel import LIMITS, ZaloChannel, classify
    from feedsvc.channels.zalo.message import format_zalo_alert

__all__ = ["LIMITS", "ZaloBotAPI", "ZaloChannel", "ZaloError", "classify", "format_zalo_alert"]

#: each name's submodule
_WHERE = {
    "ZaloBotAPI": "api",
    "ZaloError": "api",
    "LIMITS": "channel",
    "ZaloChannel": "channel",
    "classify": "channel",
    "format_zalo_alert": "message",
}


def __getattr__(name: str) -> Any:
    if (module := _WHERE.get(name)) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
