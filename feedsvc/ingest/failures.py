"""A failed ingest tick: which side is down, the one log line, the recorded failure, backoff.

A tick never raises (:meth:`feedsvc.ingest.ingestor.Ingestor.tick`): trouble with the source or
the state DB is an operator's matter, logged as one line without a traceback, recorded in
``source_cursors`` (``feedsvc status``, ``/api/status``) and backed off
(:mod:`feedsvc.ingest.backoff`). Only an exception outside :data:`EXPECTED` — a bug — is
logged with where it happened.

A state DB that does not answer is :mod:`feedsvc.db.outage`'s to tell (the one owner of
that decision): the failure is counted on its :class:`~feedsvc.db.outage.Outage` — a start
line, a summary a minute, its end, a flapping DB about one line a minute — and ingest's own
line for it is DEBUG. Told here too, its WARNING and INFO came at every flap (40 lines in two
minutes of a DB away 3 s and back 3 s, a tester's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from feedsvc.db import Database
from feedsvc.db.errors import describe, refusal_advice, trouble
from feedsvc.db.outage import is_outage, report, said
from feedsvc.db.where import marked
from feedsvc.failure_log import FailureLog, spoken
from feedsvc.ingest.backoff import Backoff, Outage
from feedsvc.ingest.isolate import SystemicError
from feedsvc.ingest.model import TickResult
from feedsvc.source import SourceError, SqlSource
from feedsvc.source.driver_failed import DriverFailed
from feedsvc.store import cursors

log = logging.getLogger("feedsvc.ingest.ingestor")  # the tick's own logger: one place to read

#: Failures that are the infrastructure's, not a bug: logged as one line, never a traceback.
EXPECTED = (SQLAlchemyError, SourceError, SystemicError, OSError, UnicodeError, DriverFailed)

#: How each side is named in the log line.
SIDE: dict[Outage, str] = {"source": "source", "state": "state database"}


@dataclass
class Failures:
    """The failure handling of one ingestor: its state DB, its source and its backoff."""

    db: Database
    source: SqlSource
    backoff: Backoff
    told: FailureLog = field(default_factory=FailureLog)

    def answers(self, side: Outage) -> bool:
        """The backoff probe: one ``SELECT 1`` to the side that was down."""
        return self._refusal(side) is None

    def _refusal(self, side: Outage) -> Exception | None:
        """``side``'s ``SELECT 1``: None when it answers, else its failure."""
        try:
            (self.db.ping if side == "state" else self.source.ping)()
        except DriverFailed:  # it answered: its driver failed on what it said (named as such)
            return None
        except Exception as exc:  # any other failure means "not yet"
            return exc
        return None

    def outage(self) -> Outage | None:
        """After a failure: which side (if any) does not answer at all."""
        return self._outage()[0]

    def _outage(self, exc: Exception | None = None) -> tuple[Outage | None, Exception | None]:
        """:meth:`outage`, with the state DB's own failure when it is that side.

        The built-in source reads the state DB through its engine: an outage ``exc`` it met is
        the state DB's even when the ping answers, on a session the pool kept from before
        (a CI run's: PostgreSQL refusing new connections; "the source does not answer", a
        WARNING beside the state DB outage's own lines)."""
        if (refused := self._refusal("state")) is not None:
            return "state", refused
        if exc is not None and self.source.engine is self.db.engine and is_outage(exc):
            return "state", exc
        if not self.answers("source"):
            return "source", None
        return None, None

    def failed(self, result: TickResult, exc: Exception) -> None:
        """Record ``exc`` in ``result`` and (when the state DB answers) in ``source_cursors``,
        back off, and log one line saying which side is down and when the next try comes."""
        if self.state_full(exc):
            self._state_full(result, exc)
            return
        error = describe(exc)
        self.source.forget()  # the table may have changed under us: reflected again next tick
        outage, state_refused = self._outage(exc)
        what = f"the {SIDE[outage]} does not answer" if outage else "failed"
        refusal = refusal_advice(exc)
        if outage and refusal:  # it answered: with a no (a tester's "does not answer" for 1045)
            what, error = f"the {SIDE[outage]} refuses the connection", f"{error}: {refusal}"
        result.error = error  # `status`' last error says what to do too (a verifier's)
        recorded: int | None = None
        if outage != "state":
            try:
                with self.db.write() as conn:
                    recorded = cursors.record_failure(conn, self.source.name, error, self.db.now())
            except SQLAlchemyError as db_exc:  # an outage's line is the outage's: once
                if not report(db_exc, "ingest"):
                    log.warning("ingest: could not record the failure: %s", describe(db_exc))
        delay = self.backoff.failed(outage, recorded)
        when = f"in {delay:.0f} s" + (" or as soon as it answers" if outage else "")
        # the state DB's outage tells it (a bug, not EXPECTED, keeps its line and traceback)
        if state_refused is not None and not refusal and isinstance(exc, EXPECTED):
            self.db.outage.failed(state_refused if is_outage(state_refused) else exc, "ingest")
            log.debug("ingest from %s: %s, retrying %s: %s", self.source.name, what, when, error)
            return
        kind = self.told.failed(what, error)  # said once, again when it changes or in a while
        if kind == "reminder":
            what = f"{what} for {spoken(self.told.lasting())} now"
        log.log(
            logging.DEBUG if kind is None else logging.WARNING,
            "ingest from %s: %s (%d in a row), retrying %s: %s",
            self.source.name,
            what,
            self.backoff.failures,
            when,
            error,
            exc_info=None if isinstance(exc, EXPECTED) or kind is None else exc,  # a bug: where
        )

    @staticmethod
    def state_full(exc: BaseException) -> bool:
        """Whether ``exc`` is the state DB's full disk (:func:`~feedsvc.db.errors.trouble`'s
        ``"disk_full"``; a source's full disk is the source's failure): a state DB condition,
        not a failure of the source, whatever ingest was doing when it met it."""
        where = marked(exc)
        return where is not None and where.role == "state DB" and trouble(exc) == "disk_full"

    def _state_full(self, result: TickResult, exc: Exception) -> None:
        """The state DB's disk is full: told once, as the state DB's outage (:mod:`feedsvc.db.
        outage`: "no space left on device at <dir>", its end when a write commits), nothing
        recorded (the write would fail too), and retried at the next poll — the state probe
        (a read) answers, so no source backoff holds alerts after space is freed."""
        self.source.forget()
        result.error = said(exc)
        self.db.outage.failed(exc, "ingest")
        self.backoff.failed("state")
        log.debug("ingest from %s: the state DB's disk is full: %s", self.source.name, said(exc))

    def succeeded(self, began: float | None = None) -> None:
        """A tick went through: the backoff ends, and a run of failures ends with one INFO line
        saying how long it lasted — until ``began`` (:attr:`told`'s clock), when the tick that
        worked began, or when the probe found the side answering again; None: now."""
        outage = self.backoff.outage
        self.backoff.succeeded()
        ended = self.told.ended(began)
        if ended is None:
            return
        seconds, tries = ended
        # a state DB's failures were its outage's to tell: these were the source's, or others
        again = f"the {SIDE[outage]} answers again" if outage == "source" else "ingest works again"
        log.info(
            "ingest from %s: %s after %s of failures (%d failed tr%s)",
            self.source.name,
            again,
            spoken(seconds),
            tries,
            "y" if tries == 1 else "ies",
        )
