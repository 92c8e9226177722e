"""A topic the topics file lists, deleted through the CLI (`topics remove`), the API (DELETE
/api/topics/SLUG) or the admin, came back at the next start: its entry in the file had not
changed, but the row remembering that entry (``topics.file_entry``) was deleted with it, so
the start saw a new entry and created it. Now the deletion records the entry
(``deleted_file_topics``, migration 0020) and a start keeps the topic deleted while that entry
is unchanged; a changed entry, or ``topics import``, creates it again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from topicsworld import AN, KT, PL, restart, shown, start
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.cli import cli
from feedsvc.db import Database, schema, upgrade
from feedsvc.db.schema import article_topics
from feedsvc.operations.topics import delete_topic as op_delete
from feedsvc.operations.topics import save_topic as op_save
from feedsvc.store.records import TopicSpec
from feedsvc.topics_sync import fingerprint


@pytest.fixture
def started(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    return start(db, tmp_path, monkeypatch)


def cli_run(db: Database, *args: str) -> str:
    url = str(db.engine.url.render_as_string(hide_password=False))
    done = CliRunner().invoke(cli, list(args), env={"FEEDSVC_DATABASE__URL": url})
    assert done.exit_code == 0, done.output
    return done.output


def by_cli(db: Database, slug: str) -> None:
    assert f"{slug}: removed" in cli_run(db, "topics", "remove", slug)


def by_api(db: Database, slug: str) -> None:
    """DELETE /api/topics/SLUG on the whole app, in process, over this state DB."""
    import asyncio

    import httpx

    from feedsvc.app import Roles, Service, create_app
    from feedsvc.config import load_config

    url = str(db.engine.url.render_as_string(hide_password=False))
    settings = load_config(None, {"database": {"url": url}, "admin": {"token": "t" * 24}})
    service = Service(settings, Roles(scheduler=False, bot=False))

    async def call() -> int:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {'t' * 24}"}
            return (await client.delete(f"/api/topics/{slug}", headers=headers)).status_code

    try:
        assert asyncio.run(call()) == 200
    finally:
        service.close()


def by_operation(db: Database, slug: str) -> None:
    """The admin's delete button calls this use case (as the CLI and the API do)."""
    op_delete(db, slug)


FRONT_ENDS: dict[str, Callable[[Database, str], None]] = {
    "cli": by_cli,
    "api": by_api,
    "admin": by_operation,
}


def info_lines(lines: list[tuple[int, str]]) -> str:
    assert all(level < logging.WARNING for level, _ in lines), lines
    return "\n".join(m for _, m in lines)


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_deleted_file_topic_stays_deleted(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture, front: str
) -> None:
    db, path = started
    FRONT_ENDS[front](db, "pl")
    for _ in range(2):  # and at every later start
        text = info_lines(restart(db, caplog))
        assert sorted(shown(db)) == ["an", "kt"]
        assert "0 created, 0 updated, 2 unchanged, 0 disabled, 1 kept deleted" in text
        assert (
            f"topics file {path}: 1 topic(s) deleted in the state DB are kept deleted (their "
            "entries in the file did not change): pl; to bring one back, change its entry in "
            "the file or run `feedsvc topics import`"
        ) in text


