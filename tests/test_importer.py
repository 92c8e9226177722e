"""`feedsvc import`: upsert by source_key, bad lines reported and skipped, exit codes."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from factories import VN, article, jsonl
from sqlalchemy import select

from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.importer import import_articles
from feedsvc.jsonlines import read_jsonl


def run_import(db: Database, text: str):  # type: ignore[no-untyped-def]
    return import_articles(db, read_jsonl(io.StringIO(text), VN), now=lambda: datetime.now(UTC))


def titles(db: Database) -> dict[str, str]:
    with db.read() as conn:
        rows = conn.execute(select(source_articles.c.source_key, source_articles.c.title))
        return dict(rows.tuples().all())


def test_good_and_bad_lines(db: Database) -> None:
    text = jsonl(
        article(1),
        "{not json",
        {"source_key": "B-1", "url": "https://example.vn/b", "title": "Thiếu ngày"},
        article(2),
        {
            "source_key": "B-2",
            "url": "https://example.vn/b2",
            "title": "x",
            "published_at": "15/12/2021",
        },
        {
            "source_key": "B-3",
            "url": "https://example.vn/b3",
            "title": "x",
            "published_at": "2021-12-15T10:34:00",
            "tags": [1],
        },
        "[1, 2]",
        article(3),
    )
    report = run_import(db, text)
    assert (report.counts.inserted, report.counts.updated) == (3, 0)
    reasons = {r.line: str(r.error) for r in report.rejected}
    assert set(reasons) == {2, 3, 5, 6, 7}
    assert "invalid JSON" in reasons[2]
    assert reasons[3].startswith("published_at: is required")
    assert reasons[5].startswith("published_at: not an ISO 8601")
    assert reasons[6].startswith("tags: item 0")
    assert "expected a JSON object" in reasons[7]
    assert set(titles(db)) == {"TEST-00001", "TEST-00002", "TEST-00003"}


def test_reimport_is_idempotent_and_updates_need_newer_version(db: Database) -> None:
    a = article(1)
    assert run_import(db, jsonl(a, article(2))).counts.inserted == 2
    again = run_import(db, jsonl(a, article(2)))
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    edited = replace(a, title="Tiêu đề đã sửa", updated_at=a.published_at + timedelta(hours=1))
    stale = replace(article(2), title="Bản cũ hơn")
    report = run_import(db, jsonl(edited, stale))
    assert (report.counts.updated, report.counts.unchanged) == (1, 1)
    assert titles(db) == {"TEST-00001": "Tiêu đề đã sửa", "TEST-00002": article(2).title}


def test_a_version_far_in_the_future_does_not_lock_out_corrections(db: Database) -> None:
    """A held ``updated_at`` of 2199 (or a zone days off) made every later correction look
    older: ignored, silently. Beyond a day ahead it is not believed (``feedsvc.versions``);
    within a day an older version is still refused."""
    now = datetime.now(UTC)
    cases = {
        1: (datetime(2199, 12, 31, tzinfo=UTC), True),
        2: (now + timedelta(days=3), True),
        3: (now + timedelta(hours=20), False),  # a clock a little off: still believed
    }
    for n, (held, _) in cases.items():
        run_import(db, jsonl(replace(article(n), title="Bản sai", updated_at=held)))
    fixes = [replace(article(n), title=f"Bản sửa {n}", updated_at=now) for n in cases]
    report = run_import(db, jsonl(*fixes))
    assert (report.counts.updated, report.counts.unchanged) == (2, 1)
    held = titles(db)
    for n, (_, taken) in cases.items():
        assert held[f"TEST-{n:05d}"] == (f"Bản sửa {n}" if taken else "Bản sai"), n
    again = run_import(db, jsonl(*fixes))  # the correction is now what is held: no churn
    assert (again.counts.updated, again.counts.unchanged) == (0, 3)


def test_naive_timestamp_is_site_time(db: Database) -> None:
    run_import(
        db,
        jsonl(
            {
                "source_key": "N-1",
                "url": "https://example.vn/n",
                "title": "t",
                "published_at": "2021-12-15T10:34:00",
            }
        ),
    )
    with db.read() as conn:
        published = conn.execute(select(source_articles.c.published_at)).scalar_one()
    assert published == datetime(2021, 12, 15, 3, 34, tzinfo=UTC)


def test_cli_exit_codes_and_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(article(1), article(2)), encoding="utf-8")
    runner = CliRunner()
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    result = runner.invoke(cli, ["import", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "inserted 2, updated 0, unchanged 0, rejected 0" in result.output
    mixed = jsonl(article(3), '{"source_key": "X"}')
    result = runner.invoke(cli, ["import", "-"], input=mixed, env=env)
    assert result.exit_code == 1
    assert "line 2: url: is required" in result.output
    assert "inserted 1, updated 0, unchanged 0, rejected 1" in result.output
