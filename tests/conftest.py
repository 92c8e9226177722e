"""Shared fixtures: state databases on SQLite (always) and the machine's real PostgreSQL.

PostgreSQL tests get a schema of their own per test (cheap, isolated); they skip with the
reason when the server is not reachable, and `.ci/run` starts it, so in CI they run.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from migrated import admin, copy_template, drop_spares, premigrated, release_schema
from sqlalchemy import create_engine, text

from feedsvc import logs
from feedsvc.db import Database, upgrade
from feedsvc.db.provision import ensure_database
from feedsvc.logs import setup_logging

if TYPE_CHECKING:
    from fakebot import FakeBotAPI
    from fakezalo import FakeZaloAPI

    from feedsvc.bot import BotService

# Ctrl-C as a terminal gives it, however the suite was launched: a shell starting a command in
# the background (`cmd &` without job control) starts it with SIGINT ignored, every process
# after it inherits that, Python then installs no KeyboardInterrupt handler, and the tests of
# feedsvc's Ctrl-C answers (exit 130, what was stored) failed or skipped for the launch's sake.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

PG_ADMIN_URL = os.environ.get(
    "FEEDSVC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_TEST_DB = "feedsvc_test"


def _pg_available() -> str | None:
    try:
        ensure_database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_TEST_DB}", PG_ADMIN_URL)
        return None
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"


_PG_SKIP: str | bool | None = False


def pg_skip_reason() -> str | None:
    global _PG_SKIP
    if _PG_SKIP is False:
        _PG_SKIP = _pg_available()
    return _PG_SKIP if isinstance(_PG_SKIP, str) else None


# Python's cyclic garbage collector, at its default thresholds (700, 10, 10), took ~12 % of a
# worker's CPU (gc.callbacks timed with thread CPU over the test_retraction* modules: 14.0 s of
# 112.6 s): a worker allocates constantly (SQLAlchemy statements, asyncio, HTTP) and most of
# what it keeps is long-lived, which every full collection walks again. Collecting less often
# (every 10,000 net allocations, full collections 20x rarer) keeps the same garbage collected,
# a little later; the suite's budget is CPU (bench/RESULTS.md, "CI, forty-fifth session").
gc.set_threshold(10_000, 20, 20)


@pytest.fixture(autouse=True)
def _feedsvc_env_restored() -> Iterator[None]:
    """Every test leaves the ``FEEDSVC_*`` environment as it found it. A bare
    ``pytest.MonkeyPatch()`` (never undone) once left ``FEEDSVC_DATABASE__URL`` set in an xdist
    worker, and later tests there ran on another test's dropped schema. Restored, and the test
    that changed it fails naming the keys (never their values: they may hold secrets)."""
    before = {k: v for k, v in os.environ.items() if k.startswith("FEEDSVC_")}
    yield
    after = {k: v for k, v in os.environ.items() if k.startswith("FEEDSVC_")}
    if after != before:
        for key in after.keys() - before.keys():
            del os.environ[key]
        os.environ.update(before)
        changed = sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))
        pytest.fail(f"the test left FEEDSVC_ variables changed: {', '.join(changed)}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty schema in the feedsvc_test database, dropped afterwards."""
    with pg_schema() as url:
        yield url


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh, empty schema in the feedsvc_test database, dropped afterwards; its URL. For a
    fixture of a wider scope than ``pg_url``'s. Skips the caller when PostgreSQL is not there."""
    reason = pg_skip_reason()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_TEST_DB}"
    admin(base).execute(f"CREATE SCHEMA {schema}")
    url = f"{base}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        if not release_schema(url):  # kept as a spare when it is still the template's shape
            admin(base).execute(f"DROP SCHEMA {schema} CASCADE")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each process (xdist worker) drops the spare schemas it kept (``tests/migrated.py``)."""
    drop_spares()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


#: ``FEEDSVC_TEST_EVERY_BACKEND=1`` runs every state-DB test on both backends, the modules
#: marked ``module_on_sqlite`` too (a change to the storage layer, before a release).
EVERY_BACKEND = os.environ.get("FEEDSVC_TEST_EVERY_BACKEND") == "1"


@pytest.hookimpl(tryfirst=True)  # before pytest parametrizes ``db_url`` from its own params
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a module marked ``module_on_sqlite`` (``tests/backend_cases.py``) that takes a
    state DB gets it on SQLite only, unless the test parametrizes ``db_url`` itself."""
    if EVERY_BACKEND or "db_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("module_on_sqlite") is None:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "db_url" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    metafunc.definition.add_marker(pytest.mark.parametrize("db_url", ["sqlite"], indirect=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect parameter combinations that do not exist, rather than skip them at every run:
    a MariaDB CMS table (``cms_news.news``) beside a PostgreSQL state DB (its tests put both in
    one SQLite-or-PostgreSQL world; the MariaDB case runs with the SQLite state DB)."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        absent = params.get("db_url") == "postgres" and params.get("news") == "mariadb"
        (drop if absent else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("pg_url"))


