"""A topic write's preconditions, as the JSON API reads them: ``If-Match`` and the body's
``version`` (:func:`condition`, :mod:`feedsvc.web.preconditions`: any of the versions
listed, each tried in turn by :func:`feedsvc.web.preconditions.first_met`; one reading for
the ``PUT``, ``DELETE``, ``enable`` and ``disable``) and a ``PUT``'s ``If-None-Match: *``
(:func:`if_none_match`); a refusal that is one of them not met is 412 (:func:`not_met`).
Apart from :mod:`feedsvc.web.api_topics`, the routes, for its size."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from feedsvc import operations as ops
from feedsvc.slugs import typed_slug
from feedsvc.store.topics import Topic, TopicSpec
from feedsvc.topic_versions import readable
from feedsvc.web.api_base import ApiError, Call
from feedsvc.web.api_models import ConditionIn, TopicFields, TopicPut
from feedsvc.web.http_cache import request_list
from feedsvc.web.preconditions import Condition, first_met, with_body_version

if TYPE_CHECKING:
    from feedsvc.app import Service

T = TypeVar("T")


def save(
    service: Service,
    slug: str,
    fields: TopicFields,
    *,
    create_only: bool,
    if_match: Condition = None,
    if_none_match: bool = False,
) -> int:
    """Save; ``create_only``: ``POST`` (an existing topic 409), ``if_none_match``: a ``PUT``
    with ``If-None-Match: *``. ``if_match``: the versions any one of which the save may be
    made over (:func:`feedsvc.web.preconditions.first_met`). A refusal that is its
    ``If-Match`` or ``If-None-Match`` not met is 412 (RFC 9110 §13.1.1, §13.1.2), worded for
    the API (``op.<code>.precondition``, :meth:`Translator.operation_error`)."""
    # title, query and description as sent: ops.save_topic normalises them (feedsvc.fieldtext)
    given = typed_slug(slug)  # a line break is refused, never stripped (feedsvc.slugs)
    spec = TopicSpec(given, fields.title, fields.query, fields.description, fields.enabled)
    try:
        outcome = first_met(
            if_match,
            lambda expected: ops.save_topic(
                service.web_db, spec, "api", create_only=create_only or if_none_match,
                update_only=if_match is not None, expected_version=expected,
            ),
            stale,
        )  # fmt: skip
    except ops.OperationError as exc:
        if if_match is not None and exc.code in IF_MATCH_NOT_MET:
            raise not_met(exc, "If-Match") from None
        if if_none_match and exc.code == "topic_exists":
            raise not_met(exc, "If-None-Match") from None
        raise
    return 201 if outcome == "created" else 200


def stale(exc: Exception) -> bool:
    """A write refused because the version it was made over is not the stored topic's: the
    next version an ``If-Match`` lists may be (:func:`feedsvc.web.preconditions.first_met`)."""
    return isinstance(exc, ops.OperationError) and exc.code == "topic_changed_meanwhile"


#: The refusals of a save whose ``If-Match`` the stored topics do not meet: another version,
#: a topic deleted since (the store recorded it), one that never was (no version matches).
IF_MATCH_NOT_MET = ("topic_changed_meanwhile", "topic_deleted_meanwhile", "topic_not_found")


def not_met(exc: ops.OperationError, header: str) -> ops.OperationError:
    """``exc`` as the 412 of ``header`` not met."""
    exc.kind = "precondition"
    if "nothing was saved" not in exc.message:
        exc.message = f"{exc.message} ({header} not met); nothing was saved"
    return exc


def if_none_match(call: Call) -> bool:
    """A ``PUT``'s ``If-None-Match``: ``*`` makes it create only (RFC 9110 §13.1.2: "prevent
    … PUT from inadvertently modifying an existing representation"), an existing topic 412
    ``topic_exists``; absent, no precondition; any other value (entity tags: a ``PUT`` is no
    conditional read; an empty one; ``*`` with a tag, on one line or two, as RFC 9110 §5.3
    joins them: :func:`feedsvc.web.http_cache.request_list`) is 400
    ``if_none_match_invalid``: ignored, it would save."""
    members = request_list(call.headers, "if-none-match")
    if members is None:
        return False
    if members != ["*"]:
        raise ApiError(
            400, "If-None-Match on a PUT must be *: save only a topic that does not exist yet",
            code="if_none_match_invalid", field="If-None-Match",
        )  # fmt: skip
    return True


def named_topic(service: Service, slug: str) -> str | None:
    """The stored slug of the topic ``slug`` names as people type one (any case:
    :mod:`feedsvc.slugs`), or None."""
    try:
        return ops.get_topic(service.web_db, slug).slug
    except ops.OperationError:  # none, or a refused character: the save says which
        return None


def condition(call: Call) -> Condition:
    """**A topic write's condition**: its ``If-Match`` and its body's ``version`` (a ``PUT``'s
    :class:`TopicPut`, a ``DELETE``'s, ``enable``'s or ``disable``'s :class:`ConditionIn`),
    one condition (:func:`feedsvc.web.preconditions.with_body_version`: the syntax's 400s,
    then their agreement's, ``version_mismatch``, then 412 when nothing listed can match)."""
    body = call.body
    version = body.version if isinstance(body, TopicPut | ConditionIn) else None
    return with_body_version(call.headers, version, readable, "topic")


def target(service: Service, slug: str, wanted: Condition) -> Topic:
    """The topic ``slug`` names (any case) for a ``DELETE``, ``enable`` or ``disable`` whose
    condition is ``wanted`` (:func:`condition`). None there: without a condition, 404
    ``topic_not_found``; with one (``If-Match``, ``*`` too, or a body ``version``), the 412 a
    ``PUT`` with it answers, ``topic_deleted_meanwhile`` (``topic_not_found`` for a slug no
    topic has had): RFC 9110 §13.2.1 lets a condition on a resource that does not exist be
    false, and a client holding a version of a topic deleted since was told 404 here, 412
    by ``PUT``."""
    try:
        return ops.get_topic(service.web_db, slug)
    except ops.OperationError as exc:
        if wanted is None or exc.code != "topic_not_found":
            raise
    raise not_met(ops.missing_topic(service.web_db, typed_slug(slug)), "If-Match") from None


def conditional(
    service: Service, topic: Topic, wanted: Condition, write: Callable[[str | None], T]
) -> T:
    """``write(expected)`` under ``wanted`` (:func:`condition`, judged on ``topic``,
    :func:`target`), tried over each version it lists
    (:func:`feedsvc.web.preconditions.first_met`); a topic changed since all of them is 412
    ``topic_changed_meanwhile`` (:func:`not_met`), as a ``PUT``'s: nothing changed; one
    deleted meanwhile is the 412 :func:`target` answers."""
    try:
        return first_met(wanted, write, stale)
    except ops.OperationError as exc:
        if wanted is None or exc.code not in IF_MATCH_NOT_MET:
            raise
        if exc.code == "topic_not_found":  # deleted between the read and the write
            exc = ops.missing_topic(service.web_db, topic.slug)
        raise not_met(exc, "If-Match") from None
