"""What a send comes to, for every channel: :class:`SendOutcome` (its :class:`OutcomeKind` out of a
small closed set, SPEC §6 "Delivery semantics"), so the dispatcher decides retries and terminal
states from data; the bound on a 429's pause; and :class:`Sender`, what the dispatcher needs
from a notifier. Each channel's classifier (``notify.telegram``, ``channels/zalo``, Apprise)
folds its own errors into these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from feedsvc.delivery_states import PHOTO, TEXT
from feedsvc.digits import MAX_ID
from feedsvc.feeds.sanitize import xml_clean
from feedsvc.notify.message import AlertMessage

if TYPE_CHECKING:
    from feedsvc.notify.charged import Charge


class OutcomeKind(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # 429: pause this chat for `seconds`, keep the message
    MIGRATED = "migrated"  # group became a supergroup: rewrite chat id, re-send
    # The chat can never receive (see classify_refusal): counts towards disabling the chat.
    BLOCKED = "blocked"  # 403, no rights, kicked, deactivated, private, restricted, banned...
    CHAT_NOT_FOUND = "chat_not_found"  # the chat/user/peer does not exist for the bot
    PARSE_ERROR = "parse_error"  # "can't parse entities": re-send once with send_plain
    BAD_CONTENT = "bad_content"  # other 400s: this message can never be sent as is
    # 5xx, connect error, pool timeout, an error page not the API's: retry (later, for an alert).
    # Nothing was sent only when ``SendOutcome.unacted`` says so (a connection never made).
    TRANSIENT = "transient"
    AMBIGUOUS = "ambiguous"  # request written, no answer: may have been delivered
    THREAD_GONE = "thread_gone"  # the forum topic thread was deleted: re-send to the chat
    # The channel refuses the bot itself (Telegram 401/404, PTB's InvalidToken; Zalo 401): a
    # revoked or mistyped token. No chat's fault and no attempt of the alert's: every alert
    # waits, unspent, until the operator fixes the token (retried after TOKEN_RETRY_SECONDS).
    TOKEN_REFUSED = "token_refused"
    # The forum topic the alert goes to was closed by the chat's admins (Bot API "Bad Request:
    # TOPIC_CLOSED"; the General topic too): nobody but its admins may post there until it is
    # reopened. Neither this message's fault nor the chat's: the alert waits, no attempt spent,
    # tried again every TOPIC_CLOSED_RETRY_SECONDS; ``telegram.alert_max_age_hours`` ends it
    # unsent if the topic stays closed (:mod:`feedsvc.stale_alerts`).
    TOPIC_CLOSED = "topic_closed"

    @property
    def chat_level(self) -> bool:
        """The chat, not this message, is the problem: the delivery ends and the chat's run of
        failures grows (disabled at ``disable_after``)."""
        return self in (OutcomeKind.BLOCKED, OutcomeKind.CHAT_NOT_FOUND)


#: The longest a 429 may pause a chat, in seconds. ``retry_after`` is outside data (Telegram's,
#: Zalo's): an absurd one (10**400, Infinity, NaN) must neither overflow the datetime arithmetic
#: of the outbox nor mute a chat for years; after this the send is tried again (and a real
#: flood ban answers 429 again).
MAX_RETRY_AFTER = 86_400.0

#: Seconds between two tries of a channel whose bot token is refused
#: (:attr:`OutcomeKind.TOKEN_REFUSED`): the alerts wait this long, unspent, and the channel's
#: dispatcher claims nothing meanwhile (one failing call a minute, not the whole queue's).
TOKEN_RETRY_SECONDS = 60.0

#: Seconds between two tries of a recipient whose forum topic is closed
#: (:attr:`OutcomeKind.TOPIC_CLOSED`): one refused call per chat every 10 minutes while it stays
#: closed, and its alerts go within 10 minutes of its reopening.
TOPIC_CLOSED_RETRY_SECONDS = 600.0


def topic_closed_line(chat: str, thread: int | None) -> str:
    """The WARNING for a closed forum topic (an alert's, ``thread`` its forum thread if known;
    a digest's), saying what an admin can do (English: a log line, as every log line is);
    ``chat`` as operators know it (:func:`feedsvc.recipient_names.recipient_name`)."""
    which = f" ({thread})" if thread is not None else ""
    return (
        f"{chat}: the forum topic{which} its alerts go to is closed (the chat's admins "
        f"closed it): they wait, tried again every {TOPIC_CLOSED_RETRY_SECONDS / 60:.0f} min; "
        "reopen the topic in Telegram, or move the subscription (/sub in an open topic); "
        "alerts older than telegram.alert_max_age_hours end unsent"
    )


#: Seconds a chat is paused after a 429 that gives no usable ``retry_after`` (none, 0, a
#: negative number, a text, NaN; in ``parameters`` or not), on Telegram and Zalo (and Apprise's
#: throttled destinations without ``Retry-After``). No source gives a figure: Telegram's FAQ
#: ("My bot is hitting limits") states the limits — about one message a second to a chat, 20 a
#: minute to a group — but no wait for a 429 without ``retry_after``, FIELD-NOTES says only
#: that a 429 carries one, Zalo publishes nothing. A documented constant, then: half a group's
#: one-minute window, so the chat's next alerts do not walk into the same limit at once, short
#: enough that a chat paused for nothing loses half a minute. After it the alert is sent again
#: (a lasting flood answers 429 again and pauses again); never dropped.
DEFAULT_RETRY_AFTER = 30.0

#: Seconds a reply (a bot's answer: Telegram's, Zalo's) waits for its chat's 429 pause,
#: before it is sent or after its own 429, to be sent then: an answer half a minute late still
#: answers; one refused for longer is dropped with a log line (the person has moved on; the
#: pause is kept for the alerts).
REPLY_PAUSE_WAIT = 30.0
#: How often a reply refused with a 429 is sent again after waiting (then dropped, logged).
REPLY_RESENDS = 2
#: How often a reply that never reached the service (no connection made:
#: :attr:`SendOutcome.unacted`) is sent again.
REPLY_RETRIES = 2


def bounded_pause(seconds: float) -> float:
    """``seconds`` within [1, :data:`MAX_RETRY_AFTER`]; NaN and infinities → the maximum."""
    if not math.isfinite(seconds):
        return MAX_RETRY_AFTER
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def retry_after_seconds(value: object) -> float | None:
    """A Bot API ``parameters.retry_after`` (Telegram's, Zalo's) as seconds when it is usable:
    a positive number (infinity for an integer beyond float's range); None for anything else —
    missing, 0, negative, NaN, a boolean, a text, a list — which a 429 reads as
    :data:`DEFAULT_RETRY_AFTER`. The one reading of the field, for both classifiers; outside
    data, bounded by :meth:`SendOutcome.retry_after`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return math.inf
    return seconds if seconds > 0 else None  # NaN > 0 is False


NOTE_CHARS = 1000  # characters of a sent delivery's note kept (its ``error`` column is text)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The classified result of one send; build with the class methods."""

    kind: OutcomeKind
    message_id: int | None = None
    seconds: float | None = None  # RETRY_AFTER
    new_chat_id: int | None = None  # MIGRATED
    description: str = ""  # Telegram's (or the transport's) words, token-free
    #: False: nothing was handed to the channel (the dispatcher's own refusal, an article no
    #: longer stored), so the delivery counts no attempt
    attempted: bool = True
    #: SENT: the message is a photo with a caption (True) or a text (False), as the channel's
    #: answer says (Telegram's ``Message.photo``); None when it does not say
    photo: bool | None = None
    #: TRANSIENT: the service surely did not act on the request — no connection was made (a
    #: connect error or timeout, a pool timeout), or the request was not complete when it
    #: failed — so it may go again as it is at once (a bot's answer does:
    #: :func:`feedsvc.notify.resend.resent_after_pause`). False: it may have (a 5xx, of the
    #: API or of a gateway in front of it, which may have passed the request on; an error page
    #: that is not the API's): the outbox retries it all the same (an alert waits its backoff),
    #: a bot's answer is not sent again. Set only by each channel's classifier; not compared.
    unacted: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        """What the outbox stores of an outcome is outside data (the API's words, its message
        id): kept to what every state DB can hold. A description holding a NUL (PostgreSQL text
        refuses it) or a lone surrogate (neither driver encodes it), or a message id beyond
        BIGINT, made the record fail at every try: the lease ran out, the alert was sent again
        (a copy per lease when the send had worked) and the chat's later alerts waited behind
        it for good. Descriptions are cleaned as every shown text is
        (:func:`feedsvc.feeds.sanitize.xml_clean`) and cut to :data:`NOTE_CHARS`; a message
        id that is no integer in BIGINT's range is 0, "none given" (as Zalo's that are no
        number are)."""
        if self.description:
            object.__setattr__(self, "description", xml_clean(self.description)[:NOTE_CHARS])
        given = self.message_id
        if given is not None and not (type(given) is int and 0 <= given <= MAX_ID):
            object.__setattr__(self, "message_id", 0)  # also a text or a float a server gave

    @classmethod
    def sent(cls, message_id: int, description: str = "", photo: bool | None = None) -> SendOutcome:
        return cls(OutcomeKind.SENT, message_id=message_id, description=description, photo=photo)

    @classmethod
    def retry_after(cls, seconds: float, description: str = "") -> SendOutcome:
        """Pause the chat ``seconds`` (bounded: :func:`bounded_pause`)."""
        return cls(OutcomeKind.RETRY_AFTER, seconds=bounded_pause(seconds),
                   description=description)  # fmt: skip

    @classmethod
    def migrated(cls, new_chat_id: int, description: str = "") -> SendOutcome:
        return cls(OutcomeKind.MIGRATED, new_chat_id=new_chat_id, description=description)

    @classmethod
    def blocked(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.BLOCKED, description=description)

    @classmethod
    def chat_not_found(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.CHAT_NOT_FOUND, description=description)

    @classmethod
    def parse_error(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.PARSE_ERROR, description=description)

    @classmethod
    def bad_content(cls, description: str, attempted: bool = True) -> SendOutcome:
        return cls(OutcomeKind.BAD_CONTENT, description=description, attempted=attempted)

    @classmethod
    def transient(cls, description: str, *, unacted: bool = False) -> SendOutcome:
        return cls(OutcomeKind.TRANSIENT, description=description, unacted=unacted)

    @classmethod
    def untried(cls, description: str) -> SendOutcome:
        """Never handed to the channel: the dispatcher's own step before the send failed (a
        state-DB outage); the delivery goes back to the queue as it was, no attempt counted
        and never as of an unknown outcome (:func:`feedsvc.send_record.record_alert`)."""
        return cls(OutcomeKind.TRANSIENT, description=description, attempted=False, unacted=True)

    @property
    def never_acted(self) -> bool:
        """Whether the call surely did not take effect (``TRANSIENT`` and :attr:`unacted`): the
        one test of whether a bot's answer may be sent again as it is, both channels'."""
        return self.kind is OutcomeKind.TRANSIENT and self.unacted

    @classmethod
    def thread_gone(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.THREAD_GONE, description=description)

    @classmethod
    def topic_closed(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.TOPIC_CLOSED, description=description)

    @classmethod
    def token_refused(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.TOKEN_REFUSED, description=description)

    @classmethod
    def ambiguous(cls, description: str) -> SendOutcome:
        return cls(OutcomeKind.AMBIGUOUS, description=description)

    @property
    def delivered(self) -> bool:
        return self.kind is OutcomeKind.SENT

    @property
    def message_kind(self) -> str | None:
        """What a delivery this outcome finishes as ``sent`` records the message to be
        (``deliveries.message_kind``: ``photo``, ``text``; None: not known): the follow-up
        worker's edit of it — the notice, a correction — goes by it. Alerts
        (:func:`feedsvc.send_record.record_alert`) and digest parts
        (:func:`feedsvc.digest.record.record_part`) alike."""
        if self.kind is not OutcomeKind.SENT or self.photo is None:
            return None
        return PHOTO if self.photo else TEXT

    @property
    def note(self) -> str | None:
        """What a delivery this outcome finishes as ``sent`` keeps as its ``error``: what went
        wrong in a send that still counts as sent (an Apprise notification that reached some
        of its targets: "partly sent: …"), at most :data:`NOTE_CHARS`; None when nothing did.
        The one rule for every kind of delivery: an alert (:func:`feedsvc.send_record.
        record_alert`) and each digest part (:func:`feedsvc.digest.record.record_part`)."""
        return self.description[:NOTE_CHARS] or None


class Sender(Protocol):
    """What the dispatcher needs from a notifier (Telegram or console)."""

    async def send(self, chat_id: int, msg: AlertMessage, link_preview: bool) -> SendOutcome: ...

    async def send_plain(
        self, chat_id: int, msg: AlertMessage, link_preview: bool
    ) -> SendOutcome: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class BotApiSender(Sender, Protocol):
    """A sender that calls a bot's API (:class:`feedsvc.notify.telegram.TelegramSender`), told
    from the console by what it offers: an ``isinstance`` of the class itself would import
    python-telegram-bot into every process, a web replica's or the demo's without a token
    (``tests/test_service_imports.py``)."""

    def charge_with(self, charge: Charge | None) -> None:
        """Charge each of its message calls to ``charge`` (the channel's send budget)."""
        ...

    async def who_am_i(self) -> SendOutcome:
        """getMe as an outcome: ``SENT`` for an accepted token, ``TOKEN_REFUSED``."""
        ...
