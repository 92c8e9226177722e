"""**The one reading of an ``If-Match`` the JSON API is sent** (RFC 9110 §13.1.1): every route
that changes a topic — its ``PUT``, ``DELETE``, ``enable`` and ``disable``
(:mod:`feedsvc.web.api_topics`; a ``DELETE`` that ignored it took a topic edited since, with
its new subscription) — and a chat's ``PATCH`` (:mod:`feedsvc.web.api_admin`) take the
``version`` their ``GET`` gives (also as its ``ETag``), each by its own rule (``readable``:
:func:`feedsvc.topic_versions.readable`, :func:`feedsvc.digest.versions.readable`), and refuse
anything else alike: a header a write ignored would save unchecked.

The header is read with one tokenizer of RFC 9110's grammar (:func:`entity_tags`:
``"*" / #entity-tag``, ``entity-tag = [ W/ ] DQUOTE *etagc DQUOTE``), never split at commas: a
quoted tag may hold one (``W/"a,b"`` was a 400 "invalid"), and what is no entity tag —
``W/*``, ``W/"v`` unclosed, ``W/v``, a bare unquoted ``1-…-1`` — is 400, never read as a tag
(the bare version was accepted as one, the rest as weak tags). Every document (README, the
OpenAPI descriptions) says to send ``If-Match: "<version>"``, quoted: one rule, RFC 9110's.

Reading is two steps, kept apart (:func:`if_match`): the syntax (:func:`listed`), where only
a field that is no such list — or empty, ``*`` with tags, over :data:`MAX_TAGS` tags — is 400;
then what the list can match (:func:`candidates`). A well-formed strong tag that is no version
of the resource (``"abc"``, ``"stale-1"``) matches nothing, as RFC 9110 §13.1.1 reads any tag
the resource does not have: beside a version it is a member that cannot match, alone it is a
condition that is false, 412 ``if_match_unknown`` (it was 400 ``if_match_invalid``, as if the
header were malformed; §13.1.1 keeps 400 for syntax).

A weak entity tag (``W/"…"``) is valid HTTP that never matches: If-Match compares entity tags
strongly (§8.8.3.2), so a condition of weak tags only is false, 412 ``if_match_weak``
(§13.1.1), whatever it names; a weak tag beside strong ones is a member that cannot match.
Several strong tags are the condition "any of them" (§13.1.1: true when any listed tag
matches): the write is tried against each in turn (:func:`first_met`), each attempt one
transaction, and is refused (412) only when none is met; they were a 400. A list is at most
:data:`MAX_TAGS` tags, weak ones included (400 ``if_match_too_long``): 3,000 weak tags and
one strong were read whole, while the write tries at most that many.

A ``version`` in a write's body (what ``GET`` returned, sent back with changes) is the same
condition as ``If-Match: "<version>"`` (:func:`with_body_version`), on every write that takes
``If-Match`` (a topic's ``DELETE``, ``enable`` and ``disable`` too: they never read their
body, and a stale ``{"version": …}`` deleted a topic edited since): ignored, a client sending
it believed it wrote conditionally. Judged in one order (:func:`with_body_version`): the
syntax's 400s, then the two's agreement (400 ``version_mismatch``), then the matching's 412s.
**Every conditional header on every write is decided here** (:func:`gate`, before the body
is read, so a malformed header is its 400 whatever the body holds): a route declares what its
resource can honour (:class:`Takes`, :attr:`feedsvc.web.api_base.Endpoint.conditions`), and
a condition it cannot honour is refused, 400 ``condition_unsupported``, never ignored — a
client that sent one believes it wrote conditionally (a ``DELETE`` with ``If-None-Match: *``
deleted the topic; ``If-Match`` to a chat's ``pause`` paused it). Two are ignored, as RFC
9110 says a recipient MUST (they were 400s): ``If-Modified-Since`` on every write (§13.1.3:
only ``GET`` and ``HEAD`` take it; :data:`HEADERS` leaves it out) and an
``If-Unmodified-Since`` that is no HTTP-date (§13.1.4: garbage, empty, a list of dates, on
any write: :func:`unmodified_since` reads it as absent). ``If-None-Match`` on a write is ``*``
alone (the topic must not exist: 412 ``topic_exists``, a chat's ``chat_exists``); a list of
tags, empty, or anything else is 400 ``if_none_match_invalid``, the rule a ``PUT`` had.
``If-Unmodified-Since`` (an HTTP-date) is honoured where the resource has a modification
date (a topic's ``updated_at``, :attr:`Takes.unmodified_since`), refused where it has none,
and ignored beside an ``If-Match`` or a body ``version`` and on a topic that does not exist,
which has no date (§13.1.4: a ``PUT`` creates, the others answer 404 as without it;
:mod:`feedsvc.web.api_topic_writes`). What a route can answer,
per header, is derived from its :class:`Takes` (:func:`codes`), for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.datastructures import Headers

from feedsvc.http_dates import parse_http_date, utc_seconds
from feedsvc.web.api_errors import ApiError
from feedsvc.web.http_cache import list_field, request_list

#: A weak entity tag's prefix (RFC 9110 §8.8.3: ``W/``, case-sensitive).
WEAK = "W/"
#: The most entity tags one ``If-Match`` may list (weak ones included).
MAX_TAGS = 16
#: ``If-Match: *``: the resource must exist, any version.
ANY = "*"

#: What :func:`if_match` read: None (no header), :data:`ANY`, or the strong tags' versions.
Condition = str | tuple[str, ...] | None
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EntityTag:
    weak: bool
    opaque: str  # between the quotes


def _etagc(char: str) -> bool:
    """RFC 9110 §8.8.3 ``etagc``: ``%x21 / %x23-7E / obs-text`` (a field value is read as
    Latin-1, so obs-text is U+0080–U+00FF)."""
    return char == "!" or "#" <= char <= "~" or "\x80" <= char <= "\xff"


def entity_tags(value: str) -> list[EntityTag | str] | None:
    """The members of ``value`` (one or more field lines joined with commas) as RFC 9110 reads
    them: an :class:`EntityTag` each, :data:`ANY` for ``*``; empty members (``"a", , "b"``)
    are nothing (§5.6.1). None when ``value`` is no such list: a member that is neither ``*``
    nor a whole quoted tag, or text after a tag before the next comma."""
    members: list[EntityTag | str] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in " \t,":
            i += 1
        if i >= n:
            return members
        if value[i] == ANY:
            members.append(ANY)
            i += 1
        else:
            weak = value.startswith(WEAK, i)
            start = i + 2 if weak else i
            end = value.find('"', start + 1) if start < n and value[start] == '"' else -1
            if end < 0 or not all(_etagc(c) for c in value[start + 1 : end]):
                return None
            members.append(EntityTag(weak, value[start + 1 : end]))
            i = end + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] != ",":
            return None


def _invalid(what: str, field: str = "If-Match") -> ApiError:
    return ApiError(
        400, f'If-Match must be {what} versions as GET gives them ("version", its ETag), '
        'each quoted ("<version>"), or *',
        code="if_match_invalid", field=field,
    )  # fmt: skip


def if_match(headers: Headers, readable: Callable[[str], bool], what: str) -> Condition:
    """The request's ``If-Match``: None (absent: no precondition), :data:`ANY` (the resource
    must exist), else the versions its strong tags name that ``readable`` takes, in order,
    each once: the syntax (:func:`listed`: 400), then what can match (:func:`candidates`:
    412 when nothing listed can). ``what``: the resource, in the English message (``topic``,
    ``chat``). A caller whose answer without the header would not be a success (an unknown
    chat: 404) answers that instead of a 412 (§13.2.1)."""
    members = listed(headers, what)
    if members is None or isinstance(members, str):  # absent, or ANY
        return members
    return candidates(members, readable, what)


def listed(headers: Headers, what: str) -> list[EntityTag] | str | None:
    """The syntax of the request's ``If-Match`` alone: None (absent), :data:`ANY`, else its
    entity tags (:func:`entity_tags`). Empty, ``*`` with anything, or no list of entity tags
    is 400 ``if_match_invalid``; over :data:`MAX_TAGS` tags 400 ``if_match_too_long``. What
    the tags name is not judged here (:func:`candidates`)."""
    joined = list_field(headers.getlist("if-match"))
    if joined is None:
        return None
    members = entity_tags(joined)
    if members == [ANY]:
        return ANY
    if not members or ANY in members:
        raise _invalid(f"one or more {what}")
    if len(members) > MAX_TAGS:
        raise ApiError(
            400, f"If-Match lists {len(members)} entity tags: at most {MAX_TAGS}",
            code="if_match_too_long", params={"limit": MAX_TAGS}, field="If-Match",
        )  # fmt: skip
    return [m for m in members if isinstance(m, EntityTag)]


def candidates(
    tags: Sequence[EntityTag], readable: Callable[[str], bool], what: str
) -> tuple[str, ...]:
    """The versions among well-formed ``tags`` that can match (RFC 9110 §13.1.1: strongly):
    the strong ones ``readable`` takes, in order, each once. Weak tags only: 412
    ``if_match_weak``; strong tags none of which is a version (``"abc"``): 412
    ``if_match_unknown`` — a list of tags that matches nothing, not a malformed header."""
    strong = [t.opaque for t in tags if not t.weak]
    if not strong:
        raise ApiError(
            412, f"If-Match names only weak entity tags (W/), which never match: send the {what} "
            'version as GET gives it ("version"), as a strong tag; nothing was saved',
            code="if_match_weak", field="If-Match",
        )  # fmt: skip
    versions = [t for t in strong if readable(t)]
    if not versions:
        raise ApiError(
            412, f"If-Match names no {what} version (none of its entity tags is one GET gives, "
            '"version"), so none matches; nothing was saved',
            code="if_match_unknown", field="If-Match",
        )  # fmt: skip
    return tuple(dict.fromkeys(versions))


def with_body_version(
    headers: Headers, version: object, readable: Callable[[str], bool], what: str
) -> Condition:
    """**A write's condition**: its ``If-Match`` and its body's ``version`` (what ``GET``
    gave, sent back; None: not sent, or ``null``), the same condition as
    ``If-Match: "<version>"``, so a client believing it saved conditionally does. One order
    for every write that takes them: the syntax first (:func:`listed`, then a ``version``
    that is none: 400 ``version_invalid``), then whether the two agree (a ``version`` that is
    not one of ``If-Match``'s strong tags, nor is it ``*``: 400 ``version_mismatch``, since
    which of the two was meant cannot be told), then what can match (:func:`candidates`:
    412). The agreement was judged after the matching: a current body version with
    ``If-Match: "abc"`` was 412 ``if_match_unknown``, with a stale real version 400."""
    if version is None:
        return if_match(headers, readable, what)
    members = listed(headers, what)
    if not isinstance(version, str) or not readable(version):  # 5, true, [], {}: no version
        raise ApiError(
            400, f'version must be the {what} version as GET gives it ("version"), or null',
            code="version_invalid", field="version",
        )  # fmt: skip
    if isinstance(members, list) and version not in [t.opaque for t in members if not t.weak]:
        raise ApiError(
            400, "version in the body is not one If-Match lists: send one condition",
            code="version_mismatch", field="version",
        )  # fmt: skip
    return (version,)


def first_met(
    condition: Condition, attempt: Callable[[str | None], T], unmet: Callable[[Exception], bool]
) -> T:
    """``attempt(version)`` for each version ``condition`` lists, in order, until one is met;
    ``attempt(None)`` once for no condition or :data:`ANY`. An attempt refused as not met
    (``unmet``: the version is stale) changed nothing (each is one transaction), so the next
    is tried; when none is met, the first one's refusal is raised (the 412)."""
    versions: Sequence[str | None] = condition if isinstance(condition, tuple) else (None,)
    first: Exception | None = None
    for version in versions:
        try:
            return attempt(version)
        except Exception as exc:
            if not unmet(exc):
                raise
            first = first or exc
    assert first is not None  # a condition lists at least one version
    raise first


