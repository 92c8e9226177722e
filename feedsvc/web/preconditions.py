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
Routes whose resource has no version (a chat's ``pause``, ``unhide``…) do not read the header
(:attr:`feedsvc.web.api_base.Endpoint.if_match` says which do, for the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from starlette.datastructures import Headers

from feedsvc.web.api_errors import ApiError
from feedsvc.web.http_cache import list_field

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
    headers: Headers, version: str | None, readable: Callable[[str], bool], what: str
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
    if not readable(version):
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
