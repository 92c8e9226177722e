"""``feedsvc source check`` says which sample rows ``[source.columns] visible`` hides.

A newcomer mapping a WordPress table wrote ``visible = "post_status = 'published'"`` (WordPress
writes ``'publish'``): every row was read as a draft, stored and never shown, while
``source check`` listed each sample row as "published 2026-…" and said OK; ``feedsvc run``
then served empty feeds and logged nothing about it. Now each row the source holds back is
marked NOT VISIBLE, and a sample with no visible row is a warning naming the expression (exit
0: the newest rows of a real CMS may all be drafts). Checked on an SQLite CMS, the built-in
table (an imported ``"withdrawn": true``) and a MariaDB WordPress-shaped table.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import mariadb_database
from sqlalchemy import create_engine
from test_cli_source import source_check, source_config

from feedsvc.cli import cli

WARNING = "warning: source.columns.visible:"
MARK = "NOT VISIBLE: stored, never shown"


def sqlite_cms(tmp_path: Path, statuses: list[str], visible: str) -> Path:
    """A CMS table ``posts`` whose row n has ``statuses[n-1]``; the config reading it."""
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, status TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.executemany(
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, '2026-11-30 10:00:00', ?)",
            [(n, f"p-{n}", f"https://e.vn/{n}", f"Tin số {n}", status, f"2026-11-30 10:0{n}:00")
             for n, status in enumerate(statuses, start=1)],
        )  # fmt: skip
    return source_config(tmp_path, cms, visible)


def row_line(output: str, n: int) -> str:
    [line] = [ln for ln in output.splitlines() if ln.startswith(f"  id={n} ")]
    return line


@pytest.mark.parametrize("visible", ["status = 'publish'", "status = 'Published'", "0"])
def test_an_expression_that_shows_no_row_is_said(tmp_path: Path, visible: str) -> None:
    config = sqlite_cms(tmp_path, ["published", "published", "published"], visible)
    result = source_check(config)
    assert result.exit_code == 0, result.output  # a warning: drafts may be all there is
    for n in (1, 2, 3):
        assert MARK in row_line(result.output, n), result.output
        assert "source.columns.visible is false or NULL" in row_line(result.output, n)
    [warning] = [ln for ln in result.output.splitlines() if ln.startswith(WARNING)]
    assert "none of the newest 3 rows is visible" in warning
    assert repr(visible) in warning  # the expression, as configured
    assert "no feed, page or alert" in warning


def test_one_row_sampled_is_said_of_one_row(tmp_path: Path) -> None:
    config = sqlite_cms(tmp_path, ["published"], "status = 'publish'")
    result = source_check(config, "--rows", "1")
    assert result.exit_code == 0, result.output
    [warning] = [ln for ln in result.output.splitlines() if ln.startswith(WARNING)]
    assert warning.startswith(f"{WARNING} the newest row is not visible (")


def test_a_right_expression_marks_only_the_drafts(tmp_path: Path) -> None:
    config = sqlite_cms(tmp_path, ["published", "draft", "published"], "status = 'published'")
    result = source_check(config)
    assert result.exit_code == 0, result.output
    assert MARK in row_line(result.output, 2)
    assert MARK not in row_line(result.output, 1) + row_line(result.output, 3)
    assert WARNING not in result.output
    assert result.output.rstrip().endswith("OK")


def test_without_visible_nothing_is_marked(tmp_path: Path) -> None:
    config = sqlite_cms(tmp_path, ["draft", "draft"], "status = 'published'")
    text = config.read_text(encoding="utf-8").replace("visible = \"status = 'published'\"\n", "")
    config.write_text(text, encoding="utf-8")
    result = source_check(config)
    assert result.exit_code == 0, result.output
    assert MARK not in result.output and WARNING not in result.output


def test_the_built_in_table_marks_a_withdrawn_line(tmp_path: Path) -> None:
    """The built-in table's rows are hidden by an imported ``"withdrawn": true``: marked in
    those words; no warning, which is about an expression the operator wrote."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n', encoding="utf-8")
    import_lines(
        config,
        '{"source_key": "K-1", "url": "https://e.vn/1", "title": "Tin một", '
        '"published_at": "2026-11-30T10:00:00+07:00", "withdrawn": true}\n',
    )
    result = source_check(config)
    assert result.exit_code == 0, result.output
    [line] = [ln for ln in result.output.splitlines() if "→ K-1 |" in ln]
    assert 'NOT VISIBLE: stored, never shown (imported with "withdrawn": true)' in line
    assert WARNING not in result.output


