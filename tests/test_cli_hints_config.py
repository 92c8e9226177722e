"""A hint naming a feedsvc command carries the ``--config FILE`` the command was given.

``subs add --config site.toml …`` answered "run `feedsvc topics import`": typed as told, that
read another configuration (``config/feedsvc.toml``, ``FEEDSVC_CONFIG``, or none) and so acted
on another state DB (a tester's). ``cli.common.command_name`` and the state DB's
`feedsvc db upgrade` hints (``config_hints``) add it, shell-quoted, given before the command
name or after it; ``render`` named a bare `feedsvc topics list` unlike the other hints.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner, Result

from feedsvc.cli import cli

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

TOPIC = '[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = "\\"an ninh\\""\n'
APPRISE = ["subs", "add", "--channel", "apprise", "--to", "json://127.0.0.1:9/x", "--topic"]


def site(tmp_path: Path, name: str, extra: str = "") -> str:
    """A configuration file ``name`` in ``tmp_path`` (its state DB and topics file beside it);
    the path as typed (relative: the runner's working directory is ``tmp_path``)."""
    (tmp_path / "topics.toml").write_text(TOPIC, encoding="utf-8")
    (tmp_path / name).write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "other.db"}"\n'
        f'[topics]\nfile = "{tmp_path / "topics.toml"}"\n{extra}',
        encoding="utf-8",
    )
    return name


def run(tmp_path: Path, *args: str) -> Result:
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(cli, list(args), env=env)
    finally:
        os.chdir(old)


def hinted(result: Result) -> list[str]:
    """The commands the output names between backticks."""
    return result.output.split("`")[1::2]


