"""**The one reading of an ``If-Match`` the JSON API is sent** (RFC 9110 §13.1.1): every route
that changes a topic — its ``PUT``, ``DELETE``, ``enable`` and ``disable``
(:mod:`feedsvc.web.api_topics`; a ``DELETE`` that ignored it took a topic edited since, with
its new subscription) — and a chat's ``PATCH`` (:mod:`feedsvc.web.api_admin`) take the
``version`` their ``GET`` gives, each by its own rule (``readable``:
:func:`feedsvc.topic_versions.readable`, :func:`feedsvc.digest.versions.readable`), and refuse
anything else alike (400 ``if_match_invalid``): a header a write ignored would save unchecked.

A weak entity tag (``W/"…"``) is valid HTTP that never matches: If-Match compares entity tags
strongly (§8.8.3.2), so a condition of weak tags only is false, 412 ``if_match_weak``
(§13.1.1), whatever it names — it was a 400 "invalid", which told a client sending back an
intermediary's weakened tag that its header was malformed, not that it did not match; a weak
tag beside a strong one is a member that cannot match, and the strong one decides."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers

from feedsvc.web.api_errors import ApiError
from feedsvc.web.http_cache import request_list

#: A weak entity tag's prefix (RFC 9110 §8.8.3: ``W/``, case-sensitive).
WEAK = "W/"


def if_match(headers: Headers, readable: Callable[[str], bool], what: str) -> str | None:
    """The request's ``If-Match``: None (absent: no precondition), ``*`` (the resource must
    exist), else the one version it names, quoted as an entity tag or not; empty, a list of
    several tags (on one line or several: the lines are one list,
    :func:`feedsvc.web.http_cache.request_list`), ``*`` with a tag or any text ``readable``
    refuses is 400 ``if_match_invalid``; weak tags only, 412 ``if_match_weak``. ``what``: the
    resource, in the English message (``topic``, ``chat``). A caller whose answer without the
    header would not be a success (an unknown chat: 404) answers that instead of the 412
    (§13.2.1)."""
    members = request_list(headers, "if-match")
    if members is None or members == ["*"]:
        return None if members is None else "*"
    strong = [m for m in members if not m.startswith(WEAK)]
    if members and not strong:
        raise ApiError(
            412, f"If-Match names only weak entity tags (W/), which never match: send the {what} "
            'version as GET gives it ("version"), as a strong tag; nothing was saved',
            code="if_match_weak", field="If-Match",
        )  # fmt: skip
    tag = strong[0] if len(strong) == 1 else ""
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    if not readable(tag):
        raise ApiError(
            400, f'If-Match must be one {what} version as GET gives it ("version"), or *',
            code="if_match_invalid", field="If-Match",
        )  # fmt: skip
    return tag
