"""A state DB that flaps is told in a bounded number of lines, and every outage's real end is
said — a resumed one's too (``feedsvc.db.outage``, its rule ``feedsvc.db.outage_rule``).

A tester's, ``feedsvc run`` on SQLite with the file moved away 10 s, back 3 s, away 20 s:
"is unavailable", "available again after 10 s", then nothing — the 20 s outage had resumed
the first (a failure within 5 s of its end) and its end was never said: the log said the DB
was available while it was gone. Flapping 3 s / 3 s, ingest said a WARNING and an INFO per flap
(40 lines in 2 minutes); 5 s / 5 s, every flap its start and end from the second minute
(12 ``db.outage`` lines a minute), jitter at the 5 s boundary deciding which resumed.

The timelines below drive an :class:`Outage` with a fake clock as the service does: failures
while the DB is away (several workers, every 0.5 s), answers every second while it is back.
"""

from __future__ import annotations

import logging
import math
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import article, builtin_ingestor
from processes import wait_until
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from test_outage_lines import running

from feedsvc.db import Database, upgrade
from feedsvc.db.outage import Outage, report
from feedsvc.store.source_articles import upsert_source_articles

#: The most lines any minute of an outage's log may hold (two outages' start and end).
MOST_A_MINUTE = 4


def _refused() -> Exception:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open"))


def _said(caplog: pytest.LogCaptureFixture) -> list[tuple[float, str]]:
    return [
        (float(getattr(r, "at", -1.0)), r.getMessage())
        for r in caplog.records
        if r.name == "feedsvc.db.outage"
    ]


class _Stamped(logging.Filter):
    """Stamps each outage line with the fake clock's time (``record.at``)."""

    def __init__(self, now: list[float]) -> None:
        super().__init__()
        self.now = now

    def filter(self, record: logging.LogRecord) -> bool:
        record.at = self.now[0]
        return True


def run(
    caplog: pytest.LogCaptureFixture, away: list[tuple[float, float]], until: float
) -> list[tuple[float, str]]:
    """The DB away during each ``(start, end)`` of ``away``, back otherwise, until ``until``;
    the lines said, each with its time."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    outage = Outage("state DB x", clock=lambda: now[0])
    stamp = _Stamped(now)
    logging.getLogger("feedsvc.db.outage").addFilter(stamp)
    try:
        step = 0
        while step * 0.5 <= until:
            now[0] = t = step * 0.5
            if any(a <= t < b for a, b in away):
                outage.failed(_refused(), "web" if step % 2 else "dispatcher")
            elif step % 2 == 0:
                outage.answered()
            step += 1
    finally:
        logging.getLogger("feedsvc.db.outage").removeFilter(stamp)
    return _said(caplog)


def flaps(period_away: float, period_back: float, lasting: float, jitter: float = 0.0):  # type: ignore[no-untyped-def]
    """Away ``period_away`` s, back ``period_back`` s, for ``lasting`` s, from 10 s; each
    length off by up to ``jitter`` s (seeded)."""
    rnd = random.Random(7)
    away, t = [], 10.0
    while t < 10.0 + lasting:
        a = period_away + rnd.uniform(-jitter, jitter)
        away.append((t, t + a))
        t += a + period_back + rnd.uniform(-jitter, jitter)
    return away


def _failing(t: float) -> float:
    """The first failure once the DB is away at ``t`` (failures every 0.5 s)."""
    return math.ceil(t * 2) / 2


def check(said: list[tuple[float, str]], away: list[tuple[float, float]]) -> None:
    """Every outage's start is said, the last line is the real end with its length from the
    start of the outage it ends, and no minute holds more than :data:`MOST_A_MINUTE` lines."""
    assert said and "is unavailable: " in said[0][1] and said[0][0] == _failing(away[0][0]), said
    at, last = said[-1]
    answered = math.ceil(away[-1][1])  # answers every second while it is back
    assert "available again after " in last and at >= answered, said
    began = max(t for t, line in said if "is unavailable: " in line and t <= answered)
    assert f"available again after {answered - began:.0f} s" in last, said
    for t, _ in said:
        within = [u for u, _ in said if t <= u < t + 60]
        assert len(within) <= MOST_A_MINUTE, (t, said)
    # every start said comes when the DB went away; every end while it was back
    for t, line in said:
        if "is unavailable: " in line:
            assert any(_failing(a) == t for a, _ in away), (t, said)
        if "available again" in line:
            assert not any(a <= t < b for a, b in away), (t, said)


def test_the_testers_sequence_ends_with_the_resumed_outages_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """10 s away, 3 s back, 20 s away: start, end after 10 s, and the resumed outage's end —
    said when it comes back, counted from the first start."""
    away = [(0.0, 10.0), (13.0, 33.0)]
    said = run(caplog, away, until=120.0)
    check(said, away)
    assert [t for t, _ in said] == [0.0, 10.0, 33.0], said
    assert "available again after 10 s" in said[1][1], said
    assert "available again after 33 s" in said[2][1], said
    assert "answered and failed again 1 time(s)" in said[2][1], said


def test_resumed_then_long(caplog: pytest.LogCaptureFixture) -> None:
    """Back 2 s, then away 3 minutes: summaries a minute, then the end."""
    away = [(0.0, 10.0), (12.0, 200.0)]
    said = run(caplog, away, until=260.0)
    check(said, away)
    assert sum("still unavailable" in line for _, line in said) == 3, said


@pytest.mark.parametrize(
    ("gone", "back", "jitter"),
    [(3.0, 3.0, 0.0), (5.0, 5.0, 0.6), (6.0, 6.0, 0.0), (1.0, 8.0, 0.3), (20.0, 7.0, 0.0)],
)
def test_flapping_is_bounded_and_ends_with_its_end(
    caplog: pytest.LogCaptureFixture, gone: float, back: float, jitter: float
) -> None:
    """Any period, with jitter at the 5 s boundary: at most four lines a minute (about one
    once it flaps on), and the last line the real end of the last outage."""
    away = flaps(gone, back, 180.0, jitter)
    said = run(caplog, away, until=away[-1][1] + 90.0)
    check(said, away)
    assert len(said) <= MOST_A_MINUTE + 4, said  # ~4 minutes of log: the burst, then a minute


def test_a_flapping_db_then_a_real_outage_later_is_told_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the flapping ended (its end said), an outage 5 minutes later has its own start
    and end at once."""
    away = [*flaps(3.0, 3.0, 60.0), (400.0, 420.0)]
    said = run(caplog, away, until=480.0)
    check(said, away)
    assert said[-2][0] == 400.0 and "is unavailable: " in said[-2][1], said
    assert said[-1][0] == 420.0 and "available again after 20 s" in said[-1][1], said


