"""`feedsvc import`: upsert by source_key, bad lines reported and skipped, exit codes."""

from __future__ import annotations

import io
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import VN, article, jsonl
from sqlalchemy import select

from feedsvc import importer
from feedsvc.articles import parse_article
from feedsvc.cli import cli, terminate
from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.importer import ImportInterrupted, import_articles
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
    same = replace(article(2), title="Bản khác, cùng phiên bản")  # tester F5: not "unchanged"
    report = run_import(db, jsonl(edited, same))
    assert (report.counts.updated, report.counts.unchanged) == (1, 0)
    [refused] = report.rejected
    assert refused.line == 2 and "but a different title; " in str(refused)
    # followed by a line of its key that replaces it in the file itself: not said
    assert run_import(db, jsonl(same, article(2))).counts.unchanged == 2
    assert titles(db) == {"TEST-00001": "Tiêu đề đã sửa", "TEST-00002": article(2).title}
    older = replace(
        article(2), title="Bản cũ hơn", published_at=article(2).published_at - timedelta(1)
    )
    stale = run_import(db, jsonl(older))  # an older line with another title: said (tester 2 F4)
    assert (stale.counts.unchanged, [r.line for r in stale.rejected]) == (0, [1])
    assert titles(db)["TEST-00002"] == article(2).title


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
    # the one within a day is not applied and said so (tester 2 F4: it was "unchanged", exit 0)
    assert (report.counts.updated, report.counts.unchanged) == (2, 0)
    [refused] = report.rejected
    assert refused.line == 3 and "is older than the stored version" in str(refused)
    assert "ahead of now" in str(refused)
    held = titles(db)
    for n, (_, taken) in cases.items():
        assert held[f"TEST-{n:05d}"] == (f"Bản sửa {n}" if taken else "Bản sai"), n
    again = run_import(db, jsonl(*fixes))  # the correction is now what is held: no churn
    assert (again.counts.updated, again.counts.unchanged, len(again.rejected)) == (0, 2, 1)


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


def withdrawn(db: Database) -> dict[str, bool]:
    with db.read() as conn:
        rows = conn.execute(select(source_articles.c.source_key, source_articles.c.withdrawn))
        return {key: bool(gone) for key, gone in rows.tuples()}


def test_a_takedown_at_the_same_version_is_applied(db: Database) -> None:
    """The same line again with ``"withdrawn": true`` (same ``updated_at``) was counted
    "unchanged", exit 0, and the article stayed public (newcomer F1). It takes over now, as a
    CMS row sent back to draft does at ingest (feedsvc.versions.takes_over). Not back: the
    same line without "withdrawn" is what an import script re-run sends (tester 2 F1); it is
    said not applied, and a newer ``updated_at`` publishes it again."""
    a = article(1, updated_at=article(1).published_at)
    run_import(db, jsonl(a, article(2)))
    down = run_import(db, jsonl(replace(a, withdrawn=True), replace(article(2), withdrawn=True)))
    assert (down.counts.updated, down.counts.unchanged, down.rejected) == (2, 0, [])
    assert withdrawn(db) == {"TEST-00001": True, "TEST-00002": True}
    again = run_import(db, jsonl(replace(a, withdrawn=True)))
    assert (again.counts.updated, again.counts.unchanged) == (0, 1)
    back = run_import(db, jsonl(a))
    assert back.counts.updated == 0 and withdrawn(db)["TEST-00001"] is True
    [refused] = back.rejected
    assert str(refused).startswith(
        "line 1: withdrawn: false (or left out) not applied (the article stays withdrawn)"
    )
    newer = replace(a, updated_at=a.published_at + timedelta(minutes=1))
    assert run_import(db, jsonl(newer)).counts.updated == 1
    assert withdrawn(db)["TEST-00001"] is False


