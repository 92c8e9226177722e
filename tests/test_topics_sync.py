"""``run`` re-imported ``topics.file`` at every start and put back the file's version of every
topic it lists: an edit made through the CLI, the API or the admin was undone by the next
restart without a word ("0 created, 2 updated"; newcomer D1). Now a start applies a file entry
only when it changed since it was last imported (``topics.file_entry``, migration 0017): the
file then wins for that topic, logged naming it; ``topics import`` still applies the file."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from sqlalchemy import select
from topicsworld import AN, KT, PL, restart, shown, start
from upgrades import database_at, run_sql

from feedsvc.cli import cli
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import topics
from feedsvc.operations.topics import save_topic as api_save
from feedsvc.operations.topics import set_topic_enabled
from feedsvc.store.records import TopicSpec
from feedsvc.store.topics import get_topic
from feedsvc.topics_sync import REMOVED, fingerprint

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


@pytest.fixture
def started(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    return start(db, tmp_path, monkeypatch)


def test_cli_and_api_edits_survive_a_restart(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """The newcomer's repro: `topics add` over a file topic, `PUT /api/topics/pl` (the
    operation it calls), `topics disable`, then a restart: all three edits stay."""
    db, _ = started
    url = str(db.engine.url.render_as_string(hide_password=False))
    env = {"FEEDSVC_DATABASE__URL": url}
    added = CliRunner().invoke(
        cli,
        [
            "topics",
            "add",
            "kt",
            "--title",
            "Kiến Thụy (sửa)",
            "--query",
            '"Kiến Thụy" OR "Núi Đối"',
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    api_save(db, TopicSpec("pl", "Pháp luật API", '"tòa án"'), "api")
    set_topic_enabled(db, "an", False)
    before = shown(db)
    lines = restart(db, caplog)
    assert (
        shown(db)
        == before
        == {
            "an": ("An ninh", '"an ninh"', False),
            "kt": ("Kiến Thụy (sửa)", '"Kiến Thụy" OR "Núi Đối"', True),
            "pl": ("Pháp luật API", '"tòa án"', True),
        }
    )
    text = "\n".join(m for _, m in lines)
    assert "0 created, 0 updated, 0 unchanged, 3 kept (edited in the state DB), 0 disabled" in text
    assert "3 topic(s) edited in the state DB are kept" in text and "an, kt, pl" in text
    assert all(level < logging.WARNING for level, _ in lines), lines
    assert shown(db) == before  # and again at the next start


def test_a_changed_file_entry_wins_and_is_logged(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Mixed: kt edited in the DB, its entry unchanged (kept); pl edited in the DB and its entry
    changed (the file wins, a WARNING names pl and the fields); an unedited, changed in the
    file (updated quietly); a new topic created."""
    db, path = started
    api_save(db, TopicSpec("kt", "KT (DB)", '"Kiến Thụy"'), "api")
    api_save(db, TopicSpec("pl", "PL (DB)", '"tòa án" OR "xét xử"'), "api")
    path.write_text(
        KT
        + PL.replace("Pháp luật", "Pháp luật mới")
        + AN.replace('"an ninh"', '"an ninh" OR "công an"')
        + KT.replace('"kt"', '"new"'),
        encoding="utf-8",
    )
    lines = restart(db, caplog)
    assert shown(db) == {
        "an": ("An ninh", '"an ninh" OR "công an"', True),
        "kt": ("KT (DB)", '"Kiến Thụy"', True),
        "new": ("Kiến Thụy", '"Kiến Thụy"', True),
        "pl": ("Pháp luật mới", '"tòa án"', True),
    }
    warnings = [m for level, m in lines if level == logging.WARNING]
    assert len(warnings) == 1, lines
    assert "topic pl: its entry in the file changed" in warnings[0]
    assert "replaced the state DB's edits (title, query)" in warnings[0]
    text = "\n".join(m for _, m in lines)
    assert "1 created, 2 updated, 0 unchanged, 1 kept (edited in the state DB), 0 disabled" in text
    # edited again in the DB after the file won: the next start keeps that edit
    api_save(db, TopicSpec("pl", "PL again", '"tòa án"'), "api")
    restart(db, caplog)
    assert shown(db)["pl"] == ("PL again", '"tòa án"', True)


