"""A topic save checked against the version its caller last saw (:mod:`feedsvc.topic_versions`,
the version's own rule, pure): the decisions :func:`feedsvc.operations.topics.save_topic` takes
under ``store.topics.serialize`` — a save over a stale view refused (:func:`check_version`), a
create sent again answered as the first (:func:`created_since`), an update of a slug no topic
has told apart as deleted meanwhile or never there (:func:`not_there`), a stale new-topic form
over a topic deleted since it was opened refused (:func:`deleted_since`); a delete, enable or
disable from a stale view refused alike (:func:`check_version`), a delete of a topic that
gained subscriptions since its question was shown too (:func:`check_subscriptions`). Apart from
``operations.topics`` so that module stays the save's and delete's flow (and under ~400 lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from feedsvc.operations.errors import (
    OperationError,
    deleted_meanwhile,
    deleted_since_opened,
    unknown_topic,
)
from feedsvc.store import topics as topic_store
from feedsvc.topic_versions import FIELDS, absent_since, changed_since

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from feedsvc.db import Database
    from feedsvc.store.topics import Topic, TopicSpec


def check_version(current: Topic, expected: str, writes: Mapping[str, object]) -> None:
    """Refuse a save made from a stale view of ``current`` (:mod:`feedsvc.topic_versions`):
    ``topic_changed_meanwhile`` names the fields changed since ``expected`` was read and
    carries the stored topic (``now``: field → value) and its ``version``, which the admin's
    form takes, so that saving again overwrites deliberately; ``topic_version_missing`` when
    ``expected`` is no version (a form from before versions, a script), with the same
    ``version``: refused rather than unchecked, since such a form is exactly one opened long
    ago, and what was typed is shown again, not lost. A field changed meanwhile to the value
    ``saving`` writes is no conflict: nothing of the other change is lost (the same form sent
    twice — Save pressed again while a backfill-on-save ran, an API client's retry — was
    refused as "changed by someone else", naming fields that held what it sent).

    ``writes``: field → the value the write sets (a save: every field, :func:`writes_of`; an
    enable or disable: ``enabled`` alone, :func:`~feedsvc.operations.topics.set_topic_enabled`;
    a delete: none, :func:`~feedsvc.operations.topics.delete_topic`, so every field changed
    since is a conflict — a delete from a stale view took a topic a colleague had just edited,
    and its new subscriptions, unseen)."""
    changed = changed_since(expected, current.spec)
    fields = changed and tuple(
        f for f in changed if f not in writes or getattr(current, f) != writes[f]
    )
    version = current.version
    if changed is None:
        raise OperationError(
            "invalid",
            f"the form has no topic version (field 'version'); nothing was saved: reload "
            f"topic {current.slug} and save again",
            code="topic_version_missing",
            params={"slug": current.slug, "field": "version", "version": version},
        )
    if fields:
        raise OperationError(
            "conflict",
            f"topic {current.slug} was changed meanwhile ({', '.join(fields)}); nothing was "
            "saved",
            code="topic_changed_meanwhile",
            params={"slug": current.slug, "fields": fields, "version": version,
                    "now": {f: getattr(current, f) for f in fields}},
        )  # fmt: skip


def writes_of(saving: TopicSpec) -> dict[str, object]:
    """What a save of ``saving`` sets, for :func:`check_version`: every versioned field."""
    return {f: getattr(saving, f) for f in FIELDS}


def check_subscriptions(slug: str, shown: int | None, now: Mapping[str, int]) -> None:
    """Refuse a delete whose caller was shown fewer of the topic's subscriptions than it has
    now (``shown``: the admin's delete form, the count its question named; None checks
    nothing): ``conflict`` ``topic_gained_subscriptions``. A delete takes them with the topic
    and nobody can restore them (an Apprise URL is only ever shown masked); an admin page
    opened while a topic had none deleted the three added since, asked "Delete? This cannot be
    undone." of a topic with no subscriber. Fewer than shown is no conflict: less goes than
    the question named."""
    total = sum(now.values())
    if shown is None or total <= shown:
        return
    raise OperationError(
        "conflict",
        f"topic {slug} has {total} subscriptions now, {shown} when the delete was asked; "
        "nothing was deleted",
        code="topic_gained_subscriptions",
        params={"slug": slug, "shown": shown, "counts": dict(now)},
    )


def created_since(
    conn: Connection, current: Topic, saving: TopicSpec, expected: str | None
) -> bool:
    """Whether a create of ``saving`` finding ``current`` under its slug is that create sent
    again (Save double-clicked: the second POST was refused "already exists", the page shown,
    and the admin made a duplicate under another slug): ``expected``, a new-topic form's
    version (:func:`~feedsvc.topic_versions.absent_since`), says no topic was there when it
    was opened; the topic was created since and holds exactly what is sent, as stored. An
    edit's rule (:func:`check_version`): a change meanwhile to what the save sends is no
    conflict. Any other form, a topic older than the form, no such version (the API's
    ``POST``): ``topic_exists``."""
    since = absent_since(expected) if expected is not None else None
    if since is None or current.spec != saving:
        return False
    made = topic_store.identity(conn, current.slug)
    return made is not None and made[1] >= since


def not_there(conn: Connection, slug: str) -> OperationError:
    """What an update of ``slug``, which no topic has, is refused as: ``topic_deleted_meanwhile``
    when the store recorded its deletion (``store.topics.was_deleted``: a form or an ``If-Match``
    read it before), else ``topic_not_found``: there never was one (``PUT`` with ``If-Match`` on
    a typo), or it was deleted before migration 0034 recorded deletions."""
    if topic_store.was_deleted(conn, slug):
        return deleted_meanwhile(slug)
    return unknown_topic(slug)


def missing_topic(db: Database, slug: str) -> OperationError:
    """:func:`not_there` for a write outside a save (an API ``DELETE``, ``enable`` or
    ``disable`` with a condition): ``topic_deleted_meanwhile`` or ``topic_not_found``, as a
    ``PUT`` with ``If-Match`` is refused, so a client holding a version of a topic deleted
    since is told so alike on every route (the API answers it 412)."""
    with db.read() as conn:
        return not_there(conn, slug)


def deleted_since(conn: Connection, slug: str, expected: str | None) -> None:
    """Refuse a create of ``slug``, which no topic has, from a new-topic form opened before a
    topic under it was deleted (``expected``: the form's
    :func:`~feedsvc.topic_versions.absent_version`; ``deleted_topics.deleted_at``, the same
    clock): ``topic_deleted_since_opened``. Such a form is most likely the one that created
    it, sent again (the browser's Back, then Save) after someone deleted it on purpose; it
    was created again, silently, with its subscribers' feed back. A form opened after the
    deletion, or no such version (the CLI, the API's ``POST``, a plain ``PUT``: deliberate
    creates), creates it."""
    since = absent_since(expected) if expected is not None else None
    if since is None:
        return
    gone = topic_store.deleted_at(conn, slug)
    if gone is not None and gone >= since:
        raise deleted_since_opened(slug)