def test_a_takedown_older_than_the_stored_version_is_reported(db: Database) -> None:
    """A takedown line whose version is older than the public one stored is not applied
    (SPEC §10): said per line, with both versions and what to do, counted rejected (exit 1),
    never "unchanged"."""
    t = article(1).published_at
    run_import(db, jsonl(replace(article(1), updated_at=t + timedelta(hours=2)), article(2)))
    stale = replace(article(1), updated_at=t + timedelta(hours=1), withdrawn=True)
    report = run_import(db, jsonl(article(2), stale))
    assert (report.counts.updated, report.counts.unchanged) == (0, 1)
    [refused] = report.rejected
    assert refused.line == 2 and refused.error.field == "withdrawn"
    said = str(refused)
    assert said.startswith("line 2: withdrawn: true not applied (the takedown did not happen)")
    assert (t + timedelta(hours=1)).isoformat() in said and "stays public" in said
    assert "newer updated_at" in said
    assert withdrawn(db)["TEST-00001"] is False


def test_an_old_export_imported_again_after_a_takedown_is_said(db: Database) -> None:
    """A stale line without ``withdrawn`` does not publish again (a newer version does): it was
    "unchanged", exit 0, whether a stale export or an editor's republication that never
    happened; it is said not applied (tester 2 F1/F4), the takedown stays."""
    t = article(1).published_at
    old = replace(article(1), updated_at=t)
    run_import(db, jsonl(old))
    run_import(db, jsonl(replace(old, updated_at=t + timedelta(hours=1), withdrawn=True)))
    report = run_import(db, jsonl(old))
    assert report.counts.unchanged == 0
    [refused] = report.rejected
    assert "is older than the stored version" in str(refused) and "a takedown" in str(refused)
    assert withdrawn(db)["TEST-00001"] is True


def test_a_stale_takedown_within_one_file_is_reported(db: Database) -> None:
    """Read top to bottom: a later line with an older version loses; if it was a takedown
    and the winner is public, it says which line won."""
    t = article(1).published_at
    newer = replace(article(1), updated_at=t + timedelta(hours=2))
    stale = replace(article(1), updated_at=t + timedelta(hours=1), withdrawn=True)
    report = run_import(db, jsonl(article(3), newer, stale))
    assert report.counts.inserted == 2 and report.counts.unchanged == 0
    [refused] = report.rejected
    assert refused.line == 3 and "older than line 2's" in str(refused)
    assert withdrawn(db)["TEST-00001"] is False


def test_line_by_line_reports_the_same(db: Database) -> None:
    """The savepoint path (a batch the database refused) applies and reports alike."""
    from feedsvc.importer import _line_by_line, not_applied_error

    t = article(1).published_at
    run_import(db, jsonl(replace(article(1), updated_at=t + timedelta(hours=2)), article(2)))
    batch = [
        (7, replace(article(2), withdrawn=True)),  # same version: applied
        (8, replace(article(1), updated_at=t, withdrawn=True)),  # older: reported
    ]
    with db.write() as conn:
        counts = _line_by_line(conn, batch, datetime.now(UTC), lambda line, e: None)
    assert counts.updated == 1 and counts.unchanged == 0
    [skipped] = counts.not_applied
    assert batch[skipped.index][0] == 8
    assert "stays public" in str(not_applied_error(batch[skipped.index][1], skipped, batch))
    assert withdrawn(db) == {"TEST-00001": False, "TEST-00002": True}


def test_cli_says_what_happened_to_takedown_lines(tmp_path: Path) -> None:
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    t = article(1).published_at
    runner = CliRunner()
    first = jsonl(replace(article(1), updated_at=t + timedelta(hours=1)))
    assert runner.invoke(cli, ["import", "-"], input=first, env=env).exit_code == 0
    same = jsonl(replace(article(1), updated_at=t + timedelta(hours=1), withdrawn=True))
    done = runner.invoke(cli, ["import", "-"], input=same, env=env)
    assert done.exit_code == 0, done.output
    assert "inserted 0, updated 1, unchanged 0, rejected 0" in done.output
    back = jsonl(replace(article(1), updated_at=t + timedelta(hours=2)), article(2))
    assert runner.invoke(cli, ["import", "-"], input=back, env=env).exit_code == 0
    stale = jsonl(replace(article(1), updated_at=t, withdrawn=True))
    result = runner.invoke(cli, ["import", "-"], input=stale, env=env)
    assert result.exit_code == 1, result.output
    assert "rejected line 1: withdrawn: true not applied (the takedown did not happen)" in (
        result.output
    )
    assert "inserted 0, updated 0, unchanged 0, rejected 1" in result.output