def test_a_removed_topic_is_switched_off_once(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Removed from the file: switched off (not deleted), as documented; switched on again by
    an editor, it stays on at the next start; listed again in the file, the file wins."""
    db, path = started
    path.write_text(KT + PL, encoding="utf-8")
    lines = restart(db, caplog)
    assert "0 created, 0 updated, 2 unchanged, 1 disabled" in "\n".join(m for _, m in lines)
    assert shown(db)["an"] == ("An ninh", '"an ninh"', False)
    set_topic_enabled(db, "an", True)
    restart(db, caplog)
    assert shown(db)["an"][2] is True
    path.write_text(KT + PL + AN.replace("An ninh", "An ninh 2"), encoding="utf-8")
    restart(db, caplog)
    assert shown(db)["an"] == ("An ninh 2", '"an ninh"', True)


@pytest.mark.parametrize("title", ["An ninh", "An ninh trật tự"])
def test_a_topic_listed_again_is_not_called_edited_in_the_state_db(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture, title: str
) -> None:
    """A file cut short by mistake, then put back (a tester's): the start that reads it again
    switched the topic off itself; no edit was made in the state DB, and no WARNING says so."""
    db, path = started
    path.write_text(KT + PL, encoding="utf-8")
    restart(db, caplog)
    path.write_text(KT + PL + AN.replace("An ninh", title), encoding="utf-8")
    lines = restart(db, caplog)
    assert shown(db)["an"] == (title, '"an ninh"', True)
    fields = "enabled" if title == "An ninh" else "title, enabled"
    said = (
        f"topics file {path}: topic an: listed in the file again (leaving it out had switched it "
        f"off): its entry is applied ({fields})"
    )
    assert (logging.INFO, said) in lines, lines
    assert all(level < logging.WARNING for level, _ in lines), lines


def test_topics_import_words_a_topic_listed_again_alike(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """The same through `topics import` of the configured file; an editor's switch-off after
    that is an edit in the state DB again, which the next import replaces and says so."""
    db, path = started
    url = str(db.engine.url.render_as_string(hide_password=False))
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_TOPICS__FILE": str(path)}
    path.write_text(KT + PL, encoding="utf-8")
    cut = CliRunner().invoke(cli, ["topics", "import"], env=env)
    assert cut.exit_code == 0 and "1 disabled" in cut.output, cut.output
    path.write_text(KT + PL + AN, encoding="utf-8")
    back = CliRunner().invoke(cli, ["topics", "import"], env=env)
    assert back.exit_code == 0, back.output
    assert back.output.splitlines()[1:] == [
        "an: listed in the file again (leaving it out had switched it off): its entry is "
        "applied (enabled)"
    ], back.output
    set_topic_enabled(db, "an", False)
    again = CliRunner().invoke(cli, ["topics", "import"], env=env)
    assert "an: the file's version replaced the state DB's edits (enabled)" in again.output


def test_topics_import_applies_the_whole_file(
    started: tuple[Database, Path],
) -> None:
    """The explicit command keeps its documented meaning: the file's version of every topic
    it lists, the replaced edits named on stdout."""
    db, path = started
    api_save(db, TopicSpec("kt", "KT (DB)", '"Kiến Thụy"'), "api")
    url = str(db.engine.url.render_as_string(hide_password=False))
    done = CliRunner().invoke(
        cli, ["topics", "import", str(path)], env={"FEEDSVC_DATABASE__URL": url}
    )
    assert done.exit_code == 0, done.output
    assert "0 created, 1 updated, 2 unchanged, 0 disabled" in done.output
    assert "kt: the file's version replaced the state DB's edits (title)" in done.output
    assert shown(db)["kt"] == ("Kiến Thụy", '"Kiến Thụy"', True)


def test_an_emptied_file_is_still_refused(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    db, path = started
    path.write_text("", encoding="utf-8")
    lines = restart(db, caplog)
    assert any(level == logging.ERROR and "switch off all 3" in m for level, m in lines)
    assert all(on for _, _, on in shown(db).values())


def test_upgrade_to_0017_keeps_the_topics_and_their_edits(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A DB at 0016 holding file topics: kt as in the file, pl edited in the DB, an gone from
    the file but on. The upgrade keeps every row; the first start records the file's entries
    and changes nothing (pl and an named once, WARNING); later the file wins only for an entry
    that changes."""
    for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
        monkeypatch.delenv(key)
    db = database_at(db_url, "0016")
    try:
        insert = (
            "INSERT INTO topics (slug, title, description, query, enabled, origin, created_at,"
            " updated_at) VALUES (:slug, :title, '', :query, true, 'file', :t, :t)"
        )
        for slug, title, query in [
            ("kt", "Kiến Thụy", '"Kiến Thụy"'),
            ("pl", "Pháp luật (sửa)", '"tòa án"'),
            ("an", "An ninh", '"an ninh"'),
        ]:
            run_sql(db, insert, slug=slug, title=title, query=query, t="2026-11-30 10:00:00")
        upgrade(db)
        with db.read() as conn:
            rows = {r.slug: r.file_entry for r in conn.execute(select(topics))}
        assert rows == {"kt": None, "pl": None, "an": None}
        before = shown(db)
        path = tmp_path / "topics.toml"
        path.write_text(KT + PL, encoding="utf-8")
        monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
        lines = restart(db, caplog)
        assert shown(db) == before
        warnings = sorted(m for level, m in lines if level == logging.WARNING)
        assert len(warnings) == 2, lines
        assert "topic an is no longer in the file but is on: kept on" in warnings[0]
        assert "topic pl differs from its entry in the file (title)" in warnings[1]
        with db.read() as conn:
            pl = get_topic(conn, "pl")
            entries = {r.slug: r.file_entry for r in conn.execute(select(topics))}
        assert pl is not None
        assert entries == {
            "kt": fingerprint(TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"')),
            "pl": fingerprint(TopicSpec("pl", "Pháp luật", '"tòa án"')),
            "an": REMOVED,
        }
        again = restart(db, caplog)
        assert shown(db) == before
        assert all(level < logging.WARNING for level, _ in again), again
        path.write_text(KT + PL.replace('"tòa án"', '"tòa án" OR "xét xử"'), encoding="utf-8")
        restart(db, caplog)
        assert shown(db)["pl"] == ("Pháp luật", '"tòa án" OR "xét xử"', True)
    finally:
        db.dispose()


# -- a file whose change breaks the queries using its topics is not applied ----------------------


def _chain_to_kt(db: Database, first: int) -> None:
    """Topics of the state DB ``n{first}`` → … → ``n10`` → ``@kt`` (a file topic)."""
    for i in range(10, first - 1, -1):
        query = "@kt x" if i == 10 else f"@n{i + 1} x"
        api_save(db, TopicSpec(f"n{i}", "N", query), "api")


DEEPER_KT = KT.replace("query = '\"Kiến Thụy\"'", "query = '\"Kiến Thụy\" OR @pl'")


def test_a_start_keeps_the_topics_when_the_file_would_break_a_db_topic(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """n2 → … → n10 → kt is as deep as the matcher takes (the topic and 9 references); the
    file's kt naming @pl made n2 one level deeper, and the matcher skipped n2 for good with one
    log line per rebuild."""
    db, path = started
    _chain_to_kt(db, 2)
    path.write_text(DEEPER_KT + PL + AN, encoding="utf-8")
    before = shown(db)
    lines = restart(db, caplog)
    assert shown(db) == before
    errors = [m for level, m in lines if level == logging.ERROR]
    assert len(errors) == 1 and "topic n2: query:" in errors[0], lines
    assert "nested more than 10 deep" in errors[0] and "topic n3" not in errors[0]
    api_save(db, TopicSpec("n10", "N", "x"), "api")  # the chain cut: the file applies
    restart(db, caplog)
    assert shown(db)["kt"][1] == '"Kiến Thụy" OR @pl'


def _import(db: Database, path: Path) -> Any:
    url = str(db.engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(
        cli, ["topics", "import", str(path)], env={"FEEDSVC_DATABASE__URL": url}
    )


def test_topics_import_refuses_a_file_that_breaks_a_topic_using_it(
    started: tuple[Database, Path],
) -> None:
    db, path = started
    _chain_to_kt(db, 2)
    path.write_text(DEEPER_KT + PL + AN, encoding="utf-8")
    before = shown(db)
    result = _import(db, path)
    assert result.exit_code == 2, result.output
    assert "topic n2: query" in result.output and "nothing was changed" in result.output
    assert shown(db) == before


def test_topics_import_refuses_a_file_that_breaks_a_chat_query_using_it(
    started: tuple[Database, Path],
) -> None:
    """A chat's own query may expand to 200 terms: kt grown to 200 in the file made the
    chat's ``@kt y`` 201."""
    from feedsvc import operations as ops

    db, path = started
    sub, _ = ops.add_subscription(db, 1003, "private", topic=None, query="@kt y")
    hundred = " OR ".join(f"w{i}" for i in range(100))
    wide = "".join(f'[[topic]]\nslug = "h{i}"\ntitle = "H"\nquery = "{hundred}"\n' for i in (1, 2))
    kt = KT.replace("query = '\"Kiến Thụy\"'", "query = '@h1 OR @h2'")
    path.write_text(kt + PL + AN + wide, encoding="utf-8")
    before = shown(db)
    result = _import(db, path)
    assert result.exit_code == 2, result.output
    assert f"the own query of telegram chat 1003 (subscription {sub.id})" in result.output
    assert shown(db) == before
