"""Creating a PostgreSQL database that does not exist yet, for the test suite and the benchmarks.

Why here: both run against the machine's server in a database of their own (``feedsvc_test``,
a schema per test or per run inside it), which a fresh machine does not have; the tests'
fixtures and the bench scripts must not each carry a copy of the check (and ``bench/`` must not
import ``tests/``), so the one copy lives in the package both import. The service itself never
calls it: its database is the operator's to create.
"""

from __future__ import annotations

import time

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

#: The database every PostgreSQL server has, to connect to while the wanted one is missing.
MAINTENANCE_DB = "postgres"
#: SQLSTATEs of a CREATE DATABASE racing another process's (a test worker's): it exists now
#: (``duplicate_database``, or the catalogue's ``unique_violation`` when both insert at once)
CREATED_MEANWHILE = ("42P04", "23505")
OBJECT_IN_USE = "55006"  # SQLSTATE: template1 busy with another process's CREATE DATABASE


def ensure_database(url: str, admin_url: str | None = None) -> bool:
    """Create the PostgreSQL database ``url`` names if it does not exist; True if created.

    Connects through ``admin_url`` (default: ``url`` with the database :data:`MAINTENANCE_DB`),
    with :class:`~feedsvc.db.Database`'s driver choice and connect timeouts, so an unreachable
    server fails within seconds. Raises SQLAlchemy's error when the server does not answer or
    refuses (``feedsvc.db.errors.describe`` words it in one line).
    """
    from feedsvc.db import Database
    from feedsvc.db.urls import shown_url

    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {shown_url(url)}")
    admin = Database(admin_url or make_url(url).set(database=MAINTENANCE_DB, query={})
                     .render_as_string(hide_password=False))  # fmt: skip
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for attempt in range(3):
                found = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if found is not None:
                    return False
                quoted = conn.dialect.identifier_preparer.quote(name)
                try:
                    conn.execute(text(f"CREATE DATABASE {quoted}"))
                    return True
                except DBAPIError as exc:  # another process (a test worker) creating it too
                    state = getattr(exc.orig, "sqlstate", None)
                    if state in CREATED_MEANWHILE:
                        return False
                    if state != OBJECT_IN_USE or attempt == 2:
                        raise
                    time.sleep(0.5)  # its CREATE still copies template1: look again
            raise AssertionError("unreachable")
    finally:
        admin.dispose()