@pytest.mark.parametrize("argv", [["import", "in.jsonl"], ["import", "-"]])
def test_import_refuses_when_the_source_is_external(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """With `source.url` set, import wrote the built-in table, which ingest does not read:
    "inserted 2", exit 0, and the articles never appeared (newcomer W1). Refused before a
    line is read or the state DB is created: exit 2, one line saying why and what to do."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text(jsonl(article(1), article(2)), encoding="utf-8")
    state = tmp_path / "state.db"
    with sqlite3.connect(tmp_path / "cms.db") as cms:  # the CMS: a source must exist
        cms.execute("CREATE TABLE news (id INTEGER PRIMARY KEY)")
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{state}",
        "FEEDSVC_SOURCE__URL": f"sqlite:///{tmp_path / 'cms.db'}",
        "FEEDSVC_SOURCE__TABLE": "news",
        "FEEDSVC_CONFIG": "/dev/null",
    }
    result = CliRunner().invoke(cli, argv, input=jsonl(article(1)), env=env)
    assert result.exit_code == 2, result.output
    [said] = result.output.splitlines()
    assert said.startswith("feedsvc: source.url is set (external source, table 'news'):")
    assert "import writes only the built-in table source_articles" in said
    assert "in that source itself" in said and "unset source.url" in said
    assert not state.exists()
    assert "inserted" not in result.output


def test_nfd_text_is_imported_and_ingested_in_nfc(db: Database) -> None:
    """Decomposed Vietnamese was stored and served as typed (newcomer F7): composed by
    ``parse_article`` on the import's way in, and on ingest's (a row written some other way,
    as a CMS would hold it); the article matches and is found as before."""
    from factories import builtin_ingestor

    from feedsvc.articles import Article
    from feedsvc.db.schema import articles
    from feedsvc.store.source_articles import upsert_source_articles

    nfd = unicodedata.normalize("NFD", "Công an Kiến Thụy bắt đối tượng")
    nfc = unicodedata.normalize("NFC", nfd)
    body = f'<p class="a">{nfd}</p><p>x =\u0338 y</p>'
    report = run_import(db, jsonl(replace(article(1), title=nfd, summary=nfd, body=body)))
    assert report.counts.inserted == 1
    assert titles(db)["TEST-00001"] == nfc
    raw = Article(  # bypassing parse_article: the row as a CMS may hold it
        "TEST-00002", "https://example.vn/2", nfd, article(2).published_at, body=body,
        author=nfd, section=nfd, tags=(nfd,),
    )  # fmt: skip
    with db.write() as conn:
        upsert_source_articles(conn, [raw], datetime.now(UTC))
    assert titles(db)["TEST-00002"] == nfd
    assert builtin_ingestor(db).tick().new == 2
    with db.read() as conn:
        rows = conn.execute(
            select(
                articles.c.source_key,
                articles.c.title,
                articles.c.body,
                articles.c.author,
                articles.c.section,
                articles.c.tags,
            )
        ).all()
    expected_body = f'<p class="a">{nfc}</p><p>x =\u0338 y</p>'
    for key, title, stored_body, author, section, tags in rows:
        assert title == nfc and stored_body == expected_body, key
        if key == "TEST-00002":
            assert (author, section, list(tags)) == (nfc, nfc, [nfc])


def test_edits_before_a_scheduled_time_are_taken(db: Database) -> None:
    """A scheduled article imported without ``updated_at``: an edit made before its time
    (``updated_at`` = now) came out "unchanged", its takedown was refused, a new earlier time
    ignored: its version was its own publication time, in the future (feedsvc.versions)."""
    now = datetime.now(UTC).replace(microsecond=0)
    at = now + timedelta(hours=2)
    keys = {n: f"TEST-{n:05d}" for n in (1, 2, 3)}
    run_import(db, jsonl(*(article(n, published_at=at) for n in keys)))
    edited = replace(article(1, published_at=at), title="Bản sửa trước giờ", updated_at=now)
    down = replace(article(2, published_at=at), updated_at=now, withdrawn=True)
    earlier = article(3, published_at=now + timedelta(minutes=5))  # no updated_at either
    report = run_import(db, jsonl(edited, down, earlier))
    assert (report.counts.updated, report.counts.unchanged, report.rejected) == (3, 0, [])
    assert titles(db)[keys[1]] == "Bản sửa trước giờ"
    assert withdrawn(db)[keys[2]] is True
    with db.read() as conn:
        stmt = select(source_articles.c.published_at).where(source_articles.c.source_key == keys[3])
        assert conn.execute(stmt).scalar_one() == now + timedelta(minutes=5)
    # the original scheduled lines again (an import re-run): the edits stay, the lines are said
    again = run_import(db, jsonl(article(1, published_at=at), article(2, published_at=at)))
    assert (again.counts.updated, again.counts.unchanged) == (0, 0)
    assert [r.line for r in again.rejected] == [1, 2]
    assert titles(db)[keys[1]] == "Bản sửa trước giờ" and withdrawn(db)[keys[2]] is True


def test_within_one_file_an_edit_after_the_scheduled_line_wins(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    at = now + timedelta(hours=2)
    first = article(1, published_at=at)
    edited = replace(first, title="Bản sửa trong cùng tệp", updated_at=now)
    report = run_import(db, jsonl(first, edited))  # each line counted for what it did
    assert (report.counts.inserted, report.counts.updated, report.counts.unchanged) == (1, 1, 0)
    assert titles(db)["TEST-00001"] == "Bản sửa trong cùng tệp"


@pytest.mark.parametrize("after_its_time", [False, True])
def test_a_scheduled_takedown_line_is_not_said_older_than_the_edit(
    db: Database, after_its_time: bool
) -> None:
    """A scheduled line without ``updated_at`` is versioned by its own ``published_at``, later
    than an edit made before that time, and does not replace it (``feedsvc.versions``): the
    refused takedown said its version was "older than" the edit's, which it is not (the
    original scheduled line, ``"withdrawn": true``, imported again after an edit that
    published it)."""
    edited = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    time = edited + timedelta(minutes=30)
    original = replace(article(1), published_at=time, updated_at=None, withdrawn=True)
    clock = time + timedelta(minutes=5) if after_its_time else edited + timedelta(minutes=1)

    def run(text: str):  # type: ignore[no-untyped-def]
        return import_articles(db, read_jsonl(io.StringIO(text), VN), now=lambda: clock)

    run(jsonl(replace(original, updated_at=edited, withdrawn=False)))
    report = run(jsonl(original))
    [refused] = report.rejected
    said = str(refused)
    assert "older than" not in said, said
    assert time.isoformat() in said and edited.isoformat() in said and "stays public" in said
    assert "no edit time" in said
    assert withdrawn(db)["TEST-00001"] is False


def test_an_unknown_key_rejects_the_line_and_the_takedown_is_said(tmp_path: Path) -> None:
    """Tester F1: ``"visible": false`` and the typo ``"withdrawm": true`` were dropped: "updated
    1", exit 0, the article still public. Each line is rejected now, naming the key and the field
    meant; the stored article is untouched (still public, said by the exit code 1)."""
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    base = {"source_key": "T-1", "url": "https://e.vn/1", "title": "Kiến Thụy 1",
            "published_at": "2026-11-20T10:00:00+07:00"}  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["import", "-"], input=jsonl(base), env=env).exit_code == 0
    takedowns = jsonl(
        base | {"updated_at": "2026-11-21T10:00:00+07:00", "visible": False},
        {
            "source_key": "T-2",
            "url": "https://e.vn/2",
            "title": "x",
            "published_at": "2026-11-20",
            "withdrawm": True,
        },
        base | {"Title": "Kiến Thụy 1 (sửa)", "updated_at": "2026-11-22T10:00:00+07:00"},
    )
    result = runner.invoke(cli, ["import", "-"], input=takedowns, env=env)
    assert result.exit_code == 1, result.output
    assert "inserted 0, updated 0, unchanged 0, rejected 3" in result.output
    said = [line for line in result.output.splitlines() if line.startswith("rejected")]
    assert said == [
        'rejected line 1: visible: unknown field (did you mean "withdrawn"? "visible": false is'
        ' "withdrawn": true, "visible": true is "withdrawn": false)',
        'rejected line 2: withdrawm: unknown field (did you mean "withdrawn"?)',
        'rejected line 3: Title: unknown field (did you mean "title"? field names are lower'
        ' case, with "_")',
    ]
    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    try:
        assert withdrawn(db) == {"T-1": False} and titles(db) == {"T-1": "Kiến Thụy 1"}
    finally:
        db.dispose()
    fixed = jsonl(base | {"updated_at": "2026-11-21T10:00:00+07:00", "withdrawn": True})
    done = runner.invoke(cli, ["import", "-"], input=fixed, env=env)
    assert done.exit_code == 0 and "updated 1" in done.output, done.output


def test_an_unknown_key_and_bad_fields_are_said_together(db: Database) -> None:
    """Every problem of a line at once: the fields' first, then each unknown key in order."""
    line = {"source_key": "U-1", "url": "https://e.vn/u", "title": "", "published_at": "x",
            "hidden": True, "Tags": ["a"], "withdrawn": "yes"}  # fmt: skip
    report = run_import(db, jsonl(article(1), line, article(2)))
    assert report.counts.inserted == 2
    [refused] = report.rejected
    assert refused.line == 2
    assert [field for field, _ in refused.error.problems] == [
        "title", "published_at", "withdrawn", "hidden", "Tags"
    ]  # fmt: skip
    assert str(refused).startswith("line 2: title: is required; published_at: not an ISO 8601")