# -- ingest: its state-DB failures are the outage's to tell ------------------------------------


def test_ingest_says_no_line_per_flap_of_the_state_db(
    lite_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The state DB away and back by turns, 20 times: ingest's WARNING and INFO came at each
    flap (40 lines); now its failures count on the outage, which says the lines."""
    away = tmp_path / "not-a-file.db"
    away.mkdir()
    gone = Database(f"sqlite:///{away}")
    ing = builtin_ingestor(lite_db, poll_seconds=1)
    now = [1000.0]
    ing.backoff.clock = ing.failure_log.clock = lambda: now[0]
    with lite_db.write() as conn:
        upsert_source_articles(conn, [article(1)], datetime.now(UTC) - timedelta(minutes=1))
    caplog.set_level(logging.INFO, logger="feedsvc")
    for _ in range(20):
        ing.db = gone
        now[0] += 3
        assert ing.tick().error is not None
        ing.db = lite_db
        now[0] += 3
        assert ing.tick().error is None
    mine = [r.getMessage() for r in caplog.records if r.name.startswith("feedsvc.ingest")]
    assert [m for m in mine if "state database" in m] == [], mine
    assert gone.outage.down  # counted there: ingest's failures
    gone.dispose()


# -- a real SQLite state DB moved away and back ------------------------------------------------


def test_a_real_file_away_back_and_away_again_ends_with_its_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's sequence on a real engine: the file moved away 10 s, back 3 s, away 20 s
    (the outage's clock moved by the test); the last line says the file came back."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    file, moved = tmp_path / "feedsvc.db", tmp_path / "away.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    now = [0.0]
    db.outage.clock = lambda: now[0]

    def gone_for(start: float, seconds: float) -> None:
        now[0] = start
        db.engine.dispose()
        file.rename(moved)
        with pytest.raises(sa_exc.OperationalError) as refused:
            db.ping()
        assert report(refused.value, "web")
        now[0] = start + seconds
        moved.rename(file)
        with db.read() as conn:
            conn.execute(text("SELECT 1"))

    gone_for(0.0, 10.0)
    gone_for(13.0, 20.0)
    said = [r.getMessage() for r in caplog.records if r.name == "feedsvc.db.outage"]
    assert not db.outage.down
    assert "is unavailable: " in said[0] and "available again after 10 s" in said[1], said
    assert len(said) == 3 and "available again after 33 s" in said[2], said
    db.dispose()


# -- the tester's case: `feedsvc run` ----------------------------------------------------------


def test_feedsvc_run_says_the_end_of_a_resumed_outage(tmp_path: Path) -> None:
    """``feedsvc run`` on SQLite, the file moved away 10 s, back 3 s, away 20 s: the log's
    last ``db.outage`` line is an end said after the file came back the second time, and
    ingest tells none of it."""
    file, moved = tmp_path / "feedsvc.db", tmp_path / "away.db"
    with running(f"sqlite:///{file}", tmp_path) as (out, _):

        def outage_lines() -> list[str]:
            return [x for x in out.read_text().splitlines() if "feedsvc.db.outage" in x]

        file.rename(moved)
        wait_until(lambda: any("is unavailable" in x for x in outage_lines()), 30, "the start")
        time.sleep(10)  # the outage's length (what is told), not a wait for something
        moved.rename(file)
        wait_until(lambda: "available again" in outage_lines()[-1], 30, "the first end")
        time.sleep(3)  # back 3 s: the tester's
        file.rename(moved)
        time.sleep(20)
        said = len(outage_lines())
        moved.rename(file)
        wait_until(lambda: len(outage_lines()) > said, 70, "the resumed outage's end")
    lines = outage_lines()
    assert "available again after " in lines[-1], lines
    log = out.read_text()
    assert "state database does not answer" not in log and "answers again" not in log, log
