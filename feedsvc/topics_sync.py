"""Applying a topics file to the state DB: ``run``'s import at start and ``topics import``.

After the first import the state DB is the source of truth (README): the CLI, the API and the
admin edit topics there. ``run`` re-read the file at every start and put back the file's
version of every topic it lists, undoing those edits silently. So each topic remembers the
file's entry last applied to it (``topics.file_entry``, a fingerprint), and a start applies an
entry only when it differs from that one: the file changed, so the file wins for that topic,
and when the DB's version had been edited meanwhile that is logged naming the topic. An
explicit ``topics import`` applies the whole file, as documented.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from feedsvc.store.records import TopicSpec

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: ``topics.file_entry`` of a topic whose removal from the file was applied (switched off): a
#: start leaves it alone afterwards (switched on again in the DB, it stays on).
REMOVED = "removed"


def fingerprint(spec: TopicSpec) -> str:
    """The file entry ``spec`` as 64 hex digits (SHA-256 of its fields): equal for equal
    entries, so an unchanged entry is told from a changed one without storing its text."""
    fields = [spec.slug, spec.title, spec.description, spec.query, spec.enabled]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def differences(old: TopicSpec, new: TopicSpec) -> list[str]:
    """The fields (``title``, ``description``, ``query``, ``enabled``) in which they differ."""
    names = ("title", "description", "query", "enabled")
    return [n for n in names if getattr(old, n) != getattr(new, n)]


class EmptiedTopicsFile(Exception):
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
    the file's last import) the file's changed entry replaced; ``kept``: slug → fields in which
    the DB's version differs from the file's unchanged entry, kept; ``adopted``: the same for
    a topic with no entry recorded yet (the first start after migration 0017), whose DB version
    was kept and the file's entry recorded; ``kept_on``: topics gone from the file but switched
    on and with no entry recorded, kept on."""

    counts: dict[str, int] = field(
        default_factory=lambda: (
            dict.fromkeys(("created", "updated", "unchanged", "kept"), 0) | {"disabled": 0}
        )
    )
    replaced: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    adopted: dict[str, list[str]] = field(default_factory=dict)
    kept_on: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``1 created, 0 updated, 3 unchanged, 2 kept (edited in the state DB), 0 disabled``
        (``kept`` only when there are some: an explicit import keeps none)."""
        words = {"kept": "kept (edited in the state DB)"}
        return ", ".join(
            f"{n} {words.get(k, k)}" for k, n in self.counts.items() if n or k != "kept"
        )


def sync_topics(
    conn: Connection, specs: Sequence[TopicSpec], now: datetime, *, explicit: bool = True
) -> Applied:
    """Apply a topics file: new topics created, changed entries saved, file topics gone from it
    switched off (not deleted: their feed history is not lost by a typo).

    ``explicit`` (``topics import``): every entry is applied. Otherwise (``run``'s start) an
    entry is applied only when it differs from the one last applied to the topic; a topic
    with none recorded (a DB upgraded from before 0017) has the file's entry recorded and keeps
    its DB version. Topics created through the API or CLI and absent from the file are left
    alone. Raises :class:`EmptiedTopicsFile`, writing nothing, for a file with no topics while
    file topics are on: a 0-byte file (a failed copy, a volume not mounted yet) switched off
    every feed and alert at the next ``run``, one info line its only trace.
    """
    from feedsvc.store.topics import (
        file_entries,
        list_topics,
        save_topic,
        set_enabled,
        set_file_entry,
    )

    current = {t.slug: t for t in list_topics(conn)}
    entries = file_entries(conn)
    if not specs:
        live = sum(
            1
            for t in current.values()
            if t.origin == "file" and t.enabled and entries.get(t.slug) != REMOVED
        )
        if live:
            raise EmptiedTopicsFile(live)
    applied = Applied()
    for spec in specs:
        entry = fingerprint(spec)
        topic = current.get(spec.slug)
        last = entries.get(spec.slug)
        if topic is not None and not explicit and (last == entry or last is None):
            changed = differences(topic.spec, spec)
            if changed:  # the file's entry is the one applied (or adopted): the DB's edits stay
                (applied.adopted if last is None else applied.kept)[spec.slug] = changed
            applied.counts["kept" if changed else "unchanged"] += 1
        else:
            edited = topic is not None and fingerprint(topic.spec) != last
            if topic is not None and edited and (changed := differences(topic.spec, spec)):
                applied.replaced[spec.slug] = changed  # edited in the DB since the last import
            applied.counts[save_topic(conn, spec, "file", now)] += 1
        if last != entry:
            set_file_entry(conn, spec.slug, entry)
    in_file = {s.slug for s in specs}
    for topic in current.values():
        if topic.origin != "file" or topic.slug in in_file:
            continue
        last = entries.get(topic.slug)
        if last == REMOVED and not explicit:
            continue  # its removal was applied; switched on again since, it stays on
        if last is None and not explicit and topic.enabled:
            applied.kept_on.append(topic.slug)
        elif topic.enabled and set_enabled(conn, topic.slug, False, now):
            applied.counts["disabled"] += 1
        if last != REMOVED:
            set_file_entry(conn, topic.slug, REMOVED)
    return applied
