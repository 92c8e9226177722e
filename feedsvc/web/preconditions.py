"""**The one reading of an ``If-Match`` the JSON API is sent** (RFC 9110 §13.1.1): a topic's
``PUT`` (:mod:`feedsvc.web.api_topics`) and a chat's ``PATCH`` (:mod:`feedsvc.web.api_admin`)
take the ``version`` their ``GET`` gives, each by its own rule (``readable``:
:func:`feedsvc.topic_versions.readable`, :func:`feedsvc.digest.versions.readable`), and refuse
anything else alike (400 ``if_match_invalid``): a header a write ignored would save unchecked."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers

from feedsvc.web.api_errors import ApiError
from feedsvc.web.http_cache import request_list


def if_match(headers: Headers, readable: Callable[[str], bool], what: str) -> str | None:
    """The request's ``If-Match``: None (absent: no precondition), ``*`` (the resource must
    exist), else the one version it names, quoted as an entity tag or not; empty, a list of
    tags (on one line or several: the lines are one list,
    :func:`feedsvc.web.http_cache.request_list`), ``*`` with a tag, a weak tag or any text
    ``readable`` refuses is 400 ``if_match_invalid``. ``what``: the resource, in the English
    message (``topic``, ``chat``)."""
    members = request_list(headers, "if-match")
    if members is None or members == ["*"]:
        return None if members is None else "*"
    tag = members[0] if len(members) == 1 else ""
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    if not readable(tag):
        raise ApiError(
            400, f'If-Match must be one {what} version as GET gives it ("version"), or *',
            code="if_match_invalid", field="If-Match",
        )  # fmt: skip
    return tag
