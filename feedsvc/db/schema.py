"""feedsvc's own tables (SQLAlchemy Core), the single description the store and migrations share.

Migrations are written by hand in ``migrations/versions``; a test checks that the migrated
database matches this metadata, so the two can never silently drift.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from feedsvc.db import schema_ingest, schema_service  # noqa: F401  (their tables join ``metadata``)
from feedsvc.db.metadata import metadata as metadata

# Re-exported: released migrations import UTCDateTime from here.
from feedsvc.db.types import BigId
from feedsvc.db.types import UTCDateTime as UTCDateTime

# The built-in source (SPEC §3): written only by `feedsvc import` and the demo, read by ingest
# exactly like an external CMS table. `changed_at` is the ingest cursor column.
source_articles = Table(
    "source_articles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_key", String(255), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("body", Text),
    Column("author", Text),
    Column("section", Text),
    Column("tags", JSON),
    Column("image_url", Text),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("changed_at", UTCDateTime, nullable=False),
    # an imported line's `"withdrawn": true` (SPEC §10); read through `visible = "NOT withdrawn"`
    Column("withdrawn", Boolean, nullable=False, default=False, server_default=false()),
    # `source_key` in NFC where that differs, else NULL (`keys.key_nfc`, migration 0041): how a
    # key typed in another Unicode form finds it (`store.article_keys`)
    Column("source_key_nfc", String(765)),  # NFC is at most 3 × as long (migration 0041)
    Index(None, "changed_at", "id"),
    Index(None, "source_key_nfc"),
    Index(None, "published_at"),  # reconciliation reads the recent window by publication time
)

# feedsvc's own copy of every ingested article, so feeds and alerts survive a source outage.
articles = Table(
    "articles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_key", String(255), nullable=False, unique=True),
    Column("version", UTCDateTime, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("body", Text),
    Column("author", Text),
    Column("section", Text),
    Column("tags", JSON, nullable=False),
    Column("image_url", Text),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    # normalised syllable keys (accent-sensitive and folded), for preview/backfill search
    Column("search_text", Text, nullable=False, default=""),
    # where the cursor saw it (cursor instant, source row id), for the overlap window check
    Column("source_cursor", UTCDateTime, nullable=False),
    Column("source_id", String(255)),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_changed_at", UTCDateTime, nullable=False),
    # The lifecycle (SPEC §10; decisions in `feedsvc.lifecycle`). Public = neither set and
    # `published_at <= now` (a future date is "scheduled", decided at read time, no column).
    # Withdrawn by the SOURCE: set/cleared by ingest, import and reconciliation only.
    Column("withdrawn_at", UTCDateTime),
    Column("withdrawn_reason", String(20)),  # source | draft | deleted
    # Hidden by an EDITOR: set/cleared only by `hide`/`unhide`; wins over the source.
    Column("hidden_at", UTCDateTime),
    Column("hidden_reason", Text),
    Column("hidden_by", String(100)),  # cli | api | admin:<user>
    # Hidden while not public (scheduled or withdrawn by the source), kept while hidden: an
    # unhide that makes it public then is its first public moment (`lifecycle.editors`, 0021)
    Column("hidden_unpublic", Boolean, nullable=False, server_default=false()),
    # When the due check (or an unhide) last released it, a scheduled article whose time came
    # (`lifecycle.due`, 0022): at or after its `published_at`, it is not released again (a
    # restart, another replica); a later `published_at` (rescheduled) is released at that time
    Column("released_at", UTCDateTime),
    # `source_key` in NFC where that differs, else NULL (`keys.key_nfc`, migration 0041): the
    # stored key an editor types in another Unicode form (NFC, a keyboard's) is found by it,
    # and ingest finds a new key's lookalikes (`store.article_keys`)
    Column("source_key_nfc", String(765)),  # NFC is at most 3 × as long (migration 0041)
    # A correction stored while it was not public (scheduled ahead, hidden, withdrawn) and
    # alerted before: the edit its sent alerts are owed once it is public again, taken by the
    # follow-up worker's sweep (`store.owed_corrections`, migration 0043); NULL: none owed
    Column("correction_owed_at", UTCDateTime),
    Index(None, "published_at"),
    Index(None, "source_cursor"),
    Index(None, "last_changed_at"),
    # a new key's row id looked up among the held articles: a re-keyed CMS row (0024)
    Index(None, "source_id"),
    # the follow-up worker's sweep: alerts of articles withdrawn/hidden since its last pass
    Index(None, "withdrawn_at"),
    Index(None, "hidden_at"),
    Index(None, "source_key_nfc"),
    Index(None, "correction_owed_at"),  # the sweep's owed corrections: few, looked up often
)

# The archive search index over `articles.search_text` (migration 0002): a PostgreSQL GIN
# expression index, or an SQLite FTS5 table (plus its shadow tables and sync triggers; the same
# shadow tables with `detail=none`, migration 0014). Neither
# can be described by SQLAlchemy metadata, so they are named here and the schema comparison
# skips exactly these objects (see `include_object`).
SEARCH_INDEX_OBJECTS = frozenset({"ix_articles_search_text_tsv", "articles_search"})
_FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config", "_content")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic ``include_object`` hook: ignore the hand-made search index objects (only)."""
    if not reflected or compare_to is not None or name is None:
        return True
    if name in SEARCH_INDEX_OBJECTS:
        return False
    return not (
        type_ == "table"
        and any(name == f"articles_search{suffix}" for suffix in _FTS_SHADOW_SUFFIXES)
    )


