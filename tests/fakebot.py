"""A fake Telegram Bot API server on 127.0.0.1 for tests (no test may reach the real Telegram).

It speaks enough of the Bot API for python-telegram-bot: form, JSON and multipart bodies, full
Message objects, Telegram's error shapes. Beyond a mock it *checks* what real Telegram would:
HTML parse mode (allowed tags, entities, nesting), UTF-16 length limits, and pacing (see
:class:`Limit`). Faults are scripted per chat and consumed by the next sends to that chat (or,
with :meth:`Fault.on`, by the next calls of the methods named). Sent messages can be deleted
(``deleteMessage``: only within ``delete_window`` seconds of sending, 48 h like Telegram) and
edited (``editMessageText`` / ``editMessageCaption``, with Telegram's refusals: not found, no
text/caption to edit, not modified); :meth:`FakeBotAPI.live` shows a message's current state.
Updates of a kind the bot's ``allowed_updates`` leaves out are never queued (``filtered``);
getChat and getChatMember know only chats the test added or that took part in a call, and find
``@username`` in any case, as Telegram does.

The server's plumbing (its thread and event loop, start/stop, the one lock, scripted faults,
waiting) is :mod:`fakeserver`'s, shared with the fake Zalo API. Run it by hand with
``python tests/fakebot.py`` to point a dev instance at it.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import threading
import time
import unicodedata
from collections import defaultdict, deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from fakeserver import ApiError, BaseFault, FakeServer
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests_do-not-leak"
#: update kinds Telegram sends only when ``allowed_updates`` names them (Bot API getUpdates:
#: "all update types except chat_member, message_reaction, and message_reaction_count")
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_ADMIN_RIGHTS = [
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
]

# --- HTML parse-mode checker -------------------------------------------------------------------
_TAG_ATTRS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "pre"],
        frozenset(),
    ),
    "a": frozenset({"href"}),
    "span": frozenset({"class"}),
    "code": frozenset({"class"}),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
# Telegram: named entities lt/gt/amp/quot only, plus numeric ones (html.escape emits &#x27;).
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_SPECIAL = re.compile(r"[<&]")
_CLOSE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR = r"""\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s>"'<]+))?"""
_OPEN = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:{_ATTR})*)\s*>")
#: a bot command as Telegram's entity parser marks it: ``/name`` or ``/name@bot``
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_ATTR_ONE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")


def most_in_window(times: Sequence[float], window: float) -> int:
    """The most calls in any ``window`` seconds (half-open, from one call's time): what a
    test or bench compares with a rate limit, from the calls' recorded ``at`` times."""
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


class EntityError(ValueError):
    """Raised by :func:`check_html` with the description Telegram would give."""


def _unseen_lead(text: str) -> int:
    """How many characters ``text`` begins with that do not show: whitespace, format (Cf)."""
    lead = 0
    while lead < len(text) and (text[lead].isspace() or unicodedata.category(text[lead]) == "Cf"):
        lead += 1
    return lead


def utf16_len(text: str) -> int:
    """Telegram measures lengths in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unescape_attr(value: str, offset: int) -> str:
    if any(_ENTITY.match(value, m.start()) is None for m in re.finditer("&", value)):
        raise EntityError(f"can't parse entities: unsupported entity at byte offset {offset}")
    return html.unescape(value)


def check_html(text: str) -> str:
    """Validate ``text`` as Telegram HTML; return the visible text (what length limits count)."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while (m := _SPECIAL.search(text, i)) is not None:
        out.append(text[i : m.start()])
        i = m.start()
        offset = len(text[:i].encode())
        if text[i] == "&":
            ent = _ENTITY.match(text, i)
            if ent is None:
                raise EntityError(f"can't parse entities: bad entity at byte offset {offset}")
            out.append(html.unescape(ent.group()))
            i = ent.end()
        elif close := _CLOSE.match(text, i):
            name = close.group(1).lower()
            if not stack or stack[-1] != name:
                raise EntityError(
                    f'can\'t parse entities: unexpected end tag "{name}" at byte offset {offset}'
                )
            stack.pop()
            i = close.end()
        elif opened := _OPEN.match(text, i):
            name = opened.group(1).lower()
            if name not in _TAG_ATTRS:
                raise EntityError(
                    f'can\'t parse entities: unsupported start tag "{name}" at byte offset {offset}'
                )
            for attr in _ATTR_ONE.finditer(opened.group(2)):
                key, raw = attr.group(1).lower(), (attr.group(2) or "").strip("\"'")
                value = _unescape_attr(raw, offset)
                bad_class = key == "class" and not (
                    (name == "span" and value == "tg-spoiler")
                    or (name == "code" and value.startswith("language-"))
                )
                if key not in _TAG_ATTRS[name] or bad_class:
                    raise EntityError(
                        f'can\'t parse entities: unsupported attribute "{key}" of '
                        f'tag "{name}" at byte offset {offset}'
                    )
            stack.append(name)
            i = opened.end()
        else:
            raise EntityError(f"can't parse entities: unexpected '<' at byte offset {offset}")
    if stack:
        raise EntityError(
            f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out) + text[i:]


