"""Which delivery channels this process can send on, from its settings and the channels its
state DB has run with a token (pure, cheap to import, outside the ``channels`` package:
``feedsvc status`` and ``subs add`` ask it).

- ``on``: configured; alerts are sent.
- ``console``: Telegram without ``telegram.token`` on a state DB that never ran with one:
  alerts are written to the log (the demo's way, SPEC §6), not sent to anyone.
- ``off``: Zalo without ``zalo.token`` on a state DB that never ran with one: the channel
  cannot send. Its recipients get nothing: their alerts end as ``failed`` with
  :func:`off_reason` (:mod:`feedsvc.channels.off`), never queued forever; status and
  ``/readyz`` show the channel off; subscribing a recipient on it is allowed (the token may come
  later) but warned about.
- ``waiting``: either channel without its token on a state DB that has run with one
  (``store.channel_tokens``, migration 0036): a token lost on a restart (a template's variable
  unset, a secret file not mounted), not a new install. Nothing is sent, logged as sent or
  ended: the alerts wait for the token (a tester's: the console logged a newsroom's real chats'
  alerts as ``sent``).

Apprise is always ``on``: each destination is its own configuration. ``refused`` is not a
mode of the process but what status shows of an ``on`` channel whose alerts wait because it
refuses the token (:func:`shown_modes`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from feedsvc.config import Settings

Mode = Literal["on", "console", "off", "waiting"]
#: every :data:`Mode`, in that order (the metric ``feedsvc_channel_mode`` has a sample for each)
MODES: tuple[Mode, ...] = get_args(Mode)

#: the setting an ``off`` or ``waiting`` channel lacks (its ``*_file`` form too)
MISSING_SETTING = {"telegram": "telegram.token", "zalo": "zalo.token"}


def channel_modes(settings: Settings, seen: Collection[str] = ()) -> dict[str, Mode]:
    """``{"telegram": …, "zalo": …, "apprise": "on"}`` for this process's settings; ``seen``:
    the channels its state DB has run with a token (``store.channel_tokens.tokens_seen``)."""
    tokens = {"telegram": settings.telegram_token(), "zalo": settings.zalo_token()}
    unset: dict[str, Mode] = {"telegram": "console", "zalo": "off"}
    modes: dict[str, Mode] = {
        name: "on" if token else "waiting" if name in seen else unset[name]
        for name, token in tokens.items()
    }
    return modes | {"apprise": "on"}


def off_channels(modes: dict[str, Mode]) -> list[str]:
    """The channels of ``modes`` (:func:`channel_modes`) that are ``off``."""
    return [name for name, mode in modes.items() if mode == "off"]


def waiting_channels(modes: dict[str, Mode]) -> list[str]:
    """The channels of ``modes`` that are ``waiting`` for their token."""
    return [name for name, mode in modes.items() if mode == "waiting"]


def shown_modes(modes: dict[str, Mode], refused: Collection[str]) -> dict[str, str]:
    """What status shows: ``modes``, an ``on`` channel among ``refused`` (alerts queued that
    wait because the channel refused its token: ``retry_kind`` ``token_refused``) as
    ``refused`` — "on" read as "sending" while every alert waited."""
    return {n: "refused" if m == "on" and n in refused else m for n, m in modes.items()}


def off_reason(channel: str) -> str:
    """The error an alert on an off channel ends with (English, stored like a channel's own
    error text; the delivery log shows it)."""
    setting = MISSING_SETTING.get(channel, f"{channel} settings")
    return f"channel {channel} is not configured ({setting} is not set): nothing was sent"


def zalo_link(settings: Settings) -> str | None:
    """The Zalo bot's link the reader pages show (SPEC §13: "Zalo when configured"):
    ``zalo.link`` while the channel is ``on``; None without it or with the channel off (a link
    to a bot that cannot answer would take readers nowhere)."""
    return settings.zalo.link if settings.zalo_token() else None