topics = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("query", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("origin", String(20), nullable=False, default="api"),  # file | api | cli
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the topics file's entry last applied to this topic (migration 0017): its fingerprint
    # (``topics_sync.fingerprint``), "removed" once its removal from the file was applied (or for
    # a topic another file's import created: not the configured file's), NULL never recorded.
    # A start applies only an entry that differs: edits in the DB are kept.
    Column("file_entry", String(64), nullable=True),
)

# A topic the topics file lists, deleted in the state DB (migration 0020): its slug and the file
# entry last applied to it (``topics.file_entry``, gone with the row). A start keeps it deleted
# while the file's entry is that one; creating the slug again moves the entry back to the row.
deleted_file_topics = Table(
    "deleted_file_topics",
    metadata,
    Column("slug", String(100), primary_key=True),
    Column("file_entry", String(64), nullable=False),
)

# Every topic deleted through the CLI, the API or the admin (migration 0034): its slug and when,
# so its feeds answer 410 Gone — feed readers unsubscribe — while a slug never known stays 404.
# Creating the slug again deletes its row (``store.topics``); switching a topic off writes none.
deleted_topics = Table(
    "deleted_topics",
    metadata,
    Column("slug", String(100), primary_key=True),
    Column("deleted_at", UTCDateTime, nullable=False),
)

# An editor's hide of a key ingest has not stored yet (migration 0023): applied, and deleted,
# by the ingest transaction that inserts the article (`store.pending_hides`), so the article
# arrives hidden; an unhide before that deletes it. Keyed by the trimmed source key.
pending_hides = Table(
    "pending_hides",
    metadata,
    Column("source_key", String(255), primary_key=True),
    Column("reason", Text),
    Column("hidden_by", String(100)),  # cli | api | admin
    Column("hidden_at", UTCDateTime, nullable=False),
    # `source_key` in NFC where that differs, else NULL (migration 0041): the article arriving
    # under a key canonically equivalent to the hide's gets it (`store.article_keys`)
    Column("source_key_nfc", String(765)),  # NFC is at most 3 × as long (migration 0041)
    Index(None, "source_key_nfc"),
)

article_topics = Table(
    "article_topics",
    metadata,
    Column("article_id", BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("terms", JSON, nullable=False),
    Column("matched_at", UTCDateTime, nullable=False),
    Index(None, "topic_id", "article_id"),
)


def _address_of(context: Any) -> str:
    """A Telegram row's address is its chat id as text (the column default, so any insert
    that names only ``chat_id`` keeps the (channel, address) pair true)."""
    return str(context.get_current_parameters()["chat_id"])


# One recipient per row, of any channel (migration 0009, issue 14): ``channel`` telegram | zalo
# | apprise, ``address`` the channel's own id (Telegram: the chat id as text; Zalo: its chat id;
# Apprise: the destination URL, a secret). ``chat_id`` is the key everything else references:
# Telegram's own id for Telegram rows, in [NON_TELEGRAM_IDS, NON_TELEGRAM_END) for the others.
# Pacing and 429 pauses live here so they survive restarts.
chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    # private | group | supergroup | channel (Telegram), private | group (Zalo), destination
    Column("type", String(20), nullable=False),
    Column("channel", String(20), nullable=False, default="telegram", server_default="telegram"),
    Column("address", Text, nullable=False, default=_address_of),
    Column("title", Text),
    Column("paused", Boolean, nullable=False, default=False),  # /pause by the user
    Column("blocked_until", UTCDateTime),  # 429 retry_after
    Column("next_send_at", UTCDateTime),  # pacing
    Column("failures", Integer, nullable=False, default=0),
    Column("disabled_reason", Text),
    Column("link_preview", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    # delivery options (issue 15, feedsvc/digest/settings.py): NULL digest = instant alerts
    Column("digest", String(40)),  # hourly | HH:MM,HH:MM (local, site.timezone)
    Column("quiet", String(11)),  # HH:MM-HH:MM: held, then one digest when it ends
    Column("silent", Boolean, nullable=False, server_default=false()),
    Index(None, "channel", "address", unique=True),
)

# Telegram's Bot API documents ``Chat.id`` as having "at most 52 significant bits" (so |id| <
# 2**52, "a signed 64-bit integer or double-precision float type are safe"). Recipients of other
# channels take chat ids in [NON_TELEGRAM_IDS, NON_TELEGRAM_END): never a Telegram id, and every
# one exact as an IEEE double. From 2**53 up (before 0025) two recipients could be one number to a
# JSON reader that parses numbers as doubles (jq 1.6, JavaScript): 2**53 + 1 reads as 2**53, so a
# script pausing "the chat it just listed" paused another one (tester F9). This constant is the
# one boundary: the Telegram id check (``channels.recipients``) and the allocation
# (``store.subscriptions.ensure_recipient``) both read it.
NON_TELEGRAM_IDS = 2**52
NON_TELEGRAM_END = 2 * NON_TELEGRAM_IDS  # 2**53: from here up, two integers can be one double

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "chat_id",
        BigInteger,
        ForeignKey("chats.chat_id", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    ),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE")),
    Column("query", Text),  # a chat's own query when topic_id is null
    Column("created_at", UTCDateTime, nullable=False),
    # who made it, "<channel>:<user id>" (the bots); NULL: an operator, or made before 0011
    Column("created_by", String(100)),
    Column("thread_id", BigInteger),  # the forum topic thread alerts go to (NULL: the chat)
    UniqueConstraint("chat_id", "topic_id"),
    UniqueConstraint("chat_id", "query"),
    Index("ix_subscriptions_created_by", "created_by"),
    sqlite_autoincrement=True,  # an id never goes to another subscription (migration 0027)
)

