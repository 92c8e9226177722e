"""What one ingest tick produces and the hooks that run inside or after its transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.store.quarantine import Quarantined

if TYPE_CHECKING:
    from feedsvc.db import Database


@dataclass(frozen=True, slots=True)
class Change:
    """One stored article that is new or has a new version, with its topics before and after."""

    article_id: int
    article: Article
    is_new: bool
    topic_ids: frozenset[int]
    previous_topic_ids: frozenset[int] = frozenset()
    # the version this one replaces (None for a new article): corrections and "matches a topic
    # for the first time" compare against it
    previous: Article | None = None
    #: the source had withdrawn it and now publishes it again (SPEC §10): for the outbox, like
    #: a new article (the one-delivery-per-chat rule still holds)
    revealed: bool = False
    #: stored by a source's first sync (its archive): never alerts (issue 17 §2)
    archive: bool = False
    #: a new key for an article that was public under its row's old key (a CMS row re-keyed,
    #: :mod:`feedsvc.store.rekeyed`): no news, so for the outbox like a new version of it
    carries_on: bool = False

    @property
    def first_shown(self) -> bool:
        """New (not a re-keyed public one), or back from a withdrawal: what may alert (if public
        and fresh). A chat that subscribed after the article went public is not alerted."""
        fresh = (self.is_new and not self.carries_on) or self.revealed
        return fresh and not self.article.withdrawn

    @property
    def affected_topic_ids(self) -> frozenset[int]:
        return self.topic_ids | self.previous_topic_ids


class TransactionHook(Protocol):
    """Runs inside the ingest transaction (e.g. the outbox): commits or rolls back with it."""

    def __call__(self, conn: Connection, changes: Sequence[Change], now: datetime) -> None: ...


@runtime_checkable
class Prepares(Protocol):
    """A transaction hook with work to do *before* each write transaction, outside it (e.g. the
    outbox compiling chats' queries): whatever is slow must not hold the write lock."""

    def prepare(self, db: Database) -> None: ...


AfterCommit = Callable[[Sequence[Change]], None]


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Another process's hold on the ingest lease: ``holder`` as the lease table records it
    (``host:pid:nonce``) and ``words``, the hold said with its times (``ingest.lease.held_by``);
    the send gate logs ``words`` once per ``holder``."""

    holder: str
    words: str


@dataclass
class TickResult:
    """Counts of one tick. The changes themselves are not kept here: a first sync of hundreds
    of thousands of rows would hold every article (~6.6 KB each) until the tick ends; whoever
    needs them (the app, tests) registers an ``after_commit`` callback, called per batch."""

    read: int = 0
    stored: int = 0
    new: int = 0
    updated: int = 0
    skipped: bool = False
    standby: bool = False  # another replica holds the ingest lease
    #: a standby's: who holds the ingest lease and when it lapses (``ingest.lease.held_by``)
    leader: LeaseHolder | None = None
    error: str | None = None
    matches: int = 0  # (article, topic) matches stored, new or replaced
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows skipped this tick (each quarantined: read, parse or store failure)."""
        return len(self.quarantined)


@dataclass(frozen=True, slots=True)
class IngestHealth:
    """This process's view of ingest, readable without the state DB (which may be what is down):
    consecutive failed ticks, which side does not answer (``"source"``, ``"state"`` or None),
    and seconds until the next full try (a probe may end it sooner)."""

    failures: int
    outage: str | None
    retry_in_seconds: float
