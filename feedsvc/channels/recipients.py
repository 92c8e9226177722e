"""Recipients as the admin names them (CLI, API, web admin): which channel, which address, and
how an address is shown. One place for the rules, so all three surfaces agree.

- ``telegram``: a chat id (an integer; given as ``chat_id`` or as the address's text) and one of
  Telegram's chat types.
- ``zalo``: a Zalo chat id (:func:`feedsvc.channels.zalo.updates.is_zalo_id`), ``private`` or
  ``group``.
- ``apprise``: an Apprise URL (:func:`feedsvc.channels.apprise.address_problem`), type
  ``destination``; a secret, shown masked everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc.channels.apprise import address_problem, mask
from feedsvc.channels.base import CHANNELS
from feedsvc.channels.zalo.updates import is_zalo_id
from feedsvc.db.schema import NON_TELEGRAM_IDS

TELEGRAM_TYPES = ("private", "group", "supergroup", "channel")
ZALO_TYPES = ("private", "group")


class RecipientError(ValueError):
    """A recipient the admin named cannot be used: ``code`` is the ``op.*`` catalogue key's
    suffix, ``field`` the request field at fault."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True, slots=True)
class RecipientSpec:
    channel: str
    chat_id: int | None  # Telegram's own id; None for other channels (allocated on insert)
    address: str
    chat_type: str


def recipient_spec(
    channel: str, chat_id: int | None, chat_type: str | None, address: str | None
) -> RecipientSpec:
    """The validated recipient; raises :class:`RecipientError`. Error messages never repeat an
    address (an Apprise URL is a secret)."""
    if channel not in CHANNELS:
        raise RecipientError("channel_invalid", f"channel must be one of {CHANNELS}", "channel")
    if channel == "telegram":
        if chat_id is None and address is not None:
            text = address.strip()
            if not text.lstrip("-").isdigit() or not text.isascii() or len(text) > 20:
                raise RecipientError("address_invalid", "not a Telegram chat id", "address")
            chat_id = int(text)
        if chat_id is None:
            raise RecipientError("chat_id_required", "a Telegram chat id is required", "chat_id")
        # Telegram ids have at most 52 significant bits, and none is 0 (users > 0, chats < 0)
        if chat_id == 0 or abs(chat_id) >= NON_TELEGRAM_IDS:
            raise RecipientError("address_invalid", "not a Telegram chat id", "chat_id")
        if chat_type not in TELEGRAM_TYPES:
            raise RecipientError(
                "chat_type_invalid", f"chat_type must be one of {TELEGRAM_TYPES}", "chat_type"
            )
        return RecipientSpec(channel, chat_id, str(chat_id), chat_type)
    if not address:
        raise RecipientError(
            "address_required", f"an address is required for the {channel} channel", "address"
        )
    if channel == "zalo":
        kind = chat_type or "private"
        if kind not in ZALO_TYPES:
            raise RecipientError(
                "chat_type_invalid", f"chat_type must be one of {ZALO_TYPES}", "chat_type"
            )
        if not is_zalo_id(address):
            raise RecipientError("address_invalid", "not a Zalo chat id", "address")
        return RecipientSpec(channel, None, address, kind)
    problem = address_problem(address)
    if problem is not None:
        raise RecipientError(problem, "not an Apprise URL Apprise can send to", "address")
    return RecipientSpec(channel, None, address, "destination")


def shown_address(channel: str, address: str) -> str:
    """The address as a person may see it: Apprise URLs masked, other addresses as they are."""
    return mask(address) if channel == "apprise" else address
