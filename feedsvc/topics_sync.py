"""Applying a topics file to the state DB: ``run``'s import at start and ``topics import``.

After the first import the state DB is the source of truth (README): the CLI, the API and the
admin edit topics there. ``run`` re-read the file at every start and put back the file's
version of every topic it lists, undoing those edits silently. So each topic remembers the
configured file's entry last applied to it (``topics.file_entry``, a fingerprint), and a start
applies an entry only when it differs from that one: the file changed, so the file wins for
that topic, and when the DB's version had been edited meanwhile that is logged naming the
topic. An explicit ``topics import`` applies the whole file, as documented.

Three things a start must not take for a changed entry: a file topic deleted in the DB (the
deletion keeps its entry, ``deleted_file_topics``: kept deleted while the entry is unchanged);
an import of another file than ``topics.file`` (it applies its entries like edits made in the
DB, and records none: the configured file's memory stays its own); and a spelling of the same
entry in another Unicode form or with other line breaks or surrounding blanks (the fingerprint
is taken over the text as :mod:`feedsvc.fieldtext` normalises it, the form the DB stores).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from feedsvc.fieldtext import clean_topic
from feedsvc.store.records import TopicSpec

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from feedsvc.query_users import Broken
    from feedsvc.store.records import Topic

#: ``topics.file_entry`` of a topic the configured file does not list as last applied: its
#: removal from the file was applied (switched off), or another file's import created it. A
#: start leaves it alone afterwards (switched on again in the DB, it stays on).
REMOVED = "removed"


def normalised(spec: TopicSpec) -> TopicSpec:
    """``spec`` as the state DB stores it (:func:`feedsvc.fieldtext.clean_topic`: NFC, a title
    on one line, a description's line breaks as ``\\n``, every text trimmed)."""
    return clean_topic(spec)[0]


def _digest(spec: TopicSpec) -> str:
    fields = [spec.slug, spec.title, spec.description, spec.query, spec.enabled]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def fingerprint(spec: TopicSpec) -> str:
    """The file entry ``spec`` as 64 hex digits (SHA-256 of its fields, :func:`normalised`):
    equal for equal entries, so an unchanged entry is told from a changed one without storing
    its text, and equal for one entry spelled in NFD or NFC, with CRLF or LF, padded or not
    (it differed, and an NFD file's entries counted as changed once)."""
    return _digest(normalised(spec))


def differences(old: TopicSpec, new: TopicSpec) -> list[str]:
    """The fields (``title``, ``description``, ``query``, ``enabled``) in which they differ,
    both :func:`normalised` (a DB row stored in NFD before text was composed is no edit)."""
    names = ("title", "description", "query", "enabled")
    old, new = normalised(old), normalised(new)
    return [n for n in names if getattr(old, n) != getattr(new, n)]


def _unchanged(last: str | None, entry: str, spec: TopicSpec, stored: TopicSpec | None) -> bool:
    """Whether the file's entry ``entry`` (of ``spec``) is the one last applied (``last``):
    the same fingerprint, or one taken before fingerprints were normalised, over the text the
    row still holds as it was applied (an NFD file's entry, re-applied once otherwise)."""
    if last == entry:
        return True
    return stored is not None and last == _digest(stored) and normalised(stored) == spec


class FileNotApplied(Exception):
    """A topics file that was not applied (nothing written); the message says why."""


class BreaksQueries(FileNotApplied):
    """Applying the file would make topics of the state DB, or chats' own queries, that use
    its topics by ``@slug`` unparsable (:func:`feedsvc.query_users.broken_users`)."""

    def __init__(self, broken: Broken) -> None:
        self.broken = broken
        parts = list(broken.topics.values())
        parts += [f"the own query of {c} (subscription {s})" for c, s in broken.chats]
        super().__init__(
            "it would break queries that use its topics by @slug; nothing was changed: "
            + "; ".join(parts)
        )


class EmptiedTopicsFile(FileNotApplied):
    """A topics file with no topics at all while ``live`` topics it imported before are on."""

    def __init__(self, live: int) -> None:
        self.live = live
        super().__init__(
            f"it holds no topics: importing it would switch off all {live} topic(s) it "
            "imported before (a file emptied by mistake?). Nothing was changed; to switch "
            "them off, set enabled = false on each in the file, or use `feedsvc topics "
            "disable SLUG`"
        )


@dataclass
class Applied:
    """What applying a file did. ``replaced``: slug → fields of the DB's version (edited since
    the file's last import) the file's changed entry replaced; ``relisted``: the same for a
    topic the configured file had left out, which switched it off, and lists again (its entry
    applied: no edit in the DB is implied, ``enabled`` is the file's own doing); ``kept``:
    slug → fields in which the DB's version differs from the file's unchanged entry, kept;
    ``adopted``: the same for a topic with no entry recorded yet (the first start after
    migration 0017), whose DB version was kept and the file's entry recorded; ``kept_on``:
    topics gone from the file but switched on and with no entry recorded, kept on;
    ``kept_deleted``: file topics deleted in the state DB whose entries did not change, not
    created again; ``recreated``: deleted ones the file created again because their entries
    changed (a start) or it was imported explicitly."""

    counts: dict[str, int] = field(
        default_factory=lambda: (
            dict.fromkeys(("created", "updated", "unchanged", "kept"), 0) | {"disabled": 0}
        )
    )
    replaced: dict[str, list[str]] = field(default_factory=dict)
    relisted: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    adopted: dict[str, list[str]] = field(default_factory=dict)
    kept_on: list[str] = field(default_factory=list)
    kept_deleted: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)
    #: slug → its subscriptions by channel (``{}``: none), for each topic the configured
    #: file's import switched off because the file no longer lists it (:func:`switched_off_words`)
    switched_off: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> str:
        """``1 created, 0 updated, 3 unchanged, 2 kept (edited in the state DB), 0 disabled``
        (``kept`` only when there are some: an explicit import keeps none), and ``, 1 kept
        deleted (deleted in the state DB)`` when a start kept some deleted."""
        words = {"kept": "kept (edited in the state DB)"}
        text = ", ".join(
            f"{n} {words.get(k, k)}" for k, n in self.counts.items() if n or k != "kept"
        )
        if self.kept_deleted:
            text += f", {len(self.kept_deleted)} kept deleted (deleted in the state DB)"
        return text


