"""Request and response bodies of the JSON API.

Pydantic models, so one declaration both validates what clients send (strict types, no unknown
fields: a typo in a field name is a 400, not a silently ignored value) and produces the schemas
of the OpenAPI document (:mod:`feedsvc.web.openapi`), which therefore cannot drift from the code.
"""

from __future__ import annotations

from datetime import date, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from feedsvc import limits
from feedsvc.backfill_window import BACKFILL_DAYS
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.topics_file import SLUG_RULE

# Chat ids are BIGINT: Telegram's fit in 52 bits, other channels' recipients are in [2**52,
# 2**53) (db.schema.NON_TELEGRAM_IDS; feedsvc.channels.recipients checks a Telegram id's range),
# so every id the API gives is exact as a JSON double; bounding keeps absurd values out.
ChatId = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
ChatType = Literal["private", "group", "supergroup", "channel"]
Channel = Literal["telegram", "zalo", "apprise"]
DeliveryState = Literal[
    "pending", "held", "sending", "sent", "blocked", "chat_not_found", "bad_content", "disabled",
    "failed", "unknown_outcome", "withdrawn", "unsubscribed", "dead",
]  # fmt: skip


class _Input(BaseModel):
    """What a client sends. Text holding a control character or a lone surrogate is refused
    after validation, for every field at once, by :mod:`feedsvc.web.api_text` (422, as the use
    cases refuse it), not here (a NUL was a 400 of its own), except in :attr:`READ_ONLY`
    fields: what a ``GET`` returned, sent back with the changes and ignored (stored text the
    client did not write, such as a Telegram chat's title)."""

    READ_ONLY: ClassVar[frozenset[str]] = frozenset()


class Body(_Input):
    """A request body: strict JSON types, unknown fields rejected, and a number is a JSON
    number: ``NaN``, ``Infinity`` and one too big for a float (``1e400``), which Python's and
    Pydantic's readers take, are refused as not numbers (a NaN ``days`` was "must be at most
    36500")."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class Params(_Input):
    """Query-string parameters: strings coerced to the declared types, unknown ones rejected.

    An integer parameter is ASCII digits with an optional ``-`` (:func:`feedsvc.digits.ascii_int`)
    for every field declared ``int``, here once: Pydantic's lax mode also reads ``" 12"``,
    ``"+12"``, ``"1_2"`` and ``"12.0"`` as 12 (refused as ``int_parsing``, like ``"abc"``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _ascii_integers(cls, value: object, info: ValidationInfo) -> object:
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, str) and field is not None and _is_int(field.annotation):
            number = ascii_int(value)
            if number is None:
                raise PydanticCustomError(
                    "int_parsing", "Input should be a valid integer, unable to parse string as "
                    "an integer",
                )  # fmt: skip
            return number
        return value


