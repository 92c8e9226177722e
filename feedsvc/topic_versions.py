"""**The one rule for a topic's version as an editor saw it** (`version_of`) and which of its
fields another editor changed since (`changed_since`): the admin's edit form carries it as a
hidden field, the JSON API as a topic's ``version`` (``If-Match`` on ``PUT``), and
:func:`feedsvc.operations.topics.save_topic` refuses a save whose version is not the stored
topic's (``topic_changed_meanwhile``) — a form opened before a colleague switched the topic off
switched it back on, silently.

Why a digest of the fields and not ``topics.updated_at``: that stamp also moves when nothing an
editor sees changed (a backfill's :func:`feedsvc.store.topics.touch`, so each process renders
the feeds again), which would refuse a save for no reason; a digest moves exactly when title,
description, query or enabled do, by whichever path (CLI, API, admin, the topics file at start,
a path added later), with nothing to compare across drivers' timestamp precisions and zones.
One digest per field so the refusal can name the fields that changed. A change undone
meanwhile (switched off, then on again) is no conflict: saving over it undoes nothing.

A new-topic form has a version too (`absent_version`): "no topic yet, as of its opening". A
topic found under the slug it creates that was created since then and holds exactly what the
form sends is that form's own save sent again (Save double-clicked: two POSTs ~30 ms apart;
the second was refused "already exists" and the admin, told the save failed, typed another
slug and made a duplicate), answered as the first was: the same rule as an edit's, where a
field changed meanwhile to what the save sends is no conflict. `absent_since` reads it back.
Pure."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from feedsvc.store.records import TopicSpec

#: The fields a version covers, in the token's order and the order a refusal names them.
FIELDS = ("title", "description", "query", "enabled")
#: ``1`` (this format), a 16-hex-digit digest of title, description and query, enabled 0/1.
_TOKEN = re.compile(r"1-([0-9a-f]{16})-([0-9a-f]{16})-([0-9a-f]{16})-([01])")
#: ``0`` (no topic yet) and the microsecond since the Unix epoch the form was opened at, UTC.
_ABSENT = re.compile(r"0-([0-9]{1,18})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def field_digest(text: str) -> str:
    """16 hex digits of ``text`` (BLAKE2b, 8 bytes): one field's part of a version token (a
    topic's here, a chat's options' in :mod:`feedsvc.digest.versions`)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _parts(spec: TopicSpec) -> tuple[str, str, str, str]:
    return (
        field_digest(spec.title),
        field_digest(spec.description),
        field_digest(spec.query),
        "1" if spec.enabled else "0",
    )


def version_of(spec: TopicSpec) -> str:
    """The version of a stored topic's fields: ASCII, ~55 characters, the same text on every
    backend and process for the same stored fields (``1-…-…-…-1``)."""
    return "-".join(("1", *_parts(spec)))


def readable(version: str) -> bool:
    """Whether ``version`` is one :func:`version_of` gives (an API's ``If-Match`` checked)."""
    return _TOKEN.fullmatch(version.strip()) is not None


def changed_since(version: str, spec: TopicSpec) -> tuple[str, ...] | None:
    """The fields (of :data:`FIELDS`) of the stored ``spec`` that differ from the topic
    ``version`` was taken of; () when none does; None when ``version`` is no version this
    rule gives (empty, cut short, typed by hand)."""
    found = _TOKEN.fullmatch(version.strip())
    if found is None:
        return None
    now = _parts(spec)
    return tuple(f for f, was, is_ in zip(FIELDS, found.groups(), now, strict=True) if was != is_)


def absent_version(now: datetime) -> str:
    """A new-topic form's version: no topic was there as of ``now`` (aware: the state DB's
    clock, ``Database.now``, which also stamps a topic's ``created_at``), to the microsecond
    as ``created_at`` is stored (``0-1767225600123456``)."""
    return f"0-{(now - _EPOCH) // _MICROSECOND}"


def absent_since(version: str) -> datetime | None:
    """The moment :func:`absent_version` wrote into ``version`` (aware UTC), or None when it is
    no such version (empty: a page from before it; an edit form's version; typed by hand; a
    moment no calendar has)."""
    found = _ABSENT.fullmatch(version.strip())
    if found is None:
        return None
    try:
        return _EPOCH + int(found.group(1)) * _MICROSECOND
    except OverflowError:
        return None
