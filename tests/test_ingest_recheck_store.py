"""Rows the state DB refused (stage ``store``) are looked up by id with the other refused rows.

A value the state DB refuses for one row (an operator's CHECK constraint or trigger, a value
too long for a column the operator narrowed) quarantines that row at stage ``store``.
Rows refused by the parser or when read were already looked up by id every 10 minutes, so a
newsroom fixing one in place (its cursor value left as it was, or set behind the cursor) got
it ingested; stage ``store`` rows were left out: fixed in place, no article and a quarantine
entry for good, and deleted in the CMS, listed for good too. Now they are re-checked the same
way, written through the one batch write (hooks, outbox): ingested once the state DB takes
them, listed quietly with their current reason while it still refuses, gone once deleted.

A NUL byte in text, which PostgreSQL refuses, never reaches the state DB: the parser refuses
it on every backend (stage ``parse``, since before the quarantine existed), and such rows were
re-checked already; :func:`test_a_nul_byte_fixed_in_place_is_ingested_at_the_next_check` keeps
it so.

Each refusal with each CMS backend runs on both state DB backends (the refusing rule is the
state DB's own SQL); whether the fix is made in place or dated behind the cursor alternates
between the two (``backend_cases.on_backends``, the start varied per case): it is a change in
the CMS, read back by the same lookup by id whichever state DB takes the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from factories import VN
from sqlalchemy import Connection, event, select, text
from sqlalchemy.exc import OperationalError
from test_ingest_cursor_edges import Cms, bounded_tick, cms_at, pg_cms_url
from test_ingest_quarantine import T, held
from test_ingest_unordered import add_rows, entries, quarantined_count

from feedsvc.db import Database, schema, schema_ingest
from feedsvc.ingest import Change, unordered
from feedsvc.outbox import Outbox
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

__all__ = ["cms_at", "pg_cms_url"]  # fixtures

NUL = {
    "sqlite": "'Giá vàng' || char(0) || ' tăng'",
    "mariadb": "CONCAT('Giá vàng', CHAR(0 USING utf8mb4), ' tăng')",
}


def refuse_word(db: Database) -> None:
    """An operator's rule the parser knows nothing of: no title containing 'CẤM'."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text("ALTER TABLE articles ADD CONSTRAINT no_cam CHECK (title NOT LIKE '%CẤM%')")
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER no_cam BEFORE INSERT ON articles WHEN new.title LIKE '%CẤM%' "
                    "BEGIN SELECT RAISE(ABORT, 'no_cam: a title containing CẤM'); END"
                )
            )


