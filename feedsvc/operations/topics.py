"""Topics as the admin changes them: create, update, delete, enable/disable, each validated
(slug, title, control characters, the query and every topic that references it by ``@slug``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from feedsvc import limits
from feedsvc.db import Database
from feedsvc.fieldtext import clean_topic, query_position
from feedsvc.limits import topic_too_long
from feedsvc.matching import QueryError, parse_typed
from feedsvc.operations.errors import (
    OperationError,
    deleted_meanwhile,
    query_invalid,
    refuse_control,
    refused_character,
    too_long_error,
    topic_exists,
    unknown_topic,
)
from feedsvc.operations.topic_checks import (
    check_subscriptions,
    check_version,
    created_since,
    deleted_since,
    not_there,
    writes_of,
)
from feedsvc.operations.topic_in_use import refuse_broken_chat_queries, refuse_if_used
from feedsvc.query_users import broken_users
from feedsvc.slugs import slug_forms
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import Topic, TopicSpec
from feedsvc.topics_file import SLUG_PROBLEMS, slug_problem

if TYPE_CHECKING:
    from sqlalchemy import Connection


def _check_query(spec: TopicSpec, known: dict[str, str], saved: str | None, sent: str) -> None:
    """``spec``'s query as typed now, ``saved`` (the stored one) as saved
    (:func:`~feedsvc.matching.parse_typed`). ``sent``: the query as given, before
    :func:`~feedsvc.fieldtext.clean_topic` trimmed and composed it: an error is placed there
    (:func:`~feedsvc.fieldtext.query_position`), as every other surface places it."""
    try:
        parse_typed(spec.query, (known | {spec.slug: spec.query}).get, spec.slug, saved=saved)
    except QueryError as exc:
        if exc.position is not None:
            exc = exc.placed(query_position(sent, exc.position))
        raise query_invalid(exc, sent) from None


def _clean_text(spec: TopicSpec) -> TopicSpec:
    """``spec`` normalised by :func:`feedsvc.fieldtext.clean_topic` (title on one line), or the
    first refused control character as an ``invalid`` error naming its field, or the first
    field over its limit (:mod:`feedsvc.limits`, counted as stored) as ``too_long``. Every
    save checks the whole topic it writes: a title over the limit stored before there was one
    is served and matched as before, and may be disabled or removed, but not saved again."""
    cleaned, problems = clean_topic(spec)
    if problems:  # placed on the character in the query as sent, as a parse error is
        field, char = problems[0]
        raise refused_character(field, char, getattr(spec, field))
    if over := topic_too_long(cleaned.title, cleaned.description, cleaned.query):
        raise too_long_error(over[0])
    return cleaned


@dataclass(frozen=True)
class TopicEdit:
    """A topic as ``feedsvc topics add`` gives it: ``description`` and ``enabled`` are None
    when not given, and then keep the stored values on an update, or take the defaults ("",
    on) on a create. An update built a whole :class:`TopicSpec` from the defaults: changing a
    query wiped the description and switched a topic disabled on purpose back on, so its
    subscribers got alerts again (tester F2b)."""

    slug: str
    title: str
    query: str
    description: str | None = None
    enabled: bool | None = None

    def over(self, current: Topic | None) -> TopicSpec:
        """The whole topic this edit saves over ``current`` (None: a new topic)."""
        description, enabled = (current.description, current.enabled) if current else ("", True)
        return TopicSpec(
            self.slug,
            self.title,
            self.query,
            description if self.description is None else self.description,
            enabled if self.enabled is None else self.enabled,
        )


@dataclass(frozen=True)
class Saved:
    """What a save did: ``created``, ``updated`` or ``unchanged``, and for an update the
    fields it changed (``title``, ``query``, ``description``, ``enabled``)."""

    outcome: str
    changed: tuple[str, ...] = ()
    #: the topic's slug as stored (the one given may name it in another case)
    slug: str = ""


#: The fields of a topic an update may change, in the order they are named.
EDITED_FIELDS = ("title", "query", "description", "enabled")


def save_topic(
    db: Database,
    spec: TopicSpec,
    origin: str,
    *,
    create_only: bool = False,
    update_only: bool = False,
    expected_version: str | None = None,
) -> str:
    """Create or update a topic after validating slug, title and query (with ``@refs``); the
    title and description are saved as :mod:`feedsvc.fieldtext` normalises them.
    ``create_only``: an existing slug is ``topic_exists``, but for the same create sent again
    (:func:`~feedsvc.operations.topic_checks.created_since`: ``expected_version`` is a
    new-topic form's, :func:`~feedsvc.topic_versions.absent_version`), answered ``created`` as
    the first was and nothing written; a slug whose topic was deleted since that form was
    opened is ``conflict`` ``topic_deleted_since_opened``
    (:func:`~feedsvc.operations.topic_checks.deleted_since`). ``update_only`` (the admin's edit
    form, an API ``PUT`` with ``If-Match``): a topic that is gone — deleted since the form was
    opened — is ``conflict`` ``topic_deleted_meanwhile``, never created again (an upsert did,
    and said "created"; a topics-file topic deleted on purpose came back with it); one that
    never was (no deletion recorded, :func:`~feedsvc.operations.topic_checks.not_there`) is
    ``not_found`` ``topic_not_found``.

    ``expected_version``: the topic's version as the caller last saw it
    (:attr:`Topic.version`: the admin's form, an API ``If-Match``); None checks nothing (the
    CLI, the topics file, an API ``PUT`` without ``If-Match``). **The one decision** on a save
    over a stale view (:func:`~feedsvc.operations.topic_checks.check_version`): another change
    meanwhile is ``conflict`` ``topic_changed_meanwhile`` and nothing is saved; an empty or
    unreadable version is ``invalid`` ``topic_version_missing``; a topic gone is
    ``topic_deleted_meanwhile`` (never there: ``topic_not_found``)."""
    return _save(
        db, spec, origin, create_only=create_only, update_only=update_only,
        expected_version=expected_version,
    ).outcome  # fmt: skip


def edit_topic(db: Database, edit: TopicEdit, origin: str) -> Saved:
    """Create or update a topic from what was given (:class:`TopicEdit`: what is not given
    keeps its stored value), with :func:`save_topic`'s checks; says which fields changed."""
    return _save(db, edit, origin)


def _save(
    db: Database,
    given: TopicSpec | TopicEdit,
    origin: str,
    *,
    create_only: bool = False,
    update_only: bool = False,
    expected_version: str | None = None,
) -> Saved:
    refuse_control("slug", given.slug)
    if not create_only:
        given = _named(db, given)
    if code := slug_problem(given.slug):
        raise OperationError("invalid", f"slug {SLUG_PROBLEMS[code]}", code=code,
                             params={"limit": limits.SLUG}, field="slug")  # fmt: skip
    # what was given is checked before any SQL; a kept value was checked when it was stored
    spec = _clean_text(given if isinstance(given, TopicSpec) else given.over(None))
    if limits.title_missing(spec.title):  # "" or only invisible characters (U+200B, NBSP)
        raise OperationError("invalid", "title is required", code="title_required", field="title")
    with db.write() as conn:
        topic_store.serialize(conn)  # the reference check and the write: one at a time
        existing = {t.slug: t for t in topic_store.list_topics(conn)}
        current = existing.get(spec.slug)
        if create_only and current is not None:
            if created_since(conn, current, spec, expected_version):
                return Saved("created", slug=spec.slug)  # as the first answer; no write
            raise topic_exists(spec.slug)
        if create_only:  # a stale form over a topic deleted since: never created again silently
            deleted_since(conn, spec.slug, expected_version)
        checked = update_only or (expected_version is not None and not create_only)
        if checked and current is None:
            raise not_there(conn, spec.slug)
        if isinstance(given, TopicEdit):
            spec = _clean_text(given.over(current))
        saved = current.query if current is not None else None
        others = {s: t.query for s, t in existing.items() if s != spec.slug}
        _check_query(spec, others, saved, given.query)
        # topics and chats' queries reaching this one by @slug, at any depth, must still parse
        before = {s: t.query for s, t in existing.items()}
        broken = broken_users(conn, [spec.slug], before | {spec.slug: spec.query}, before)
        if broken.topics:
            raise OperationError(
                "invalid",
                "; ".join(broken.topics.values()),
                code="breaks_users",
                params={"slug": spec.slug, "users": ", ".join(broken.topics)},
                field="query",
            )
        refuse_broken_chat_queries(spec.slug, broken.chats)
        if expected_version is not None and current is not None:  # last: all else is valid
            check_version(current, expected_version, writes_of(spec))
        outcome = topic_store.save_topic(conn, spec, origin, db.now())
        if update_only and outcome == "created":  # deleted after the read above: undone
            raise deleted_meanwhile(spec.slug)
        if outcome != "updated" or current is None:
            return Saved(outcome, slug=spec.slug)
        was = current.spec
        changed = tuple(f for f in EDITED_FIELDS if getattr(was, f) != getattr(spec, f))
        return Saved(outcome, changed, spec.slug)


def _named(db: Database, given: TopicSpec | TopicEdit) -> TopicSpec | TopicEdit:
    """``given`` under the stored slug of the topic its slug names as people type one
    (``PUT /api/topics/Kien-Thuy``, ``topics add ' KIEN-THUY '``: an update of ``kien-thuy``,
    :func:`feedsvc.slugs.slug_forms`: any case, surrounding spaces, a pasted zero-width
    character), as every other command and route names it (README). A line break names no
    topic (``slug_forms``): ``"kien-thuy\n"`` is refused as it always was (a script's bug,
    and the slug check's old ``$`` took it). One that names no topic keeps the rules a new
    slug must follow (no read when it already does)."""
    if not slug_problem(given.slug) or not slug_forms(given.slug):
        return given
    with db.read() as conn:
        found = topic_store.find_topic(conn, given.slug)
    return given if found is None else replace(given, slug=found.slug)


def get_topic(db: Database, slug: str) -> Topic:
    """Raises OperationError ``not_found``, or ``invalid`` for a slug holding a control
    character or a lone surrogate (:func:`refuse_control`: no SQL sees it)."""
    refuse_control("slug", slug)
    with db.read() as conn:
        topic = topic_store.find_topic(conn, slug)
    if topic is None:
        raise unknown_topic(slug)
    return topic


@dataclass(frozen=True)
class TopicDeleted:
    """What :func:`delete_topic` did. ``kept_deleted``: a topics-file topic every start now
    keeps deleted while its entry is unchanged (each front end says so:
    :func:`feedsvc.topics_file.stays_deleted`); ``subscriptions``: channel → the topic's
    subscriptions deleted with it (each front end names them: an Apprise URL is a secret shown
    only masked, so nobody can enter it again from what feedsvc shows)."""

    kept_deleted: bool
    subscriptions: Mapping[str, int] = field(default_factory=dict)
    #: the topic's slug as stored (what was given may differ in case)
    slug: str = ""

    @property
    def subscriptions_total(self) -> int:
        return sum(self.subscriptions.values())


def subscription_counts(db: Database) -> dict[str, dict[str, int]]:
    """slug → channel → its subscriptions (every one: a paused or switched-off chat's too,
    all of which a delete removes), for the admin's delete confirmation."""
    with db.read() as conn:
        return _subscription_counts(conn)


def _subscription_counts(conn: Connection, slug: str | None = None) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for sub in sub_store.list_subscriptions(conn):
        if sub.topic_slug is not None and slug in (None, sub.topic_slug):
            by_channel = counts.setdefault(sub.topic_slug, {})
            by_channel[sub.channel] = by_channel.get(sub.channel, 0) + 1
    return counts


def delete_topic(
    db: Database,
    slug: str,
    *,
    with_subscriptions: bool = False,
    expected_version: str | None = None,
    shown_subscriptions: int | None = None,
) -> TopicDeleted:
    """Delete ``slug`` and its matches. A topic referenced by ``@slug`` — in another topic's
    query or a chat's own query — is refused whatever ``with_subscriptions`` says
    (:func:`~feedsvc.operations.topic_in_use.refuse_if_used`). A topic with subscriptions is
    refused too (``conflict``, ``topic_has_subscriptions``, naming them by channel: they would
    go with it) unless ``with_subscriptions``: the CLI's ``--force``, an API client's
    deliberate ``DELETE``, the admin's confirmed delete; then the answer names them.

    ``expected_version`` (an API ``If-Match``, the admin's form; None checks nothing): a topic
    changed since is ``topic_changed_meanwhile`` (:func:`check_version`, every field);
    ``shown_subscriptions`` (the admin's question): more now is ``topic_gained_subscriptions``
    (:func:`check_subscriptions`). Both under ``serialize``; nothing deleted."""
    from feedsvc.catalogue import ENGLISH

    refuse_control("slug", slug)
    with db.write() as conn:
        topic_store.serialize(conn)  # no topic or chat query takes @slug meanwhile
        found = topic_store.find_topic(conn, slug)
        if found is None:
            raise unknown_topic(slug)
        slug = found.slug
        refuse_if_used(conn, slug)
        subs = _subscription_counts(conn, slug).get(slug, {})
        if expected_version is not None:
            check_version(found, expected_version, {})
        check_subscriptions(slug, shown_subscriptions, subs)
        if subs and not with_subscriptions:
            words = ENGLISH.subscriptions(subs)
            raise OperationError(
                "conflict",
                f"{slug} has {words}; they would be deleted with it (disable the topic to "
                "keep them)",
                code="topic_has_subscriptions",
                params={"slug": slug, "counts": subs},
            )
        deleted = topic_store.delete_topic(conn, slug, db.now())
        if deleted is None:
            raise unknown_topic(slug)
        return TopicDeleted(deleted.kept_deleted, subs, slug)


def set_topic_enabled(
    db: Database, slug: str, enabled: bool, *, expected_version: str | None = None
) -> str:
    """Returns the topic's slug as stored (``slug`` may name it in another case).
    ``expected_version`` (an API ``If-Match``, the admin's button): another change since is
    ``topic_changed_meanwhile`` (:func:`check_version`; the same switch made meanwhile is none)."""
    refuse_control("slug", slug)
    with db.write() as conn:
        topic_store.serialize(conn)  # the version read and the write: one at a time
        found = topic_store.find_topic(conn, slug)
        if found is None:
            raise unknown_topic(slug)
        if expected_version is not None:
            check_version(found, expected_version, {"enabled": enabled})
        topic_store.set_enabled(conn, found.slug, enabled, db.now())
    return found.slug
