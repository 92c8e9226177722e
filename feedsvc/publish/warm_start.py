"""A restart serves the stored feed snapshots at once and renders first only what changed.

Why: every start rendered every topic's feeds and pages before HTTP served (8–11 s at 5,000
topics on a quiet 2-core machine, 40–110 s under load: ``bench/startup_render.py``), so each
deploy or restart left feed readers waiting or timing out. The stored snapshots are the bytes
the last process served, and serving them again is right unless something they show changed.
What can change, and what is done about each, before HTTP serves (*urgent* topics):

* **a takedown** (withdrawn, hidden; or scheduled again): found in the stored bytes, whatever
  the clocks and match rows say (:mod:`.takedowns`): a topic whose stored feed lists an article
  not public now, and the index page likewise, are urgent. A takedown is never served;
* an article written (an edit, a new article) or a scheduled article's time coming after the
  watermark (``rendered_through`` less :data:`OVERLAP`, for a write committed a little after the
  moment it records): its topics are urgent, and so are the topics whose stored feed lists
  it (an edit that took the article out of a topic took that match row with it: only the
  bytes still name the topic, :mod:`.takedowns`);
* a topic edited (title, query, enabled) after both its snapshots and the watermark: urgent;
* a topic without all its snapshots (new, or a render stopped midway): urgent;
* no trustworthy watermark: none (a new database, one from before migration 0015, or a full
  render that did not finish: it is dropped as one starts), other settings or another feedsvc
  version (the :func:`fingerprint`), or one dated after now (a clock moved back): every topic;
* topics added, removed or edited since the index page: the :func:`topics_digest` differs, so
  the index page is rebuilt first; any urgent topic rebuilds it too.

Whatever else a render reads (a template changed without a version change; the bot's
@username, learnt after start) is caught by rendering every adopted topic again in the
background, a few at a time (:data:`VERIFY_BATCH`, by the feeds-sync job).

The watermark is written by the feeds-sync job (:class:`RenderedThrough`) once every change
before that sync's start is rendered: the background pass done, no catch-up marks or failed
renders pending (:mod:`feedsvc.stale`), no ingest render in flight, no render stopped midway.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import feedsvc
from feedsvc.channel_modes import zalo_link
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.store.lifecycle import changed_keys, topics_changed, unpublic_articles
from feedsvc.store.records import Topic
from feedsvc.store.snapshots import (
    StoredSnapshot,
    StoredWatermark,
    get_snapshots,
    get_watermark,
    put_watermark,
    snapshot_times,
)
from feedsvc.store.topics import list_topics
from feedsvc.touched import LIFECYCLE_OVERLAP

from .takedowns import Sought, showing_each

log = logging.getLogger(__name__)

#: Writes commit a little after the moment they record (``last_changed_at``): the feeds-sync
#: job's look-back (:mod:`feedsvc.touched`) is the margin here too.
OVERLAP = LIFECYCLE_OVERLAP
#: Topics rendered per lock hold in the background pass (~2 ms each): the ingest thread's
#: renders wait at most that long for it.
VERIFY_BATCH = 50
#: The background pass's time per feeds-sync run (seconds): 5,000 topics in about a minute.
VERIFY_SECONDS = 1.0
#: The watermark is written at most this often (seconds): a restart looks back that much more.
WRITE_EVERY = 60.0


def fingerprint(settings: Settings) -> str:
    """A digest of what every render reads besides the data: feedsvc's version, the site
    section, the public URL, the WebSub hub, the bot's configured @username and the Zalo link
    the pages show (only when they show one: a deployment without it keeps its digest) (hex
    SHA-256)."""
    parts = {
        "version": feedsvc.__version__,
        "site": settings.site.model_dump(mode="json"),
        "public_url": settings.http.public_url,
        "hub": settings.http.websub_hub,
        "bot": settings.telegram.username,
    }
    if (zalo := zalo_link(settings)) is not None:
        parts["zalo"] = zalo
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def topics_digest(topics: Iterable[Topic]) -> str:
    """A digest of the topic list the index page and OPML show (slug, version, enabled)."""
    h = hashlib.sha256()
    for t in sorted(topics, key=lambda t: t.slug):
        h.update(f"{t.slug}\0{t.updated_at.isoformat()}\0{t.enabled}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class StartPlan:
    """What a restart renders before serving (``urgent``, the index page if ``index``) and
    what it serves from storage and renders again in the background (``adopted``)."""

    urgent: frozenset[str]
    index: bool
    adopted: frozenset[str]
    reason: str  # for the log: why everything is urgent, or "" when only changes are
    takedowns: int = 0  # urgent topics whose stored feed shows an article not public now

    def describe(self) -> str:
        """The start-up log line (a long render first is not a silent wait)."""
        count = len(self.urgent) + len(self.adopted)
        if self.reason:
            return f"rendering the feeds and pages of {count} topics ({self.reason})…"
        first = f"the {len(self.urgent)} changed since stored" if self.urgent else ""
        if self.takedowns:
            first += f", {self.takedowns} of them showing an article taken down since"
        if self.index:
            first += (", then " if first else "") + "the index page"
        # It said "rendering 240 changed since first, then the index page first); all are
        # rendered again in the background" when all 240 were rendered before serving.
        rest = f"the other {len(self.adopted)}" if self.urgent else "all"
        after = f"; {rest} are rendered again in the background" if self.adopted else ""
        return (
            f"serving the stored feeds and pages of {count} topics "
            f"({f'first rendering {first}' if first else 'none changed'}){after}"
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a restart knows besides the topics: ``stored``, slug → (formats stored, their
    oldest ``rendered_at``); ``mark``, the watermark; ``changed``, ids of topics with an article
    written or due since ``mark.rendered_through - OVERLAP``; ``showing``, slugs whose stored
    feed lists an article not public now, and ``index_showing``, the index page likewise
    (:mod:`.takedowns`); ``started``, now; ``listing``, slugs whose stored feed lists an
    article written or due since ``mark.rendered_through - OVERLAP``."""

    stored: Mapping[str, tuple[frozenset[str], datetime]]
    mark: StoredWatermark | None
    changed: AbstractSet[int]
    showing: AbstractSet[str]
    index_showing: bool
    started: datetime
    listing: AbstractSet[str] = frozenset()


