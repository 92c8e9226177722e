"""The original scheduled line imported again after its time (an import script re-run) undid
the edit made before that time (``feedsvc.versions``).

A scheduled article imported without ``updated_at`` has its own publication time as version:
no edit time. Before that time such a record does not replace an edit (``updated_at`` = the
time of the edit); once the time had passed it was believed again, and as a version it is
later than any edit made before it: the old title came back, a takedown was undone (the article
published again), in the source table and, at the next poll, in the feeds. A record whose
without ``updated_at`` no longer replaces an edit of its same publication time made before it,
whenever it is imported; a CMS row whose ``updated_at`` equals its time is still followed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from cms_table import cms_table
from factories import VN, article, jsonl
from lifecycle_world import SLUG, make_world
from sqlalchemy import select, text

from feedsvc.articles import Article
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.importer import ImportReport, import_articles
from feedsvc.jsonlines import read_jsonl
from feedsvc.versions import replaces, takes_over

EDIT = "Kiến Thụy: bản sửa trước giờ đăng"
KEY = "TEST-00001"


def run_import(db: Database, text: str, now: datetime) -> ImportReport:
    return import_articles(db, read_jsonl(io.StringIO(text), VN), now=lambda: now)


def held(db: Database) -> tuple[str, bool]:
    with db.read() as conn:
        row = conn.execute(
            select(source_articles.c.title, source_articles.c.withdrawn).where(
                source_articles.c.source_key == KEY
            )
        ).one()
        return row.title, row.withdrawn


def scheduled_then(db: Database, at: datetime, edit: Callable[[datetime], Article]) -> str:
    """The scheduled line imported two hours before ``at``, an edit an hour before it; returns
    the original line (what an import script re-run sends again)."""
    line = jsonl(article(1, published_at=at))
    run_import(db, line, at - timedelta(hours=2))
    edited = edit(at - timedelta(hours=1))
    assert run_import(db, jsonl(edited), at - timedelta(hours=1)).counts.updated == 1
    return line


def title_edit(when: datetime) -> Article:
    return replace(article(1, published_at=when + timedelta(hours=1)), title=EDIT, updated_at=when)


def takedown(when: datetime) -> Article:
    return replace(article(1, published_at=when + timedelta(hours=1)), updated_at=when,
                   withdrawn=True)  # fmt: skip


def test_reimported_after_its_time_the_original_line_keeps_the_edit(db: Database) -> None:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    line = scheduled_then(db, at, title_edit)
    for later in (timedelta(minutes=1), timedelta(days=3)):
        again = run_import(db, line, at + later)  # not applied, and said (tester 2 F4)
        assert (again.counts.updated, again.counts.unchanged, len(again.rejected)) == (0, 0, 1)
        assert held(db) == (EDIT, False)


def test_reimported_after_its_time_the_original_line_does_not_undo_a_takedown(
    db: Database,
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    line = scheduled_then(db, at, takedown)
    again = run_import(db, line, at + timedelta(hours=1))
    assert again.counts.updated == 0
    assert held(db)[1] is True


def test_feedsvc_import_of_the_same_line_after_its_time(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    """The CLI, on the real clock: the line's time an hour ago, its edit made before it."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    line = scheduled_then(db, at, title_edit)
    path = tmp_path / "lines.jsonl"
    path.write_text(line, encoding="utf-8")
    env = {"FEEDSVC_DATABASE__URL": db_url, "FEEDSVC_CONFIG": "/dev/null"}
    done = CliRunner().invoke(cli, ["import", str(path)], env=env)
    assert done.exit_code == 1, done.output  # said not applied (it said "unchanged", exit 0)
    assert "rejected line 1: not applied (the stored record stays)" in done.output
    assert held(db) == (EDIT, False)


def test_the_feed_keeps_the_edit_and_alerts_once(db: Database) -> None:
    """Through ingest (the same rule in its writer): at its time the edited title appears and
    alerts once; the original line imported again later changes neither."""
    w = make_world(db)
    at = w.clock() + timedelta(hours=2)
    w.publish(article(1, published_at=at))
    w.clock.advance(hours=1)
    w.publish(replace(article(1, published_at=at), title=EDIT, updated_at=w.clock()))
    w.clock.advance(hours=1, minutes=1)
    w.poll()
    assert w.deliveries() == [(KEY, "pending", None)]
    w.clock.advance(hours=1)
    w.publish(article(1, published_at=at))  # the import script run again
    snap = w.pub.snapshot(SLUG, "json", 50)
    assert snap is not None
    assert [i["title"] for i in json.loads(snap.body)["items"]] == [EDIT]
    assert w.deliveries() == [(KEY, "pending", None)]