# --- records and scripting -----------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages in any ``window`` seconds.

    Rule: a delivery at time t violates the limit when the ``count``-th previous delivery to the
    same scope happened after ``t - window * (1 - jitter)``. With jitter 0.05: two messages to a
    private chat less than 0.95 s apart, or 21 to a group within 57 s, are violations.
    """

    count: int
    window: float


@dataclass(frozen=True)
class Violation:
    kind: str  # "private" | "group" | "global"
    chat_id: int
    at: float  # time.monotonic()
    limit: Limit
    enforced: bool  # True: answered 429 instead of delivering


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted (delivered), as the client sent it."""

    chat_id: int
    message_id: int
    method: str  # "sendmessage" | "sendphoto"
    text: str | None
    caption: str | None
    photo: str | None
    parse_mode: str | None
    params: dict[str, Any]
    at: float  # time.monotonic() of delivery
    visible: str = ""  # text/caption after entity parsing (what the user sees)

    @property
    def body(self) -> str:
        return self.text if self.text is not None else self.caption or ""

    @property
    def silent(self) -> bool:
        """Sent with ``disable_notification`` (no sound)."""
        value = self.params.get("disable_notification")
        return value is True or str(value).lower() == "true"

    @property
    def thread_id(self) -> int | None:
        return _int_or_none(self.params.get("message_thread_id"))

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard's rows (``reply_markup``), empty when there is none."""
        markup = self.params.get("reply_markup")
        markup = json.loads(markup) if isinstance(markup, str) else markup or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def link_preview_disabled(self) -> bool:
        opts = self.params.get("link_preview_options")
        opts = json.loads(opts) if isinstance(opts, str) else opts or {}
        return bool(opts.get("is_disabled") or self.params.get("disable_web_page_preview"))


@dataclass(frozen=True)
class ApiCall:
    method: str
    chat_id: int | None
    status: int
    at: float


_EDITS = ("editmessagetext", "editmessagecaption", "editmessagemedia")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@dataclass
class LiveMessage:
    """A message the fake delivered, as it stands now (edits applied, deletion noted)."""

    chat_id: int
    message_id: int
    kind: str  # "text" | "caption"
    body: str  # as sent or last edited (HTML when parse_mode was HTML)
    parse_mode: str | None
    visible: str
    sent_wall: float  # time.time() of sending: deleteMessage works for ``delete_window`` s
    deleted: bool = False
    edits: list[str] = field(default_factory=list)  # each edit's body, in order
    photo: str | None = None  # a photo message's picture: its URL, or "<upload NAME>"

    @property
    def alive(self) -> bool:
        return not self.deleted


