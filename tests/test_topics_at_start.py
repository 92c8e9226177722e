"""``run`` and ``config check`` read ``topics.file`` by one rule (issue #17 §3,
:func:`feedsvc.topics_file.configured_topics`): a file with problems, a directory, or a set file
that is missing is exit 2 for ``config check`` and one error line for ``run`` (naming the file
and every problem; the service goes on with the state DB's topics); the *default* file absent
is neither (``run`` says where topics come from, once)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import free_port, get, wait_until
from site_placeholder import unplaced

from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.revision import ensure_schema
from feedsvc.logs import TextFormatter
from feedsvc.store.records import TopicSpec
from feedsvc.store.topics import list_topics, save_topic
from feedsvc.topics_at_start import import_at_start

GOOD = '[[topic]]\nslug = "kt"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n'

#: name → (prepare the topics file in ``tmp``, words its problems must hold)
BROKEN: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "a TOML syntax error": (
        lambda tmp: _write(tmp / "bad.toml", "[[topic]\nslug ="),
        ["bad.toml", "invalid TOML", "line 1"],
    ),
    "a bad query and a bad slug": (
        lambda tmp: _write(
            tmp / "bad.toml",
            GOOD + GOOD.replace('"kt"', '"Bad Slug"').replace("'\"Kiến Thụy\"'", "'(x'"),
        ),
        [
            "bad.toml",
            "2 problem(s)",
            "topic #2 (Bad Slug): slug must be",
            "topic Bad Slug: query: at character 1: unclosed",
        ],
    ),
    "a directory": (lambda tmp: _mkdir(tmp / "topics.d"), ["cannot read", "topics.d"]),
    "a set file that is missing": (
        lambda tmp: tmp / "nothere.toml",
        ["file not found", "nothere.toml"],
    ),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_config_check_and_run_refuse_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    _clean_env(monkeypatch, tmp_path)
    prepare, words = BROKEN[name]
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(prepare(tmp_path)))
    checked = CliRunner().invoke(cli, ["config", "check"])
    assert checked.exit_code == 2, checked.output
    for word in words:  # the key names the file there (`config show`); a whole-file one names it
        if word != "bad.toml" and "problem(s)" not in word:
            assert word in checked.stderr, checked.stderr

    settings = load_config(None, {"database": {"url": f"sqlite:///{tmp_path / 's.db'}"}})
    db = Database(settings.database.url)
    try:
        ensure_schema(db)
        with db.write() as conn:  # a topic already in the state DB stays, enabled
            save_topic(conn, TopicSpec("old", "Old", "x"), "cli", db.now())
        caplog.set_level(logging.INFO)
        import_at_start(db, settings.topics)
        with db.read() as conn:
            assert [(t.slug, t.enabled) for t in list_topics(conn)] == [("old", True)]
    finally:
        db.dispose()
    [record] = [r for r in caplog.records if "topics file" in r.getMessage()]
    assert record.levelno == logging.ERROR
    line = TextFormatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in line and "\\n" not in line, line  # one clean line, not "…:\\nbad.toml"
    assert "not imported" in line and "state DB's topics are kept" in line
    for word in words:
        assert word in line, line


def test_the_default_file_absent_is_no_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fresh directory: `config check` on the built-in defaults is OK (it said "file not
    found: config/topics.toml", exit 2, while `run` started silently with 0 topics)."""
    _clean_env(monkeypatch, tmp_path)
    checked = CliRunner().invoke(cli, ["config", "check"])
    assert (checked.exit_code, unplaced(checked.output)) == (0, "built-in defaults: OK\n")
    settings = load_config(None, {"database": {"url": f"sqlite:///{tmp_path / 's.db'}"}})
    assert not settings.topics.file_is_set
    db = Database(settings.database.url)
    try:
        ensure_schema(db)
        caplog.set_level(logging.INFO)
        import_at_start(db, settings.topics)
    finally:
        db.dispose()
    [record] = [r for r in caplog.records if "topics file" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "no topics file at config/topics.toml" in record.getMessage()
    assert "feedsvc topics add" in record.getMessage()


def test_the_default_path_named_explicitly_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set in the config (even to the default's value), the file is expected: a missing one is
    a typo or a volume not mounted."""
    _clean_env(monkeypatch, tmp_path)
    config = _write(tmp_path / "feedsvc.toml", '[topics]\nfile = "config/topics.toml"\n')
    checked = CliRunner().invoke(cli, ["config", "check", "--config", str(config)])
    assert checked.exit_code == 2
    assert "topics.file: file not found: config/topics.toml" in checked.stderr
    off = _write(tmp_path / "off.toml", '[topics]\nfile = "x.toml"\nimport_on_start = false\n')
    assert CliRunner().invoke(cli, ["config", "check", "--config", str(off)]).exit_code == 0


def test_run_logs_a_broken_file_on_one_line_and_serves(tmp_path: Path) -> None:
    """The real service: the error line names the file and each problem on one line (it was
    "topics file not imported:\\nbad.toml: …" with a literal \\n), and the service runs on."""
    (tmp_path / "bad.toml").write_text(GOOD + "colour = 1\n[[topik]]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_TOPICS__FILE"] = "bad.toml"
    port = free_port()
    log_file = tmp_path / "run.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: (
                    proc.poll() is not None
                    or (
                        (r := get(f"http://127.0.0.1:{port}/healthz")) is not None
                        and r.status_code == 200
                    )
                ),
                60,
                "the service to answer",
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    text = log_file.read_text("utf-8")
    assert proc.returncode == 0, text
    [line] = [x for x in text.splitlines() if "topics file" in x]
    assert " ERROR " in line and "\\n" not in line, text
    assert "topics file bad.toml not imported" in line and "2 problem(s)" in line
    assert "topic #1 (kt): unknown key 'colour'" in line and "'topik'" in line


@pytest.mark.parametrize("emptied", ["", "# nothing yet\n"], ids=["0 bytes", "comments only"])
def test_run_keeps_the_topics_when_the_file_was_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, emptied: str
) -> None:
    """A file emptied since the last start (a failed copy, a volume not mounted yet) switched
    every file topic off at ``run``, one info line its only trace: now one error line naming the
    file and the count, and the topics stay on."""
    _clean_env(monkeypatch, tmp_path)
    path = _write(tmp_path / "topics.toml", GOOD + GOOD.replace('"kt"', '"kt2"'))
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{tmp_path / 'state.db'}")
    settings = load_config(Path("/dev/null"))
    db = Database(settings.database.url)
    ensure_schema(db)
    import_at_start(db, settings.topics)
    _write(path, emptied)
    caplog.clear()  # the first import's info line, caught when an earlier test set INFO
    with caplog.at_level(logging.INFO, logger="feedsvc.topics_file"):
        import_at_start(db, settings.topics)
    [record] = [r for r in caplog.records if "topics file" in r.getMessage()]
    assert record.levelno == logging.ERROR, record.getMessage()
    assert f"topics file {path} not imported, the state DB's topics are kept: it holds no " in (
        record.getMessage()
    )
    assert "switch off all 2 topic(s)" in record.getMessage()
    with db.read() as conn:
        assert [(t.slug, t.enabled) for t in list_topics(conn)] == [("kt", True), ("kt2", True)]
    db.dispose()