def _migrated(url: str) -> Database:
    """The state DB at ``url`` (empty) at head: a copy of this worker's migrated template
    (``tests/migrated.py``), or migrated here when no copy can be made."""
    database = Database(url)
    if not copy_template(url):
        upgrade(database)
    return database


@pytest.fixture
def state_url(db_url: str) -> str:
    """``db_url`` at the head revision already (``tests/migrated.py``): for tests that start a
    service on it and are not about a new state DB's creation."""
    return premigrated(db_url)


@pytest.fixture
def lite_db(sqlite_url: str) -> Iterator[Database]:
    """SQLite only: for lifecycle tests whose SQL the two-backend tests already cover."""
    database = _migrated(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = _migrated(db_url)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """PostgreSQL only: for races SQLite's one write lock rules out."""
    database = _migrated(pg_url)
    yield database
    database.dispose()


MARIADB_ADMIN = os.environ.get("FEEDSVC_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


@contextmanager
def mariadb_database(prefix: str) -> Iterator[str]:
    """A fresh utf8mb4 database on the machine's MariaDB, dropped afterwards; its URL.

    Skips the calling test, with the reason, when MariaDB is not reachable.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(MARIADB_ADMIN, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    except Exception as exc:
        pytest.skip(f"MariaDB not reachable at {MARIADB_ADMIN}: {type(exc).__name__}: {exc}")
    try:
        yield MARIADB_ADMIN.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


@pytest.fixture(autouse=True)
def _forget_learnt_secrets() -> Iterator[None]:
    """Each test starts with the secrets the process had learnt before it: an Apprise test's
    URL parts (``/deliver/…``) are scrubbed from every later log line in the process
    (``feedsvc.logs.register_secret``), which masked another test's "no such table:
    deliveries" depending on which worker ran which test first."""
    learnt = list(logs._LEARNT)
    yield
    logs._LEARNT[:] = learnt


@pytest.fixture(autouse=True)
def _feedsvc_log_handlers_removed() -> Iterator[None]:
    """Each test leaves the root logger without a handler of feedsvc's log set-up, at the
    level it had: a command a test runs in this process (click's ``CliRunner``) sets it up,
    and its handler's secret scrubbing renders a traceback into text (``exc_info`` None), so
    a later test of the worker found no traceback on its record (test_outage_after_ingest
    after test_slug_line_breaks, test_recipient_types or test_lifecycle_editors). Pytest's
    own capturing handlers are left to pytest."""
    root = logging.getLogger()
    level = root.level
    yield
    root.handlers[:] = [
        h for h in root.handlers if not any(isinstance(f, logs.RedactSecrets) for f in h.filters)
    ]
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _bounded_logs_closed() -> None:
    """Each test starts with a fresh window for every bounded log line
    (:mod:`feedsvc.bounded_log`): a malformed request's WARNING is logged in full only for the
    first few a minute in a process, so a module sending many (``test_web_malformed``) saw
    nothing from its eleventh test on when one worker ran them in the same minute."""
    bounded = sys.modules.get("feedsvc.bounded_log")
    if bounded is not None:
        bounded.close_all()


@pytest.fixture(autouse=True)
def _forget_base_urls_told() -> None:
    """Each test starts with no Bot API base URL told as answering something else
    (``feedsvc.notify.not_bot_api``: one watch per URL and process): a later test's fake on a
    port the OS gave again would otherwise find its first such answer already told."""
    watches = sys.modules.get("feedsvc.notify.not_bot_api")
    if watches is not None:
        watches._watches.clear()


@pytest.fixture(autouse=True)
def _forget_rows_said() -> None:
    """Each test starts with no source row said "not applied" yet: ingest says an older
    version of an article's own row once per (key, row id, version) and process
    (``feedsvc.ingest.unapplied._said``; another row of the key is said once per state DB), and
    two tests whose clocks start in the same second hold the same versions, so the second
    test's line was never written when one worker ran both (``test_cms_corrections``' MariaDB
    case, seen once)."""
    unapplied = sys.modules.get("feedsvc.ingest.unapplied")
    if unapplied is not None:
        unapplied._said.clear()


@pytest.fixture
def clean_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FEEDSVC_* variable of the caller's, no config file, in an empty directory."""
    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def service_logging() -> Iterator[io.StringIO]:
    """What feedsvc's own log set-up (the secret scrubbing handler, Apprise's logger at its
    chattiest) writes in one test, then restored (the Apprise tests). Into a buffer: the
    handler's stderr, taken while an async test's fixtures are set up, was a capture stream
    closed before the test ran (every line was lost)."""
    root, apprise_log = logging.getLogger(), logging.getLogger("apprise")
    saved = root.handlers[:], root.level, apprise_log.level
    setup_logging("DEBUG")
    out = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    apprise_log.setLevel(logging.DEBUG)  # the library's chattiest: all of it is scrubbed
    yield out
    root.handlers[:], root.level = saved[0], saved[1]
    apprise_log.setLevel(saved[2])


# The Telegram bot's two everyday fixtures, shared by the bot test modules (each had its copy):
# a module whose fake Bot API needs chats of its own (tests/test_bot.py) defines its own ``fake``,
# which this ``lite_bot`` then runs against (pytest resolves a fixture's fixtures per test).
@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    """A fake Telegram Bot API (tests/fakebot.py) on 127.0.0.1, without chats."""
    from test_bot import fast_fake

    with fast_fake() as server:
        yield server


@pytest.fixture
def zalo() -> Iterator[FakeZaloAPI]:
    """A fake Zalo Bot API (tests/fakezalo.py) on 127.0.0.1; the modules that drive Zalo's
    channel or bot with more set up name their own (often ``fake``)."""
    from fakezalo import FakeZaloAPI

    with FakeZaloAPI() as server:
        yield server


@pytest.fixture
async def lite_bot(lite_db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    """The bot on SQLite, polling ``fake``, with test_bot's topics seeded."""
    from test_bot import running

    async with running(lite_db, fake) as service:
        yield service


# What each test costs in CPU (this process's threads and the children it waited for), for
# finding what makes the suite slow: on 2 cores its workers keep the CPU busy, so a test's
# wall time says more about the others than about itself. Off unless
# FEEDSVC_TEST_CPU_LOG names a file; each worker appends
# "cpu<TAB>wall<TAB>test id<TAB>children's cpu<TAB>processes started" lines (seconds; wall from
# setup to teardown; cpu includes the children's, those waited for; processes: this worker's
# ``subprocess``/``os.posix_spawn``/``fork`` starts, not their own children's).
_CPU_LOG = os.environ.get("FEEDSVC_TEST_CPU_LOG")
_SPAWNS = [0]


def _count_spawns(event: str, args: tuple[Any, ...]) -> None:
    if event in ("subprocess.Popen", "os.posix_spawn", "os.fork"):
        _SPAWNS[0] += 1


if _CPU_LOG:
    sys.addaudithook(_count_spawns)


def _cpu_seconds() -> tuple[float, float]:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    child = children.ru_utime + children.ru_stime
    return own.ru_utime + own.ru_stime + child, child


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not _CPU_LOG:
        return (yield)
    (before, child_before), started, spawns = _cpu_seconds(), time.monotonic(), _SPAWNS[0]
    try:
        return (yield)
    finally:
        (after, child_after), wall = _cpu_seconds(), time.monotonic() - started
        cpu, child = after - before, child_after - child_before
        with open(_CPU_LOG, "a", encoding="utf-8") as out:
            out.write(f"{cpu:.3f}\t{wall:.3f}\t{item.nodeid}\t{child:.3f}\t{_SPAWNS[0] - spawns}\n")


@pytest.fixture(scope="session")
def shared_browser() -> Iterator[dict[str, Any]]:
    """One headless Chromium per worker, held here for the browser modules: their ``driver``
    (``test_admin_browser``) starts it at first use and makes it as a new one is before each
    test. A start is ~1 s of CPU and ~45 tests took one each. Quit when the session ends (its
    CPU is then reaped after the last test: a per-test CPU log no longer shows it)."""
    held: dict[str, Any] = {}
    yield held
    if (quit_browser := held.pop("quit", None)) is not None:
        quit_browser()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts (demo/run subprocesses): killed and reaped after it, however it
    ended, so no test leaves a service holding a port or a lock."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