def test_rejections_are_said_in_line_order(tmp_path: Path) -> None:
    """Tester F15: a takedown not applied (known once its batch is stored) was said after the
    other rejections: line 3 before line 2. In line order now, in the report and on stderr."""
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    t = article(1).published_at
    runner = CliRunner()
    newer = jsonl(replace(article(1), updated_at=t + timedelta(hours=2)))
    assert runner.invoke(cli, ["import", "-"], input=newer, env=env).exit_code == 0
    bad = {"source_key": "W", "url": "https://e.vn/w", "title": "w",
           "published_at": "2026-11-20", "withdrawn": "yes"}  # fmt: skip
    lines = jsonl(
        article(2),
        replace(article(1), updated_at=t + timedelta(hours=1), withdrawn=True),  # not applied
        bad,
        "{not json",
        article(3),
        replace(article(2), withdrawn=True, updated_at=t - timedelta(days=1)),  # not applied
        "[]",
    )
    result = runner.invoke(cli, ["import", "-"], input=lines, env=env)
    assert result.exit_code == 1
    said = [line.split(":")[0] for line in result.output.splitlines() if line.startswith("rej")]
    assert said == [f"rejected line {n}" for n in (2, 3, 4, 6, 7)]


def test_rejections_stay_in_line_order_across_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedsvc.importer

    monkeypatch.setattr(feedsvc.importer, "BATCH", 3)
    t = article(1).published_at
    run_import(db, jsonl(replace(article(1), updated_at=t + timedelta(hours=2))))
    stale = replace(article(1), updated_at=t, withdrawn=True)
    said: list[int] = []
    text = jsonl("[]", article(2), stale, "{", article(3), "{", stale)
    report = import_articles(
        db,
        read_jsonl(io.StringIO(text), VN),
        now=lambda: datetime.now(UTC),
        on_reject=lambda r: said.append(r.line),
    )
    assert said == [r.line for r in report.rejected] == [1, 3, 4, 6, 7]
    assert (report.counts.inserted, report.counts.unchanged) == (2, 0)


