"""The ingest leader's passes beside ingest (SPEC §10), run by the service's jobs
(:mod:`feedsvc.app`) only on the replica that holds the ``ingest`` lease.

* every tick, scheduled articles whose time came go through ingest's hooks (:class:`DueCheck`);
* every tick without an error, drafts an external CMS published by a status change alone are
  stored and alerted (:class:`PublishedCheck`; not for the built-in table, whose withdrawals
  come by ``import``, which moves its cursor);
* every ``source.reconcile_seconds``, source rows deleted are withdrawn (:class:`Reconciler`).

Each pass leaves the next to try again: nothing changes on an error. Its failures are told as
the rest of the service's are (a tester's: "reconciliation failed, nothing withdrawn: …" every
``source.reconcile_seconds`` through a state DB outage, and through a CMS outage too): an outage
of the state DB is counted on its :class:`~feedsvc.db.outage.Outage` (a start, a summary a
minute, an end); a source that does not answer is the ingest's to tell (its tick fails on it,
:mod:`feedsvc.ingest.failures`); any other failure (a mapping's SQL error, a statement timeout
of this pass alone) is a WARNING when it starts or changes, again every
:data:`~feedsvc.failure_log.REMIND_SECONDS`, and one INFO line when the pass works again
(:class:`Told`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from feedsvc.config import Settings
from feedsvc.db import Database, outage
from feedsvc.db.errors import describe
from feedsvc.db.where import marked
from feedsvc.failure_log import REMIND_SECONDS, FailureLog, spoken
from feedsvc.failure_log import Told as Told_
from feedsvc.ingest import Change, Ingestor
from feedsvc.ingest.backoff import Outage
from feedsvc.ingest.failures import SIDE
from feedsvc.lifecycle.due import DueCheck
from feedsvc.lifecycle.published import PublishedCheck
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import SqlSource
from feedsvc.source.recent import NotReconcilable

log = logging.getLogger("feedsvc.app")  # the service's log lines keep their logger name


class Told:
    """How the leader's passes tell their failures (see the module docstring): one
    :class:`FailureLog` per pass; ``failures`` says which side does not answer (the ingestor's
    probe, :meth:`feedsvc.ingest.failures.Failures.outage`)."""

    def __init__(
        self, failures: Callable[[], Outage | None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.clock = clock  # the failure logs' (tests move it)
        self.logs: dict[str, FailureLog] = {}

    def failed(self, what: str, exc: Exception, effect: str) -> None:
        """``what`` (a pass: "reconciliation") failed with ``exc``; ``effect``: what that
        left ("nothing withdrawn")."""
        where = marked(exc)
        if where is not None and where.role == "state DB" and outage.report(exc, what):
            return  # the state DB's outage: its lines
        side = self.failures()
        if side is not None:  # the state DB's outage is told by its engines, the CMS's by ingest
            log.debug("%s failed, %s: the %s does not answer: %s", what, effect,
                      SIDE[side], describe(exc))  # fmt: skip
            return
        kind, again = self._note(what, describe(exc))
        log.log(
            logging.DEBUG if kind is None else logging.WARNING,
            "%s failed%s, %s: %s (tried again at each pass; said again in %s if it goes on)",
            what, again, effect, describe(exc), spoken(REMIND_SECONDS),
        )  # fmt: skip

    def refused(self, what: str, why: str, source: str) -> None:
        """``what`` ran but withdrew nothing, ``why`` (a safety rule: an empty window, too
        many at once), told by the rule of a failure: a WARNING when it starts or changes,
        again every :data:`~feedsvc.failure_log.REMIND_SECONDS` (an emptied CMS table said it
        at every pass, 12 lines an hour; a tester's), its end by :meth:`worked`."""
        kind, again = self._note(what, why)
        log.log(
            logging.DEBUG if kind is None else logging.WARNING,
            "%s withdrew nothing%s: %s (%s; tried again at each pass, said again in %s if it "
            "goes on)",
            what, again, why, source, spoken(REMIND_SECONDS),
        )  # fmt: skip

    def _note(self, what: str, error: str) -> tuple[Told_ | None, str]:
        """One more failure of ``what``: how to tell it (None: DEBUG only) and, for a
        reminder, how long it has lasted (" for 45 min")."""
        told = self.logs.setdefault(what, FailureLog(self.clock))
        kind = told.failed(what, error)
        return kind, f" for {spoken(told.lasting())}" if kind == "reminder" else ""

    def worked(self, what: str) -> None:
        """``what`` went through: the end of a run of its told failures, in one line."""
        told = self.logs.get(what)
        ended = told.ended() if told is not None else None
        if ended is not None:
            seconds, tries = ended
            log.info("%s works again after %s of failures (%d failed pass%s)",
                     what, spoken(seconds), tries, "" if tries == 1 else "es")  # fmt: skip


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
        self.told = Told(lambda: ingestor.failures.outage())

    def after_tick(self, ingested: bool) -> None:
        """On the leader after its tick (``ingested``: the tick had no error)."""
        if ingested and self.published is not None:
            try:  # drafts a CMS published by their status alone: stored and alerted now
                self.published.run()
            except Exception as exc:  # nothing changed: the next tick looks again
                self.told.failed("draft re-check", exc, "nothing changed")
            else:
                self.told.worked("draft re-check")
        try:
            self.due.run()
        except Exception as exc:  # told and retried next tick, like an ingest error
            self.told.failed("due check", exc, "nothing released")
        else:
            self.told.worked("due check")

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
            done = self._reconciler.run()
        except NotReconcilable as exc:
            log.warning("reconciliation off: %s", exc)
            self._reconcile_off = True
            return "reconciliation off"
        except Exception as exc:
            self.told.failed("reconciliation", exc, "nothing withdrawn")
            return "reconciliation failed"
        if done.refused is not None:
            self.told.refused("reconciliation", done.refused, self.ingestor.source.name)
            return "reconciliation withdrew nothing"
        self.told.worked("reconciliation")
        return "reconciliation ran"
