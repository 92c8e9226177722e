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

Apprise is always ``on``: each destination is its own configuration.

What every surface shows (``feedsvc status``, ``/api/status``, the admin's status page,
``/readyz``, ``feedsvc_channel_mode``) is :func:`shown_modes`, the one reading of a mode
against the state DB's evidence (:data:`Shown`): ``refused`` while any running process's
token for the channel is refused (each process's own record, :class:`Refusal`, whatever another
process with another token says: in every process — the one with the wrong token, a replica
with the right one, a web-only replica, an operator's shell), ``sent_elsewhere`` for one this
process (or an operator's shell) has no token for while another process sends with it, and
``waiting`` for a console or off stand-in that stood down (another process recorded the token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from feedsvc.config import Settings

Mode = Literal["on", "console", "off", "waiting"]

#: What a surface shows of a channel (:func:`shown_modes`): a :data:`Mode` or one of the
#: readings of the DB's evidence; the metric ``feedsvc_channel_mode`` has a sample for each
Shown = Literal["on", "console", "off", "waiting", "refused", "sent_elsewhere"]
SHOWN: tuple[Shown, ...] = get_args(Shown)

#: Seconds within which a token's last record (``channel_tokens.last_at``) means a process
#: sends with it now: a dispatcher with the token records it at least every
#: ``channels.tokens.NOTE_SECONDS`` (60 s: a delivered alert, else its getMe), so 180 s is
#: three records missed — a process stopped or cut off, not one between two alerts.
ACCEPTED_FRESH_SECONDS = 180.0

#: Seconds within which a process's last refusal record (``channel_refusals.last_at``, one row
#: per channel and process since migration 0039) means that process holds the refused token
#: now: a process whose token is refused records the refusal at least every
#: ``channels.tokens.NOTE_SECONDS`` (its getMe, else a send refused), so, as for an
#: acceptance, three records missed — the process stopped (with its wrong token).
REFUSED_FRESH_SECONDS = 180.0

#: Hex digits of a token's fingerprint (:func:`token_fingerprint`)
FINGERPRINT_DIGITS = 8


@dataclass(frozen=True, slots=True)
class Refusal:
    """One process's record that the channel refuses its token (``channel_refusals``):
    ``holder`` the process (``store.leases.this_process``, ``host:pid:nonce``; None for a
    record carried over from before migration 0039, whose process was not recorded),
    ``token`` its token's :func:`token_fingerprint` (None: not recorded), ``last_at`` the
    latest refusal (UTC)."""

    channel: str
    holder: str | None
    token: str | None
    last_at: datetime


def token_fingerprint(token: str) -> str:
    """A short name for a bot token that cannot be turned back into it, nor holds any part
    of it: the first :data:`FINGERPRINT_DIGITS` hex digits of its SHA-256 — what status says
    of the token a process holds. An operator checks a host's with ``printf %s "$TOKEN" |
    sha256sum | cut -c1-8``."""
    return hashlib.sha256(token.encode()).hexdigest()[:FINGERPRINT_DIGITS]


def fresh_refusals(records: Iterable[Refusal], now: datetime) -> dict[str, list[Refusal]]:
    """``{channel: [its refusals under REFUSED_FRESH_SECONDS old, newest first]}``: the
    processes that hold a refused token now (a stopped one's record ages out); ``now``: UTC,
    the DB's clock."""
    fresh: dict[str, list[Refusal]] = {}
    for record in sorted(records, key=lambda r: r.last_at, reverse=True):
        if _within(record.last_at, now, REFUSED_FRESH_SECONDS):
            fresh.setdefault(record.channel, []).append(record)
    return fresh


def latest_refusals(records: Iterable[Refusal]) -> dict[str, datetime]:
    """``{channel: its latest refusal by any process}``: :func:`shown_modes`' ``refused``."""
    latest: dict[str, datetime] = {}
    for r in records:
        latest[r.channel] = max(r.last_at, latest.get(r.channel, r.last_at))
    return latest


#: the setting an ``off`` or ``waiting`` channel lacks (its ``*_file`` form too)
MISSING_SETTING = {"telegram": "telegram.token", "zalo": "zalo.token"}


def token_set(settings: Settings, channel: str) -> bool:
    """Whether ``settings`` name a token for ``channel`` at all: its value, or its ``*_file``
    (readable by this process or not: a command that needs no secret takes a ``*_file`` it may
    not read as unset, ``Settings.without_secret_files``). ``status`` says "no token set" only
    when this is false: "not available to this command" implied one existed (a newcomer's)."""
    section = getattr(settings, channel, None)
    return section is not None and (
        getattr(section, "token", None) is not None
        or getattr(section, "token_file", None) is not None
    )


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


def shown_modes(
    modes: Mapping[str, Mode],
    refused: Mapping[str, datetime],
    accepted: Mapping[str, datetime],
    now: datetime,
) -> dict[str, Shown]:
    """**The one reading of a channel's mode for people and monitors.** ``modes``: this
    process's (:func:`channel_modes`; a shell's: what a service with its settings would have);
    ``refused``: each channel's latest refusal of a token by any process
    (:func:`latest_refusals`; a process's own acceptance deletes its own refusal,
    ``store.channel_tokens``), UTC; ``accepted``: each recorded channel's last acceptance
    (``channel_tokens.last_at``, UTC); ``now``: the DB's clock, UTC.

    - a refusal under :data:`REFUSED_FRESH_SECONDS` old: ``refused``, whatever this process's
      mode, whatever the queue holds and whatever another process's token does ("on" read as
      "sending" while getMe failed on a quiet channel; a replica without the token said
      ``waiting``; two replicas with different tokens, one refused, flipped between
      ``refused`` and ``on`` each minute as their records overwrote each other's);
    - ``on``: ``on``;
    - no token here (``waiting``, or a ``console``/``off`` stand-in, which stands down once
      the token is recorded: ``channels.tokens.TokenWatch``) while the record is under
      :data:`ACCEPTED_FRESH_SECONDS` old: ``sent_elsewhere`` — a web-only replica or an
      operator's shell without the token said ``waiting`` while another replica sent;
    - a stand-in whose channel has a record, older: ``waiting`` (it sends and logs nothing)."""
    shown: dict[str, Shown] = {}
    for name, mode in modes.items():
        at, no = accepted.get(name), refused.get(name)
        if no is not None and _within(no, now, REFUSED_FRESH_SECONDS):
            shown[name] = "refused"
        elif mode == "on" or at is None:
            shown[name] = mode
        elif _within(at, now, ACCEPTED_FRESH_SECONDS):
            shown[name] = "sent_elsewhere"
        else:
            shown[name] = "waiting"
    return shown


def _within(at: datetime, now: datetime, seconds: float) -> bool:
    return (now - at).total_seconds() <= seconds


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
