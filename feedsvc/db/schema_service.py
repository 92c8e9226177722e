"""The service's own bookkeeping tables: rendered snapshots and what they are known to show,
the due check's watermark, feed poll counts, leases, Zalo updates acted on, the shared send
budget, ended admin sessions and the channels this DB has run with a bot token.

Why apart from :mod:`feedsvc.db.schema`: these hold no newsroom data (articles, topics,
recipients, the outbox); each is owned by one ``feedsvc.store`` module. They join the one
``metadata`` (:mod:`feedsvc.db.metadata`), which :mod:`feedsvc.db.schema` gathers whole.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, Index, LargeBinary, String, Table

from feedsvc.db.metadata import metadata
from feedsvc.db.types import UTCDateTime

feed_snapshots = Table(
    "feed_snapshots",
    metadata,
    Column("topic_slug", String(100), primary_key=True),
    Column("format", String(10), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("etag", String(100), nullable=False),
    Column("last_modified", UTCDateTime, nullable=False),
    Column("rendered_at", UTCDateTime, nullable=False),
)

# What the stored snapshots are known to show (migration 0015): a restart renders before
# serving only what changed after ``rendered_through`` (``feedsvc.warm_start``).
feed_watermark = Table(
    "feed_watermark",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("rendered_through", UTCDateTime, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("topics_digest", String(64), nullable=False),
)

# Where the due check (``lifecycle.due``) has looked through (migration 0018): the end of its
# last committed run, one row. A restart's first run starts there, not a day back: it released
# again every scheduled article of that day (harmless for alerts, but logged and re-rendered).
due_watermark = Table(
    "due_watermark",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("checked_through", UTCDateTime, nullable=False),
)

# Feed polls per topic and local day (site.timezone), counted in memory on the serving path and
# added here by each replica every minute: never a write per request.
feed_polls = Table(
    "feed_polls",
    metadata,
    Column("day", Date, primary_key=True),
    Column("topic_slug", String(100), primary_key=True),
    Column("polls", BigInteger, nullable=False, default=0),
)

# Named leases (ingest leader, bot poller) for replicas sharing one state DB.
leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Zalo updates already acted on, by chat and message id: a webhook retry, a replay, the same update
# through long polling, or a copy at another replica finds its key here and does nothing
# (channels.zalo.bot). Keys go after store.zalo_updates.KEEP (longer than the age past which an
# update is never acted on anyway).
zalo_updates = Table(
    "zalo_updates",
    metadata,
    Column("chat", String(100), primary_key=True),  # the Zalo chat id (channels' address)
    Column("update_key", String(100), primary_key=True),  # message_id, or a digest (see there)
    Column("seen_at", UTCDateTime, nullable=False),
    Index(None, "seen_at"),
)

# Shared send budget (token bucket) across replicas.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Admin sessions ended before their expiry (logout): checked on every admin request, so a
# logout holds across restarts and on every replica. Rows are dropped once the session would
# have expired anyway.
revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# The channels a process has started with a bot token on this state DB (migration 0036): a
# start without that token afterwards is a configuration lost (a template's variable, a secret
# file not mounted), not a new install: the channel's alerts wait for it (``channel_modes``
# ``waiting``) instead of going to the console (Telegram) or ending as failed (Zalo).
channel_tokens = Table(
    "channel_tokens",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("first_at", UTCDateTime, nullable=False),  # the first start with a token seen
    Column("last_at", UTCDateTime, nullable=False),  # the latest
)

# When a channel last refused the token each process gave it (migration 0038; one row per
# channel and process since 0039): getMe at start and every minute, a send refused
# (``channels.tokens.TokenWatch``); the process's own row goes when its token is accepted
# (``channel_tokens``), a stopped process's ages out. Every process on the DB reads a fresh one
# as ``refused`` (``channel_modes.shown_modes``), whatever the queue holds, and status names
# the process and its token's fingerprint (never the token).
channel_refusals = Table(
    "channel_refusals",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("holder", String(100), primary_key=True),  # store.leases.this_process; "": unknown
    Column("token", String(16)),  # channel_modes.token_fingerprint of its token; NULL: unknown
    Column("first_at", UTCDateTime, nullable=False),  # the first refusal of this run of them
    Column("last_at", UTCDateTime, nullable=False),  # the latest
)