def test_a_cms_that_publishes_with_its_edit_time_set_to_the_time_is_followed(
    db: Database, tmp_path: Path
) -> None:
    """Not the original line: a CMS scheduler that publishes a row edited before its time and
    sets its ``updated_at`` column to the publication time (its ``published_at`` too, the
    "authored on" set to the scheduled time). That row is dated: it is taken, the article
    appears with the edit and alerts once."""
    with cms_table(db, tmp_path) as cms:
        w = make_world(db, cms.clock, source=cms.source())
        at = cms.clock() + timedelta(hours=1)
        cms.put(1, "scheduled", at)  # edited = modified = now
        w.poll()
        cms.clock.advance(minutes=10)
        stamp = cms.clock().replace(tzinfo=None)
        with cms.engine.begin() as conn:  # an edit before its time
            conn.execute(
                text("UPDATE posts SET title = :t, edited = :s, modified = :s WHERE id = 1"),
                {"t": EDIT, "s": stamp},
            )
        w.poll()
        cms.clock.advance(hours=1)
        with cms.engine.begin() as conn:  # the scheduler publishes it
            conn.execute(
                text("UPDATE posts SET status = 'published', edited = created, modified = :s"
                     " WHERE id = 1"),
                {"s": cms.clock().replace(tzinfo=None)},
            )  # fmt: skip
        w.poll()
        snap = w.pub.snapshot(SLUG, "json", 50)
        assert snap is not None
        assert [i["title"] for i in json.loads(snap.body)["items"]] == [EDIT]
        assert w.deliveries() == [(KEY, "pending", None)]


def test_the_pure_rule() -> None:
    """What the rule refuses, and what it still takes: a record with no ``updated_at`` whose
    time is another than the held edit's, or one whose ``updated_at`` equals its time (dated),
    is a version as before (SPEC §3)."""
    from feedsvc.versions import scheduled_again  # imported here: the file also runs on old code

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    h = timedelta(hours=1)
    at = now - h  # the scheduled time, passed
    edit = at - h  # an edit made before it
    assert scheduled_again(at, at, edit, at)
    assert not replaces(at, edit, now, new_published=at, held_published=at, new_unstamped=True)
    assert not takes_over(at, False, edit, True, now, new_published=at, held_published=at,
                          new_unstamped=True)  # fmt: skip
    # updated_at given, equal to its time (a CMS scheduler publishing): dated, taken
    assert replaces(at, edit, now, new_published=at, held_published=at)
    # no updated_at, another time than the edit's (a republish, moved later): taken
    assert replaces(now, edit, now, new_published=now, held_published=at, new_unstamped=True)
    # an edit made after the time is newer than the scheduled record either way
    assert not replaces(at, at + h / 2, now, new_published=at, held_published=at,
                        new_unstamped=True)  # fmt: skip
    # the held record is the scheduled one (no edit time, passed): an edit replaces it
    assert replaces(now, at, now, new_published=at, held_published=at)


def test_an_edit_stamped_with_its_time_replaces_the_unstamped_original(db: Database) -> None:
    """The original scheduled line has no ``updated_at`` (its version: its time); the edit,
    from a CMS that stamps ``updated_at`` only as it publishes, has ``updated_at`` equal to
    that time. Same version: it was "unchanged", before and after the time, and the edited
    title never landed. It replaces it; the same edit again is unchanged, the original line
    again afterwards is not applied (and said)."""
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    original = jsonl(article(1, published_at=at))
    stamped = jsonl(replace(article(1, published_at=at), title=EDIT, updated_at=at))
    for when in (at - timedelta(hours=1), at + timedelta(minutes=1)):
        db_now = when
        run_import(db, original, db_now - timedelta(minutes=30))
        report = run_import(db, stamped, db_now)
        assert (report.counts.updated, report.counts.unchanged) == (1, 0), when
        assert held(db) == (EDIT, False)
        assert run_import(db, stamped, db_now).counts.unchanged == 1
        again = run_import(db, original, db_now + timedelta(days=1))  # said, not "unchanged"
        assert (again.counts.unchanged, len(again.rejected)) == (0, 1)
        assert held(db) == (EDIT, False)
        with db.write() as conn:
            conn.execute(source_articles.delete())


def test_through_ingest_the_stamped_edit_is_shown_and_alerts_once(db: Database) -> None:
    """The same in ingest's writer: the article held without ``updated_at``, the CMS row
    published with ``updated_at`` = its time and the edited title."""
    w = make_world(db)
    at = w.clock() + timedelta(hours=2)
    w.publish(article(1, published_at=at))
    w.clock.advance(hours=2, minutes=1)
    with w.db.write() as conn:  # the CMS publishes the row edited before its time
        conn.execute(
            source_articles.update()
            .where(source_articles.c.source_key == KEY)
            .values(title=EDIT, updated_at=at, changed_at=w.clock())
        )
    w.poll()
    snap = w.pub.snapshot(SLUG, "json", 50)
    assert snap is not None
    assert [i["title"] for i in json.loads(snap.body)["items"]] == [EDIT]
    assert w.deliveries() == [(KEY, "pending", None)]


def test_the_pure_rule_for_the_same_version() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    at = now - timedelta(hours=1)
    assert takes_over(at, False, at, False, now, new_published=at, held_published=at,
                      held_unstamped=True)  # fmt: skip
    for new_unstamped, held_unstamped in ((True, True), (True, False), (False, False)):
        assert not takes_over(at, False, at, False, now, new_published=at,
                              held_published=at, new_unstamped=new_unstamped,
                              held_unstamped=held_unstamped)  # fmt: skip
