"""Is another feedsvc running on this state DB? Asked before a migration changes its schema.

Why: ``feedsvc db upgrade`` (or a new release's ``run``, which migrates at start) while an
older feedsvc still runs on the DB let that one write with its old idea of the tables until
its once-a-minute revision check stopped it (:mod:`feedsvc.schema_watch`): inserts missing a
new column, rows the new release then misreads. README "Upgrading" says to stop every feedsvc
first; this is that step checked. The evidence, both kept by running services anyway:

- an unexpired lease (:mod:`feedsvc.store.leases`: the ingest leader, the bot's poller, the
  Zalo worker renew theirs while they run and release them at an orderly stop; one killed
  leaves its lease until it expires, which the message gives);
- on an SQLite state DB, its scheduler lock held (:mod:`feedsvc.pid_lock`: the kernel drops
  it when the process ends, however it ends), or its served claim
  (:mod:`feedsvc.db.served_claim`: every serving process, a web-only replica too).

On PostgreSQL a web-only replica (``--no-scheduler --no-bot``) holds no lease and is not seen:
its writes are the admin's and the readers' few, and the revision check stops it within a
minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.db import Database


def others_running(db: Database) -> list[str]:
    """What shows another feedsvc running on ``db``, one phrase each (empty: none seen).

    This process's own leases, lock and claim do not count (``run`` migrates at start while
    holding its scheduler lock). A DB without a leases table yet (new, or made by something else)
    has no lease to show. Raises the driver's error when the DB does not answer."""
    from feedsvc.db.served_claim import claimed
    from feedsvc.db.where import state_db
    from feedsvc.pid_lock import holder, scheduler_lock
    from feedsvc.store.leases import this_process

    found: list[str] = []
    where = state_db(db.url)
    if where.sqlite and where.file is not None:
        pid = holder(scheduler_lock(where.file))
        if pid is not None:
            found.append(f"a scheduler{f' (pid {pid})' if pid else ''} holds its lock")
        claim = claimed(where.file)
        if claim is not None and (pid is None or claim.pids != (pid,)):  # not that one again
            found.append(f"a feedsvc{claim.pid_words()} serves it (it holds {claim.path})")
    me = this_process()
    for name, holder_name, until in _live_leases(db):
        if holder_name != me:
            found.append(f"{holder_name} holds the {name} lease until {_clock(until)}")
    return found


def _live_leases(db: Database) -> list[tuple[str, str, datetime]]:
    from sqlalchemy import inspect, select

    from feedsvc.db.schema_service import leases

    now = db.now()
    with db.read() as conn:
        if not inspect(conn).has_table(leases.name):
            return []
        rows = conn.execute(
            select(leases.c.name, leases.c.holder, leases.c.expires_at)
            .where(leases.c.expires_at > now)
            .order_by(leases.c.name)
        )
        return [(row.name, row.holder, row.expires_at) for row in rows]


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def refuse_while_running(db: Database) -> None:
    """Raises ``revision.SchemaError`` (the CLI's exit 1) naming what :func:`others_running`
    found, if anything: called before a DB that holds a schema is migrated."""
    from feedsvc.db.revision import SchemaError

    if found := others_running(db):
        raise SchemaError(_refusal(found))


def _refusal(found: list[str]) -> str:
    return (
        "another feedsvc is running on this state DB (" + "; ".join(found) + "): stop every "
        "feedsvc on it before upgrading its schema (README: Upgrading, step 2); one left "
        "running would write with the old schema. A feedsvc that was killed keeps its lease "
        "until the time given; upgrade after it"
    )