def _full_reason(mark: StoredWatermark | None, settings_print: str, started: datetime) -> str:
    if mark is None:
        return (
            "nothing records what the stored renders show: a new database, an upgrade, a full "
            "render that did not finish, or an unreadable record"
        )
    if mark.fingerprint != settings_print:
        return "the settings or the feedsvc version changed"
    if mark.rendered_through > started:
        return "the stored renders are dated after now: the clock moved back"
    return ""


def plan_start(
    topics: Mapping[str, Topic],
    seen: Evidence,
    *,
    formats: frozenset[str],
    settings_print: str,
    index_slug: str,
) -> StartPlan:
    """Decide a restart's renders (see the module doc). A topic's definition is shown by its
    stored renders when it was edited before their ``rendered_at`` (moved only when the bytes
    changed) or before the watermark (every topic edit before it was rendered). Pure."""
    everything = frozenset(topics)
    mark = seen.mark
    reason = _full_reason(mark, settings_print, seen.started)
    if reason or mark is None:
        return StartPlan(everything, True, frozenset(), reason)
    urgent = set(seen.showing) & everything
    takedowns = len(urgent)
    for slug, topic in topics.items():
        formats_at = seen.stored.get(slug)
        if (
            formats_at is None
            or not formats <= formats_at[0]
            or topic.updated_at > max(formats_at[1], mark.rendered_through) - OVERLAP
            or topic.id in seen.changed
            or slug in seen.listing
        ):
            urgent.add(slug)
    index = (
        bool(urgent)
        or seen.index_showing
        or index_slug not in seen.stored
        or mark.topics_digest != topics_digest(topics.values())
    )
    return StartPlan(frozenset(urgent), index, everything - urgent, "", takedowns)


