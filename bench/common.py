"""Shared bits for the benchmark scripts: the machine line, timing helpers, the PostgreSQL
database made ready (:func:`postgres_or_skip`), a migrated state DB (an SQLite file or a
PostgreSQL schema of its own)."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.db import Database, upgrade
from feedsvc.db.errors import describe

PG_ADMIN = os.environ.get(
    "FEEDSVC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/feedsvc_test"
)
D = TypeVar("D", bound=Database)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def postgres_or_skip(url: str, skip_flag: str = "--pg ''") -> str:
    """``url`` ready for a run, or ``""`` (as ``skip_flag`` asks: no PostgreSQL column).

    Why: the default ``feedsvc_test`` database exists only where the test suite ran once (its
    fixtures create it), so a newcomer's first bench died in a driver traceback. It is created
    here when missing; a server that does not answer (or refuses) gets one line on stderr and
    the run goes on without PostgreSQL."""
    if not url:
        return ""
    # here, not at the top: --baseline runs this script with an older feedsvc on the path, which
    # may lack these (that child gets --pg already checked by this one)
    from feedsvc.db.provision import ensure_database
    from feedsvc.db.urls import shown_url

    shown = shown_url(url)  # passwords masked, in the userinfo and in the query
    try:
        if ensure_database(url):
            print(f"created the PostgreSQL database {make_url(url).database} ({shown})")
    except SQLAlchemyError as exc:
        print(f"PostgreSQL not usable at {shown}, skipping its column ({skip_flag} to say so): "
              f"{describe(exc)}", file=sys.stderr)  # fmt: skip
        return ""
    return url


def timed(fn: Callable[[], object], repeat: int = 20) -> tuple[float, float]:
    """Median and p95 wall time in milliseconds over ``repeat`` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


@contextmanager
def state_db(kind: str, tmp: Path, name: str, pg: str, make: Callable[[str], D]) -> Iterator[D]:
    """A state DB at the head migration, built by ``make(url)`` (``Database`` or a subclass):
    ``kind`` "sqlite", a file ``name``.db in ``tmp``; "postgresql", a schema of its own on the
    server ``pg`` (dropped afterwards, so runs and benchmarks never share tables)."""
    if kind == "sqlite":
        db = make(f"sqlite:///{tmp}/{name}.db")
        upgrade(db)
        yield db
        db.dispose()
        return
    schema = f"bench_{name}_{os.getpid()}"
    # Database's engine: a plain postgresql:// URL means psycopg 3 (SQLAlchemy's own default
    # is psycopg2, not installed)
    admin = Database(pg).engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    db = make(f"{pg}?options=-csearch_path%3D{schema}")
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