def stored_title(db: Database, key: str = "DD-1") -> str:
    return titles(db)[key]


DD = {"source_key": "DD-1", "url": "https://e.vn/1", "published_at": "2026-11-20T10:00:00+07:00"}


def test_a_changed_line_of_the_stored_version_is_not_applied_and_said(tmp_path: Path) -> None:
    """Tester F5: the same version with a corrected title, imported again, said "unchanged",
    exit 0, and the correction was dropped. The stored record still stays (the version rule),
    but the line is said not applied, naming what differs and the fix; exit 1."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    first = jsonl(DD | {"title": "A first"})
    assert runner.invoke(cli, ["import", "-"], input=first, env=env).exit_code == 0
    result = runner.invoke(cli, ["import", "-"], input=jsonl(DD | {"title": "B second"}), env=env)
    assert result.exit_code == 1, result.output
    assert "inserted 0, updated 0, unchanged 0, rejected 1" in result.output
    assert (
        "rejected line 1: not applied (the stored record stays): the same version as the stored"
        " one, 2026-11-20T10:00:00+07:00 (updated_at, else published_at), but a different"
        " title; only a newer version replaces it: give this line a newer updated_at"
    ) in result.output
    db = Database(url)
    try:
        assert stored_title(db) == "A first"
        again = runner.invoke(cli, ["import", "-"], input=first, env=env)  # the same: quiet
        assert again.exit_code == 0 and "unchanged 1, rejected 0" in again.output
        fixed = jsonl(DD | {"title": "B second", "updated_at": "2026-11-21T08:00:00+07:00"})
        done = runner.invoke(cli, ["import", "-"], input=fixed, env=env)
        assert done.exit_code == 0 and "updated 1" in done.output
        assert stored_title(db) == "B second"
    finally:
        db.dispose()


def test_every_field_that_differs_is_named(db: Database) -> None:
    a = article(1, updated_at=article(1).published_at)
    run_import(db, jsonl(a))
    changed = replace(
        a, title="Khác", body="<p>khác</p>", tags=("x",), image_url="https://e.vn/i.jpg"
    )
    report = run_import(db, jsonl(changed))
    [refused] = report.rejected
    assert "but a different title, body, tags, image_url; " in str(refused)
    moved = replace(a, published_at=a.published_at - timedelta(hours=1))  # same updated_at
    assert "but a different published_at; " in str(run_import(db, jsonl(moved)).rejected[0])
    assert titles(db)["TEST-00001"] == a.title


def test_within_one_file_the_last_line_wins_and_each_is_counted(db: Database) -> None:
    """One file, one key, one version: the last line wins (as before); each line is counted
    for what it did (it said "unchanged" for the line that won)."""
    lines = jsonl(DD | {"title": "A first"}, DD | {"title": "B second"}, DD | {"title": "B second"})
    report = run_import(db, lines)
    counts = report.counts
    assert (counts.inserted, counts.updated, counts.unchanged, report.rejected) == (1, 1, 1, [])
    assert stored_title(db) == "B second"
    back = run_import(db, jsonl(DD | {"title": "C"}, DD | {"title": "B second"}))
    # line 1 is replaced by line 2 in the file itself: not said (an append-only export re-run)
    assert back.counts.unchanged == 2 and back.rejected == []
    alone = run_import(db, jsonl(DD | {"title": "C"}))  # the last line of its key: said
    assert alone.counts.unchanged == 0 and [r.line for r in alone.rejected] == [1]


def test_the_last_line_wins_whatever_batch_it_falls_in(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose two lines of a key fall in two batches stores the last, as one batch did
    (a row this import wrote is replaced; one stored before it is not)."""
    import feedsvc.importer

    monkeypatch.setattr(feedsvc.importer, "BATCH", 2)
    lines = jsonl(DD | {"title": "A first"}, article(1), article(2), DD | {"title": "B second"})
    report = run_import(db, lines)
    assert (report.counts.inserted, report.counts.updated, report.rejected) == (3, 1, [])
    assert stored_title(db) == "B second"
    assert run_import(db, jsonl(DD | {"title": "A first"})).rejected  # a later import: said


