"""Set-up the crash tests share (``test_crash``, ``test_crash_retraction``, ``test_digest_crash``):
an SQLite state DB, recipients following one topic, the service's environment pointed at the
fake Bot API, and the service run as a real process (no HTTP, no bot poller) that a test can
SIGKILL, stop cleanly, and never leave running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from fakebot import FakeBotAPI
from sqlalchemy import Connection

from feedsvc.db import Database, upgrade
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

TOPIC = TopicSpec("an-ninh", "An ninh", '"công an"')  # factories.article titles match it


def sqlite_state(tmp_path: Path) -> tuple[str, Database]:
    """A migrated SQLite state DB in ``tmp_path``: its URL (for the service) and a handle."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    return url, db


def private_chats(
    conn: Connection, chat_ids: Iterable[int], now: datetime, title: str | None = None
) -> list[int]:
    """Telegram private chats with these ids; returns the ids."""
    return [ensure_chat(conn, chat, "private", title, now).chat_id for chat in chat_ids]


def follow_topic(conn: Connection, chat_ids: Iterable[int], now: datetime) -> None:
    """Save :data:`TOPIC` and subscribe these recipients (already stored) to it."""
    save_topic(conn, TOPIC, "cli", now)
    topic = get_topic(conn, TOPIC.slug)
    assert topic is not None
    for chat_id in chat_ids:
        subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)


def service_env(db_url: str, tg: FakeBotAPI, **settings: str) -> dict[str, str]:
    """Our environment plus the service's: the state DB, Telegram at the fake, a 0.5 s source
    poll, no topics file, no config file; ``settings``: more ``FEEDSVC_*`` variables."""
    return {
        **os.environ,
        "FEEDSVC_DATABASE__URL": db_url,
        "FEEDSVC_TELEGRAM__TOKEN": tg.token,
        "FEEDSVC_TELEGRAM__BASE_URL": tg.base_url,
        "FEEDSVC_SOURCE__POLL_SECONDS": "0.5",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_CONFIG": "/dev/null",
        **settings,
    }


def start_service(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """``feedsvc run --no-http --no-bot`` (ingest, dispatchers, follow-up workers), output
    dropped: the tests read outcomes from the fakes and the state DB."""
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot"],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop_service(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM; the exit code (0: a clean stop) within 15 s."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def reap(proc: subprocess.Popen[bytes]) -> None:
    """Kill the service if it still runs (a test that failed half-way leaves none behind)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
