"""A topic write's preconditions, as the JSON API reads them: ``If-Match`` and the body's
``version`` (:func:`condition`, :mod:`feedsvc.web.preconditions`: any of the versions
listed, each tried in turn by :func:`feedsvc.web.preconditions.first_met`; one reading for
the ``PUT``, ``DELETE``, ``enable`` and ``disable``), ``If-None-Match: *`` and
``If-Unmodified-Since`` (:func:`target`, :func:`since`) on all four; a refusal that is one
of them not met is 412 (:func:`not_met`).
Apart from :mod:`feedsvc.web.api_topics`, the routes, for its size."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from feedsvc import operations as ops
from feedsvc.slugs import typed_slug
from feedsvc.store.topics import Topic, TopicSpec
from feedsvc.topic_versions import readable
from feedsvc.web.api_base import Call
from feedsvc.web.api_models import ConditionIn, TopicFields, TopicPut
from feedsvc.web.preconditions import (
    Condition,
    first_met,
    modified_since,
    none_match_any,
    unmodified_since,
    with_body_version,
)

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


def named_topic(service: Service, slug: str) -> str | None:
    """The stored slug of the topic ``slug`` names as people type one (any case:
    :mod:`feedsvc.slugs`), or None."""
    topic = current(service, slug)
    return topic.slug if topic is not None else None


def current(service: Service, slug: str) -> Topic | None:
    """The topic ``slug`` names as people type one (any case), or None."""
    try:
        return ops.get_topic(service.web_db, slug)
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


def target(service: Service, call: Call) -> tuple[Topic, Condition]:
    """The topic the path names (any case) for a ``DELETE``, ``enable`` or ``disable``, and
    its write's condition (:func:`condition`; an ``If-Unmodified-Since`` met made the version
    read, :func:`since`). None there: without a version condition, 404 ``topic_not_found``;
    with one (``If-Match``, ``*`` too, a body ``version``), the 412 a ``PUT`` with it answers,
    ``topic_deleted_meanwhile`` (``topic_not_found`` for a slug no topic has had): RFC 9110
    §13.2.1 lets a condition on a resource that does not exist be false. An
    ``If-Unmodified-Since`` there is ignored, the 404 answered as without it: a topic that does
    not exist has no modification date, and §13.1.4 says a recipient MUST then ignore the
    field (it was a 412 blaming If-Match). ``If-None-Match: *`` on an existing topic is 412
    ``topic_exists`` (§13.1.2; it was ignored, and the topic deleted); on none, the 404 the
    write answers without it."""
    wanted = condition(call)
    try:
        topic = ops.get_topic(service.web_db, call.path["slug"])
    except ops.OperationError as exc:
        if wanted is None or exc.code != "topic_not_found":
            raise
        gone = ops.missing_topic(service.web_db, typed_slug(call.path["slug"]))
        raise not_met(gone, "If-Match") from None
    if none_match_any(call.headers):
        raise not_met(ops.topic_exists(topic.slug), "If-None-Match")
    return topic, since(service, call, topic, wanted)


def since(service: Service, call: Call, topic: Topic | None, wanted: Condition) -> Condition:
    """``wanted``, or for an ``If-Unmodified-Since`` alone (beside ``If-Match`` or a body
    ``version`` it is ignored, RFC 9110 §13.1.4) the version of ``topic`` as read: 412
    ``if_unmodified_since_not_met`` when its ``updated_at`` is after the date, else the write
    is made over that version only, so a change between this read and the write is 412
    ``topic_changed_meanwhile``, as an ``If-Match``'s. No topic (a ``PUT``'s): no
    modification date, so the field is ignored (§13.1.4) and the ``PUT`` creates, as without
    it (it was a 412 ``topic_not_found`` worded for If-Match)."""
    date = unmodified_since(call.headers)
    if date is None or wanted is not None or topic is None:
        return wanted
    modified_since(topic.updated_at, date, "topic")
    return (topic.version,)


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
