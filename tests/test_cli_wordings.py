"""Wordings a newcomer following the README tripped on (sync-status §3).

- counts printed as ``30000`` and ``30,000`` in one sync: one format for counts in log and CLI
  output, plain digits (the catalogue's ``number`` groups them for people, in the admin);
- ``feedsvc match --query`` errors lacked the ``feedsvc:`` prefix every other CLI error has;
- a bad ``visible`` SQL expression's error showed the internal alias ``AS f_visible``;
- ``feedsvc --help`` named Telegram as the only alert channel (SPEC §11: Zalo, Apprise too).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from test_cli_match import STDIN
from test_source_external import Cms, _config
from test_source_external import mariadb_cms as mariadb_cms  # the fixtures, shared
from test_source_external import postgres_cms as postgres_cms

import feedsvc
from feedsvc.channel_modes import channel_modes
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db.errors import unaliased

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

PACKAGE = Path(feedsvc.__file__).parent


def test_counts_have_one_format_in_log_and_cli_output() -> None:
    """No thousands separator in a format spec outside the catalogue (``{n:,}``): the
    progress line said ``300 / 1,200 rows`` after ``1200 rows behind the cursor``."""
    grouped = re.compile(r":,[.0-9]*[dfg]?\}")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        if "catalogue" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if grouped.search(line)
    ]
    assert found == []


def _match(*args: str, stdin: str = STDIN) -> Any:
    return CliRunner().invoke(cli, ["match", *args], input=stdin)


@pytest.mark.parametrize(
    ("query", "caret"),
    [("a b OR c", True), ('"công an', True), ("(a OR b", True), ("a\nOR b OR", True),
     ("NOT", True), ("@topic", True)],
)  # fmt: skip
def test_an_invalid_query_is_a_feedsvc_error(query: str, caret: bool) -> None:
    result = _match("--query", query)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("feedsvc: invalid query: "), result.stderr
    assert (lines[-1].strip() == "^") is caret, result.stderr


def test_a_preview_of_an_invalid_query_says_it_the_same_way(clean_cli: Path) -> None:
    db = f"sqlite:///{clean_cli / 'state.db'}"
    assert (
        CliRunner().invoke(cli, ["db", "upgrade"], env={"FEEDSVC_DATABASE__URL": db}).exit_code == 0
    )
    result = CliRunner().invoke(
        cli, ["topics", "preview", "a b OR c"], env={"FEEDSVC_DATABASE__URL": db}
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("feedsvc: invalid query: at character 5: "), (
        result
    )
    assert _match("--query", "a b OR c").stderr == result.stderr


def test_skipped_lines_end_in_a_feedsvc_error() -> None:
    result = _match("--query", '"công an"')
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("feedsvc: "), result.stderr


def test_the_internal_alias_is_cut_from_driver_errors() -> None:
    mariadb = (
        '(1064, "You have an error in your SQL syntax; check the manual that corresponds to '
        "your MariaDB server version for the right syntax to use near '= 'x' AS f_visible "
        "\\nFROM news_articles \\n LIMIT 1' at line 1\")"
    )
    assert unaliased(mariadb).endswith("near '= 'x'' at line 1\")")
    assert unaliased("near ') AS f_published_at, x AS f_title FROM t' at line 1") == (
        "near ')' at line 1"
    )
    assert unaliased('column "f_visible" does not exist') == 'column "f_visible" does not exist'


@pytest.fixture(params=["mariadb", "postgres"])
def cms(request: pytest.FixtureRequest) -> Cms:
    return request.getfixturevalue(f"{request.param}_cms")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "visible", ["trang_thai = = 'x'", "tom_tat IS NOT NULL AND", "nope_column = 1"]
)
def test_a_bad_visible_expression_is_worded_as_written(
    tmp_path: Path, cms: Cms, visible: str
) -> None:
    config = _config(tmp_path, cms, visible=visible)
    out = CliRunner().invoke(cli, ["source", "check", "--config", config])
    assert out.exit_code == 2, out.output
    (line,) = [x for x in out.output.splitlines() if "source.columns.visible" in x]
    assert line.startswith(f'  source.columns.visible: the SQL expression "{visible}" fails: ')
    assert "f_visible" not in out.output and "FROM news_articles" not in out.output, line


def test_help_names_every_alert_channel() -> None:
    shown = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    channels = channel_modes(load_config(None, {}))
    assert len(channels) >= 3
    for channel in channels:
        assert channel.capitalize() in shown, channel
    run_help = " ".join(CliRunner().invoke(cli, ["run", "--help"]).output.split())
    assert "Telegram, Zalo" in run_help


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


def test_help_shows_no_rst_markup_and_render_shows_its_defaults() -> None:
    """A newcomer walking every ``--help`` read ``topics backfill``'s reST double backticks
    (````http.public_url````) as Click printed them, and ``render --help`` gave ``--format``
    and ``--limit`` without the defaults every other command's options show (rss, 50)."""
    marked = []
    for path in _commands(cli):
        shown = CliRunner().invoke(cli, [*path, "--help"]).output
        if "``" in shown:
            marked.append(" ".join(path))
    assert marked == []
    render = " ".join(CliRunner().invoke(cli, ["render", "--help"]).output.split())
    assert "[default: rss]" in render and "default: 50;" in render, render
