"""Each state-DB outage is told from its start to its real end (``feedsvc.db.outage``).

A tester's, ``feedsvc run`` on an SQLite state DB moved away for 15 s: "is unavailable", then
in the same second "available again after 0 s (6 failure(s) …)" while the file stayed missing —
a statement answered on a pooled connection that still had the moved file open ended it — and
a second outage 45 s later got no db.outage line at all (a start within a minute of the last
line was only counted); another's first line was a summary, "still unavailable after 6 s".
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from feedsvc.db import Database, upgrade
from feedsvc.db.outage import Outage, report


def _refused() -> Exception:
    return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open"))


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "feedsvc.db.outage"]


def _outage(now: list[float]) -> Outage:
    return Outage("state DB x", clock=lambda: now[0])


def _one_outage(outage: Outage, now: list[float], start: float, seconds: float) -> None:
    """Failures every second from ``start`` for ``seconds``, then a statement answers."""
    for i in range(int(seconds)):
        now[0] = start + i
        outage.failed(_refused(), "ingest")
    now[0] = start + seconds
    outage.answered()


@pytest.mark.parametrize("gap", [10.0, 45.0])
def test_back_to_back_outages_each_have_their_start_and_end(
    caplog: pytest.LogCaptureFixture, gap: float
) -> None:
    """Two 20 s outages ``gap`` s apart: start, end, start, end — the second's first line is
    its start (no summary without one), and each end says its own 20 s."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    outage = _outage(now)
    _one_outage(outage, now, 100.0, 20.0)
    _one_outage(outage, now, 120.0 + gap, 20.0)
    said = _lines(caplog)
    assert len(said) == 4, said
    assert "is unavailable: " in said[0] and "is unavailable: " in said[2], said
    assert "available again after 20 s (20 failure(s)" in said[1], said
    assert "available again after 20 s (20 failure(s)" in said[3], said
    assert not any("still unavailable" in line for line in said), said


def test_summaries_keep_their_cadence_within_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    """An outage of 130 s: its start, summaries at 60 and 120 s, its end."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    _one_outage(_outage(now), now, 0.0, 130.0)
    said = _lines(caplog)
    assert [line.split(" ")[3:5] for line in said[1:3]] == [["still", "unavailable"]] * 2, said
    assert "still unavailable after 60 s" in said[1] and "after 120 s" in said[2], said
    assert "available again after 130 s" in said[3] and len(said) == 4, said


def test_an_answer_from_a_file_not_at_its_path_does_not_end_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``reachable`` says no (the file moved away): the answer ends nothing; once it says yes,
    the end says the whole outage."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    outage = _outage(now)
    outage.failed(_refused(), "web")
    now[0] = 0.2
    outage.answered(write=False, reachable=lambda: False)
    outage.answered(write=True, reachable=lambda: False)
    assert outage.down
    now[0] = 15.0
    outage.failed(_refused(), "web")  # within the same outage: no second start
    now[0] = 16.0
    outage.answered(write=False, reachable=lambda: True)
    said = _lines(caplog)
    assert len(said) == 2 and "is unavailable: " in said[0], said
    assert "available again after 16 s (2 failure(s)" in said[1], said


def test_a_failure_just_after_the_end_resumes_the_outage(caplog: pytest.LogCaptureFixture) -> None:
    """Within ``FLAP_SECONDS`` (5 s) of its end the outage resumes (a flap, or a failure of
    work begun during it said late): no new start; a summary a minute after the last line,
    counted from its start, then its end again."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    now = [0.0]
    outage = _outage(now)
    _one_outage(outage, now, 0.0, 10.0)
    _one_outage(outage, now, 12.0, 70.0)  # 2 s after its end
    said = _lines(caplog)
    assert len(said) == 4, said
    assert "still unavailable after 70 s" in said[2], said
    assert "available again after 82 s" in said[3], said


def test_a_pooled_connection_on_the_moved_file_does_not_end_the_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's, on a real engine: the state DB's file moved away while a pooled
    connection holds it open. A new connection is refused (the outage starts); the open one
    still reads the moved file — no "available again" while the path holds no file. The file
    put back, the next statement ends it."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    file, away = tmp_path / "feedsvc.db", tmp_path / "x.away"
    db = Database(f"sqlite:///{file}", pool={"pool_size": 2, "max_overflow": 0})
    upgrade(db)
    held = db.engine.connect()
    held.execute(text("SELECT count(*) FROM topics")).scalar()
    held.commit()
    file.rename(away)
    with pytest.raises(sa_exc.OperationalError) as refused:
        db.ping()
    assert report(refused.value, "web")
    assert db.outage.down
    assert held.execute(text("SELECT count(*) FROM topics")).scalar() == 0  # the moved file
    held.commit()
    assert db.outage.down, _lines(caplog)
    assert not any("available again" in line for line in _lines(caplog))
    away.rename(file)
    db.ping()  # a real answer at the path
    assert not db.outage.down
    said = _lines(caplog)
    assert "is unavailable: " in said[0] and "available again after" in said[-1], said
    held.close()
    db.dispose()


def test_an_outage_ends_at_a_real_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """File moved away and no connection open: refused; put back, a read ends the outage."""
    caplog.set_level(logging.INFO, logger="feedsvc.db.outage")
    file, away = tmp_path / "feedsvc.db", tmp_path / "x.away"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    db.engine.dispose()
    file.rename(away)
    with pytest.raises(sa_exc.OperationalError) as refused:
        db.ping()
    assert report(refused.value, "web")
    away.rename(file)
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    said = _lines(caplog)
    assert not db.outage.down and len(said) == 2, said
    assert "is unavailable: " in said[0] and "available again after 0 s (1 failure(s)" in said[1]
    db.dispose()
