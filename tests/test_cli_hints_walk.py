"""Every command, given ``--config FILE``, names feedsvc commands in its hints with that file.

``db current --config old.toml`` on a state DB at an older revision printed "run `feedsvc db
upgrade`" (a tester's U3) while ``topics list`` and ``status`` carried the ``--config``: typed
as shown, the hint upgraded, or created, ``./var/feedsvc.db`` where the operator stood. Here
every command of the CLI is walked (the table below must name each, so a new command is walked
too) on the state DBs that make commands hint — missing, at an older revision, current without
topics —, and every command its output names between backticks must carry the file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from feedsvc.cli import cli

#: The arguments each command is walked with (after its name; ``--config`` is appended).
ARGS: dict[str, list[str]] = {
    "articles find": ["K-1"],
    "articles hide": ["K-1"],
    "articles unhide": ["K-1"],
    "config check": [],
    "config show": [],
    "db current": [],
    "db forget-token": ["telegram"],
    "db upgrade": [],
    "import": ["a.jsonl"],
    "match": ["--query", "an ninh"],
    "render": ["an-ninh"],
    "source check": [],
    "source reconcile": ["--dry-run"],
    "status": [],
    "subs add": ["--channel", "apprise", "--to", "json://127.0.0.1:9/x", "--topic", "nosuch"],
    "subs list": [],
    "subs remove": ["1"],
    "topics add": ["an-ninh", "--title", "An ninh", "--query", '"an ninh"'],
    "topics backfill": ["an-ninh"],
    "topics disable": ["an-ninh"],
    "topics enable": ["an-ninh"],
    "topics export": [],
    "topics import": [],
    "topics list": [],
    "topics preview": ['"an ninh"'],
    "topics remove": ["an-ninh"],
}
#: Commands that start a service (a hint they log is ``tests/test_cli_hints_config.py``'s).
SERVING = {"run", "demo"}
STATES = ["missing", "old", "current"]
CONFIG = "my site.toml"
OLD = "0020"


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += leaf_commands(command, f"{prefix}{name} ")
        else:
            found.append(f"{prefix}{name}")
    return found


def test_the_walk_names_every_command() -> None:
    assert set(leaf_commands(cli)) - SERVING == set(ARGS)


@pytest.fixture(scope="module")
def current_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state DB at this feedsvc's head, made once (copied for each case)."""
    where = tmp_path_factory.mktemp("template")
    (where / "t.toml").write_text(f'[database]\nurl = "sqlite:///{where / "s.db"}"\n')
    result = run(where, "db", "upgrade", "--config", "t.toml")
    assert result.exit_code == 0, result.output
    return where / "s.db"


def site(tmp_path: Path, state: str, template: Path) -> None:
    """``my site.toml`` in ``tmp_path`` naming a state DB beside it in ``state``, a topics
    file and an import file."""
    db = tmp_path / "state" / "s.db"
    db.parent.mkdir()
    if state != "missing":
        shutil.copy(template, db)
    if state == "old":
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (OLD,))
    (tmp_path / "topics.toml").write_text(
        '[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = "\\"an ninh\\""\n'
    )
    (tmp_path / "a.jsonl").write_text(
        '{"source_key": "a", "url": "https://x.vn/a", "title": "An ninh",'
        ' "published_at": "2026-11-30T10:00:00+07:00"}\n'
    )
    (tmp_path / CONFIG).write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[topics]\nfile = "{tmp_path / "topics.toml"}"\n'
    )


def run(where: Path, *args: str) -> Result:
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    old = Path.cwd()
    os.chdir(where)
    try:
        return CliRunner().invoke(cli, list(args), env=env, input="")
    finally:
        os.chdir(old)


def named_commands(output: str) -> list[str]:
    """The feedsvc commands the output names between backticks: ``feedsvc …``, or this
    program as ``command_name`` spells it (the runner's ``sys.argv[0]``)."""
    from feedsvc.cli.common import command_name

    programs = ("feedsvc ", f"{command_name(config=False)} ")
    return [c for c in output.split("`")[1::2] if c.startswith(programs)]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", sorted(ARGS))
def test_every_hint_carries_the_config_given(
    tmp_path: Path, current_db: Path, command: str, state: str
) -> None:
    site(tmp_path, state, current_db)
    result = run(tmp_path, *command.split(), *ARGS[command], "--config", CONFIG)
    given = f"--config {shlex.quote(CONFIG)}"
    # `topics export`'s stdout is the file itself, meant to be shared: its first line names the
    # plain `feedsvc topics import` (no path or --config of this machine), not a hint
    output = result.stderr if command == "topics export" else result.output
    for named in named_commands(output):
        assert given in named, (named, result.output)
    assert not (tmp_path / "var").exists(), result.output  # nothing acted on the default DB


def test_db_current_of_an_older_db_names_db_upgrade_with_the_file(
    tmp_path: Path, current_db: Path
) -> None:
    """The tester's case: ``0020`` on stdout, the hint on stderr with the file."""
    site(tmp_path, "old", current_db)
    result = run(tmp_path, "db", "current", "--config", CONFIG)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{OLD}\n"
    assert named_commands(result.stderr) == [f"feedsvc db upgrade --config {shlex.quote(CONFIG)}"]


@pytest.mark.postgres
def test_db_current_of_an_older_postgresql_db_names_the_file(tmp_path: Path, pg_url: str) -> None:
    """The tester's own backend: PostgreSQL, ``cd /tmp && db current --config old.toml``."""
    import sqlalchemy as sa

    (tmp_path / CONFIG).write_text(f'[database]\nurl = "{pg_url}"\n')
    assert run(tmp_path, "db", "upgrade", "--config", CONFIG).exit_code == 0
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": OLD})
    finally:
        engine.dispose()
    result = run(tmp_path, "db", "current", "--config", CONFIG)
    assert result.exit_code == 0 and result.stdout == f"{OLD}\n", result.output
    assert named_commands(result.stderr) == [f"feedsvc db upgrade --config {shlex.quote(CONFIG)}"]
