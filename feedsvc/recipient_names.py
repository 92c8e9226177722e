"""**The one naming of a recipient for operators** (``telegram chat 1001``, ``zalo chat zb``,
``apprise chat json://***#1edd70``) and the one mask of an Apprise URL.

A name is a :class:`RecipientName`: the operators' words as a ``str`` (log lines, the CLI, the
API's English ``error``, ``status``' ``recipient`` fields stay as they were: operators and tests
grep them) that keeps its channel and its shown address, so a page's sentence names the chat in
the page's language (:meth:`feedsvc.catalogue.Translator.recipient`, the catalogue's
``recipient.<channel>``: ``chat Telegram 1001``, ``Zalo chat zb``) from the address decided
here, never from the URL again.

Kept outside :mod:`feedsvc.channels` (whose package imports the channels, the Bot API client
and SQLAlchemy) and free of imports beyond ``hashlib`` and ``typing``: ``feedsvc status`` and
``subs list`` name the chats they list, and their start-up budget
(``tests/test_cli_imports.py``) has no room for a channel's imports.
:mod:`feedsvc.channels.recipients` and :mod:`feedsvc.channels.apprise_urls` re-export these
names — pure."""

from __future__ import annotations

import hashlib
from typing import Protocol


class Recipient(Protocol):
    """A row that names a recipient: a chat, a subscription, a delivery, a follow-up."""

    @property
    def channel(self) -> str: ...

    @property
    def address(self) -> str | None: ...

    @property
    def chat_id(self) -> int: ...


class RecipientName(str):
    """A recipient's name in the operators' English (the string itself) with its parts:
    ``channel`` and ``shown``, the address as :func:`shown_address` shows it (an Apprise URL
    masked). Whatever formats, joins or compares it as text reads the operators' words; a
    :class:`~feedsvc.catalogue.Translator` given it as a parameter words it in its language,
    so an admin's flash, a 409 or an API ``message`` in Vietnamese names the chat in
    Vietnamese without each caller remembering to (the English inside Vietnamese sentences:
    "Đã tạm dừng telegram chat 1001")."""

    channel: str
    shown: str

    def __new__(cls, channel: str, shown: str) -> RecipientName:
        name = super().__new__(cls, f"{channel} chat {shown}")
        name.channel, name.shown = channel, shown
        return name

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        """Copied and pickled as it was made (``str``'s own gives the whole text alone)."""
        return (self.channel, self.shown)


def mask(url: str) -> str:
    """``discord://***#3fa9c1``: the scheme, and the first 6 hex digits of the URL's SHA-256 (two
    destinations tell apart, nothing of the credentials shows)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{scheme[:20]}://***#{digest}"


def shown_address(channel: str, address: str) -> str:
    """The address as a person may see it: Apprise URLs masked, other addresses as they are."""
    return mask(address) if channel == "apprise" else address


def recipient_name(channel: str, address: str) -> RecipientName:
    """Its channel and the channel's own id (Telegram's chat id, Zalo's chat id, an Apprise URL
    masked as :func:`shown_address` shows it: ``zalo chat zb``, ``apprise chat
    json://***#1edd70``), never feedsvc's internal chat number (``4503599627370497``: nobody
    can find it in Zalo or in the config). Used by every log line, ``status`` field, admin page
    and CLI note that names a chat to operators; a page words it in its own language."""
    return RecipientName(channel, shown_address(channel, address))


def chat_name(channel: str, address: str | None, chat_id: int) -> RecipientName:
    """:func:`recipient_name` of a chat row read with its ``address`` (a Telegram row's is its
    chat id as text; ``None`` or empty where a caller has only the id, which then is
    Telegram's)."""
    return recipient_name(channel, address or str(chat_id))


def named(row: Recipient) -> RecipientName:
    """:func:`chat_name` of any row that carries its chat's channel, address and id: **the one
    naming of a chat on the admin's pages** (the ``recipient`` filter: rows, headings,
    ``<title>``s) and in their flash messages and refusals (``telegram chat -1001``, ``apprise
    chat json://***#1edd70`` as operators read it, worded in the page's language by
    :meth:`feedsvc.catalogue.Translator.recipient`). The internal number stays in URLs and
    forms only."""
    return chat_name(row.channel, row.address, row.chat_id)


def telegram_chat(chat_id: int) -> RecipientName:
    """``telegram chat -1001234567890``: a chat only Telegram has (a migration's new id, an
    update from the Bot API), named as :func:`recipient_name` names it."""
    return recipient_name("telegram", str(chat_id))


def title_beside(name: str, title: str | None) -> str:
    """A chat's ``title`` as shown beside its ``name`` (as a page words it,
    :meth:`feedsvc.catalogue.Translator.recipient`): "" when it has none or the name already
    ends with it — an Apprise destination's title is its masked URL, which its name ends with,
    so the subscription, delivery and status rows said ``json://***#1edd70 Apprise
    json://***#1edd70``. **The one rule** of a chat's name and title shown together: the
    admin's ``title_beside`` filter, its rows (``_macros.html`` ``chat_named``) and the chat's
    page heading."""
    if not title or name == title or name.endswith(" " + title):
        return ""
    return title
