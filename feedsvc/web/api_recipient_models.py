"""Request and response bodies of the JSON API's recipients: subscriptions, chats, deliveries
and the service's status (the topics' are :mod:`feedsvc.web.api_models`, whose bases and
field types these share). Kept apart only for size: one declaration each, as there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field

from feedsvc import limits
from feedsvc.channels.apprise_urls import MAX_URL_CHARS
from feedsvc.web.api_models import (
    Body,
    BodyVersion,
    Channel,
    ChatId,
    DeliveryState,
    Out,
    Params,
    limited,
)

# -- subscriptions and chats -------------------------------------------------------------------


class SubscriptionIn(Body):
    channel: Channel = Field(default="telegram", description="where alerts go")
    chat_id: ChatId | None = Field(default=None, description="telegram: the chat id")
    # an Apprise URL's limit is the channel's (apprise_urls.MAX_URL_CHARS, op.address_length)
    address: Annotated[str | None, limited(MAX_URL_CHARS, "an address")] = Field(
        default=None,
        description="zalo: the Zalo chat id; apprise: the Apprise URL (a secret, shown masked); "
        "telegram: the chat id, when chat_id is not given",
    )
    # one Literal, not a union of two: a refused value is one error naming chat_type once
    chat_type: Literal["private", "group", "supergroup", "channel", "destination"] | None = Field(
        default=None, description="telegram: required; zalo: private (default) or group"
    )
    topic: Annotated[str | None, Field(max_length=limits.SLUG)] = None
    query: Annotated[str | None, limited(limits.CHAT_QUERY, "a chat's own query")] = None


class SubscriptionParams(Params):
    chat_id: ChatId | None = None
    channel: Channel | None = None


class SubscriptionOut(Out):
    id: int
    chat_id: int
    channel: str
    address: str = Field(description="the recipient; Apprise URLs masked")
    topic: str | None
    topic_title: str | None
    query: str | None
    channel_off: bool = Field(
        default=False,
        description="the channel is not configured in this service (e.g. no zalo.token): the "
        "recipient gets nothing, its alerts end as failed, until it is",
    )


class SubscriptionList(Out):
    subscriptions: list[SubscriptionOut]


#: a chat's switch-off reason, twice: the stored code for programs, worded for people
REASON_CODE = (
    "why alerts to the chat are switched off: a stable code (`blocked`, `chat_not_found`, "
    "`user_blocked`, `removed`), optionally `|` and the channel's own words; null when on"
)
REASON_WORDS = "the same in words, in the request's Accept-Language (vi or en); null when on"
RECIPIENT_WORDS = (
    "the chat as operators know it: its channel and the channel's own id (`telegram chat 1001`, "
    "`zalo chat zb`, `apprise chat json://***#1edd70`: an Apprise URL masked); `chat_id` is "
    "feedsvc's own number"
)


class ChatOut(Out):
    chat_id: int
    type: str
    title: str | None
    paused: bool
    disabled_reason: str | None = Field(description=REASON_CODE)
    disabled_reason_message: str | None = Field(default=None, description=REASON_WORDS)


class ChatOptionsIn(Body):
    """Any of the three; a field left out is unchanged (issue 15, SPEC §12); a field given as
    null is switched off (:meth:`nulls_off`). Besides them, what ``GET`` returns, read-only
    (:attr:`READ_ONLY`: ignored, and never judged as text — a Telegram chat's title is the
    chat's own and may hold a bidi control), so a client can send back what it read with its
    changes, as ``PUT /api/topics/{slug}`` takes a ``GET``'s body: it was a 400 "extra inputs"
    for ``chat_id``, ``type``, ``title`` and ``held``. A ``version`` given is a condition, as
    ``If-Match`` (:func:`feedsvc.web.preconditions.with_body_version`). A ``chat_id`` given
    must be the path's (``api_admin.patch_chat``)."""

    READ_ONLY: ClassVar[frozenset[str]] = frozenset({"chat_id", "type", "title", "held", "version"})

    # no max_length here: the length is the settings' rule (digest.settings.MAX_CHARS, 100),
    # refused as ``setting_too_long`` like every other refusal of a setting, bot and admin alike
    digest: Annotated[str | None, Field(description="`off`, `hourly` or up to 4 local times "
                      "`HH:MM,HH:MM`, also as the bot reads them (`7h tối, 6:30 am`), stored "
                      "as `HH:MM` (at most 100 characters); null: `off`")] = None  # fmt: skip
    quiet: Annotated[str | None, Field(description="`HH:MM-HH:MM` (may cross midnight; also "
                     "`10h tối-6h sáng`, `10pm-6am`) or `off` (at most 100 characters); null: "
                     "`off`")] = None  # fmt: skip
    silent: Annotated[bool | None, Field(description="null: false")] = None
    chat_id: ChatId | None = Field(None, description="read-only: must be the path's chat")
    type: str | None = Field(None, description="read-only, ignored")
    title: str | None = Field(None, description="read-only, ignored")
    held: int | None = Field(None, description="read-only, ignored")
    version: BodyVersion = Field(
        None,
        description="the version last read (a GET's body sent back): the same condition as "
        '`If-Match: "<version>"`; null or absent: none',
    )

    def nulls_off(self) -> tuple[str | None, str | None, bool | None]:
        """``(digest, quiet, silent)`` as the settings' parser takes them (None: unchanged), a
        field sent as null switched off — its default: ``off``, ``off``, false. ``GET`` shows
        quiet hours off as ``"quiet": null``, and a client writing back what it read (or
        following JSON merge-patch, where null removes a value) was answered 200 with the old
        value kept."""
        sent = self.model_fields_set
        return (
            "off" if self.digest is None and "digest" in sent else self.digest,
            "off" if self.quiet is None and "quiet" in sent else self.quiet,
            False if self.silent is None and "silent" in sent else self.silent,
        )


class ChatOptionsOut(Out):
    chat_id: int
    type: str
    title: str | None
    digest: str = Field(description="`off`, `hourly` or `HH:MM,HH:MM` (site.timezone)")
    quiet: str | None = Field(description="`HH:MM-HH:MM`, or null")
    silent: bool
    held: int = Field(description="alerts held for this chat's next digest")
    version: str = Field(
        description="the version of digest, quiet and silent: send it back as "
        '`If-Match: "<version>"` on a PATCH to change only what you changed since this read '
        "(412 `chat_changed_meanwhile` when someone else changed it meanwhile)"
    )


# -- deliveries and status ---------------------------------------------------------------------


class DeliveryParams(Params):
    state: DeliveryState | None = None
    chat_id: ChatId | None = None
    channel: Channel | None = None
    topic: Annotated[str | None, Field(max_length=100)] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class DeliveryOut(Out):
    id: int
    chat_id: int
    chat_title: str | None
    article_id: int
    article_title: str = Field(
        description="the article's title as readers see it in the feeds and alerts (HTML "
        "entities decoded, markup dropped; empty when nothing of it shows): a display field, "
        "not the stored title"
    )
    article_url: str
    topics: list[str]
    state: str
    attempts: int
    error: str | None
    due_at: datetime
    created_at: datetime
    finished_at: datetime | None
    # SPEC §10: what became of the sent alert (outcome, or pending/working) and when
    retraction: str | None = None
    retracted_at: datetime | None = None
    correction: str | None = None
    corrected_at: datetime | None = None
    channel: str = "telegram"
    recipient: str | None = Field(default=None, description=RECIPIENT_WORDS)
    retry_kind: str | None = Field(
        None,
        description="why a delivery still queued waits to be tried again (its last try's "
        "`error` failed so): `rate_limited` (a 429; `due_at` is the pause's end), `transient` "
        "(network or server error), `unknown` (no answer came: re-sent once, may arrive twice), "
        "`plain_text` (refused formatting: re-sent as plain text), `migrated` (the group became "
        "a supergroup), `thread_gone` (the forum topic was deleted: sent to the chat), "
        "`topic_closed` (the chat's admins closed its forum topic: waits to be reopened), "
        "`token_refused` (the channel refuses the bot token), "
        "`scheduled` (the article's time moved ahead); null otherwise, or recorded before this "
        "field existed",
    )


class DeliveryList(Out):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class ResendOut(Out):
    id: int
    state: Literal["pending"]


class ChatPauseOut(Out):
    chat_id: int
    type: str
    title: str | None
    paused: bool
    blocked_until: datetime | None
    disabled_reason: str | None = Field(description=REASON_CODE)
    disabled_reason_message: str | None = Field(default=None, description=REASON_WORDS)
    channel: str = "telegram"
    recipient: str | None = Field(default=None, description=RECIPIENT_WORDS)


class SubscriptionAddedOut(SubscriptionOut):
    """``POST /api/subscriptions``' answer: :class:`SubscriptionOut`'s fields as before (SPEC
    §9), and what the add changed for the recipient, which 200 "already there" did not say."""

    switched_on: bool = Field(
        default=False,
        description="this add switched the recipient back on: an Apprise destination switched "
        "off after refusing alerts several times in a row (its `disabled_reason` before is in "
        "`message`); false otherwise",
    )
    not_receiving: ChatPauseOut | None = Field(
        default=None,
        description="why the recipient still receives no alerts after the add (paused, "
        "switched off — a Telegram or Zalo chat is switched on by writing to the bot —, a 429 "
        "pause's `blocked_until`), as `/api/status`' `chat_pauses` lists it; null when it "
        "receives them",
    )
    message: str | None = Field(
        default=None,
        description="`switched_on` and `not_receiving` in words, in the request's "
        "`Accept-Language`; null when there is nothing to say",
    )


class ChannelRefusalOut(Out):
    """A running process whose bot token the channel refuses (``status.refused_by``)."""

    process: str | None = Field(
        description="the process, `host:pid:nonce` (null: recorded before it was kept)"
    )
    token: str | None = Field(
        description="its token's fingerprint: the first 8 hex digits of the token's SHA-256, "
        "never the token (null: not recorded)"
    )
    last_at: datetime = Field(description="its latest refusal")


class StateDiskOut(Out):
    """What is known of the state DB's file system (``state_disk.StateDisk.detail``)."""

    directory: str | None = Field(description="the SQLite file's directory (null: a server's)")
    free_bytes: int | None = Field(description="bytes free there now (null: not known)")
    free_inodes: int | None = Field(
        description="inodes free there now (null: not known, or a file system counting none)"
    )
    full_since: datetime | None = Field(
        description="when this service's writes were first refused for lack of space, while "
        "they still are (null: not full, or not seen by a running service)"
    )


class QuarantinedOut(Out):
    """A quarantined source row (``status.quarantined_object``): ``quarantined_rows``' line as
    data."""

    source: str = Field(description="the source: `builtin` or `external:<table>`")
    row_id: str = Field(description="the source row's id")
    source_key: str | None = Field(description="its key, when it could be read")
    stage: str = Field(
        description="where it failed: `read` (reading the source), `parse` (validation), "
        "`store` (storing), `ahead` (held back: a cursor value in the future)"
    )
    field: str | None = Field(
        description="the article field the reason names first (`parse` only), else null"
    )
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime


class StatusOut(Out):
    """``feedsvc status``'s facts (open-ended), plus the outbox's side."""

    model_config = ConfigDict(extra="allow")

    last_ingest_tick: datetime | None
    ingest_lag_seconds: float | None = Field(
        description="Seconds ingest is behind the source: since the cursor's time while rows "
        "are still behind it (ingest_state first_sync, rereading or catching_up; in a re-read "
        "since the later of the cursor and where it stood before the mapping change), else "
        "since the last successful tick"
    )
    articles_stored: int
    queue_depth: int
    chat_pauses: list[ChatPauseOut]
    recent_errors: list[DeliveryOut]
    quarantined_rows: list[str] = Field(
        default_factory=list,
        description="the newest quarantined source rows (up to 20), one line each, for people",
    )
    quarantined: list[QuarantinedOut] = Field(
        default_factory=list,
        description="the same rows as `quarantined_rows`, in the same order, as objects",
    )
    state_db_disk_full: bool | None = Field(
        default=None,
        description="the state DB's disk is full: from the first write refused for lack of "
        "space (no space left on device, no inode left; a PostgreSQL server's disk full) until "
        "a write commits with room again; reads and feeds are still served meanwhile and "
        "/readyz stays ready (`feedsvc status` judges an SQLite file's file system itself: under "
        "1 MiB or no inode free; null there for PostgreSQL, whose disk it cannot see)",
    )
    state_db_disk: StateDiskOut | None = Field(
        default=None, description="what is known of it (null: nothing)"
    )
    channel_refusals: dict[str, list[ChannelRefusalOut]] = Field(
        default_factory=dict,
        description="per channel, the running processes whose token it refuses now (newest "
        "first): while any is listed, `channels` says `refused` for it",
    )