def _is_int(annotation: Any) -> bool:
    """``int``, ``Annotated[int, …]`` or an optional one (``bool`` is not an integer here)."""
    if annotation is int:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_int(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(_is_int(a) for a in get_args(annotation) if a is not type(None))
    return False


class Out(BaseModel):
    """A response body."""


class ErrorOut(Out):
    error: str = Field(description="what went wrong, in English (stable wording for logs)")
    code: str | None = Field(
        None,
        description="what went wrong as data (e.g. `topic_not_found`, or the query "
        "parser's code such as `unclosed_paren`), for clients that word errors themselves",
    )
    message: str | None = Field(
        None,
        description="the error worded for people, in the request's `Accept-Language` "
        "(Vietnamese or English; default `admin.language`)",
    )
    field: str | None = None
    position: int | None = Field(
        None,
        description="an invalid query: the 0-based offset of the character the error points "
        "at (for slicing the query text)",
    )
    column: int | None = Field(
        None,
        description="an invalid query: the same character counted from 1, as `error` and "
        "`message` name it to people",
    )
    source_keys: list[str] | None = Field(
        None,
        description="`article_key_ambiguous`: the stored article keys the key given is the "
        "same text as, in other Unicode forms (give one exactly)",
    )
    near_keys: list[str] | None = Field(
        None,
        description="`article_not_found`: stored article keys that begin with or contain the "
        "key given (up to 10, those that begin with it first; a key is looked up whole, so "
        "part of one finds none); absent when none does",
    )


# -- topics ------------------------------------------------------------------------------------


def limited(limit: int, what: str, *, required: bool = False) -> Any:
    """A text's limits in the OpenAPI document only: :mod:`feedsvc.operations` checks them as
    stored (NFC, trimmed; 422 ``too_long``, ``title_required``…, the CLI's and the admin's
    words), where Pydantic's ``max_length`` counted the text as sent, at figures of its own
    (400), and its ``min_length`` made ``""`` a 400 in English while ``"  "`` was the 422 of
    the rule. ``required``: not blank once trimmed (``minLength`` 1 in the document)."""
    extra: dict[str, Any] = {"maxLength": limit} | ({"minLength": 1} if required else {})
    blank = ", not blank" if required else ""
    described = f"{what}; at most {limit} characters{blank}, trimmed, in NFC"
    return Field(json_schema_extra=extra, description=described)


#: A write body's ``version``: any JSON is taken here, so one that is no version (``5``,
#: ``true``, ``[]``, ``{}``) is judged with the conditions, in their order
#: (:func:`feedsvc.web.preconditions.with_body_version`: an ``If-Match`` that is no list of tags
#: first, then 400 ``version_invalid``), not as a type error before them (``invalid_body``).
BodyVersion = Annotated[Any, WithJsonSchema({"type": ["string", "null"]})]


class NoBody(Body):
    """The body of a write that takes no fields: nothing, or ``{}``. Read all the same
    (:attr:`feedsvc.web.api_base.Endpoint.reads`), as every write's body is: a body that says
    it is no JSON is 415, malformed JSON 400 with its line and column, a field 400 unknown —
    a ``text/plain`` "hello" to a topic's ``disable`` was a 200, its body never looked at."""


class ConditionIn(Body):
    """The body of a topic's ``DELETE``, ``enable`` and ``disable``: nothing, or a
    ``version``, the same condition as ``If-Match`` on them and on a ``PUT``
    (:func:`feedsvc.web.preconditions.with_body_version`). Never read, a stale
    ``{"version": …}`` deleted a topic edited since, with its subscriptions."""

    version: BodyVersion = Field(
        None,
        description="the version last read (a GET's `version`): the same condition as "
        '`If-Match: "<version>"` (412 when the topic changed since); null or absent: none',
    )


class TopicFields(Body):
    title: Annotated[str, limited(limits.TITLE, "one line", required=True)]
    query: Annotated[str, limited(limits.QUERY, "the filter query", required=True)]
    description: Annotated[str, limited(limits.DESCRIPTION, "free text")] = ""
    enabled: bool = True


class TopicPut(TopicFields):
    """``PUT /api/topics/{slug}``'s body: the fields, and besides them what ``GET`` returns,
    read-only and ignored, so a client can send back what it read with its changes (a ``PUT``
    of a ``GET``'s body was a 400 for "extra inputs"); a ``slug`` given must name the path's
    topic (in any case), a topic is never renamed by a ``PUT``; a ``version`` given is a
    condition, as ``If-Match`` (:func:`feedsvc.web.preconditions.with_body_version`): ignored,
    it let a client believe it saved conditionally."""

    READ_ONLY: ClassVar[frozenset[str]] = frozenset(
        {"origin", "updated_at", "version", "feeds", "stats"}
    )

    slug: str | None = Field(None, description="read-only: must name the path's topic")
    origin: str | None = Field(None, description="read-only, ignored")
    updated_at: datetime | None = Field(None, description="read-only, ignored")
    version: BodyVersion = Field(
        None,
        description="the version last read (a GET's body sent back): the same condition as "
        '`If-Match: "<version>"` (412 when the topic changed since); null or absent: none',
    )
    feeds: dict[str, str] | None = Field(None, description="read-only, ignored")
    stats: dict[str, Any] | None = Field(None, description="read-only, ignored")


class TopicIn(TopicFields):
    slug: Annotated[str, limited(limits.SLUG, SLUG_RULE, required=True)]


class DayCount(Out):
    day: date = Field(description="a local day (site.timezone)")
    count: int


class TopicStatsOut(Out):
    """What people follow, over the last ``days`` local days (oldest first, today last)."""

    articles: int = Field(description="articles in the topic's feed history")
    newest_article: datetime | None = Field(description="published_at of the newest one")
    subscribers: dict[str, int] = Field(description="chats subscribed, by channel")
    alerts_per_day: list[DayCount] = Field(description="alerts sent to subscribers per day")
    polls_per_day: list[DayCount] = Field(description="feed requests answered (200 or 304)")


class TopicOut(Out):
    slug: str
    title: str
    description: str
    query: str
    enabled: bool
    origin: str
    updated_at: datetime
    version: str = Field(
        description="the version of title, description, query and enabled: send it back as "
        '`If-Match: "<version>"` on a PUT to save only over this version (412 '
        "`topic_changed_meanwhile` otherwise); `updated_at` also moves on a backfill"
    )
    feeds: dict[str, str]  # format → absolute feed URL
    stats: TopicStatsOut | None = Field(
        None, description="the last 7 days' figures (in listings and GET /api/topics/{slug})"
    )


class DeletedTopicOut(TopicOut):
    """``DELETE /api/topics/{slug}``: the topic as it was, plus whether every start keeps it
    deleted (added fields only: the body is still a ``TopicOut``)."""

    kept_deleted: bool = Field(
        False,
        description="true when the topic is listed in the topics file (`topics.file`): every "
        "start keeps it deleted while its entry there is unchanged",
    )
    kept_deleted_message: str | None = Field(
        None,
        description="the same in words, with how to bring it back, in the request's "
        "Accept-Language (vi or en): the words of `feedsvc topics remove` and the admin's "
        "delete; null when not kept deleted",
    )
    subscriptions_removed: int = Field(
        0,
        description="how many subscriptions to the topic were deleted with it (every channel; "
        "`feedsvc topics remove` refuses without --force when there are any)",
    )
    subscriptions_removed_by_channel: dict[str, int] = Field(
        default_factory=dict,
        description="the same by channel (`telegram`, `zalo`, `apprise`); channels without "
        "any are left out",
    )


class TopicList(Out):
    topics: list[TopicOut]


class PreviewIn(Body):
    query: Annotated[str, limited(limits.QUERY, "the filter query", required=True)]
    #: the topic whose query this is: a reference back to it is refused as a save would
    slug: Annotated[str | None, limited(limits.SLUG, "the topic being edited")] = None
    scan: Annotated[int, Field(ge=1, le=20_000)] = 2000
    samples: Annotated[int, Field(ge=0, le=50)] = 10


class HitOut(Out):
    term: str
    field: str
    snippet_html: str
    snippet_text: str


class SampleOut(Out):
    article_id: int
    source_key: str
    title: str
    url: str
    published_at: datetime
    terms: list[str]
    hits: list[HitOut]


class PreviewOut(Out):
    query: str
    scanned: int = Field(description="public articles covered: all of them when indexed")
    count: int = Field(description="matches; a lower bound when exact is false")
    indexed: bool = Field(False, description="candidates came from the archive search index")
    checked: int = Field(0, description="articles the matcher re-checked")
    exact: bool = Field(True, description="count is exact (all candidates were checked)")
    in_backfill_window: int = Field(
        0,
        description="of the matches, those published within the backfill window "
        "(`backfill_window_days`): what a backfill without `days` puts in the topic's feed",
    )
    in_backfill_window_exact: bool = Field(
        True, description="in_backfill_window is exact (false: a lower bound)"
    )
    backfill_window_days: int = Field(
        BACKFILL_DAYS, description="the default backfill window, in days (`days` of a backfill)"
    )
    warnings: list[str] = Field(
        description="warnings in the request's Accept-Language (vi or en), as the admin's live "
        "preview words them"
    )
    warning_codes: list[str] = Field(
        default_factory=list,
        description="each warning's code, in the order of `warnings`: `operator_word`, "
        "`keyboard_quotes`, `broad_term`",
    )
    samples: list[SampleOut]


class BackfillIn(Body):
    """``days`` is whole days (the README's N; ``--days N`` of the CLI): ``1.5`` was taken by
    the API and refused by nobody, while the CLI's float option echoed ``-1`` as ``-1.0``."""

    days: Annotated[
        int, Field(ge=0, le=36_500, description="whole days; 0: every stored article")
    ] = BACKFILL_DAYS


class BackfillOut(Out):
    """``matched`` and ``added`` count every article the query matches, hidden, withdrawn and
    scheduled ones too (their matches are kept for when they are public); what readers see in
    the feed is ``in_feed`` and ``added_to_feed``."""

    scanned: int = Field(description="articles published in the window")
    matched: int = Field(
        description="of those, the articles the query matches, hidden, withdrawn and scheduled "
        "ones included"
    )
    added: int = Field(
        description="matches recorded, hidden, withdrawn and scheduled articles included (they "
        "join the feed when public)"
    )
    removed: int = Field(description="matches dropped: the query no longer matches them")
    in_feed: int = Field(
        description="of `matched`, the articles readers see in the feed: public (not hidden, "
        "withdrawn or scheduled)"
    )
    added_to_feed: int = Field(description="of `added`, the public articles: new in the feed")
    not_in_feed: int = Field(
        description="of `matched`, those hidden, withdrawn or scheduled: not in the feed"
    )


# -- stats ---------------------------------------------------------------------------------------


class StatsParams(Params):
    days: Annotated[int, Field(ge=1, le=90)] = 7


class HourOut(Out):
    hour: datetime = Field(description="the start of the hour (UTC)")
    articles: int = Field(description="articles ingested")
    alerts: int = Field(description="alerts sent")


class TopicStatsRow(TopicStatsOut):
    slug: str
    title: str


class StatsOut(Out):
    days: int
    timezone: str
    hourly: list[HourOut]
    topics: list[TopicStatsRow]