def refuse_long_titles(db: Database) -> None:
    """A column narrowed by the operator: titles of 40 characters at most."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE articles ALTER COLUMN title TYPE VARCHAR(40)"))
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER title_40 BEFORE INSERT ON articles "
                    "WHEN length(new.title) > 40 "
                    "BEGIN SELECT RAISE(ABORT, 'value too long: title over 40'); END"
                )
            )


@dataclass(frozen=True)
class Refusal:
    """A state-DB rule, how a row breaks it in the CMS (an SQL assignment) and the fix."""

    rule: Callable[[Database], None]
    bad: str
    fix: str


REFUSALS = {
    "check": Refusal(refuse_word, "title = 'Tin CẤM số 3'", "title = 'Tin số 3'"),
    "too long": Refusal(refuse_long_titles, f"title = '{'Kiến Thụy ' * 6}'", "title = 'Tin số 3'"),
}
CASES = [
    ("check", "sqlite", "TEXT"),
    ("check", "postgres", "TIMESTAMP"),
    ("check", "mariadb", "DATETIME"),
    ("too long", "sqlite", "TEXT"),
    ("too long", "mariadb", "DATETIME"),
]


def cms_with_refused_row(db: Database, cms_at: Any, case: str, backend: str, ts: str) -> Cms:
    """Rows 1-4 and 9 (two days later: the cursor ends past the others), row 3 one the state
    DB refuses (its rule installed); not ingested yet."""
    REFUSALS[case].rule(db)
    cms = cms_at(backend, ts)
    add_rows(cms, range(1, 5))
    cms.post(9, at=T + timedelta(days=2))
    update(cms, 3, REFUSALS[case].bad)
    return cms


def update(cms: Cms, n: int, values: str, **params: Any) -> None:
    with cms.engine.begin() as conn:
        if cms.url.startswith("mysql"):
            conn.execute(text("SET SESSION sql_mode = ''"))
        conn.execute(text(f"UPDATE posts SET {values} WHERE id = {n}"), params)


def last_seen(db: Database) -> dict[str, datetime]:
    t = schema_ingest.ingest_quarantine
    with db.read() as conn:
        return dict(conn.execute(select(t.c.source_id, t.c.last_seen_at)).tuples().all())


@pytest.mark.parametrize(
    ("db_url", "case", "backend", "ts", "moved"),
    [
        param
        for i, case in enumerate(CASES)
        for param in on_backends(
            [(*case, False), (*case, True)],
            start=i,
            label=lambda v: ("dated behind" if v else "in place") if isinstance(v, bool) else v,
        )
    ],
    indirect=["db_url"],
)
def test_a_row_the_state_db_refused_fixed_in_the_cms_is_ingested_at_the_next_check(
    db: Database, cms_at: Any, case: str, backend: str, ts: str, moved: bool
) -> None:
    cms = cms_with_refused_row(db, cms_at, case, backend, ts)
    ing = cms.ingestor(db)
    result = bounded_tick(ing)
    assert result.error is None, result.error
    assert [(q.source_id, q.stage) for q in result.quarantined] == [("3", "store")]
    assert held(db) == ["p-1", "p-2", "p-4", "p-9"]
    fix = REFUSALS[case].fix
    if moved:  # fixed, and dated a day back: behind the cursor, where no read looks
        update(cms, 3, f"{fix}, modified = :m", m=T - timedelta(days=1))
    else:
        update(cms, 3, fix)
    assert bounded_tick(ing).new == 0  # the next poll: no read takes it (behind the cursor)
    ing.unordered_every = 0  # the 10-minute check is due
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 1, [])  # was 0: never
    assert held(db) == ["p-1", "p-2", "p-3", "p-4", "p-9"]
    assert entries(db) == {}
    ing.source.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_a_row_still_refused_stays_listed_quietly_with_its_reason_and_leaves_once_deleted(
    db: Database, cms_at: Any, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Re-checked and still refused: one entry, one count, one log line however many checks;
    its reason follows what the state DB says of the row now, its "last seen" the checks."""
    cms = cms_with_refused_row(
        db, cms_at, "check", backend, "TEXT" if backend == "sqlite" else "DATETIME"
    )
    refuse_long_titles(db)
    ing = cms.ingestor(db)
    caplog.set_level(logging.DEBUG, logger="feedsvc.ingest")
    assert [q.stage for q in bounded_tick(ing).quarantined] == ["store"]
    first = entries(db)["3"].reason
    assert "no_cam" in first and "Tin CẤM số 3" not in first, first  # not the row's values
    seen = last_seen(db)["3"]
    update(cms, 3, f"title = '{'Kiến Thụy ' * 6}'")  # no CẤM now, but too long
    ing.unordered_every = 0
    caplog.clear()
    for _ in range(3):
        result = bounded_tick(ing)
        assert (result.error, result.new, result.quarantined) == (None, 0, [])
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in loud if "quarantined" in m or "refused" in m], loud
    assert list(entries(db)) == ["3"] and entries(db)["3"].stage == "store"
    reason = entries(db)["3"].reason
    assert "too long" in reason and "no_cam" not in reason, reason  # was the first reason
    assert last_seen(db)["3"] > seen
    assert quarantined_count(db, ing.source.name) == 1
    with cms.engine.begin() as conn:
        conn.execute(text("DELETE FROM posts WHERE id = 3"))
    assert bounded_tick(ing).error is None
    assert entries(db) == {}  # was listed for good
    ing.source.dispose()