def relisted_words(fields: list[str]) -> str:
    """How a topic the file lists again is told (``topics import``'s line, a start's log): the
    file had left it out, which switched it off; never "the state DB's edits", which nobody
    made (a tester's, after a file cut short by mistake was put back)."""
    return (
        "listed in the file again (leaving it out had switched it off): its entry is applied "
        f"({', '.join(fields)})"
    )


#: Topics a switched-off line names before "and K more" (a file of one topic imported over a
#: thousand switched off all of them: a line of every slug would bury the summary).
SWITCHED_OFF_SHOWN = 20


def switched_off_words(
    applied: Applied, command: str = "feedsvc", shown: int = SWITCHED_OFF_SHOWN
) -> str | None:
    """The topics an import switched off because the file does not list them, as
    ``switched off 3 topic(s) the file does not list: an-ninh (2 subscriptions (2 Telegram)),
    kien-thuy (no subscription), … and 1 more; `feedsvc topics enable SLUG` switches one on
    again`` (``command``: how this user runs feedsvc) — those with subscribers first (most first),
    then by slug, at most ``shown`` named; None when it switched none off. ``topics import``'s
    line and a start's log line: "1005 disabled" alone, after a one-topic file was imported
    with the whole-file meaning, left a newsroom admin to find which alerts had stopped."""
    if not applied.switched_off:
        return None
    from feedsvc.catalogue import ENGLISH

    order = sorted(applied.switched_off.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    named = [
        f"{slug} ({ENGLISH.subscriptions(subs) if sum(subs.values()) else 'no subscription'})"
        for slug, subs in order[:shown]
    ]
    more = len(order) - len(named)
    return (
        f"switched off {len(order)} topic(s) the file does not list: {', '.join(named)}"
        + (f" and {more} more" if more else "")
        + f"; `{command} topics enable SLUG` switches one on again"
    )


@dataclass(frozen=True)
class _Memory:
    """What the state DB remembers of the configured file: slug → entry last applied, for the
    topics (``entries``) and for file topics deleted since (``deleted``)."""

    entries: dict[str, str | None]
    deleted: dict[str, str]


def sync_topics(
    conn: Connection,
    specs: Sequence[TopicSpec],
    now: datetime,
    *,
    explicit: bool = True,
    configured: bool = True,
) -> Applied:
    """Apply a topics file: new topics created, changed entries saved, file topics gone from it
    switched off (not deleted: their feed history is not lost by a typo).

    ``explicit`` (``topics import``): every entry is applied. Otherwise (``run``'s start) an
    entry is applied only when it differs from the one last applied to the topic; a topic
    with none recorded (a DB upgraded from before 0017) has the file's entry recorded and keeps
    its DB version; a file topic deleted in the DB stays deleted while its entry is the one
    last applied. Topics created through the API or CLI and absent from the file are left
    alone. ``configured`` false (``topics import`` of a file other than ``topics.file``): its
    entries are applied and none recorded, so to later starts they are edits made in the DB
    (the configured file's unchanged entries do not win back over them), none is switched off,
    and a topic it creates is the CLI's (origin ``cli``, marked :data:`REMOVED`: not the
    configured file's, which neither a start nor that file's import switch off). Raises
    :class:`BreaksQueries` (its writes are rolled back with the caller's transaction) when it
    would make a query using its topics by ``@slug`` unparsable, and
    :class:`EmptiedTopicsFile`, writing nothing, for the configured file with no topics while
    file topics are on: a 0-byte file (a failed copy, a volume not mounted yet) switched off
    every feed and alert at the next ``run``, one info line its only trace.
    """
    from feedsvc.store.topics import deleted_file_entries, file_entries, list_topics, serialize

    serialize(conn)  # no API edit or delete between this read and the writes
    current = {t.slug: t for t in list_topics(conn)}
    memory = _Memory(file_entries(conn), deleted_file_entries(conn))
    if not specs and configured:  # only the configured file switches topics off
        live = sum(
            1
            for t in current.values()
            if t.origin == "file" and t.enabled and memory.entries.get(t.slug) != REMOVED
        )
        if live:
            raise EmptiedTopicsFile(live)
    applied = Applied()
    for spec in map(normalised, specs):
        _apply_entry(conn, spec, current.get(spec.slug), memory, applied, now, explicit, configured)
    if configured:
        _switch_off_removed(conn, {s.slug for s in specs}, current, memory, applied, now, explicit)
        if applied.switched_off:
            _count_subscriptions(conn, applied.switched_off)
    from feedsvc.query_users import broken_users  # the matcher: only once a file is applied

    before = {t.slug: t.query for t in current.values()}
    after = {t.slug: t.query for t in list_topics(conn)}
    changed = [slug for slug, query in after.items() if before.get(slug) != query]
    broken = broken_users(conn, changed, after, before)
    if broken.topics or broken.chats:
        raise BreaksQueries(broken)  # the caller's transaction rolls the writes back
    return applied


def _apply_entry(
    conn: Connection,
    spec: TopicSpec,
    topic: Topic | None,
    memory: _Memory,
    applied: Applied,
    now: datetime,
    explicit: bool,
    configured: bool,
) -> None:
    """One entry of the file: applied, kept (the DB's version), or kept deleted; recorded as
    the one last applied when ``configured``."""
    from feedsvc.store.topics import save_topic, set_file_entry

    entry = fingerprint(spec)
    last = memory.entries.get(spec.slug) if topic is not None else memory.deleted.get(spec.slug)
    stored = topic.spec if topic is not None else None
    unchanged = _unchanged(last, entry, spec, stored)
    if topic is None and last is not None and not explicit and unchanged:
        applied.kept_deleted.append(spec.slug)  # deleted in the DB, its entry as last applied
        return
    if topic is not None and not explicit and (unchanged or last is None):
        changed = differences(topic.spec, spec)
        if changed:  # the file's entry is the one applied (or adopted): the DB's edits stay
            (applied.adopted if last is None else applied.kept)[spec.slug] = changed
        applied.counts["kept" if changed else "unchanged"] += 1
    else:
        edited = stored is not None and last not in (fingerprint(stored), _digest(stored))
        changed = differences(topic.spec, spec) if topic is not None else []
        if changed and configured and last == REMOVED:  # the file switched it off itself
            applied.relisted[spec.slug] = changed
        elif changed and edited:
            applied.replaced[spec.slug] = changed  # edited in the DB since the last import
        if topic is None and last is not None:
            applied.recreated.append(spec.slug)  # deleted in the DB; created again
        applied.counts[save_topic(conn, spec, "file" if configured else "cli", now)] += 1
    if configured and last != entry:
        set_file_entry(conn, spec.slug, entry)
    elif not configured and topic is None and last is None:
        set_file_entry(conn, spec.slug, REMOVED)  # not the configured file's topic


def _switch_off_removed(
    conn: Connection,
    in_file: set[str],
    current: dict[str, Topic],
    memory: _Memory,
    applied: Applied,
    now: datetime,
    explicit: bool,
) -> None:
    """File topics the configured file no longer lists: switched off once (kept on when no
    entry was recorded, at a start); deletion records of slugs it no longer lists dropped."""
    from feedsvc.store.topics import forget_deleted, set_enabled, set_file_entry

    forget_deleted(conn, set(memory.deleted) - in_file)
    for topic in current.values():
        if topic.origin != "file" or topic.slug in in_file:
            continue
        last = memory.entries.get(topic.slug)
        if last == REMOVED and not explicit:
            continue  # its removal was applied; switched on again since, it stays on
        if last is None and not explicit and topic.enabled:
            applied.kept_on.append(topic.slug)
        elif topic.enabled and set_enabled(conn, topic.slug, False, now):
            applied.counts["disabled"] += 1
            applied.switched_off[topic.slug] = {}
        if last != REMOVED:
            set_file_entry(conn, topic.slug, REMOVED)


def _count_subscriptions(conn: Connection, counts: dict[str, dict[str, int]]) -> None:
    """Fill ``counts`` (slug → channel → subscriptions) for its slugs: whose alerts stop."""
    from feedsvc.store.subscriptions import list_subscriptions

    for sub in list_subscriptions(conn):
        by_channel = counts.get(sub.topic_slug) if sub.topic_slug is not None else None
        if by_channel is not None:
            by_channel[sub.channel] = by_channel.get(sub.channel, 0) + 1
