"""A failure while everything answers, right after an outage, backs off from one poll again.

Found beside CI's `test_state_file_kept` flake: a tick fails on the state DB's file moved away,
then the failure handler's probe (``Failures.outage``) finds the file back — it was put back in
between — so the failure counts as one "while everything answers", which waits its whole step
with no probe; that step was doubled by every try of the outage (at a 1 s poll, 32 s after
five failed tries; at the default 30 s, the 5-minute cap after four). Now its steps start at
one poll: the next scheduled tick ingests.

Real files: an SQLite CMS and an SQLite state DB moved away and put back; the race is driven by
a hook at the probe (the file put back just before it), the backoff's clock by the test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from test_ingest_outage import sqlite_cms

from feedsvc.config import SourceColumns
from feedsvc.db import Database, upgrade
from feedsvc.ingest import Ingestor
from feedsvc.ingest.model import TickResult
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

POLL = 30.0  # the default poll: a step of 2**n polls is minutes


@dataclass
class Setup:
    ing: Ingestor
    db: Database
    file: Path
    cms: Path
    now: list[float]  # the backoff's clock

    def tick(self) -> TickResult:
        """One scheduled tick, then a poll interval passes."""
        result = self.ing.tick()
        self.now[0] += POLL
        return result

    def away(self) -> None:
        self.file.rename(self.file.with_name("state.db.moved"))

    def back(self) -> None:
        self.file.with_name("state.db.moved").rename(self.file)

    def post(self, n: int) -> None:
        with closing(sqlite3.connect(self.cms)) as conn:
            conn.execute("INSERT INTO posts VALUES (?, ?, ?, 'Kiến Thụy', 'published', "
                         "'2026-11-30 10:01:00', ?)", (n, f"P-{n}", f"https://e.vn/{n}",
                         f"2026-11-30 10:01:{n:02d}"))  # fmt: skip
            conn.commit()

    def failing_while_away(self, tries: int) -> None:
        """The file away until ``tries`` ticks failed on it (ticks inside a step: probes)."""
        self.away()
        while self.ing.backoff.failures < tries:
            result = self.tick()
            assert result.skipped or "does not exist" in (result.error or ""), result
        assert self.ing.backoff.outage == "state"
        while not self.ing.backoff.due():  # the next tick is the one that runs and fails
            assert self.tick().skipped


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    file = tmp_path / "state.db"
    db = Database(f"sqlite:///{file}")
    upgrade(db)
    cms = tmp_path / "cms.db"
    sqlite_cms(cms, "P-1")
    columns = SourceColumns(cursor="modified", source_key="slug", url="link",
                            published_at="created", visible="status = 'published'")  # fmt: skip
    source = external_source(f"sqlite:///{cms}", "posts", columns, UTC)
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=POLL, overlap_seconds=300,
                   batch_size=100)  # fmt: skip
    now = [1000.0]
    ing.backoff.clock = lambda: now[0]
    assert ing.tick().new == 1
    yield Setup(ing, db, file, cms, now)
    source.dispose()
    db.dispose()


def put_back_before_the_probe(s: Setup) -> None:
    """The race, driven: the file comes back after the tick's statement failed on it and just
    before the failure handler asks whether the state DB answers."""
    ping = s.db.ping

    def back_then_ping() -> None:
        if not s.file.exists():
            s.back()
        ping()

    s.db.ping = back_then_ping  # type: ignore[method-assign]


@pytest.mark.parametrize("tries", [1, 5, 9])
def test_the_file_back_between_the_failure_and_the_probe(setup: Setup, tries: int) -> None:
    setup.failing_while_away(tries)
    setup.post(2)
    put_back_before_the_probe(setup)
    raced = setup.tick()
    assert "does not exist" in (raced.error or ""), raced
    assert setup.ing.backoff.seconds_left() == 0.0  # a step of one poll, passed by that tick
    back = setup.tick()
    assert (back.skipped, back.new, back.error) == (False, 1, None), back


def test_a_failure_after_an_outage_backs_off_from_one_poll(setup: Setup) -> None:
    """The side answers again, the tick fails for a reason of its own (a mapped column gone
    from the CMS): one poll, then two, then four — backed off, never a retry at each tick."""
    setup.failing_while_away(6)
    with closing(sqlite3.connect(setup.cms)) as conn:
        conn.execute("ALTER TABLE posts RENAME COLUMN link TO href")
        conn.commit()
    setup.back()
    ran = []
    for _ in range(8):  # ticks that run (not skipped) and the polls between them
        result = setup.tick()
        ran.append(not result.skipped)
        if not result.skipped:
            assert "link" in (result.error or ""), result
    # run (fails, 1 poll), run (2 polls), skip, run (4 polls), skip × 3, run
    assert ran == [True, True, False, True, False, False, False, True], ran
