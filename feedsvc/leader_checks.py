"""The ingest leader's passes beside ingest (SPEC §10), run by the service's jobs
(:mod:`feedsvc.app`) only on the replica that holds the ``ingest`` lease.

* every tick, scheduled articles whose time came go through ingest's hooks (:class:`DueCheck`);
* every tick without an error, drafts an external CMS published by a status change alone are
  stored and alerted (:class:`PublishedCheck`; not for the built-in table, whose withdrawals
  come by ``import``, which moves its cursor);
* every ``source.reconcile_seconds``, source rows deleted are withdrawn (:class:`Reconciler`).

Each pass logs its error and leaves the next to try again: nothing changes on an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.db.errors import describe
from feedsvc.ingest import Change, Ingestor
from feedsvc.lifecycle.due import DueCheck
from feedsvc.lifecycle.published import PublishedCheck
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import SqlSource
from feedsvc.source.recent import NotReconcilable

log = logging.getLogger("feedsvc.app")  # the service's log lines keep their logger name


class LeaderChecks:
    """Built with the ``ingestor`` (its hooks, re-read and recovery); ``after_commit`` runs
    after a due check released articles, as after an ingest commit."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        ingestor: Ingestor,
        source: SqlSource,
        after_commit: Callable[[Sequence[Change]], None],
    ) -> None:
        self.db, self.settings, self.ingestor = db, settings, ingestor
        max_age = timedelta(hours=settings.telegram.alert_max_age_hours)
        # scheduled articles whose time came go through the same hooks (SPEC §10)
        self.due = DueCheck(db, ingestor.hooks, [after_commit], first_lookback=max_age)
        #: drafts an external CMS published by a status change alone (None: the built-in table)
        self.published: PublishedCheck | None = None
        if settings.source.url:  # the built-in table's withdrawals come by `import`
            window = timedelta(days=settings.source.reconcile_days)
            self.published = PublishedCheck(db, source, ingestor.reread, window)
            # a re-read reaching a draft published by status first alerts it by this rule
            ingestor.remap.published = self.published.alerts
        self._reconciler: Reconciler | None = None
        self._reconcile_off = False  # the mapping cannot bound the window (logged once)

    def after_tick(self, ingested: bool) -> None:
        """On the leader after its tick (``ingested``: the tick had no error)."""
        if ingested and self.published is not None:
            try:  # drafts a CMS published by their status alone: stored and alerted now
                self.published.run()
            except Exception as exc:  # nothing changed: the next tick looks again
                log.warning("draft re-check failed, nothing changed: %s", describe(exc))
        try:
            self.due.run()
        except Exception as exc:  # logged and retried next tick, like an ingest error
            log.warning("due check failed: %s", describe(exc))

    def reconcile(self) -> str:
        """One reconciliation pass (deleted source rows, SPEC §10); errors are logged and the
        next pass tries again (nothing is withdrawn on an error). Returns what happened, in
        words (the send gate's log line)."""
        if self._reconcile_off:
            return "reconciliation off"
        if self._reconciler is None:
            ingestor = self.ingestor
            self._reconciler = Reconciler(
                self.db, ingestor.source, self.settings.source.reconcile_days,
                reread=ingestor.reread, recover=ingestor.recover,
            )  # fmt: skip
        try:
            self._reconciler.run()
        except NotReconcilable as exc:
            log.warning("reconciliation off: %s", exc)
            self._reconcile_off = True
            return "reconciliation off"
        except Exception as exc:
            log.warning("reconciliation failed, nothing withdrawn: %s", describe(exc))
            return "reconciliation failed"
        return "reconciliation ran"
