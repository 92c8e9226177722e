"""A run of failed ingest ticks is told once, again when it changes or every 15 minutes, and
its end once with how long it lasted.

During a CMS outage the same WARNING came at every retry of the backoff (every 5 minutes at
most, all night) and nothing said when it ended. Real ingestors over real databases: the
source (or the state DB) at a closed loopback port, the clocks of the backoff and of the log
moved by the test instead of waited for.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import article, builtin_ingestor
from processes import free_port
from sqlalchemy import create_engine
from sqlalchemy.exc import TimeoutError as SaTimeoutError

from feedsvc.db import Database
from feedsvc.failure_log import REMIND_SECONDS, FailureLog, spoken
from feedsvc.store.source_articles import upsert_source_articles


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def add(db: Database, n: int) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, [article(n)], datetime.now(UTC) - timedelta(minutes=n))


def told(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def failing_ingestor(db: Database, clock: Clock):  # type: ignore[no-untyped-def]
    ing = builtin_ingestor(db, poll_seconds=30)
    ing.backoff.clock = clock
    ing.failure_log.clock = clock
    return ing


def retry_until_skipped_no_more(ing, clock: Clock) -> object:  # type: ignore[no-untyped-def]
    """The backoff step waited out (the clock moved past it), then one tick."""
    clock.now += ing.backoff.seconds_left() + 1
    return ing.tick()


def test_a_source_outage_is_told_at_its_start_then_at_its_end(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    ing = failing_ingestor(db, clock)
    add(db, 1)
    assert ing.tick().new == 1
    good = refusing_source(ing)
    caplog.set_level(logging.DEBUG, logger="feedsvc")
    for _ in range(4):  # 30 + 60 + 120 + 240 s: within the reminder's 15 minutes
        result = retry_until_skipped_no_more(ing, clock)
        assert result.error is not None and not result.skipped
    [warning] = told(caplog, logging.WARNING)
    assert "the source does not answer (1 in a row), retrying in 30 s" in warning, warning
    assert clock.now - 1000.0 < REMIND_SECONDS
    caplog.clear()
    ing.source.engine.dispose()
    ing.source.engine = good
    add(db, 2)
    clock.now += 60  # the source answers again: the next poll's probe sees it
    assert ing.tick().new == 1
    [info] = [m for m in told(caplog, logging.INFO) if "again" in m]
    lasted = spoken(clock.now - (1000.0 + 31))  # from the first failed try
    assert info == (
        f"ingest from builtin: the source answers again after {lasted} of failures (4 failed tries)"
    ), info
    assert told(caplog, logging.WARNING) == []


def test_a_long_outage_is_recalled_every_15_minutes(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    ing = failing_ingestor(db, clock)
    refusing_source(ing)
    caplog.set_level(logging.INFO, logger="feedsvc")
    start = clock.now
    while clock.now - start < 3600:  # an hour of retries, every 5 minutes once backed off
        retry_until_skipped_no_more(ing, clock)
    warnings = told(caplog, logging.WARNING)
    assert 4 <= len(warnings) <= 5, warnings  # the start, then one per 15 minutes
    assert "the source does not answer (1 in a row)" in warnings[0]
    for line in warnings[1:]:
        assert "the source does not answer for " in line and " min now (" in line, line
    ing.source.engine.dispose()


def test_a_different_failure_is_told_at_once(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The source answers again but now the state DB does not: news, a WARNING of its own —
    the state DB outage's start (``db.outage``: ingest's own line for it is DEBUG)."""
    clock = Clock()
    ing = failing_ingestor(db, clock)
    add(db, 1)
    good = refusing_source(ing)
    caplog.set_level(logging.INFO, logger="feedsvc")
    retry_until_skipped_no_more(ing, clock)
    retry_until_skipped_no_more(ing, clock)
    ing.source.engine.dispose()
    ing.source.engine = good
    ing.db = unreachable(db, tmp_path)
    retry_until_skipped_no_more(ing, clock)
    retry_until_skipped_no_more(ing, clock)  # the same failure: not again
    ing.db.dispose()
    warnings = told(caplog, logging.WARNING)
    assert len(warnings) == 2, warnings
    assert "the source does not answer" in warnings[0], warnings
    assert " is unavailable: " in warnings[1], warnings