class RenderedThrough:
    """The moment by which every change is rendered here: the feeds-sync job's start, held
    back by the ingest renders in flight (committed, not yet rendered or marked stale).
    Thread-safe: the ingest thread calls :meth:`begin`/:meth:`end`, the sync job the rest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flight: dict[int, datetime] = {}
        self._ids = itertools.count()
        self.written: datetime | None = None  # the last watermark written here

    def begin(self, now: datetime) -> int:
        """An ingest render starts for changes committed by ``now``; its token for :meth:`end`."""
        with self._lock:
            token = next(self._ids)
            self._flight[token] = now
            return token

    def end(self, token: int) -> None:
        with self._lock:
            self._flight.pop(token, None)

    def through(self, sync_started: datetime) -> datetime:
        """What a sync that started at ``sync_started`` and rendered everything pending may
        write as ``rendered_through``: a render in flight began after its changes committed,
        which is up to :data:`OVERLAP` after the moment they record."""
        with self._lock:
            return min([sync_started, *(at - OVERLAP for at in self._flight.values())])

    def due(self, at: datetime) -> bool:
        """Time to write the watermark again (:data:`WRITE_EVERY`)."""
        return self.written is None or (at - self.written).total_seconds() >= WRITE_EVERY

    def write(
        self, db: Database, sync_started: datetime, settings_print: str, topics: Iterable[Topic]
    ) -> None:
        """Write the watermark, if :meth:`due`, for a sync that started at ``sync_started``
        and rendered everything pending; the index page shows ``topics``. Raises the
        database's errors (the next sync tries again)."""
        if not self.due(sync_started):
            return
        mark = StoredWatermark(self.through(sync_started), settings_print, topics_digest(topics))
        with db.write() as conn:
            put_watermark(conn, mark)
        self.written = sync_started


class Verification:
    """The background pass after a restart: the topics served from storage (``pending``,
    sorted) and the index page (``index``), rendered again a batch at a time. Used by the
    feeds-sync job's thread (and the first sync before it starts); a failed render in any
    thread sets ``index`` (a bool: the index page's step may have been the one that failed)."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.index = False
        self._restarted = False  # a restart's pass is under way (its end is logged)

    def start(self, slugs: Iterable[str], *, index: bool) -> None:
        self.pending, self.index = sorted(slugs), index
        self._restarted = bool(self.pending) or index

    @property
    def done(self) -> bool:
        """Nothing served from storage is left to render again."""
        return not self.pending and not self.index

    def run(self, render: Callable[[list[str]], None], stopping: threading.Event) -> None:
        """Render :data:`VERIFY_BATCH` pending topics at a time (at least one batch, then
        until :data:`VERIFY_SECONDS` have passed), then the index page (``render([])``) once
        no topic is left; stops between batches once ``stopping`` is set."""
        deadline = time.monotonic() + VERIFY_SECONDS
        while self.pending:
            if stopping.is_set():
                return
            batch = self.pending[:VERIFY_BATCH]
            render(batch)
            del self.pending[: len(batch)]
            if time.monotonic() >= deadline:
                return
        if self.index and not stopping.is_set():
            self.index = False
            render([])
        if self._restarted and self.done:
            self._restarted = False
            log.info("the feeds and pages served from storage at the start are all rendered again")


@dataclass(frozen=True, slots=True)
class Stored:
    """What a restart reads: every stored snapshot, the topics, and the plan over them."""

    snapshots: list[StoredSnapshot]
    topics: dict[str, Topic]
    plan: StartPlan
    mark: StoredWatermark | None


def read_stored(
    db: Database, started: datetime, settings: Settings, formats: frozenset[str], index_slug: str
) -> Stored:
    """Read the stored snapshots and plan the restart's renders (:func:`plan_start`). The
    watermark is read first: whatever was rendered after it is in the snapshots read after.
    Raises the database's errors; a watermark that cannot be read counts as none."""
    with db.read() as conn:
        try:
            mark = get_watermark(conn)
        except (ValueError, TypeError) as exc:  # edited by hand: render everything
            log.warning("feed watermark unreadable (%s): every topic is rendered", exc)
            mark = None
        snapshots = get_snapshots(conn)
        times = snapshot_times(conn)
        topics = {t.slug: t for t in list_topics(conn)}
        since = None if mark is None else mark.rendered_through - OVERLAP
        changed = set() if since is None else topics_changed(conn, since, started)
        written = [] if since is None else changed_keys(conn, since, started)
        unpublic = unpublic_articles(conn, started)
    site = settings.site.url
    (showing_slugs, index_showing), (listing, index_listing) = showing_each(
        snapshots, [Sought.of(unpublic, site), Sought.of(written, site)], index_slug
    )
    seen = Evidence(
        times, mark, changed, showing_slugs, index_showing or index_listing, started, listing
    )
    plan = plan_start(
        topics, seen, formats=formats, settings_print=fingerprint(settings), index_slug=index_slug
    )
    return Stored(snapshots, topics, plan, mark)