def test_two_deleted_are_named_in_one_line(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    db, _ = started
    op_delete(db, "pl")
    op_delete(db, "an")
    lines = restart(db, caplog)
    kept = [m for _, m in lines if "kept deleted (their entries" in m]
    assert len(kept) == 1 and "2 topic(s)" in kept[0] and ": an, pl;" in kept[0]
    assert sorted(shown(db)) == ["kt"]


def test_a_changed_entry_creates_it_again(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """The file wins again when its entry changes (a WARNING names it); deleted once more,
    it stays deleted while that new entry is unchanged."""
    db, path = started
    op_delete(db, "pl")
    restart(db, caplog)
    path.write_text(KT + PL.replace("Pháp luật", "Pháp luật mới") + AN, encoding="utf-8")
    lines = restart(db, caplog)
    assert shown(db)["pl"] == ("Pháp luật mới", '"tòa án"', True)
    warnings = [m for level, m in lines if level == logging.WARNING]
    assert warnings == [
        f"topics file {path}: topic pl, deleted in the state DB, is created again: its entry "
        "in the file changed since it was deleted"
    ]
    assert "1 created, 0 updated, 2 unchanged, 0 disabled" in "\n".join(m for _, m in lines)
    op_delete(db, "pl")
    restart(db, caplog)
    assert "pl" not in shown(db)


def test_topics_import_creates_it_again(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    db, path = started
    op_delete(db, "pl")
    assert "1 created, 0 updated, 2 unchanged, 0 disabled" in cli_run(
        db, "topics", "import", str(path)
    )
    assert shown(db)["pl"] == ("Pháp luật", '"tòa án"', True)
    text = info_lines(restart(db, caplog))
    assert "0 created, 0 updated, 3 unchanged, 0 disabled" in text
    assert "kept deleted" not in text


@pytest.mark.parametrize("how", ["cli", "api"])
def test_the_slug_created_again_in_the_db_is_kept(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """A new topic under the deleted one's slug is the state DB's edit of that file topic:
    kept while the file's entry is unchanged (no warning, never deleted or replaced), replaced
    when the entry changes; deleted again, it stays deleted."""
    db, path = started
    op_delete(db, "pl")
    restart(db, caplog)
    if how == "cli":
        cli_run(db, "topics", "add", "pl", "--title", "Của tôi", "--query", "xét xử")
    else:
        op_save(db, TopicSpec("pl", "Của tôi", "xét xử"), "api", create_only=True)
    for _ in range(2):
        text = info_lines(restart(db, caplog))
        assert shown(db)["pl"] == ("Của tôi", "xét xử", True)
        assert "1 kept (edited in the state DB)" in text and "kept deleted" not in text
    path.write_text(KT + PL.replace('"tòa án"', '"tòa án" OR "xét xử"') + AN, encoding="utf-8")
    lines = restart(db, caplog)
    assert shown(db)["pl"] == ("Pháp luật", '"tòa án" OR "xét xử"', True)
    assert any("topic pl: its entry in the file changed" in m for _, m in lines), lines
    op_delete(db, "pl")
    restart(db, caplog)
    assert "pl" not in shown(db)


def test_the_same_entry_listed_again_after_leaving_the_file_creates_it(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Taken out of the file, the deletion is forgotten: the entry put back is new."""
    db, path = started
    op_delete(db, "pl")
    path.write_text(KT + AN, encoding="utf-8")
    restart(db, caplog)
    with db.read() as conn:
        assert conn.execute(select(schema.deleted_file_topics)).all() == []
    path.write_text(KT + PL + AN, encoding="utf-8")
    restart(db, caplog)
    assert shown(db)["pl"] == ("Pháp luật", '"tòa án"', True)


def test_a_db_topic_deleted_leaves_no_record(db: Database) -> None:
    """Only a topic the file applied an entry to is remembered (not one of the DB's own, nor
    one whose removal from the file was applied)."""
    op_save(db, TopicSpec("own", "Own", "công"), "cli")
    op_delete(db, "own")
    with db.read() as conn:
        assert conn.execute(select(schema.deleted_file_topics)).all() == []


def test_upgrade_to_0020_keeps_topics_and_deletes_remember_the_entry(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A DB at 0019 holding file topics (their entries recorded, as 0019's start left them) and
    a match: the upgrade keeps every row and starts with no deletion recorded; a delete after
    it records the entry, and the start keeps the topic deleted; downgraded, the table goes and
    the topics stay."""
    db = database_at(db_url, "0019")
    specs = {
        "kt": TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'),
        "pl": TopicSpec("pl", "Pháp luật", '"tòa án"'),
    }
    try:
        insert = (
            "INSERT INTO topics (id, slug, title, description, query, enabled, origin, created_at,"
            " updated_at, file_entry) VALUES (:id, :slug, :title, '', :query, true, 'file', :t,"
            " :t, :entry)"
        )
        for i, spec in enumerate(specs.values(), 1):
            run_sql(db, insert, id=i, slug=spec.slug, title=spec.title, query=spec.query,
                    t="2026-11-30 10:00:00", entry=fingerprint(spec))  # fmt: skip
        run_sql(
            db,
            OLD_ARTICLE,
            "INSERT INTO article_topics (article_id, topic_id, terms, matched_at)"
            " SELECT id, 2, '[]', :t FROM articles",
            t="2026-11-30 10:00:00",
        )
        before = shown(db)
        upgrade(db)
        assert shown(db) == before
        with db.read() as conn:
            assert conn.execute(select(schema.deleted_file_topics)).all() == []
            assert len(conn.execute(select(article_topics)).all()) == 1
        path = tmp_path / "topics.toml"
        path.write_text(KT + PL, encoding="utf-8")
        monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
        assert "0 created, 0 updated, 2 unchanged" in info_lines(restart(db, caplog))
        op_delete(db, "pl")
        with db.read() as conn:
            assert conn.execute(select(article_topics)).all() == []
            rows = [tuple(r) for r in conn.execute(select(schema.deleted_file_topics))]
        assert rows == [("pl", fingerprint(specs["pl"]))]
        assert "1 kept deleted" in info_lines(restart(db, caplog))
        assert sorted(shown(db)) == ["kt"]
        downgrade(db, "0019")
        assert sorted(shown(db)) == ["kt"]
    finally:
        db.dispose()


def test_an_edit_saved_after_the_delete_does_not_bring_it_back(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """The admin's edit form, opened before the delete and saved after it, upserted the file
    topic back (tester F10): it is refused now, and the topic stays deleted at the next start."""
    from feedsvc.operations import OperationError

    db, _ = started
    op_delete(db, "pl")
    with pytest.raises(OperationError) as refused:
        op_save(db, TopicSpec("pl", "Pháp luật sửa", '"tòa án"'), "admin", update_only=True)
    assert refused.value.code == "topic_deleted_meanwhile"
    assert sorted(shown(db)) == ["an", "kt"]
    assert "1 kept deleted" in info_lines(restart(db, caplog))
    assert sorted(shown(db)) == ["an", "kt"]