# The outbox: one row per (chat, article), whatever number of the chat's topics matched.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "chat_id",
        BigInteger,
        ForeignKey("chats.chat_id", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    ),
    Column("article_id", BigId, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("topics", JSON, nullable=False),  # topic titles/labels listed in the message
    # pending | held (digest) | sending | sent | withdrawn (article no longer public) | failures
    Column("state", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("ambiguous", Integer, nullable=False, default=0),
    Column("plain_text", Boolean, nullable=False, default=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("message_id", BigInteger),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # held for a digest (state ``held`` until ``due_at``): a crashed digest returns to ``held``
    Column("digest", Boolean, nullable=False, server_default=false()),
    Column("notice", String(40)),  # a catalogue key said once above this alert
    # the chat the message (``message_id``) went to, set when it is recorded sent (migration
    # 0028): a group upgraded to a supergroup moves its rows to the new ``chat_id``, but their
    # messages stay in the old group (Telegram's message ids are per chat)
    Column("sent_chat_id", BigInteger),
    # why an unfinished row waits to be tried again (migration 0033; ``store.deliveries.
    # RETRY_KINDS``): the admin says what happened and what comes next, not only "will retry"
    Column("retry_kind", String(20)),
    # a row sent in a digest of several parts whose part 1 was delivered: part 1's message id
    # (in ``sent_chat_id``; migration 0040): the parts of one digest share it, so a part laid
    # out again later keeps its place, ``(1/3)``, and part 1 the digest's count
    Column("digest_head", BigInteger),
    # what the sent message is (migration 0042; ``delivery_states.MESSAGE_KINDS``): ``photo``
    # (a picture with the alert as its caption) or ``text``, from the channel's answer to the
    # send, kept up to date by the follow-ups that edit it (a notice's blank picture makes a
    # photo); NULL: not known (sent before 0042, or a channel that does not say). A retraction
    # guessed it from ``telegram.images`` and the article's image, and a text alert sent
    # after its photo was refused became a grey picture under the notice
    Column("message_kind", String(10)),
    UniqueConstraint("chat_id", "article_id"),
    Index(None, "state", "due_at"),
    Index(None, "article_id"),  # an article's alerts (retraction, correction)
    Index(None, "sent_chat_id", "message_id"),  # one message's deliveries (a digest)
    Index(None, "sent_chat_id", "digest_head"),  # one digest's parts (``digest_parts``)
)

# Follow-ups owed on a SENT alert (SPEC §10, issue 13): ``retract`` (its article was withdrawn or
# hidden: delete the message, or edit it to a notice) or ``correct`` (the article's title or
# summary changed: edit the message). Durable work like the outbox: leased while being done, one
# row per (delivery, kind), re-armed by a later correction or a second withdrawal. ``method`` is
# the next Bot API call (delete | text | caption, ``_plain`` without parse mode; NULL: not yet
# planned); ``outcome`` what finally happened (deleted | edited | unchanged | gone | kept |
# cancelled | failed | unreachable: the message is in a group since upgraded to a supergroup),
# shown in the admin delivery log.
alert_followups = Table(
    "alert_followups",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", BigId, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # retract | correct
    Column("state", String(10), nullable=False),  # pending | working | done
    Column("method", String(20)),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("outcome", String(20)),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("delivery_id", "kind"),
    Index(None, "state", "due_at"),
)