def none_match(headers: Headers, etag: str) -> bool:
    """Whether a ``GET``'s ``If-None-Match`` is not met by ``etag`` (its answer is then 304,
    RFC 9110 §13.1.2): ``*``, or a listed tag equal to it by weak comparison (``W/`` aside),
    read by the same tokenizer (:func:`entity_tags`); a field that is no list of entity tags
    is ignored (the whole answer sent), as a feed's is."""
    joined = list_field(headers.getlist("if-none-match"))
    members = entity_tags(joined) if joined is not None else None
    if not members:
        return False
    return ANY in members or any(
        isinstance(m, EntityTag) and f'"{m.opaque}"' == etag for m in members
    )


# -- which conditions a write can honour: one gate for every route ---------------------------

#: RFC 9110 §13's request preconditions a write can carry (``If-Modified-Since``, §13.1.3, is
#: a ``GET``'s and ``HEAD``'s only: on a write it is ignored, never refused).
HEADERS = ("If-Match", "If-None-Match", "If-Unmodified-Since")


@dataclass(frozen=True, slots=True)
class Takes:
    """What a write's resource can be conditioned on: ``what`` names it (``topic``, ``chat``),
    ``unmodified_since``: it has a modification date (``If-Unmodified-Since``); ``not_met``:
    the 412 codes its own checks give (a version changed since, a resource gone, it exists)."""

    what: str
    unmodified_since: bool
    not_met: tuple[str, ...]