@dataclass(frozen=True)
class Fault(BaseFault):
    """One scripted answer; build with the class methods."""

    photo_only: bool = False  # only consumed by sendPhoto
    methods: tuple[str, ...] = ()  # consumed only by these methods (lower case); () = sends

    def on(self, *methods: str) -> Fault:
        """This fault, consumed by the next call of one of ``methods`` instead of a send."""
        return replace(self, methods=tuple(m.lower() for m in methods))

    def applies_to(self, method: str) -> bool:
        if self.methods:
            return method in self.methods
        return method == "sendphoto" or (method == "sendmessage" and not self.photo_only)

    @classmethod
    def flood(cls, retry_after: int) -> Fault:
        return cls(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    @classmethod
    def blocked(cls) -> Fault:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def chat_not_found(cls) -> Fault:
        return cls(400, "Bad Request: chat not found")

    @classmethod
    def migrate(cls, new_chat_id: int) -> Fault:
        return cls(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def parse_error(cls, detail: str = 'unsupported start tag "x" at byte offset 0') -> Fault:
        return cls(400, f"Bad Request: can't parse entities: {detail}")

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status, {502: "Bad Gateway"}.get(status, "Internal Server Error"))

    @classmethod
    def photo_rejected(cls) -> Fault:
        return cls(400, "Bad Request: wrong file identifier/HTTP URL specified", photo_only=True)

    @classmethod
    def cant_delete(cls) -> Fault:
        return cls(
            400, "Bad Request: message can't be deleted for everyone", methods=("deletemessage",)
        )

    @classmethod
    def not_modified(cls) -> Fault:
        return cls(400, f"Bad Request: {_NOT_MODIFIED}", methods=_EDITS)

    @classmethod
    def edit_not_found(cls) -> Fault:
        return cls(400, "Bad Request: message to edit not found", methods=_EDITS)

    @classmethod
    def cant_edit(cls) -> Fault:
        return cls(400, "Bad Request: message can't be edited", methods=_EDITS)


@dataclass
class FakeChat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None = None
    username: str | None = None
    admins: list[int] = field(default_factory=list)
    bot_status: str = "member"  # add_chat() defaults to "administrator"
    blocked: bool = False  # 403 on every send
    gone: bool = False  # 400 chat not found on every send
    migrated_to: int | None = None
    last_message_id: int = 0
    is_forum: bool = False
    deleted_threads: set[int] = field(default_factory=set)  # 400 "message thread not found"
    #: forum topics the chat's admins closed (None: the General topic): 400 "TOPIC_CLOSED"
    closed_threads: set[int | None] = field(default_factory=set)

    def to_api(self) -> dict[str, Any]:
        name = (
            {"first_name": self.title or "User"}
            if self.type == "private"
            else {"title": self.title or f"Chat {self.id}"}
        )
        return {
            "id": self.id,
            "type": self.type,
            **name,
            **({"username": self.username} if self.username else {}),
            **({"is_forum": True} if self.is_forum else {}),
        }


# --- the server ----------------------------------------------------------------------------------
class FakeBotAPI(FakeServer[int, Fault]):
    """The fake. ``with FakeBotAPI() as fake:`` or ``start()``/``stop()``; see module docstring."""

    name = "fakebot"
    path = "/bot"
    methods = ("GET", "POST")

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        port: int = 0,
        auto_create_chats: bool = True,
        enforce_pacing: bool = False,
        private_limit: Limit = Limit(1, 1.0),
        group_limit: Limit = Limit(20, 60.0),
        global_limit: Limit = Limit(25, 1.0),
        jitter: float = 0.05,
        delete_window: float = 48 * 3600,
    ) -> None:
        super().__init__(port)
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.auto_create_chats, self.enforce_pacing = auto_create_chats, enforce_pacing
        self.jitter, self.delete_window = jitter, delete_window
        self.limits = {"private": private_limit, "group": group_limit, "global": global_limit}
        self._chats: dict[int, FakeChat] = {}
        self._sent: list[SentMessage] = []
        self._live: dict[tuple[int, int], LiveMessage] = {}
        self._violations: list[Violation] = []
        self._calls: list[ApiCall] = []
        self._in_flight = 0
        self._updates: list[dict[str, Any]] = []
        self._injected: dict[int, dict[str, Any]] = {}  # every update queued, by id (redeliver)
        self._next_update_id = 1
        self._times: dict[Any, deque[float]] = defaultdict(deque)
        self.commands: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []  # answerCallbackQuery parameters
        #: the last ``allowed_updates`` a getUpdates named (Telegram keeps it until changed);
        #: enforced as Telegram does: an update of a kind not asked for is never queued
        #: (:meth:`inject_update`), none named is every kind but :data:`NOT_BY_DEFAULT`
        self.allowed_updates: list[str] | None = None
        self.filtered: list[dict[str, Any]] = []  # updates Telegram would not have sent
        self.markups: dict[tuple[int, int], Any] = {}  # (chat, message) → edited reply_markup
        self._new_update: asyncio.Event | None = None
        self._raw: dict[str, deque[tuple[int, bytes]]] = defaultdict(deque)

    def _on_loop(self) -> None:
        self._new_update = asyncio.Event()

    def _wake(self) -> None:
        if self._new_update is not None:
            self._new_update.set()  # long polls end at stop

    # test API: chats and scripting
    def add_chat(
        self,
        chat_id: int,
        type: str,
        title: str | None = None,
        *,
        admins: list[int] | tuple[int, ...] = (),
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> FakeChat:
        with self._cond:
            chat = FakeChat(chat_id, type, title, username, list(admins), bot_status)
            self._chats[chat_id] = chat
            return chat

    def chat(self, chat_id: int) -> FakeChat:
        """The chat, created from the id's sign when unknown (>0 private, -100… supergroup)."""
        with self._cond:
            if chat_id not in self._chats:
                kind = (
                    "private"
                    if chat_id > 0
                    else ("supergroup" if str(chat_id).startswith("-100") else "group")
                )
                self._chats[chat_id] = FakeChat(chat_id, kind)
            return self._chats[chat_id]

    def block(self, chat_id: int) -> None:
        self.chat(chat_id).blocked = True

    def delete_chat(self, chat_id: int) -> None:
        self.chat(chat_id).gone = True

    def delete_thread(self, chat_id: int, thread_id: int) -> None:
        """A forum topic deleted: sends to ``message_thread_id=thread_id`` answer 400."""
        with self._cond:
            self.chat(chat_id).deleted_threads.add(thread_id)

    def close_thread(self, chat_id: int, thread_id: int | None, closed: bool = True) -> None:
        """A forum topic closed by the chat's admins (``closed=False``: reopened): the bot's
        sends to it answer 400 "Bad Request: TOPIC_CLOSED" (what the Bot API passes through
        from MTProto); ``thread_id`` None is the General topic (a send with no thread)."""
        with self._cond:
            threads = self.chat(chat_id).closed_threads
            threads.add(thread_id) if closed else threads.discard(thread_id)

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Permanent: every later send, edit or delete naming ``old_id`` answers 400 migrate
        (the old group's messages stay, out of reach)."""
        old = self.chat(old_id)
        old.migrated_to = new_id
        self.add_chat(new_id, "supergroup", old.title, admins=old.admins)

    def live(self, chat_id: int, message_id: int) -> LiveMessage:
        """The current state of a message the fake delivered (KeyError if it never did)."""
        with self._cond:
            return self._live[(chat_id, message_id)]

    def age_message(self, chat_id: int, message_id: int, seconds: float) -> None:
        """Pretend the message was sent ``seconds`` earlier than it was (the 48 h delete rule)."""
        with self._cond:
            self._live[(chat_id, message_id)].sent_wall -= seconds

    # test API: updates
    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue ``update`` for getUpdates, unless its kind is not among ``allowed_updates``
        when it happens (Telegram: the setting "doesn't affect updates created before the
        call"); such an update goes to :attr:`filtered` instead, its id taken all the same."""
        with self._cond:
            update = {**update, "update_id": update.get("update_id", self._next_update_id)}
            self._next_update_id = update["update_id"] + 1
            if not self._wanted(update):
                self.filtered.append(update)
                return int(update["update_id"])
            self._updates.append(update)
            self._injected[int(update["update_id"])] = update
            self._cond.notify_all()
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return int(update["update_id"])

    def redeliver(self, *update_ids: int) -> None:
        """Queue again updates queued before, as Telegram does with updates whose confirming
        offset never reached it (a stop cut that getUpdates short): same ids, same content."""
        with self._cond:
            again = [self._injected[i] for i in update_ids]
            self._updates = sorted(
                [u for u in self._updates if u["update_id"] not in update_ids] + again,
                key=lambda u: int(u["update_id"]),
            )
            self._cond.notify_all()
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)

    def _wanted(self, update: dict[str, Any]) -> bool:
        """Whether the bot's ``allowed_updates`` take ``update``'s kind (caller holds the lock)."""
        kinds = set(update) - {"update_id"}
        if self.allowed_updates:  # an empty list is the default, as none named
            return bool(kinds & set(self.allowed_updates))
        return not kinds <= NOT_BY_DEFAULT

    def _user(self, user_id: int, first_name: str = "User") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    def _new_message(self, chat: FakeChat, **fields: Any) -> dict[str, Any]:
        chat.last_message_id += 1
        return {
            "message_id": chat.last_message_id,
            "date": int(time.time()),
            "chat": chat.to_api(),
            **fields,
        }

    def user_sends(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        first_name: str = "User",
        thread_id: int | None = None,
        photo: bool = False,
        entity: bool = True,
    ) -> int:
        """A user's message (a command when it starts with "/"): the update id. ``thread_id``:
        sent inside that forum topic thread (``is_topic_message``). ``photo``: ``text`` is the
        caption of a photo (``caption_entities``, as Telegram marks a command there).

        As Telegram's parser, the ``bot_command`` entity covers ``/name`` or ``/name@bot``
        (``[A-Za-z0-9_]``) wherever it begins after characters that do not show (whitespace,
        format characters like ZWSP or LRM): ``"\u200b/sub x"`` has it at offset 1 (UTF-16).
        ``entity=False``: no entity at all (a client that sent none)."""
        with self._cond:
            chat = self.chat(chat_id)
            extra: dict[str, Any] = {}
            if thread_id is not None:
                extra |= {"message_thread_id": thread_id, "is_topic_message": True}
            lead = _unseen_lead(text)
            command = _COMMAND.match(text, lead)
            if command is not None and entity:
                extra["caption_entities" if photo else "entities"] = [
                    {"type": "bot_command", "offset": utf16_len(text[:lead]),
                     "length": utf16_len(command.group())}
                ]  # fmt: skip
            body: dict[str, Any] = {"text": text}
            if photo:
                size = {"file_id": "p1", "file_unique_id": "u1", "width": 800, "height": 600}
                body = {"caption": text, "photo": [size]}
            msg = self._new_message(
                chat, **body, **{"from": self._user(user_id, first_name)}, **extra
            )
        return self.inject_update({"message": msg})

    def user_presses(self, chat_id: int, user_id: int, message_id: int, data: str) -> int:
        """A user taps an inline button with callback ``data`` under our message ``message_id``
        in ``chat_id``: a ``callback_query`` update; the update id."""
        with self._cond:
            sent = next(
                m for m in self._sent if m.chat_id == chat_id and m.message_id == message_id
            )
            chat = self.chat(chat_id)
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat.to_api(),
                "text": sent.visible,
                "from": self._member(self.bot_id, "member")["user"],
            }
            markup = self.markups.get((chat_id, message_id)) or (
                {"inline_keyboard": sent.keyboard} if sent.keyboard else None
            )
            if markup:  # like Telegram: the message as it is now, keyboard included
                message["reply_markup"] = markup
            query = {
                "id": f"cq{self._next_update_id}",
                "from": self._user(user_id),
                "chat_instance": str(chat_id),
                "data": data,
                "message": message,
            }
        return self.inject_update({"callback_query": query})

    def channel_post(self, chat_id: int, text: str) -> int:
        with self._cond:
            chat = self.chat(chat_id)
            msg = self._new_message(chat, text=text, sender_chat=chat.to_api())
        return self.inject_update({"channel_post": msg})

    def member_update(
        self, chat_id: int, by_user_id: int, new_status: str, old_status: str = "left"
    ) -> int:
        """A ``my_chat_member`` update: the bot was added/promoted/removed by ``by_user_id``."""
        with self._cond:
            chat = self.chat(chat_id)
            chat.bot_status = new_status
            update = {
                "chat": chat.to_api(),
                "from": self._user(by_user_id),
                "date": int(time.time()),
                "old_chat_member": self._member(self.bot_id, old_status),
                "new_chat_member": self._member(self.bot_id, new_status),
            }
        return self.inject_update({"my_chat_member": update})

    @property
    def pending_updates(self) -> int:
        """Injected updates the bot has not confirmed (via a later getUpdates offset) yet."""
        with self._cond:
            return len(self._updates)

    # test API: observations
    def messages(self, chat_id: int) -> list[SentMessage]:
        with self._cond:
            return [m for m in self._sent if m.chat_id == chat_id]

    @property
    def all_messages(self) -> list[SentMessage]:
        with self._cond:
            return list(self._sent)

    @property
    def violations(self) -> list[Violation]:
        with self._cond:
            return list(self._violations)

    @property
    def calls(self) -> list[ApiCall]:
        with self._cond:
            return list(self._calls)

    @property
    def in_flight(self) -> int:
        """Requests being handled right now (e.g. stalled by a slow or late fault)."""
        with self._cond:
            return self._in_flight

    def script_raw(self, method: str, *answers: tuple[int, bytes]) -> None:
        """The next calls of ``method`` (lower case) get these (HTTP status, body bytes) as they
        are, nothing delivered: a broken proxy or Bot API server (``{"ok": false}`` with 200,
        a result that is not a Message, garbage)."""
        with self._cond:
            self._raw[method.lower()].extend(answers)

    def unscript_raw(self, method: str) -> None:
        """Drop the answers still scripted for ``method``: its next call is answered as usual
        (a test ends a refusal when it has seen what it waits for, not after a count of calls
        it would have to catch between two of them)."""
        with self._cond:
            self._raw[method.lower()].clear()

    # HTTP side
    async def _endpoint(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"].lower()
        if token != self.token:
            return _error(ApiError(401, "Unauthorized"))
        with self._cond:
            if self._raw[method]:
                status, content = self._raw[method].popleft()
                self._calls.append(ApiCall(method, None, status, time.monotonic()))
                self._cond.notify_all()
                return Response(content, status, media_type="application/json")
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            try:
                params.update(await _body_params(request))
            except ClientDisconnect:  # the client left mid-body (a bot stopping): nothing to answer
                return Response(status_code=499)
        chat_id = _int_or_none(params.get("chat_id"))
        with self._cond:
            self._in_flight += 1
        try:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            await self._hold_call(method)
            result = await handler(params)
            response = JSONResponse({"ok": True, "result": result})
        except ApiError as exc:
            response = _error(exc)
        finally:
            with self._cond:
                self._in_flight -= 1
        with self._cond:
            self._calls.append(ApiCall(method, chat_id, response.status_code, time.monotonic()))
            self._cond.notify_all()
        return response

    def _find_chat(self, params: dict[str, Any], *, create: bool = True) -> FakeChat:
        """The chat a call names: ``@username`` in any case (Telegram's usernames are
        case-insensitive), or an id; an unknown id is created (``auto_create_chats``) only when
        ``create``: a send may reach a user the test never introduced, but a lookup
        (getChat, getChatMember) of a chat the bot is in no way part of is "chat not found"."""
        raw = params.get("chat_id")
        with self._cond:
            if isinstance(raw, str) and raw.startswith("@"):
                for chat in self._chats.values():
                    if chat.username and chat.username.lower() == raw[1:].lower():
                        return chat
            elif (chat_id := _int_or_none(raw)) is not None and (
                chat_id in self._chats or (create and self.auto_create_chats)
            ):
                return self.chat(chat_id)
        raise ApiError(400, "Bad Request: chat not found")

    def _member(self, user_id: int, status: str) -> dict[str, Any]:
        user = (
            {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "feedsvc test",
                "username": "feedsvc_test_bot",
            }
            if user_id == self.bot_id
            else self._user(user_id)
        )
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {"can_be_edited": False, "is_anonymous": False},
                **dict.fromkeys(_ADMIN_RIGHTS, True),
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _m_getme(self, p: dict[str, Any]) -> Any:
        return self._member(self.bot_id, "member")["user"] | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, p: dict[str, Any]) -> Any:
        assert self._loop is not None and self._new_update is not None
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        if (allowed := p.get("allowed_updates")) is not None:
            self.allowed_updates = list(
                json.loads(allowed) if isinstance(allowed, str) else allowed
            )
        deadline = self._loop.time() + float(p.get("timeout") or 0)
        while True:
            with self._cond:
                if offset:  # like Telegram: an offset confirms (forgets) every earlier update
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    self._cond.notify_all()
                batch = [u for u in self._updates if u["update_id"] >= offset][:limit]
                self._new_update.clear()
            remaining = deadline - self._loop.time()
            if batch or remaining <= 0 or (self._stopping and self._stopping.is_set()):
                return batch
            with suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)

    async def _m_sendmessage(self, p: dict[str, Any]) -> Any:
        return await self._send("sendmessage", p)

    async def _m_sendphoto(self, p: dict[str, Any]) -> Any:
        return await self._send("sendphoto", p)

    async def _m_getchat(self, p: dict[str, Any]) -> Any:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return self._find_chat(p, create=False).to_api() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _m_getchatmember(self, p: dict[str, Any]) -> Any:
        chat, user_id = self._find_chat(p, create=False), int(p["user_id"])
        if user_id == self.bot_id:
            return self._member(user_id, chat.bot_status)
        if user_id in chat.admins:
            return self._member(user_id, "administrator")
        return self._member(user_id, "left" if chat.type == "channel" else "member")

    async def _m_getchatadministrators(self, p: dict[str, Any]) -> Any:
        chat = self._find_chat(p)
        bot = [self.bot_id] if chat.bot_status in ("administrator", "creator") else []
        return [self._member(uid, "administrator") for uid in [*chat.admins, *bot]]

    async def _m_setmycommands(self, p: dict[str, Any]) -> Any:
        cmds = p.get("commands") or "[]"
        self.commands = json.loads(cmds) if isinstance(cmds, str) else list(cmds)
        return True

    async def _m_getmycommands(self, p: dict[str, Any]) -> Any:
        return self.commands

    async def _m_deletewebhook(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_answercallbackquery(self, p: dict[str, Any]) -> Any:
        if utf16_len(str(p.get("text") or "")) > 200:  # Bot API: "0-200 characters"
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._cond:
            self.callback_answers.append(dict(p))
            self._cond.notify_all()
        return True

    async def _m_editmessagereplymarkup(self, p: dict[str, Any]) -> Any:
        chat = self._find_chat(p)
        _refuse_migrated(chat)
        _refuse_markup(p)
        message_id = int(p["message_id"])
        markup = p.get("reply_markup")
        markup = json.loads(markup) if isinstance(markup, str) else markup
        with self._cond:
            found = [m for m in self._sent if m.chat_id == chat.id and m.message_id == message_id]
            if not found:
                raise ApiError(400, "Bad Request: message to edit not found")
            self.markups[(chat.id, message_id)] = markup
            self._cond.notify_all()
            return self._new_message(chat, text=found[0].visible) | {"message_id": message_id}

    _m_deletemycommands = _m_close = _m_logout = _m_deletewebhook

    async def _before(self, method: str, p: dict[str, Any]) -> tuple[FakeChat, Fault | None]:
        """The chat, and the scripted fault this call consumes (raised here unless it is a
        "deliver first, then stall" one, which the caller plays after acting)."""
        chat = self._find_chat(p)
        return chat, await self._take_fault(chat.id, lambda fault: fault.applies_to(method))

    async def _send(self, method: str, p: dict[str, Any]) -> Any:
        chat, fault = await self._before(method, p)
        _refuse_migrated(chat)
        _refuse_unreachable(chat)
        _refuse_markup(p)
        thread = _int_or_none(p.get("message_thread_id"))
        if thread is not None and thread in chat.deleted_threads:
            raise ApiError(400, "Bad Request: message thread not found")
        if chat.is_forum and thread in chat.closed_threads:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        key, limit = ("text", 4096) if method == "sendmessage" else ("caption", 1024)
        body = str(p.get(key) or "")
        visible = body
        if str(p.get("parse_mode") or "").lower() == "html":
            try:
                visible = check_html(body)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        if key == "text" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if key == "text"
                else "Bad Request: message caption is too long",
            )
        with self._cond:
            self._pace(chat)
            payload = self._new_message(chat, **{key: visible})
            if chat.type != "channel":
                payload["from"] = self._member(self.bot_id, "member")["user"]
            if method == "sendphoto":
                payload["photo"] = [
                    {
                        "file_id": f"photo-{chat.id}-{payload['message_id']}",
                        "file_unique_id": f"u{payload['message_id']}",
                        "width": 800,
                        "height": 600,
                    }
                ]
            self._sent.append(
                SentMessage(
                    chat.id,
                    payload["message_id"],
                    method,
                    body if key == "text" else None,
                    body if key == "caption" else None,
                    p.get("photo"),
                    p.get("parse_mode"),
                    dict(p),
                    time.monotonic(),
                    visible,
                )
            )
            self._live[(chat.id, payload["message_id"])] = LiveMessage(
                chat.id, payload["message_id"], key, body, p.get("parse_mode"), visible,
                time.time(), photo=p.get("photo") if method == "sendphoto" else None,
            )  # fmt: skip
            self._cond.notify_all()
        if fault and fault.deliver_first:
            await self._stall(fault.delay)
        return payload

    def _target(self, chat: FakeChat, p: dict[str, Any], verb: str) -> LiveMessage:
        _refuse_migrated(chat)
        _refuse_unreachable(chat)
        message_id = _int_or_none(p.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        live = self._live.get((chat.id, message_id))
        if live is None or live.deleted:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        return live

    async def _m_deletemessage(self, p: dict[str, Any]) -> Any:
        chat, fault = await self._before("deletemessage", p)
        with self._cond:
            live = self._target(chat, p, "delete")
            if time.time() - live.sent_wall > self.delete_window:
                raise ApiError(400, "Bad Request: message can't be deleted for everyone")
            self._pace(chat)
            live.deleted = True
            self._cond.notify_all()
        if fault and fault.deliver_first:
            await self._stall(fault.delay)
        return True

    async def _m_editmessagetext(self, p: dict[str, Any]) -> Any:
        return await self._edit("editmessagetext", "text", p)

    async def _m_editmessagecaption(self, p: dict[str, Any]) -> Any:
        return await self._edit("editmessagecaption", "caption", p)

    async def _m_editmessagemedia(self, p: dict[str, Any]) -> Any:
        """A photo message's picture and caption replaced (``media``: an ``InputMediaPhoto``
        as JSON, its file an upload named by ``attach://``). Only photos: what feedsvc sends."""
        media = p.get("media")
        try:
            media = json.loads(media) if isinstance(media, str) else media
        except ValueError:
            media = None
        if not isinstance(media, dict) or media.get("type") != "photo":
            raise ApiError(400, "Bad Request: can't parse InputMedia: media type is not photo")
        ref = str(media.get("media") or "")
        picture = p.get(ref.removeprefix("attach://")) if ref.startswith("attach://") else ref
        if not picture:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        edit = {"chat_id": p.get("chat_id"), "message_id": p.get("message_id"),
                "caption": media.get("caption") or "", "parse_mode": media.get("parse_mode"),
                "reply_markup": p.get("reply_markup")}  # fmt: skip
        payload = await self._edit("editmessagemedia", "caption", edit, picture=str(picture))
        return payload

    async def _edit(
        self, method: str, key: str, p: dict[str, Any], picture: str | None = None
    ) -> Any:
        chat, fault = await self._before(method, p)
        _refuse_markup(p)
        body = str(p.get(key) or "")
        parse_mode = p.get("parse_mode")
        visible = body
        if str(parse_mode or "").lower() == "html":
            try:
                visible = check_html(body)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        with self._cond:
            live = self._target(chat, p, "edit")
            if picture is not None and live.kind == "text":  # today's Bot API adds the media
                live.kind = "caption"  # (editMessageMedia: "or to add media to text messages")
            if live.kind != key:
                raise ApiError(400, f"Bad Request: there is no {key} in the message to edit")
            if key == "text" and not visible.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            if utf16_len(visible) > (4096 if key == "text" else 1024):
                raise ApiError(
                    400,
                    "Bad Request: message is too long"
                    if key == "text"
                    else "Bad Request: message caption is too long",
                )
            after = (body, parse_mode, picture or live.photo)
            if after == (live.body, live.parse_mode, live.photo):
                raise ApiError(400, f"Bad Request: {_NOT_MODIFIED}")
            self._pace(chat)
            live.body, live.parse_mode, live.visible = body, parse_mode, visible
            live.photo = picture or live.photo
            live.edits.append(body)
            markup = p.get("reply_markup")  # Telegram: an edit naming no keyboard drops it
            markup = json.loads(markup) if isinstance(markup, str) else markup
            self.markups[(chat.id, live.message_id)] = markup or None
            payload = {
                "message_id": live.message_id,
                "date": int(live.sent_wall),
                "edit_date": int(time.time()),
                "chat": chat.to_api(),
                key: visible,
            }
            if picture is not None:
                size = {
                    "file_id": f"photo-{chat.id}-{live.message_id}-edited",
                    "file_unique_id": f"e{live.message_id}",
                    "width": 320,
                    "height": 180,
                }
                payload["photo"] = [size]  # fmt: skip
            if chat.type != "channel":
                payload["from"] = self._member(self.bot_id, "member")["user"]
            self._cond.notify_all()
        if fault and fault.deliver_first:
            await self._stall(fault.delay)
        return payload

    def _pace(self, chat: FakeChat) -> None:
        """Check (and when enforcing, apply) the limits; caller holds the lock."""
        now = time.monotonic()
        scopes = [("private" if chat.id > 0 else "group", chat.id), ("global", "*")]
        wait = 0.0
        for kind, scope in scopes:
            limit, times = self.limits[kind], self._times[scope]
            if len(times) >= limit.count and now - times[-limit.count] < limit.window * (
                1 - self.jitter
            ):
                self._violations.append(Violation(kind, chat.id, now, limit, self.enforce_pacing))
                wait = max(wait, times[-limit.count] + limit.window - now)
        if wait and self.enforce_pacing:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for _, scope in scopes:
            self._times[scope].append(now)
            while len(self._times[scope]) > 100:
                self._times[scope].popleft()


#: The largest ``reply_markup`` Telegram takes, in bytes of its JSON: over it, "Reply markup
#: is too long". Not in the Bot API's docs; a third party's measurement (tginfo/Telegram-Limits
#: issue 187: "On markup json len > 10kB"), the JSON as the client sends it (``json.dumps``'
#: ASCII escapes: a Vietnamese letter is 6 bytes, an emoji 12).
MAX_MARKUP_BYTES = 10 * 1024


def _refuse_markup(p: dict[str, Any]) -> None:
    """400 when a call's ``reply_markup`` is over :data:`MAX_MARKUP_BYTES`, or holds a URL
    button whose host has no dot and is no IP address (``BUTTON_URL_INVALID``: a third
    party's finding, as ``feedsvc.digest.edge.button_url`` says)."""
    markup = p.get("reply_markup")
    if markup is None:
        return
    sent = markup if isinstance(markup, str) else json.dumps(markup)
    if len(sent.encode()) > MAX_MARKUP_BYTES:
        raise ApiError(400, "Bad Request: reply markup is too long")
    rows = (json.loads(sent) or {}).get("inline_keyboard", [])
    for button in (b for row in rows for b in row):
        host = urlsplit(str(button.get("url", "http://x.y/"))).hostname or ""
        if "." not in host and ":" not in host:
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


def _refuse_migrated(chat: FakeChat) -> None:
    """A group upgraded to a supergroup is deactivated: every call naming its id (a send, an
    edit, a delete) answers 400 with ``migrate_to_chat_id`` (Bot API ``ResponseParameters``)."""
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            Fault.migrate(chat.migrated_to).description,
            {"migrate_to_chat_id": chat.migrated_to},
        )


def _refuse_unreachable(chat: FakeChat) -> None:
    if chat.gone:
        raise ApiError(400, "Bad Request: chat not found")
    if chat.blocked:
        raise ApiError(
            403,
            "Forbidden: bot was blocked by the user"
            if chat.type == "private"
            else f"Forbidden: bot was kicked from the {chat.type} chat",
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(exc: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    headers = {}
    if exc.parameters:
        body["parameters"] = exc.parameters
        if "retry_after" in exc.parameters:
            headers["Retry-After"] = str(exc.parameters["retry_after"])
    return JSONResponse(body, status_code=exc.status, headers=headers)


if __name__ == "__main__":  # manual use: point a dev feedsvc's telegram.base_url here
    with FakeBotAPI(port=8081) as fake:
        print(f"fake Bot API at {fake.base_url}  token {fake.token}  (Ctrl-C to stop)")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


async def _body_params(request: Request) -> dict[str, Any]:
    """A POST's parameters, from a JSON body or a form (uploads named, not read)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(await request.json())
    params: dict[str, Any] = {}
    async with request.form() as form:
        for key, value in form.multi_items():
            params[key] = f"<upload {value.filename}>" if isinstance(value, UploadFile) else value
    return params
