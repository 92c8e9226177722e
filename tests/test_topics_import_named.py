"""A whole-file ``topics import`` names every topic it switches off, and ``--dry-run`` says it
all first, writing nothing.

A newsroom admin imported a file of ONE topic on the demo's database with the banner's exports
(no ``topics.file`` among them: the whole-file meaning) and read ``one.toml: 1 created,
0 updated, 0 unchanged, 1005 disabled``, exit 0: every other topic, the demo's own with their
subscribers, was off, and none was named. Now the topics switched off are named with their
subscriptions (those with subscribers first), at most ``SWITCHED_OFF_SHOWN`` (20) of them and "and K
more"; a start's log line says the same. On SQLite (``module_on_sqlite``: a topics file's import
runs on PostgreSQL in
``test_topics_deleted.py`` and ``test_topics_other_file.py``).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner, Result

from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.store.records import TopicSpec
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import get_topic, list_topics
from feedsvc.topics_at_start import import_at_start
from feedsvc.topics_sync import sync_topics

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: topics_sync.SWITCHED_OFF_SHOWN: the names a switched-off line gives before "and K more"
SHOWN = 20

ONE = '[[topic]]\nslug = "cat-ba"\ntitle = "Cát Bà"\nquery = \'"Cát Bà"\'\n'


def _file_topics(db: Database, count: int) -> list[str]:
    """``count`` topics imported as the configured file's (origin ``file``), the first two
    with subscribers: chat 1 to both, chat 2 to the first. Their slugs."""
    specs = [TopicSpec(f"bt-{i:04d}", f"Xã số {i}", f'"xã {i}"') for i in range(count)]
    now = datetime.now(UTC)
    with db.write() as conn:
        sync_topics(conn, specs, now)
        for chat in (1, 2):
            ensure_chat(conn, chat, "private", f"chat {chat}", now)
        for chat, spec in [(1, specs[0]), (2, specs[0])] + [(1, s) for s in specs[1:2]]:
            topic = get_topic(conn, spec.slug)
            assert topic is not None
            subscribe(conn, chat, topic_id=topic.id, query=None, now=now)
    return [s.slug for s in specs]


def _import(db: Database, where: Path, *args: str) -> Result:
    """``topics import`` with the demo banner's old exports: the DB, no ``topics.file``."""
    url = db.engine.url.render_as_string(hide_password=False)
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    (where / "one.toml").write_text(ONE, encoding="utf-8")
    return CliRunner().invoke(cli, ["topics", "import", *args, str(where / "one.toml")], env=env)


def _enabled(db: Database) -> dict[str, bool]:
    with db.read() as conn:
        return {t.slug: t.enabled for t in list_topics(conn)}


def _named(line: str) -> list[str]:
    """The slugs a switched-off line names, in order."""
    listed = line.split(" does not list: ", 1)[1].split(";", 1)[0]
    return re.findall(r"(bt-\d+) \(", listed)


@pytest.mark.parametrize("count", [1, 5, 1000])
def test_the_topics_a_whole_file_import_switches_off_are_named(
    db: Database, clean_cli: Path, count: int
) -> None:
    slugs = _file_topics(db, count)
    done = _import(db, clean_cli)
    assert done.exit_code == 0, done.output
    assert f"1 created, 0 updated, 0 unchanged, {count} disabled" in done.output
    [line] = [ln for ln in done.output.splitlines() if "switched off" in ln]
    assert line.startswith(f"{clean_cli / 'one.toml'}: switched off {count} topic(s)"), line
    named = _named(line)
    # those with subscribers first (most first), then by slug; at most SHOWN
    assert named == slugs[: min(count, SHOWN)], line
    assert "bt-0000 (2 subscriptions (2 Telegram))" in line
    if count > 1:
        assert "bt-0001 (1 subscription (1 Telegram))" in line
    if count > 2:
        assert "bt-0002 (no subscription)" in line
    more = count - len(named)
    assert (f" and {more} more;" in line) == (more > 0), line
    assert "topics enable SLUG` switches one on again" in line
    enabled = _enabled(db)
    assert not any(enabled[s] for s in slugs)  # it did switch them off


@pytest.mark.parametrize("count", [1, 5, 1000])
def test_a_dry_run_says_what_the_import_would_do_and_writes_nothing(
    db: Database, clean_cli: Path, count: int
) -> None:
    slugs = _file_topics(db, count)
    before = _enabled(db)
    dry = _import(db, clean_cli, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert _enabled(db) == before  # nothing written: no topic off, no cat-ba
    path = clean_cli / "one.toml"
    lines = dry.output.splitlines()
    assert lines[0] == f"{path}: would be 1 created, 0 updated, 0 unchanged, {count} disabled"
    assert lines[1].startswith(f"{path}: would switch off {count} topic(s) the file does not")
    assert lines[-1] == f"{path}: dry run: nothing was written"
    done = _import(db, clean_cli)  # the import itself then does what the dry run said
    assert done.exit_code == 0, done.output
    assert _named(done.output.splitlines()[1]) == _named(lines[1])
    enabled = _enabled(db)
    assert not any(enabled[s] for s in slugs) and enabled["cat-ba"]


def test_a_start_names_the_topics_its_file_no_longer_lists(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same words in ``run``'s log when the configured file drops topics."""
    from feedsvc.config import TopicsSettings

    _file_topics(db, 5)
    path = tmp_path / "topics.toml"
    path.write_text(ONE, encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        import_at_start(db, TopicsSettings(file=path))
    said = [r.getMessage() for r in caplog.records if "switched off" in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert _named(said[0]) == [f"bt-{i:04d}" for i in range(5)], said