def test_a_row_stored_by_an_older_feedsvc_is_the_same_content(db: Database) -> None:
    """A title stored decomposed (NFD, before text was stored in NFC) and a relative image
    are the same content as the line read today: unchanged, not a false "not applied"."""
    nfd = unicodedata.normalize("NFD", "Kiến Thụy")
    with db.write() as conn:
        conn.execute(
            source_articles.insert().values(
                source_key="DD-1", url="https://e.vn/1", title=nfd, image_url="/a.jpg",
                published_at=datetime(2026, 11, 20, 3, tzinfo=UTC), changed_at=datetime.now(UTC),
            )
        )  # fmt: skip
    line = DD | {"title": "Kiến Thụy", "image_url": "https://e.vn/a.jpg"}
    report = run_import(db, jsonl(line))
    assert (report.counts.unchanged, report.rejected) == (1, [])


def test_line_by_line_says_a_changed_line_of_the_stored_version_too(db: Database) -> None:
    from feedsvc.importer import _line_by_line, not_applied_error

    run_import(db, jsonl(DD | {"title": "A first"}, article(2)))
    same = parse_article(DD | {"title": "B"}, VN)
    batch = [(4, article(3)), (5, same), (6, replace(article(3), title="C"))]
    with db.write() as conn:
        counts = _line_by_line(conn, batch, datetime.now(UTC), lambda line, e: None)
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 0)
    [skipped] = counts.not_applied
    assert batch[skipped.index][0] == 5 and skipped.differs == ("title",)
    assert "a different title" in str(not_applied_error(same, skipped, batch))