#: A topic's ``PUT``, ``DELETE``, ``enable`` and ``disable`` (:mod:`feedsvc.web.api_topic_writes`).
TOPIC = Takes("topic", True, ("topic_changed_meanwhile", "topic_deleted_meanwhile",
                              "topic_not_found", "topic_exists"))  # fmt: skip
#: A chat's ``PATCH``: a version, no modification date (:mod:`feedsvc.web.api_admin`).
CHAT = Takes("chat", False, ("chat_changed_meanwhile", "chat_exists"))

#: What each code means, in the OpenAPI document's 400 and 412 texts (:func:`codes`).
CODE_TEXT = {
    "condition_unsupported": "a conditional header this route cannot honour ({headers}), "
    "an `If-Unmodified-Since` only as an HTTP-date (one that is none is ignored, as "
    "`If-Modified-Since` is on every write: RFC 9110 §13.1.3-4)",
    "if_match_invalid": "an `If-Match` that is no list of quoted entity tags",
    "if_match_too_long": f"over {MAX_TAGS} tags",
    "if_none_match_invalid": "an `If-None-Match` other than `*`",
    "version_invalid": "then a body `version` that is no version",
    "version_mismatch": "then one not among `If-Match`'s strong tags, before any 412",
    "if_match_weak": 'weak entity tags only (`W/"…"`), which never match (RFC 9110 §13.1.1)',
    "if_match_unknown": "strong tags none of which is a version",
    "if_unmodified_since_not_met": "modified after the `If-Unmodified-Since` date",
    "topic_changed_meanwhile": "the topic changed since its `version` was read",
    "topic_deleted_meanwhile": "it was deleted since",
    "topic_not_found": "there is no such topic (with `If-Match` or a body `version`)",
    "topic_exists": "`If-None-Match: *` not met: the topic exists",
    "chat_changed_meanwhile": "an option sent was changed since to another value",
    "chat_exists": "`If-None-Match: *` not met: the chat exists",
}


