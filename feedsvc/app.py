"""Composition root: builds every component from the settings (what a service is built of,
:mod:`feedsvc.service_parts`, the :class:`Service`'s base) and owns start-up/shutdown order.

Start: migrate → import topics file → build the matcher → scheduler (ingest, snapshots,
dispatch) → bot; dispatch starts after the first look at the source when alerts were owed
from before the start (:mod:`feedsvc.send_gate`: a takedown made while the service was down is
read before anything is sent; bounded; wired by :mod:`feedsvc.send_start`). Stop is the reverse,
and lets in-flight work finish first. The HTTP server's lifespan drives both, so SIGTERM to
uvicorn runs the whole sequence. How the service is served (the HTTP app, uvicorn, signals) is
:mod:`feedsvc.server`; the engines, the article source and the ingestor, :mod:`feedsvc.engines`;
the ingest leader's due check, draft re-check and reconciliation, :mod:`feedsvc.leader_checks`;
a tick's metrics, :func:`feedsvc.metrics.record_tick`.

Replicas (PostgreSQL state DB): every replica runs the ingest job, but only the holder of the
``ingest`` lease does the work (:class:`feedsvc.ingest.IngestLease`); an ingest commit that
queued deliveries NOTIFYs, and every replica's :class:`feedsvc.wakeups.WakeListener` wakes its
dispatcher (which still polls every second). On SQLite none of this is wired: one process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress

from feedsvc import heap_trim, metrics
from feedsvc.channels.tokens import settle_modes
from feedsvc.config import advice
from feedsvc.config.placeholders import placeholder_warnings
from feedsvc.db.outage import say_held_ends
from feedsvc.db.revision import ensure_schema
from feedsvc.db.served_claim import claim_served
from feedsvc.ingest import WAKE_CHANNEL, TickResult
from feedsvc.listen import ListenError, Listeners, listen_sockets
from feedsvc.roles import Roles, describe_roles
from feedsvc.scheduler import abandoned
from feedsvc.send_gate import leader_looked
from feedsvc.server import (
    GIL_SWITCH_SECONDS,
    create_app,
    learn_bot_username,
    serve,
    uvicorn_config,
)
from feedsvc.service_parts import ServiceParts
from feedsvc.shutdown import SHUTDOWN_SECONDS, bounded
from feedsvc.stats.polls import FLUSH_SECONDS, store_polls
from feedsvc.store.cursors import get_cursor
from feedsvc.topics_at_start import import_at_start
from feedsvc.wakeups import WakeListener

#: the serving half lives in :mod:`feedsvc.server`; its names stay importable from here
__all__ = [
    "FEEDS_SYNC_SECONDS",
    "GIL_SWITCH_SECONDS",
    "ListenError",
    "Listeners",
    "Roles",
    "Service",
    "create_app",
    "learn_bot_username",
    "listen_sockets",
    "serve",
    "uvicorn_config",
]

log = logging.getLogger(__name__)

FEEDS_SYNC_SECONDS = 5.0


class Service(ServiceParts):
    def prepare(self) -> None:
        """Blocking start-up work: schema, topics file, matcher. Runs once per Service (the
        demo prepares before serving; ``start`` then does not repeat it)."""
        if self._prepared:
            return
        self._prepared = True
        ensure_schema(self.db)  # a migration is one transaction: not cut, a signal waits
        # the file it opened, claimed while it serves it: commands refuse another put there
        self._claim = claim_served(self.db.same_file, scheduler=self.roles.scheduler)
        self.channel_modes = settle_modes(self.db, self.settings, dispatching=self.roles.scheduler)
        if self.settings.topics.import_on_start and not self.interrupted:
            import_at_start(self.db, self.settings.topics)
        if self.interrupted:  # a signal during start-up: stop() follows
            return
        with self.db.read() as conn:
            self.index.refresh(conn)
        if not self.interrupted:
            self._first_render()

    def _first_render(self) -> None:
        """The first sync before the service starts: the stored feeds and pages are served,
        what changed since they were rendered is rendered first (every topic on a new DB or
        after a settings change: tens of seconds at thousands of topics; the publisher logs
        which, :mod:`feedsvc.warm_start`), and :meth:`interrupt` ends it between topics."""
        t0 = time.monotonic()
        self.publisher.sync()
        took = time.monotonic() - t0
        if self.interrupted:
            log.info("rendering stopped after %.1f s (stopping); the next start renders", took)
        else:
            log.info("feeds and pages ready in %.1f s", took)

    def reconcile(self) -> str:
        """One reconciliation pass on the ingest leader (:meth:`LeaderChecks.reconcile`);
        returns what happened, in words (the send gate's log line)."""
        if self._standby or self.leader is None:  # no tick yet: standby
            return "reconciliation is the ingest leader's"
        return self.leader.reconcile()

    def ingest_tick(self) -> TickResult:
        result = self.ingestor.tick()
        self._standby = result.standby
        self.publisher.render_stale()  # a catch-up ended: its feeds, now
        leading = not (result.standby or result.skipped or self.interrupted)
        if leading and self.leader is not None:  # drafts published by status, due articles
            self.leader.after_tick(ingested=result.error is None)
        # while sending waits: a first reconciliation pass now, not in 5 minutes
        self.send_gate.after_tick(result, self.interrupted, self._leader_looked, self.reconcile)
        metrics.record_tick(result)
        for callback in self.on_tick:
            callback(result)
        heap_trim.settle()  # the tick's batches and renders are dropped now
        if result.stored or result.rejected:
            log.info(
                "ingest: %d new, %d updated, %d quarantined",
                result.new,
                result.updated,
                result.rejected,
            )
        return result

    def _leader_looked(self) -> bool:
        """A standby's check: has the ingest leader read the source since this start?"""
        with self.db.read() as conn:
            cursor = get_cursor(conn, self.ingestor.source.name)
        return self.started_at is not None and leader_looked(cursor, self.started_at)

    async def start(self) -> None:
        """Prepare, then start the roles' work; after :meth:`interrupt` (a signal during the
        preparation) nothing more starts: :meth:`stop` follows."""
        self._loop = asyncio.get_running_loop()
        for warning in advice(self.settings, placeholders=False):
            log.warning("%s", warning)
        await asyncio.to_thread(self.prepare)
        if self.interrupted:
            return
        if self.warn_placeholders:  # once the start is sure: a refused start says one line
            for warning in placeholder_warnings(self.settings):
                log.warning("%s", warning)
        self.started_at = self.db.now()
        if self.roles.scheduler:
            catching_up = lambda: bool(self._ingestor and self._ingestor.catching_up)  # noqa: E731
            await self.send_start.begin(self.send_gate, catching_up, lambda: self.interrupted)
            if self.db.dialect == "postgresql":
                loop = self._loop
                self._wake_listener = WakeListener(
                    self.db.url,
                    WAKE_CHANNEL,
                    lambda: loop.call_soon_threadsafe(self.wake_dispatchers),
                    self.settings.database.timeouts(),
                )
                self._wake_listener.start()

            async def ingest() -> None:
                await asyncio.to_thread(self.ingest_tick)

            self.jobs.every(
                "ingest",
                self.settings.source.poll_seconds,
                ingest,
                progress=lambda: self._ingestor and self._ingestor.batches_committed,
            )

            async def reconcile() -> None:
                await asyncio.to_thread(self.reconcile)

            self.jobs.every(
                "reconcile", self.settings.source.reconcile_seconds, reconcile, start_now=False
            )
        elif self.roles.bot:  # the bots' tokens recorded as a dispatcher's are, refused too
            await self.send_start.watch_tokens()

        def sync_feeds() -> None:
            self.publisher.sync()
            heap_trim.settle()  # the render's articles are dropped now

        async def feeds_sync() -> None:  # topic edits, and other replicas' renders
            await asyncio.to_thread(sync_feeds)

        self.jobs.every("feeds-sync", FEEDS_SYNC_SECONDS, feeds_sync, start_now=False)
        if self.roles.http:
            self.jobs.every("feed-polls", FLUSH_SECONDS, self.flush_polls, start_now=False)
        self.jobs.start()
        token = self.settings.telegram_token()
        if self.roles.http and token:  # telegram.username set too: is it the token's bot?
            self._username_task = asyncio.create_task(
                learn_bot_username(self, token), name="bot-username"
            )
        if self.interrupted:  # a signal while the roles started: the bots start no more
            return
        if self.roles.bot and self.settings.telegram_token():
            self.bot = self.telegram_bot()
            await self.bot.start()
        if self.roles.bot and self.settings.zalo_token() and not self.interrupted:
            self.zalo = self.zalo_bot()
            await self.zalo.start()
        log.info("feedsvc started: %s", self.describe_roles())

    def describe_roles(self) -> str:
        modes = self.channel_modes
        return describe_roles(self.settings, self.roles, bot_running=self.bot is not None,
                              telegram=modes["telegram"], zalo=modes["zalo"],
                              listening=self.listening)  # fmt: skip

    def topic_changed(self, slug: str) -> None:
        """A topic saved, enabled, disabled or deleted by the admin or the API (off the loop):
        its feeds, pages and the matcher see it now, not at the next sync (the API answered a
        new topic's feed URLs, which were 404 for 3-5 s)."""
        self.publisher.refresh([slug])
        with self.web_db.read() as conn:
            self.index.refresh(conn)

    async def flush_polls(self) -> None:
        """Add the feed polls counted in memory to ``feed_polls`` (taken on the loop, where
        they are counted; written off it). A failed write keeps them for the next flush."""
        counts = self.publisher.polls.take()
        if not counts:
            return
        try:
            await asyncio.to_thread(store_polls, self.db, self.settings.tz, counts, self.db.now())
        except Exception:
            self.publisher.polls.give_back(counts)
            raise

    def interrupt(self) -> None:
        """SIGTERM/SIGINT: ask long work to end at its next step, now rather than when
        :meth:`stop` gets to it: a catch-up after its current batch (committed), a render pass
        (the start-up's, a feeds sync's, the end of an ingest tick's) at its next article.
        Safe to call more than once, and from a signal handler (which also arms the exit
        guard: :func:`feedsvc.server.serve`)."""
        self.interrupted = True
        if self._ingestor is not None:
            self._ingestor.request_stop()
        self.publisher.stop()
        if self._loop is not None:  # a bot's start under way ends now, none begins to poll
            with suppress(RuntimeError):  # the loop closed: nothing runs any more
                self._loop.call_soon_threadsafe(self._interrupt_bots)

    def _interrupt_bots(self) -> None:
        """On the event loop: each bot's start-up is cut short (:meth:`interrupt`)."""
        for bot in (self.bot, self.zalo):
            if bot is not None:
                bot.interrupt()

    def _connecting_only(self) -> bool:
        """Whether the ingest tick's own thread is waiting in a connect to the CMS
        (:mod:`feedsvc.source.connects`): no row read, no transaction of ours open."""
        watch = None if self._source is None else self._source.connects
        tick = None if self._ingestor is None else self._ingestor.tick_thread
        return watch is not None and watch.under_way(tick)

    async def _stop_bots(self, share: float) -> bool:
        """Stop both bots side by side, each fitting its steps in ``share`` seconds (less a
        tick: :mod:`feedsvc.bot.stopping`, :meth:`ZaloService.stop`); False when one was
        abandoned. One after the other, the Zalo bot got what the Telegram bot's stop left of
        the share: a tick, when a slow Bot API took the Telegram bot's whole share."""
        stops = []
        if self.bot is not None:
            stops.append(bounded(self.bot.stop(within=share - 0.1), share, "bot"))
        if self.zalo is not None:
            stops.append(bounded(self.zalo.stop(within=share - 0.1), share, "zalo bot"))
        return all(await asyncio.gather(*stops))

    async def stop(self) -> None:
        """Stop everything, in reverse order, within the shutdown budget (feedsvc.shutdown):
        each step gets what is left of it, and work still blocked after its share (e.g. in
        a driver on a dead connection) is abandoned, never waited for (then the exit is 1)."""
        log.info("feedsvc stopping")
        self.interrupt()
        self.send_gate.abandon()  # dispatch not started yet: it never starts
        guard = self.exit_guard
        end = asyncio.get_running_loop().time() + guard.remaining(SHUTDOWN_SECONDS)

        def left(keep: float = 0.5) -> float:  # seconds for the next step, ``keep`` in hand
            return max(0.1, end - asyncio.get_running_loop().time() - keep)

        if self._username_task is not None:
            self._username_task.cancel()
        orderly = await self._stop_bots(left(3.0))
        stuck = await self.jobs.stop(timeout=left(2.0))
        guard.left_behind = stuck == ["ingest"] and self._connecting_only()
        if guard.left_behind:
            log.info(
                "ingest: the tick still waiting to connect to the source (source.url, at most "
                "source.connect_timeout = %g s) is left behind: it holds nothing, nothing is lost",
                self.settings.source.connect_timeout,
            )
        else:
            abandoned(stuck)
            if "ingest" in stuck and self._ingestor is not None and self._ingestor.batch_open:
                log.warning(
                    # the tick may be stuck connecting, before any batch was read (a tester's)
                    "ingest: the tick under way (a wait on the source or the state DB, or a "
                    "batch of up to source.batch_size = %d rows) did not finish in time: "
                    "abandoned uncommitted; the next start reads it again",
                    self.settings.source.batch_size,
                )
        orderly &= not stuck or guard.left_behind
        if self._ingestor is not None:  # after the last tick, before the engines go
            close = asyncio.to_thread(self._ingestor.close)
            orderly &= await bounded(close, left(1.5), "match workers")
        try:
            await asyncio.wait_for(self.flush_polls(), timeout=min(1.0, left(2.0)))
        except Exception as exc:
            log.warning("feed poll counts not saved: %r", exc)
        if self._wake_listener is not None:
            self._wake_listener.stop(timeout=0)  # a daemon thread: it ends on its own
        if self._ingestor is not None and self._ingestor.lease is not None:
            try:  # a standby takes over now rather than after the lease expires
                release = asyncio.to_thread(self._ingestor.lease.release, self.db)
                await asyncio.wait_for(release, timeout=min(1.0, left(1.5)))
            except Exception as exc:
                log.warning("could not release the ingest lease (it will expire): %r", exc)
        orderly &= await self.send_start.stop(left)  # a start under way, then in-flight sends
        if self._source is not None and self.settings.source.url:
            self._source.dispose()  # the CMS engine (the built-in source shares self.db's)
        for callback in self.on_stop:
            callback()
        self.close()
        say_held_ends()  # the last word on a flapping outage is its end, not its start
        guard.stopped = orderly
        log.info("feedsvc stopped" if orderly else "feedsvc stopped, work abandoned")