def refusing_source(ing):  # type: ignore[no-untyped-def]
    """Point ``ing``'s source at a port nothing listens on (connection refused); the engine it
    had, to put back."""
    good = ing.source.engine
    ing.source.engine = create_engine(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/none")
    return good


def unreachable(db: Database, tmp_path: Path) -> Database:
    """A state DB of the same kind that cannot be reached."""
    if db.dialect == "sqlite":
        (tmp_path / "not-a-file.db").mkdir()
        return Database(f"sqlite:///{tmp_path / 'not-a-file.db'}")
    return Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")


def test_a_state_db_outage_too(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A state DB that does not answer is its outage's to tell (``db.outage``, the one owner
    of when a line is said): one WARNING, its start, ingest's failures counted in it; ingest
    says nothing of it above DEBUG, neither at its failures nor when ingest works again."""
    clock = Clock()
    ing = failing_ingestor(db, clock)
    add(db, 1)
    good, ing.db = ing.db, unreachable(db, tmp_path)
    caplog.set_level(logging.INFO, logger="feedsvc")
    for _ in range(3):
        assert retry_until_skipped_no_more(ing, clock).error is not None
    [warning] = told(caplog, logging.WARNING)
    assert " is unavailable: " in warning, warning
    assert ing.db.outage.down
    ing.db.dispose()
    ing.db = good
    clock.now += 30
    assert ing.tick().new == 1
    assert not [m for m in told(caplog, logging.INFO) if m.startswith("ingest from")], caplog.text


def test_the_end_says_the_outage_not_the_catch_up_after_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A tester's: "answers again after 25 s of failures" for a 20 s outage — the run was
    counted to the end of the tick that worked, backlog and all. It ends when that tick began
    (here: 20 s after the first failure; the tick then works 10 s). The source's outage: the
    state DB's is told by ``db.outage``."""
    clock = Clock()
    ing = failing_ingestor(db, clock)
    add(db, 1)
    good = refusing_source(ing)
    caplog.set_level(logging.INFO, logger="feedsvc.ingest")
    assert ing.tick().error is not None
    first = clock.now
    ing.source.engine.dispose()
    ing.source.engine = good
    clock.now = first + 20
    ing.hooks.append(lambda *_: setattr(clock, "now", clock.now + 10))  # a long catch-up
    assert ing.tick().new == 1
    [info] = [m for m in told(caplog, logging.INFO) if "answers again" in m]
    assert "the source answers again after 20 s of failures (1 failed try)" in info, info


def refused_by(db: Database) -> Exception:
    """What the backend's driver raises for ``db``, a state DB it cannot reach (real)."""
    try:
        db.ping()
    except Exception as exc:
        return exc
    finally:
        db.dispose()
    raise AssertionError("an unreachable database answered")


@pytest.mark.parametrize("error", ["refused", "pool exhausted"])
def test_the_builtin_source_refused_while_the_state_db_answers(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, error: str,
) -> None:  # fmt: skip
    """The built-in source reads the state DB: an outage its read meets is the state DB's,
    told by ``db.outage``, even when the ping after it answers on a session the pool kept (a
    CI run's: PostgreSQL refusing new connections, "ingest from builtin: the source does not
    answer" — a WARNING beside the outage's own lines). The read's error here is the
    backend's real one for a refused connection, or the pool's for no connection in time."""
    clock = Clock()
    ing = failing_ingestor(db, clock)
    add(db, 1)
    assert ing.source.engine is ing.db.engine  # the subject: the built-in source
    failure = (
        refused_by(unreachable(db, tmp_path))
        if error == "refused"
        else SaTimeoutError("QueuePool limit of size 5 overflow 10 reached")
    )

    def read(*_: object) -> list[object]:
        raise failure

    monkeypatch.setattr(ing.source, "_rows", read)
    caplog.set_level(logging.DEBUG, logger="feedsvc")
    for _ in range(2):
        assert retry_until_skipped_no_more(ing, clock).error is not None
    warnings = told(caplog, logging.WARNING)
    assert len(warnings) == 1 and " is unavailable: " in warnings[0], warnings
    assert not any("does not answer" in m for m in told(caplog, logging.INFO)), caplog.text
    assert any("the state database does not answer" in m for m in told(caplog, logging.DEBUG))
    monkeypatch.undo()
    clock.now += 600
    assert ing.tick().new == 1  # works again: nothing lost


def test_the_log_s_rule() -> None:
    clock = Clock()
    log = FailureLog(clock)
    assert log.ended() is None  # no run of failures: nothing to tell
    assert log.failed("down", "e") == "first"
    clock.now += REMIND_SECONDS - 1
    assert log.failed("down", "e") is None
    assert log.failed("down", "other") == "changed"
    clock.now += REMIND_SECONDS
    assert log.failed("down", "other") == "reminder"
    assert log.ended() == (2 * REMIND_SECONDS - 1, 4)
    assert log.failed("down", "e") == "first"  # a new run
    clock.now += 30
    assert log.ended(at=clock.now - 10) == (20, 1)  # the try that worked began 10 s ago


@pytest.mark.parametrize(
    ("seconds", "said"), [(0, "0 s"), (119, "119 s"), (120, "2 min"), (7199, "119 min"),
                          (7200, "2 h 00 min"), (3 * 3600 + 5 * 60, "3 h 05 min")],
)  # fmt: skip
def test_durations_as_said(seconds: float, said: str) -> None:
    assert spoken(seconds) == said