def test_the_operator_mending_the_state_dbs_rule_lets_the_unchanged_row_in(
    db: Database, cms_at: Any
) -> None:
    """The row itself unchanged: the state DB's rule was the operator's mistake, dropped."""
    cms = cms_with_refused_row(db, cms_at, "check", "sqlite", "TEXT")
    ing = cms.ingestor(db)
    assert [q.stage for q in bounded_tick(ing).quarantined] == ["store"]
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE articles DROP CONSTRAINT no_cam"))
        else:
            conn.execute(text("DROP TRIGGER no_cam"))
    ing.unordered_every = 0
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 1, [])
    assert entries(db) == {} and "p-3" in held(db)
    ing.source.dispose()


def test_many_refused_rows_one_fixed_each_check_no_systemic_failure(
    db: Database, cms_at: Any
) -> None:
    """Hundreds of rows the state DB still refuses and one fixed among them: the check stores
    them row by row; every row refused again is no sign of a broken write path (it was
    refused before), so the tick does not fail, and the fixed one is ingested."""
    refuse_word(db)
    cms = cms_at("sqlite", "TEXT")
    add_rows(cms, range(1, 401))
    cms.post(900, at=T + timedelta(days=2))
    with cms.engine.begin() as conn:  # 3 rows in 4 refused (a batch all refused is systemic)
        conn.execute(text("UPDATE posts SET title = 'Tin CẤM ' || id WHERE id % 4 != 0"))
    ing = cms.ingestor(db, batch_size=100)
    while bounded_tick(ing).read:
        pass
    assert len(entries(db)) == 300 and len(held(db)) == 101
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    ing.unordered_every = 0
    result = bounded_tick(ing)  # every row still refused
    assert (result.error, result.new, result.quarantined) == (None, 0, [])
    assert len(entries(db)) == 300
    # the same reason each time (PostgreSQL's "Failing row contains (<new id>, …)" left out):
    # marked seen in bulk, not an UPDATE per row
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE INGEST_QUARANTINE")]
    assert len(updates) <= 3, len(updates)
    update(cms, 150, "title = 'Tin 150'")
    update(cms, 7, "title = 'Tin 7', modified = :m", m=T - timedelta(days=3))
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 2, [])
    assert len(entries(db)) == 298 and {"p-7", "p-150"} <= set(held(db))
    assert {q.stage for q in entries(db).values()} == {"store"}
    ing.source.dispose()


