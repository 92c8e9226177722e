"""A running service stops when its state DB's schema revision is no longer its own.

Why: an operator ran ``feedsvc db upgrade`` of a newer release while the old service still
ran; the old process kept writing with its own idea of the tables (inserts missing a new
NOT NULL column, reads of a renamed one: tracebacks, or worse, rows a newer feedsvc then
misreads). At start ``run`` already refuses a DB that is not at its revision
(``feedsvc.db.revision.ensure_schema``); this is the same rule applied while it runs:
:func:`schema_problem` reads the revision as every command does
(``feedsvc.db.revision.schema_status``: a few catalogue reads), every
:data:`SCHEMA_CHECK_SECONDS`, and a revision other than the one it started with is an ERROR
naming both revisions and what to do, then the service's orderly stop (the SIGTERM one) and
exit 1 — the code ``run`` exits with on that DB at start, so one rule decides both. Under the
shipped systemd unit (``Restart=on-failure``) exit 1 restarts it: the feedsvc at ``ExecStart``
starts again, which is the new release when the package was upgraded in place, and otherwise
refuses in one line at every retry until it is (README: "Upgrading").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.db import Database
    from feedsvc.scheduler import Jobs

log = logging.getLogger(__name__)

#: How often a running service reads its state DB's revision (seconds).
SCHEMA_CHECK_SECONDS = 60.0


def schema_problem(db: Database) -> str | None:
    """What to log when ``db`` records a revision other than this feedsvc's, else None. No
    revision read (an SQLite file gone from its path, a table emptied) is not taken for an
    upgrade: the service's own connections still hold the DB, and the next start says what
    is wrong (``run``'s check)."""
    from feedsvc.db.revision import schema_status

    status = schema_status(db)
    problem = status.problem()
    if problem is None or status.revision is None:
        return None
    found = status.revision
    return (
        f"{problem} — its schema revision changed from {status.head} to {found} while this "
        f"feedsvc (schema {status.head}) was running (`feedsvc db upgrade` of another "
        "release?): stopping, exit 1, so that it writes nothing with the old schema; start the "
        "feedsvc release that upgraded it (README: Upgrading)"
    )


def watch_schema(
    jobs: Jobs, db: Database, give_up: Callable[[str], None], every: float | None = None
) -> None:
    """Add the check to ``jobs`` (first after one interval: ``run`` checked at start);
    ``give_up(message)`` stops the service. A DB that does not answer is an outage, logged by
    the jobs' runner as every job's (``feedsvc.db.outage``), and checked again next time."""

    from feedsvc.db.revision import SchemaError

    async def check() -> None:
        try:
            problem = await asyncio.to_thread(schema_problem, db)
        except SchemaError as exc:  # the path cannot be examined now: not an upgrade
            log.warning("schema check: %s", exc)
            return
        if problem is not None:
            give_up(problem)

    seconds = SCHEMA_CHECK_SECONDS if every is None else every
    jobs.every("schema-check", seconds, check, start_now=False)
