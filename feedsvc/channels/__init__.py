"""Delivery channels (SPEC §11): a recipient is (channel, address); each channel declares its
limits and classifies its errors in its own module, and the outbox is the same for all."""

from feedsvc.channels.base import CHANNELS, Channel, ChannelLimits, Target

__all__ = ["CHANNELS", "Channel", "ChannelLimits", "Target"]
