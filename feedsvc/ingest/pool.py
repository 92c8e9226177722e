"""Worker processes that normalise and match ingest batches on the other cores (issue 17 §2).

At thousands of topics, normalising and matching an article costs more CPU than storing it, and
threads cannot share it out (the GIL). A :class:`MatchPool` keeps ``workers`` processes
(``spawn``: the service has threads, so ``fork`` is unsafe), each running
:func:`feedsvc.matching.worker.serve` with its own :class:`~feedsvc.matching.TopicMatcher`. A
batch is cut into one contiguous part per worker; a worker is sent the topics' queries only when
it does not hold their version yet (after start or a topics edit), and answers ``None`` when it
lacks them anyway, so the spec is then sent again.

Failure policy: whatever goes wrong (a worker that died or was killed, a message that does not
pickle, the pool closing under a request) raises :class:`PoolError` for that call; the caller
matches the batch in-process, so no row is lost or skipped. The broken worker is replaced at the
next call. :meth:`MatchPool.close` never waits more than about a second (a worker that does
not stop when asked is killed); a pool dropped without :meth:`~MatchPool.close` (or a parent
that died) closes its pipe ends, and a worker ends when it reads end-of-file.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess

from feedsvc.articles import Article
from feedsvc.matching.worker import ArticleText, Matched, MatcherSpec, serve
from feedsvc.topic_index import ArticleMatch, TopicIndex, article_text

log = logging.getLogger(__name__)

#: How often a waiting request checks that its worker is alive and the pool open (seconds).
POLL_SECONDS = 0.05
#: A worker asked to stop gets this long to exit before it is killed (seconds).
STOP_SECONDS = 0.5


#: Signals sent to the whole process group to stop the service: a service manager's SIGTERM,
#: Ctrl-C, a closed terminal's SIGHUP. A worker ignores the last two once it runs (its
#: ``serve``), but one that arrives while it is still starting ends it.
GROUP_STOPS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


class PoolError(Exception):
    """This batch could not be matched in the pool; match it in-process. ``stopped``: the name
    of the signal of :data:`GROUP_STOPS` that ended the worker (the service is being stopped),
    not a failure; None otherwise."""

    def __init__(self, message: str, *, stopped: str | None = None) -> None:
        super().__init__(message)
        self.stopped = stopped


def _exited(process: BaseProcess) -> PoolError:
    """The error for a worker that died; reaped first (its pipe closes as it dies, before the
    exit code is known: the log said "exited (None)" for a worker killed by SIGKILL)."""
    process.join(1.0)
    code = process.exitcode
    if code is None:
        how = "pipe closed, still running"
    elif code < 0:
        how = (
            f"killed by {signal.Signals(-code).name}"
            if -code in signal.valid_signals()
            else str(code)
        )
    else:
        how = f"exit code {code}"
    stopped = signal.Signals(-code).name if code is not None and -code in GROUP_STOPS else None
    return PoolError(f"match worker exited ({how})", stopped=stopped)


class _Worker:
    def __init__(self, number: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe(duplex=True)
        self.process: BaseProcess = ctx.Process(
            target=serve, args=(child,), name=f"feedsvc-match-{number}", daemon=True
        )
        self.process.start()
        child.close()  # the worker holds its end: our copy would hide its death from recv()
        self.version: object = None  # the topics version this worker was last sent

    def send(self, version: object, spec: MatcherSpec, texts: Sequence[ArticleText]) -> None:
        """Raises :class:`PoolError` when the worker is gone (its pipe broke as it died: a
        SIGTERM to the process group between the alive check and this write is a stop, not a
        failure, as when the answer is awaited)."""
        try:
            self.conn.send((version, spec if self.version != version else None, list(texts)))
        except (BrokenPipeError, ConnectionResetError, EOFError) as exc:
            raise _exited(self.process) from exc
        self.version = version

    def receive(self, closing: threading.Event) -> list[Matched] | None:
        """The worker's answer; raises :class:`PoolError` if it dies or the pool closes."""
        while not self.conn.poll(POLL_SECONDS):
            if closing.is_set():
                raise PoolError("the match pool is closing")
            if not self.process.is_alive():
                raise _exited(self.process)
        try:
            answer: list[Matched] | None = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _exited(self.process) from exc
        return answer

    def stop(self, *, wait: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(wait)
        if self.process.is_alive():  # busy or stuck
            self.process.kill()
            self.process.join(1.0)  # SIGKILL is not refused: this reaps it at once
        self.conn.close()


class MatchPool:
    """``workers`` match processes, started at the first :meth:`match`; thread-safe (one
    request at a time)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a match pool needs at least one worker")
        self.size = workers
        self._workers: list[_Worker | None] = [None] * workers
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._started = 0  # processes started so far (replacements included), for logs

    def match(
        self, version: object, spec: MatcherSpec, texts: Sequence[ArticleText]
    ) -> list[Matched]:
        """One :data:`Matched` per text, in order, computed by the workers with ``spec`` (whose
        topics version is ``version``). Raises :class:`PoolError` (match in-process then)."""
        with self._lock:
            if self._closing.is_set():
                raise PoolError("the match pool is closed")
            parts = _split(texts, self.size)
            try:
                workers = [self._worker(i) for i in range(len(parts))]
                for worker, part in zip(workers, parts, strict=True):
                    worker.send(version, spec, part)
                out: list[Matched] = []
                for worker, part in zip(workers, parts, strict=True):
                    answer = worker.receive(self._closing)
                    if answer is None:  # it lacked the spec after all: send it with the batch
                        worker.version = None
                        worker.send(version, spec, part)
                        answer = worker.receive(self._closing)
                    if answer is None or len(answer) != len(part):
                        raise PoolError("match worker gave an incomplete answer")
                    out += answer
                return out
            except PoolError:
                self._drop_all()
                raise
            except Exception as exc:  # a text that does not pickle, a broken pipe, no fork
                self._drop_all()
                raise PoolError(f"match pool failed: {exc!r}") from exc

    def abandon(self) -> None:
        """Refuse requests from now on and kill the workers without waiting for the request in
        flight: it raises :class:`PoolError` at once instead of waiting on a worker still
        spawning (blocked sending a batch it does not read yet) or building its matcher.
        :meth:`close` reaps them. Safe from any thread (a shutdown's)."""
        self._closing.set()
        for worker in list(self._workers):
            if worker is not None:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    worker.process.kill()  # a pipe write to it fails, a poll sees it dead

    def close(self) -> None:
        """Stop the workers (at most ~1 s each when they do not answer); later calls to
        :meth:`match` raise :class:`PoolError`. Safe from any thread, more than once."""
        self._closing.set()
        with self._lock:  # a request in flight sees ``_closing`` within POLL_SECONDS
            self._drop_all()

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    def pids(self) -> list[int]:
        """The running workers' process ids (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w is not None and w.process.pid]

    def _worker(self, i: int) -> _Worker:
        worker = self._workers[i]
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                worker.stop(wait=0)
            self._started += 1
            worker = self._workers[i] = _Worker(self._started)
            log.info("match worker %d started (pid %s)", self._started, worker.process.pid)
        return worker

    def _drop_all(self) -> None:
        """After a failure the pipes may hold half a message: start over with new workers."""
        t0 = time.monotonic()
        for i, worker in enumerate(self._workers):
            if worker is not None:
                worker.stop(wait=max(0.0, STOP_SECONDS - (time.monotonic() - t0)))
                self._workers[i] = None


def _split(texts: Sequence[ArticleText], parts: int) -> list[Sequence[ArticleText]]:
    """``texts`` in at most ``parts`` contiguous, non-empty slices of near-equal size."""
    n = min(parts, len(texts)) or 1
    size, extra = divmod(len(texts), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (i < extra)
        out.append(texts[start:end])
        start = end
    return out


#: Batches with fewer articles to match are matched in-process: the round trip would cost more
#: than it saves (an incremental tick brings a handful).
POOL_MIN_BATCH = 16
#: After this many failed batches in a row the pool is given up (until the service restarts).
GIVE_UP_AFTER = 3


class BatchMatcher:
    """Ingest's ``match_all`` (:func:`feedsvc.ingest.writer.matched`): a batch's articles
    matched in a :class:`MatchPool` of ``workers`` processes (0: none, always in-process),
    in-process when the batch is small, no topics are built yet, or the pool fails."""

    def __init__(self, index: TopicIndex, workers: int) -> None:
        self.index = index
        self.pool = MatchPool(workers) if workers > 0 else None
        self.failures = 0  # failed pool batches in a row
        self._stopping = False

    def __call__(self, articles: Sequence[Article]) -> list[ArticleMatch]:
        """One :class:`ArticleMatch` per article, in order; never raises :class:`PoolError`."""
        compiled = self.index.compiled
        pool = self.pool
        if compiled is None or pool is None or self._stopping or len(articles) < POOL_MIN_BATCH:
            return [self.index.match(a, compiled) for a in articles]
        try:
            matched = pool.match(
                compiled.version, compiled.spec, [article_text(a) for a in articles]
            )
        except PoolError as exc:
            if exc.stopped:  # the service is being stopped: its next batch may not come
                log.info(
                    "ingest: match worker stopped (%s); this batch is matched here", exc.stopped
                )
            elif not pool.closed:
                self._failed(pool, len(articles), exc)
            return [self.index.match(a, compiled) for a in articles]
        self.failures = 0
        return [compiled.article_match(m) for m in matched]

    def warm(self) -> None:
        """Start the workers and have them build the current matcher now rather than at the
        first batch (bench/ingest.py times a first sync without that start-up)."""
        compiled = self.index.compiled
        if compiled is not None and self.pool is not None:
            self.pool.match(compiled.version, compiled.spec, [])

    def stopping(self) -> None:
        """The service is stopping: match what still comes in-process, never start a worker (a
        group's SIGTERM may have ended it; a new one would take a second to start), and a batch
        already waiting on the workers is matched in-process now: a worker still spawning and
        building its matcher (seconds at thousands of topics on a busy machine) held the last
        tick past the shutdown budget, so the exit guard ended the service."""
        self._stopping = True
        if self.pool is not None:
            self.pool.abandon()

    def close(self) -> None:
        """Stop the pool's processes (bounded, see :meth:`MatchPool.close`)."""
        if self.pool is not None:
            self.pool.close()

    def _failed(self, pool: MatchPool, count: int, exc: PoolError) -> None:
        self.failures += 1
        log.warning("ingest: matching %d article(s) in-process instead: %s", count, exc)
        if self.failures >= GIVE_UP_AFTER:
            log.error(
                "ingest: the match pool failed %d batches in a row; matching in-process from now",
                self.failures,
            )
            pool.close()
            self.pool = None