NAMES = ["site.toml", "my site.toml", "cấu hình.toml", "$HOME.toml"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("before", [False, True])
def test_subs_add_tells_to_import_with_the_same_file(
    tmp_path: Path, name: str, before: bool
) -> None:
    config = site(tmp_path, name)
    assert run(tmp_path, "db", "upgrade", "--config", config).exit_code == 0
    where = ["--config", config]
    args = [*where, *APPRISE, "an-ninh"] if before else [*APPRISE, "an-ninh", *where]
    result = run(tmp_path, *args)
    assert result.exit_code == 1, result.output
    [command] = hinted(result)
    assert command.endswith(f" --config {shlex.quote(config)} topics import"), command
    assert shlex.split(command)[-4:] == ["--config", config, "topics", "import"]


@pytest.mark.parametrize("name", NAMES)
def test_render_of_an_unknown_topic_names_the_same_file(tmp_path: Path, name: str) -> None:
    config = site(tmp_path, name)
    assert run(tmp_path, "db", "upgrade", "--config", config).exit_code == 0
    result = run(tmp_path, "render", "nosuch", "--config", config)
    assert result.exit_code == 1, result.output
    [command] = hinted(result)
    assert command.endswith(f" --config {shlex.quote(config)} topics list"), command
    assert shlex.split(command)[-4:] == ["--config", config, "topics", "list"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("argv", [["status"], ["topics", "list"], ["subs", "list"]])
def test_an_uninitialised_state_db_names_db_upgrade_with_the_same_file(
    tmp_path: Path, name: str, argv: list[str]
) -> None:
    config = site(tmp_path, name)
    result = run(tmp_path, *argv, "--config", config)
    assert result.exit_code == 1, result.output
    assert hinted(result) == [f"feedsvc db upgrade --config {shlex.quote(config)}"], result.output


def test_an_empty_state_db_names_topics_add_with_the_same_file(tmp_path: Path) -> None:
    config = site(tmp_path, "my site.toml")
    assert run(tmp_path, "db", "upgrade", "--config", config).exit_code == 0
    result = run(tmp_path, "--config", config, "topics", "list")
    assert hinted(result), result.output
    assert all(" --config 'my site.toml' topics " in c for c in hinted(result)), result.output


def test_config_check_names_source_check_with_the_same_file(tmp_path: Path) -> None:
    (tmp_path / "cms.db").touch()
    config = site(tmp_path, "my site.toml", f'[source]\nurl = "sqlite:///{tmp_path / "cms.db"}"\n')
    result = run(tmp_path, "config", "check", "--config", config)
    assert result.exit_code == 0, result.output
    [command] = hinted(result)
    assert command.endswith(" --config 'my site.toml' source check"), command


def test_without_config_the_hints_name_none(tmp_path: Path) -> None:
    """``FEEDSVC_CONFIG`` or the default file: the hinted command reads it too."""
    site(tmp_path, "feedsvc.toml")
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    env["FEEDSVC_CONFIG"] = str(tmp_path / "feedsvc.toml")
    result = CliRunner().invoke(cli, ["status"], env=env)
    assert result.exit_code == 1
    assert hinted(result) == ["feedsvc db upgrade"], result.output
    assert run(tmp_path, "db", "upgrade", "--config", "feedsvc.toml").exit_code == 0
    result = CliRunner().invoke(cli, ["render", "nosuch"], env=env)
    [command] = hinted(result)
    assert "--config" not in command and command.endswith(" topics list"), command


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["my site.toml", "cấu hình.toml"])
@pytest.mark.parametrize("before", [False, True])
def test_import_into_a_missing_postgresql_database_names_the_same_file(
    tmp_path: Path, name: str, before: bool
) -> None:
    """``import`` said "cannot prepare the state database: … then run `feedsvc db upgrade`"
    without the ``--config`` it was given (every other command's hint carried it)."""
    from conftest import pg_skip_reason

    if reason := pg_skip_reason():
        pytest.skip(reason)
    url = "postgresql://postgres@127.0.0.1:5432/feedsvc_hint_no_such_db"
    config = site(tmp_path, name)
    text = (tmp_path / config).read_text(encoding="utf-8")
    (tmp_path / config).write_text(text.replace(text.splitlines()[1], f'url = "{url}"'))
    (tmp_path / "a.jsonl").write_text(
        '{"source_key": "a", "url": "https://x.vn/a", "title": "An ninh",'
        ' "published_at": "2026-11-30T10:00:00+07:00"}\n',
        encoding="utf-8",
    )
    argv = (
        ["--config", config, "import", "a.jsonl"]
        if before
        else ["import", "a.jsonl", "--config", config]
    )
    result = run(tmp_path, *argv)
    assert result.exit_code == 1, result.output
    assert "cannot prepare the state database" in result.output, result.output
    assert "feedsvc_hint_no_such_db" in result.output, result.output
    assert hinted(result)[-1].startswith("feedsvc db upgrade --config "), result.output
    assert f"feedsvc db upgrade --config {shlex.quote(config)}" in hinted(result), result.output


@pytest.mark.parametrize("name", ["my site.toml", "cấu hình.toml"])
def test_a_topics_file_refused_by_the_state_db_names_the_same_file(
    tmp_path: Path, name: str
) -> None:
    """`topics import` of an emptied file (it would switch off every topic it imported) said
    "use `feedsvc topics disable SLUG`" without the ``--config`` it was given."""
    config = site(tmp_path, name)
    assert run(tmp_path, "topics", "import", "--config", config).exit_code == 0
    (tmp_path / "topics.toml").write_text("", encoding="utf-8")
    result = run(tmp_path, "topics", "import", "--config", config)
    assert result.exit_code == 2, result.output
    assert "it holds no topics" in result.output, result.output
    assert hinted(result) == [f"feedsvc topics disable SLUG --config {shlex.quote(config)}"]


def test_runs_log_lines_name_the_same_file(tmp_path: Path) -> None:
    """``run --config FILE``'s own log: "no topics file at …: add them with `feedsvc topics
    add`" named a command that read another configuration (the last open hint)."""
    import subprocess
    import sys

    from processes import answers_ok, free_port, wait_until

    (tmp_path / "my site.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "other.db"}"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    port = free_port()
    argv = ["--config", "my site.toml", "run", "--no-bot", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", *argv],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until(
            lambda: answers_ok(f"http://127.0.0.1:{port}/healthz") or proc.poll() is not None,
            60,
            "the service to answer /healthz",
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    [line] = [x for x in out.splitlines() if "no topics file at" in x]
    assert "`feedsvc topics add --config 'my site.toml'`" in line, line


def test_log_lines_from_other_threads_name_the_same_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scheduler's and the bot's threads have no Click context: the file is read once, as
    the logging is set up, not per line. A line naming a ``--config`` already is left."""
    import logging
    import threading

    import click

    from feedsvc.cli.common import configure_logging
    from feedsvc.cli.params import GIVEN_CONFIG
    from feedsvc.config import load_config

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    ctx = click.Context(cli)
    ctx.meta[GIVEN_CONFIG] = "cấu hình.toml"
    try:
        with ctx:
            configure_logging(load_config(None, {}))
        log = logging.getLogger("feedsvc.test")
        lines = [
            ("topic %s is on: kept on (`feedsvc topics disable %s` switches it off)", "an", "an"),
            ("run `feedsvc --config a.toml status`", None, None),
        ]
        for msg, *args in lines:
            worker = threading.Thread(target=log.warning, args=(msg, *[a for a in args if a]))
            worker.start()
            worker.join()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "`feedsvc topics disable an --config 'cấu hình.toml'` switches it off" in err, err
    assert "run `feedsvc --config a.toml status`" in err, err