@pytest.mark.mysql
def test_a_wordpress_table_mapped_with_published(tmp_path: Path) -> None:
    """The case as met: WordPress's ``wp_posts`` on MariaDB, ``post_status = 'published'``."""
    with mariadb_database("feedsvc_wpvisible") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE wp_posts (ID BIGINT PRIMARY KEY, post_name VARCHAR(200), "
                "guid VARCHAR(255), post_title TEXT, post_status VARCHAR(20), "
                "post_date DATETIME, post_modified DATETIME)"
            )
            conn.exec_driver_sql(
                "INSERT INTO wp_posts VALUES "
                "(1, 'tin-1', 'https://e.vn/?p=1', 'Tin một', 'publish', "
                "'2026-11-30 10:00:00', '2026-11-30 10:00:00'), "
                "(2, 'tin-2', 'https://e.vn/?p=2', 'Tin hai', 'publish', "
                "'2026-11-30 11:00:00', '2026-11-30 11:00:00')"
            )
        engine.dispose()
        config = tmp_path / "feedsvc.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
            f'[source]\nurl = "{url}"\ntable = "wp_posts"\n'
            '[source.columns]\nid = "ID"\ncursor = "post_modified"\nsource_key = "post_name"\n'
            'url = "guid"\ntitle = "post_title"\npublished_at = "post_date"\n'
            "visible = \"post_status = 'published'\"\n",
            encoding="utf-8",
        )
        result = source_check(config)
    assert result.exit_code == 0, result.output
    assert MARK in row_line(result.output, 1) and MARK in row_line(result.output, 2)
    assert f"{WARNING} none of the newest 2 rows is visible" in result.output
    assert "post_status = 'publish'" in result.output  # the value WordPress writes


def import_lines(config: Path, text: str) -> None:
    """``feedsvc import`` of JSON lines ``text`` into the built-in table (``config``'s state
    DB), with no ``FEEDSVC_*`` variable of the test run in its way."""
    lines = config.with_name("a.jsonl")
    lines.write_text(text, encoding="utf-8")
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    imported = CliRunner().invoke(cli, ["import", str(lines), "--config", str(config)], env=env)
    assert imported.exit_code == 0, imported.output


def test_a_draft_with_unreadable_text_and_an_edit_time_ahead_are_said(tmp_path: Path) -> None:
    """A draft whose author is not UTF-8 is NOT VISIBLE, as ingest withdraws it (it was
    REJECTED); an ``updated_at`` 10 minutes after this machine's clock is said (a CMS server
    clock running fast: the tester's H1 and H2)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    ahead = datetime.now(UTC) + timedelta(minutes=10, seconds=20)
    local = ahead.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d %H:%M:%S")
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, status TEXT, created TEXT, modified TEXT, raw BLOB,"
                     " edited TEXT)")  # fmt: skip
        conn.executemany(
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, '2026-11-30 10:00:00', ?, ?, ?)",
            [(1, "p-1", "https://e.vn/1", "Tin 1", "published", "2026-11-30 10:01:00",
              b"PV", local),
             (2, "p-2", "https://e.vn/2", "Tin 2", "draft", "2026-11-30 10:02:00",
              b"\xc3\x28", None),
             (3, "p-3", "https://e.vn/3", "Tin 3", "published", "2026-11-30 10:03:00",
              b"\xc3\x28", None)],
        )  # fmt: skip
    config = source_config(tmp_path, cms, "status = 'published'")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text + 'author = "raw"\nupdated_at = "edited"\n[site]\ntimezone = "Asia/Ho_Chi_Minh"\n',
        encoding="utf-8",
    )
    result = source_check(config)
    assert "is 10 min after this machine's clock" in row_line(result.output, 1), result.output
    assert "NOT VISIBLE, its values not read (author is not valid UTF-8" in row_line(
        result.output, 2
    )
    assert "REJECTED author is not valid UTF-8" in row_line(result.output, 3)