def test_more_refused_rows_than_one_check_writes_are_written_in_turn(
    db: Database, cms_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row the state DB refused costs a write to re-check: at most STORE_WRITTEN (500)
    per check, the longest unchecked first, so every one is tried in turn."""
    monkeypatch.setattr(unordered, "STORE_WRITTEN", 3)
    refuse_word(db)
    cms = cms_at("sqlite", "TEXT")
    add_rows(cms, range(1, 13))
    cms.post(20, at=T + timedelta(days=2))
    with cms.engine.begin() as conn:
        conn.execute(
            text("UPDATE posts SET title = 'Tin CẤM ' || id WHERE id % 3 != 0 AND id < 20")
        )
    ing = cms.ingestor(db, batch_size=3)  # one good row in each batch (else: systemic)
    while bounded_tick(ing).read:
        pass
    assert sorted(entries(db), key=int) == ["1", "2", "4", "5", "7", "8", "10", "11"]
    update(cms, 11, "title = 'Tin 11'")  # the last by id
    ing.unordered_every = 0
    new = [bounded_tick(ing).new for _ in range(3)]  # 3 checks of 3 rows: each row tried
    assert sum(new) == 1, new
    assert "p-11" in held(db) and len(entries(db)) == 7
    ing.source.dispose()


# -- the re-check writes through the batch commit: hooks, outbox, the alert age rule ---------
def subscribed(db: Database, chat_id: int) -> None:
    """A topic matching every CMS title ('Kiến Thụy') and a chat subscribed to it."""
    with db.write() as conn:
        now = datetime.now(UTC)
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", now)
        ensure_chat(conn, chat_id, "private", "Phóng viên", now)
        topic = get_topic(conn, "kien-thuy")
        assert topic is not None
        subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)


def queued(db: Database) -> list[tuple[str, int]]:
    a, d = schema.articles, schema.deliveries
    stmt = select(a.c.source_key, d.c.chat_id).join(a, a.c.id == d.c.article_id)
    with db.read() as conn:
        return sorted(conn.execute(stmt).tuples().all())


@pytest.mark.parametrize(
    ("age", "alerted"), [(timedelta(hours=2), True), (timedelta(days=5), False)]
)
def test_a_fixed_row_alerts_as_any_late_row_would(
    db: Database, cms_at: Any, age: timedelta, alerted: bool
) -> None:
    """The fixed row's article goes through the hooks: its subscribers are alerted when it is
    recent, and not when it is older than ``alert_max_age_hours`` (48 h), as any row the
    reads take late."""
    refuse_word(db)
    subscribed(db, 501)
    now = datetime.now(VN).replace(tzinfo=None, microsecond=0)
    cms = cms_at("sqlite", "TEXT")
    for n in (1, 2, 3):
        cms.post(n, at=now - age + timedelta(minutes=n))
    cms.post(9, at=now - timedelta(minutes=5))
    update(cms, 3, "title = 'Tin số 3: Kiến Thụy CẤM'")
    ing = cms.ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    bounded_tick(ing)  # the first sync: the archive is stored without alerts
    assert [q.source_id for q in bounded_tick(ing).quarantined] == [] and entries(db).keys() == {
        "3"
    }
    assert queued(db) == []
    update(cms, 3, "title = 'Tin số 3: Kiến Thụy'")
    stored: list[Sequence[Change]] = []
    ing.after_commit.append(stored.append)
    ing.unordered_every = 0
    result = bounded_tick(ing)
    assert (result.error, result.new) == (None, 1)
    assert [c.article.source_key for batch in stored for c in batch] == ["p-3"]
    assert queued(db) == ([("p-3", 501)] if alerted else [])
    ing.source.dispose()


# -- the state DB's own failure is never the row's -------------------------------------------
def test_a_state_db_failure_during_the_check_is_not_blamed_on_the_row(
    db: Database, cms_at: Any
) -> None:
    """A lock timeout (or a lost connection, a full disk) while the check writes a fixed row:
    the tick fails and rolls back, the row stays listed as it was, and the next check ingests
    it once the state DB answers."""
    cms = cms_with_refused_row(db, cms_at, "check", "sqlite", "TEXT")
    ing = cms.ingestor(db)
    assert [q.stage for q in bounded_tick(ing).quarantined] == ["store"]
    before = entries(db)["3"]
    update(cms, 3, REFUSALS["check"].fix)
    failing = [True]

    def locked(conn: Connection, changes: Sequence[Change], now: datetime) -> None:
        if failing[0]:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

    ing.hooks.append(locked)
    ing.unordered_every = 0
    result = bounded_tick(ing)
    assert result.error is not None and "locked" in result.error
    assert entries(db) == {"3": before} and "p-3" not in held(db)
    failing[0] = False
    ing.backoff.retry_at = None  # skip the wait (the backoff is tested elsewhere)
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 1, [])
    assert entries(db) == {}
    ing.source.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_a_nul_byte_fixed_in_place_is_ingested_at_the_next_check(
    db: Database, cms_at: Any, backend: str
) -> None:
    """PostgreSQL refuses NUL in text; the parser refuses it first, on every state DB (stage
    ``parse``, the field and position named), so the row is re-checked by id as any row the
    parser refused: fixed in place, it is ingested (this already held before stage ``store``
    was re-checked; kept here with the state DB's refusals it is often taken for)."""
    cms = cms_at(backend, "TEXT" if backend == "sqlite" else "DATETIME")
    add_rows(cms, range(1, 5))
    cms.post(9, at=T + timedelta(days=2))
    update(cms, 3, f"body = {NUL[backend]}")
    ing = cms.ingestor(db)
    result = bounded_tick(ing)
    assert [(q.source_id, q.stage) for q in result.quarantined] == [("3", "parse")]
    assert "NUL character (U+0000) at character 9" in entries(db)["3"].reason
    update(cms, 3, "body = 'Giá vàng tăng'")
    ing.unordered_every = 0
    result = bounded_tick(ing)
    assert (result.error, result.new, result.quarantined) == (None, 1, [])
    assert entries(db) == {} and "p-3" in held(db)
    ing.source.dispose()
