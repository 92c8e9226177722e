"""Recipients as the admin names them (CLI, API, web admin): which channel, which address, and
how an address is shown. One place for the rules, so all three surfaces agree.

- ``telegram``: a chat id (an integer; given as ``chat_id`` or as the address's text) and one of
  Telegram's chat types.
- ``zalo``: a Zalo chat id (:func:`feedsvc.channels.zalo.updates.is_zalo_id`), ``private`` or
  ``group``.
- ``apprise``: an Apprise URL (:func:`feedsvc.channels.apprise_urls.checked_url`: stored with
  its letters outside ASCII percent-encoded, its host name in IDNA), type ``destination``; a
  secret, shown masked everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsvc.channels.apprise_urls import MAX_URL_CHARS, UrlProblem, checked_url
from feedsvc.channels.base import CHANNELS
from feedsvc.channels.zalo.updates import is_zalo_id
from feedsvc.db.schema import NON_TELEGRAM_IDS
from feedsvc.digits import ascii_int

# the one naming of a recipient for operators lives where the CLI may import it cheaply
from feedsvc.recipient_names import recipient_name as recipient_name
from feedsvc.recipient_names import shown_address as shown_address

TELEGRAM_TYPES = ("private", "group", "supergroup", "channel")
#: Telegram's id spaces (Bot API ``Chat.id``; TDLib's ``DialogId``): a user (private chat) is
#: positive; a basic group is -1 … -999,999,999,999; a supergroup or channel is "-100" followed
#: by its own id, i.e. below -1,000,000,000,000.
CHANNEL_ID_BASE = -1_000_000_000_000
ZALO_TYPES = ("private", "group")


class RecipientError(ValueError):
    """A recipient the admin named cannot be used: ``code`` is the ``op.*`` catalogue key's
    suffix, ``field`` the request field at fault."""

    def __init__(self, code: str, message: str, field: str, **params: object) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.params = params


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
        raise RecipientError("channel_invalid", f"channel must be {_one_of(CHANNELS)}", "channel")
    # spaces around an address are a paste's, never the address's: every channel and entry
    # point alike (an Apprise URL pasted with them was "not an Apprise URL", a tester's)
    address = None if address is None else address.strip()
    if channel == "telegram":
        if chat_id is not None and address is not None and address != str(chat_id):
            # two different recipients: one of them would have been dropped without a word
            raise RecipientError(
                "address_conflict", "give the chat id or the address, not two different ones",
                "address",
            )  # fmt: skip
        if chat_id is None and address is not None:
            # ASCII digits only (feedsvc.digits): "--5" passed the old lstrip check, then int()
            chat_id = ascii_int(address) if len(address) <= 20 else None
            if chat_id is None:
                raise RecipientError("address_invalid", "not a Telegram chat id", "address")
        if chat_id is None:
            raise RecipientError("chat_id_required", "a Telegram chat id is required", "chat_id")
        # Telegram ids have at most 52 significant bits (Bot API ``Chat.id``: |id| < 2**52, where
        # other channels' ids begin, db.schema), and none is 0 (users > 0, chats < 0)
        if chat_id == 0 or abs(chat_id) >= NON_TELEGRAM_IDS:
            raise RecipientError("address_invalid", "not a Telegram chat id", "chat_id")
        if chat_type not in TELEGRAM_TYPES:
            raise RecipientError(
                "chat_type_invalid",
                f"a Telegram chat_type is {_one_of(TELEGRAM_TYPES)}",
                "chat_type",
            )
        if not telegram_type_fits(chat_id, chat_type):
            from feedsvc.catalogue import ENGLISH  # the rule is worded once, in the catalogue

            words = {"chat": chat_id, "type": chat_type}
            raise RecipientError(
                "chat_id_type_mismatch", ENGLISH("op.chat_id_type_mismatch", **words),
                "chat_type", **words,
            )  # fmt: skip
        return RecipientSpec(channel, chat_id, str(chat_id), chat_type)
    if chat_id is not None:  # dropped without a word, while `subs add` refused it (a tester's)
        raise RecipientError(
            "chat_id_not_telegram",
            f"chat_id is for the telegram channel; the {channel} channel takes an address",
            "chat_id",
        )
    if not address:
        raise RecipientError(
            "address_required", f"an address is required for the {channel} channel", "address"
        )
    if channel == "zalo":
        kind = chat_type or "private"
        if kind not in ZALO_TYPES:
            raise RecipientError(
                "chat_type_invalid", f"a Zalo chat_type is {_one_of(ZALO_TYPES)}", "chat_type"
            )
        if not is_zalo_id(address):
            raise RecipientError("address_invalid", "not a Zalo chat id", "address")
        return RecipientSpec(channel, None, address, kind)
    try:
        stored = checked_url(address)
    except UrlProblem as exc:
        raise RecipientError(
            exc.code, APPRISE_PROBLEMS[exc.code].format(detail=exc.detail), "address",
            **({"detail": exc.detail} if exc.detail else {}),
        ) from None  # fmt: skip
    return RecipientSpec(channel, None, stored, "destination")


#: The English of each refusal of an Apprise URL (:class:`UrlProblem`); never the URL itself,
#: ``{detail}`` is Apprise's warning with every piece of it replaced by ``***``.
APPRISE_PROBLEMS = {
    "address_length": f"an Apprise URL has 1 to {MAX_URL_CHARS} characters (as stored: letters "
    "outside ASCII count as their percent-encoding)",
    "address_invalid": "not an Apprise URL Apprise can send to",
    "address_part_ignored": "Apprise ignores part of this URL as invalid ({detail}): alerts "
    "would not reach it; correct that part (an ntfy topic or an e-mail recipient takes no "
    "letters outside ASCII)",
    "address_header_invalid": "Apprise sends the {detail} part of this URL in an HTTP header, "
    "which cannot carry it: alerts would not reach it; a header name takes only ASCII letters, "
    "digits and - _ .; a header value, user name, password or token only Latin-1 letters",
}


def _one_of(names: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'``: the words an operator reads (the tuple's repr was printed)."""
    quoted = [f"'{n}'" for n in names]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def telegram_type_fits(chat_id: int, chat_type: str) -> bool:
    """Whether a Telegram chat id can be a chat of ``chat_type`` (:data:`CHANNEL_ID_BASE`): an
    admin typing ``5 --type supergroup`` or ``-1001234567890 --type private`` has one of the two
    wrong, and alerts would be paced for the wrong kind of chat or never arrive."""
    if chat_type == "private":
        return chat_id > 0
    if chat_type == "group":
        return CHANNEL_ID_BASE < chat_id < 0
    return chat_id < CHANNEL_ID_BASE  # supergroup, channel
