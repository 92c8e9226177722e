"""Which delivery channels this process can send on, from its settings alone (pure, cheap to
import, outside the ``channels`` package: ``feedsvc status`` and ``subs add`` ask it).

- ``on``: configured; alerts are sent.
- ``console``: Telegram without ``telegram.token``: alerts are written to the log (the demo's
  way, SPEC §6), not sent to anyone.
- ``off``: Zalo without ``zalo.token``: the channel cannot send. Its recipients get nothing:
  their alerts end as ``failed`` with :func:`off_reason` (:mod:`feedsvc.channels.off`), never
  queued forever; status and ``/readyz`` show the channel off; subscribing a recipient on it is
  allowed (the token may come later) but warned about.

Apprise is always ``on``: each destination is its own configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from feedsvc.config import Settings

Mode = Literal["on", "console", "off"]
#: every :data:`Mode`, in that order (the metric ``feedsvc_channel_mode`` has a sample for each)
MODES: tuple[Mode, ...] = get_args(Mode)

#: the setting an ``off`` channel lacks
MISSING_SETTING = {"zalo": "zalo.token"}


def channel_modes(settings: Settings) -> dict[str, Mode]:
    """``{"telegram": …, "zalo": …, "apprise": "on"}`` for this process's settings."""
    return {
        "telegram": "on" if settings.telegram_token() else "console",
        "zalo": "on" if settings.zalo_token() else "off",
        "apprise": "on",
    }


def off_channels(settings: Settings) -> list[str]:
    return [name for name, mode in channel_modes(settings).items() if mode == "off"]


def off_reason(channel: str) -> str:
    """The error an alert on an off channel ends with (English, stored like a channel's own
    error text; the delivery log shows it)."""
    setting = MISSING_SETTING.get(channel, f"{channel} settings")
    return f"channel {channel} is not configured ({setting} is not set): nothing was sent"


def zalo_link(settings: Settings) -> str | None:
    """The Zalo bot's link the reader pages show (SPEC §13: "Zalo when configured"):
    ``zalo.link`` while the channel is ``on``; None without it or with the channel off (a link
    to a bot that cannot answer would take readers nowhere)."""
    return settings.zalo.link if channel_modes(settings)["zalo"] == "on" else None