def codes(takes: Takes | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The 400 and the 412 codes a write whose resource takes ``takes`` gives for its
    conditions, in the order they are judged (:func:`gate`, then the route's matching); a
    route without a version (None) refuses every condition and has no 412."""
    if takes is None:
        return ("condition_unsupported",), ()
    refused = ["condition_unsupported"] if unsupported(takes) else []
    syntax = [*refused, "if_match_invalid", "if_match_too_long", "if_none_match_invalid"]
    unmet = ["if_match_weak", "if_match_unknown", *takes.not_met]
    if takes.unmodified_since:
        unmet.insert(2, "if_unmodified_since_not_met")
    return (*syntax, "version_invalid", "version_mismatch"), tuple(unmet)


def unsupported(takes: Takes | None) -> tuple[str, ...]:
    """The conditional headers a write refuses: all (no version), ``If-Unmodified-Since``
    where there is no date (one that is an HTTP-date: :func:`gate`), none on a topic."""
    if takes is None:
        return HEADERS
    return () if takes.unmodified_since else HEADERS[2:]


def gate(headers: Headers, takes: Takes | None) -> None:
    """**Every write's conditional headers, judged before its body**: one the route cannot
    honour (:func:`unsupported`) is 400 ``condition_unsupported`` — an ``If-Unmodified-Since``
    only when it is an HTTP-date, since one that is none is ignored (RFC 9110 §13.1.4) —;
    then each one's syntax (:func:`listed`, :func:`none_match_any`), whose 400s come before
    the body's (a ``{"version": 5}`` with ``If-Match: bare`` is ``if_match_invalid``).
    ``If-Modified-Since`` is not looked at: a write ignores it (§13.1.3)."""
    for name in unsupported(takes):
        if _sent(headers, name):
            raise ApiError(
                400, f"{name} is a condition this route cannot honour (it has no "
                f"{'version' if takes is None else 'such date'}): send the write without it",
                code="condition_unsupported", params={"header": name}, field=name,
            )  # fmt: skip
    if takes is not None:
        listed(headers, takes.what)
        none_match_any(headers)


def _sent(headers: Headers, name: str) -> bool:
    """Whether the request carries the condition ``name``: present, for an
    ``If-Unmodified-Since`` also an HTTP-date and without an ``If-Match`` (one that is no
    date, or beside ``If-Match``, is no condition: RFC 9110 §13.1.4)."""
    if name == "If-Unmodified-Since":
        return "if-match" not in headers and unmodified_since(headers) is not None
    return name.lower() in headers


def none_match_any(headers: Headers) -> bool:
    """A write's ``If-None-Match``: ``*`` (True: the resource must not exist, RFC 9110
    §13.1.2, else 412), absent (False). Anything else — entity tags, an empty value, ``*``
    with a tag, on one line or two (:func:`feedsvc.web.http_cache.request_list`) — is 400
    ``if_none_match_invalid``: a write is no conditional read, and ignored it would write."""
    members = request_list(headers, "if-none-match")
    if members is None:
        return False
    if members != [ANY]:
        raise ApiError(
            400, "If-None-Match on a write must be *: write only where nothing exists yet",
            code="if_none_match_invalid", field="If-None-Match",
        )  # fmt: skip
    return True


def unmodified_since(headers: Headers) -> datetime | None:
    """A write's ``If-Unmodified-Since`` as an aware UTC date; None when absent or no
    HTTP-date (a list of dates, two lines, empty, garbage, a 32 November): RFC 9110 §13.1.4
    says a recipient MUST ignore such a field, so the write is judged as without it (it was
    400 ``if_unmodified_since_invalid``)."""
    values = headers.getlist("if-unmodified-since")
    # one line, and no list: every HTTP-date form has one comma at most (after the weekday)
    one = len(values) == 1 and values[0].count(",") <= 1
    return parse_http_date(values[0]) if one else None


def modified_since(modified: datetime, since: datetime, what: str) -> None:
    """412 ``if_unmodified_since_not_met`` when ``modified`` (the resource's date, compared
    at HTTP's one-second resolution) is after ``since`` (RFC 9110 §13.1.4)."""
    if utc_seconds(modified) > since:
        raise ApiError(
            412, f"the {what} was modified after the If-Unmodified-Since date; nothing was saved",
            code="if_unmodified_since_not_met", field="If-Unmodified-Since",
        )  # fmt: skip


def headers_of(takes: Takes) -> list[dict[str, Any]]:
    """The OpenAPI header parameters a write whose resource takes ``takes`` reads."""
    out = [("If-Match", f'the {takes.what}\'s `version` (its `ETag`), quoted: `"<version>"`; '
            "several strong tags: met when any one is; `*`: it must exist"),
           ("If-None-Match", f"`*` only: write only while no {takes.what} exists")]  # fmt: skip
    if takes.unmodified_since:
        dated = f"an HTTP-date: write only while the {takes.what} was not modified since "
        out.append(
            (
                "If-Unmodified-Since",
                dated + "(ignored beside `If-Match` or a `version`, and when it is no HTTP-date)",
            )
        )
    return [{"name": name, "in": "header", "required": False, "schema": {"type": "string"},
             "description": text} for name, text in out]  # fmt: skip