def _lines(n: int) -> list[tuple[int, object]]:
    return [(i, article(i, title=f"Tin số {i}")) for i in range(1, n + 1)]


@pytest.mark.parametrize("read", [1, 7, 2_500])
@pytest.mark.parametrize("signal_raised", [KeyboardInterrupt, terminate.Terminated])
def test_a_signal_while_reading_stores_the_lines_read(
    db: Database, read: int, signal_raised: type[KeyboardInterrupt]
) -> None:
    """A tester's: on SIGTERM or Ctrl-C `import -` dropped the lines it had read and not yet
    stored (up to 2,000), which a pipe cannot give again, and said to run it again."""

    def producer() -> Iterator[tuple[int, object]]:
        yield from _lines(read)
        raise signal_raised  # the signal, while the next line is awaited

    with pytest.raises(ImportInterrupted) as stopped:
        import_articles(db, producer(), now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    assert stopped.value.report.committed_through == read
    assert isinstance(stopped.value.interrupt, signal_raised)
    assert len(titles(db)) == read


def test_a_slow_producer_has_its_lines_stored_as_they_come(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines arriving a minute apart: each batch is stored once its first line waited
    ``BATCH_SECONDS`` (checked as the next line arrives), not after 2,000 lines."""
    clock = iter(range(0, 10_000, 60))  # a line a minute
    monkeypatch.setattr(importer.time, "monotonic", lambda: next(clock))
    stored_when_asked: list[int] = []

    def producer() -> Iterator[tuple[int, object]]:
        for item in _lines(4):
            stored_when_asked.append(len(titles(db)))
            yield item

    report = import_articles(db, producer(), now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    assert report.counts.inserted == 4 and stored_when_asked == [0, 1, 2, 3]
