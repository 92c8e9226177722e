"""Zalo (SPEC §11): a thin Bot API client, plain-text alerts, and the bot's commands."""

from feedsvc.channels.zalo.api import ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.channel import LIMITS, ZaloChannel, classify
from feedsvc.channels.zalo.message import format_zalo_alert

__all__ = ["LIMITS", "ZaloBotAPI", "ZaloChannel", "ZaloError", "classify", "format_zalo_alert"]
