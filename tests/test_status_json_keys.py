"""``feedsvc status --json`` names each figure as ``/api/status`` does (SPEC §9).

Operators script against both. The CLI called the queue depth only ``deliveries_pending``
(``feedsvc status --json | jq .queue_depth`` was null) and the chats not receiving alerts only
``chats_not_receiving`` (lines of text), where the API says ``queue_depth`` and ``chat_pauses``
(objects). The CLI's JSON now has the API's keys too (its own kept: §9 stability), from the
one read, so the two names always agree; the API's ``queue_depth`` is that read too (it was
counted again a moment later). Checked through the real CLI (both read paths: the driver's
own and SQLAlchemy's) and the API on the same SQLite state DB (``module_on_sqlite``; the two read
paths agree on PostgreSQL too: ``test_store_lite.py``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from test_admin import TOKEN, TestClient
from test_store_lite import _cli, sqlalchemy_only, state  # noqa: F401  (the fixture)

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.status import StatusReads, facts_from, flatten
from feedsvc.store.records import Cursor

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: What only a running service knows: the CLI is no service.
SERVICE_ONLY = {"started_at"}


def api_status(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``GET /api/status`` (in English) of a service on the state DB at ``url``."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": url}, "topics": {"import_on_start": False}})
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service)) as client:
        headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en"}
        answer = client.get("/api/status", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("fast", [True, False], ids=["driver", "sqlalchemy"])
def test_status_json_has_the_apis_names(
    state: tuple[Database, str],  # noqa: F811
    tmp_path: Path,
    fast: bool,
) -> None:
    _, url = state
    shown = _cli(["status", "--json"], url if fast else sqlalchemy_only(url), tmp_path, fast=fast)
    assert shown["queue_depth"] == shown["deliveries_pending"] == 3
    pauses = shown["chat_pauses"]
    assert [p["chat_id"] for p in pauses] == [10, 11, 12]  # 13's block is over
    assert [p["title"] for p in pauses] == ["chat 10", "chat 11", "chat 12"]
    assert {p["type"] for p in pauses} == {"private"}
    assert [p["paused"] for p in pauses] == [True, False, False]
    assert pauses[0]["blocked_until"] is None and pauses[1]["blocked_until"].endswith("Z")
    assert pauses[2]["disabled_reason"] == "blocked by the user"
    assert pauses[2]["disabled_reason_message"] and pauses[0]["disabled_reason_message"] is None
    assert len(shown["chats_not_receiving"]) == 3  # its own name kept
    # a 429 pause's end as every CLI line writes a time: to the second (it said the minute
    # until the tester's T4), site.timezone (the default Asia/Ho_Chi_Minh), its offset; it
    # was UTC to the microsecond
    assert re.fullmatch(
        r"telegram chat 11 \(429 until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+07:00\)",
        shown["chats_not_receiving"][1],
    ), shown["chats_not_receiving"]


def test_the_cli_and_the_api_say_the_same(
    state: tuple[Database, str],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every key of ``/api/status`` but a running service's own is in ``status --json``, and
    the figures both give agree (the API's ``recent_errors`` are objects, the CLI's lines:
    README)."""
    _, url = state
    cli_json = _cli(["status", "--json"], url, tmp_path)
    api = api_status(url, monkeypatch)
    assert set(api) - SERVICE_ONLY <= set(cli_json), set(api) - set(cli_json)
    assert api["queue_depth"] == api["deliveries_pending"] == cli_json["queue_depth"] == 3
    assert api["chat_pauses"] == cli_json["chat_pauses"]
    for key in ("articles_stored", "topics_enabled", "ingest_state", "channels", "ingest_cursor"):
        assert api[key] == cli_json[key], key
    # the state DB's disk under one key in both, each what it can know (README): the service
    # its writes (never refused here), the CLI an SQLite file's file system, no server's disk
    assert api["state_db_disk_full"] is False
    if url.startswith("sqlite"):
        assert cli_json["state_db_disk_full"] is False
        directory = str(Path(url.removeprefix("sqlite:///")).parent)
        assert api["state_db_disk"]["directory"] == cli_json["state_db_disk"]["directory"]
        assert cli_json["state_db_disk"]["directory"] == directory
        assert api["state_db_disk"]["full_since"] is cli_json["state_db_disk"]["full_since"]
        assert cli_json["state_db_disk"]["full_since"] is None
    else:
        assert cli_json["state_db_disk_full"] is None and cli_json["state_db_disk"] is None
        assert api["state_db_disk"] is None


def test_the_text_says_the_queue_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's names are for scripts: the text shows one line per figure, as before."""
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    text = CliRunner().invoke(cli, ["status"])
    assert text.exit_code == 0, text.output
    keys = [line.split()[0] for line in text.output.splitlines() if line[:1].strip()]
    assert keys.count("deliveries_pending") == 1
    assert "queue_depth" not in keys and "chat_pauses" not in keys
    shown = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert shown["queue_depth"] == shown["deliveries_pending"] == 0
    assert shown["chat_pauses"] == []


@pytest.mark.parametrize("pending", [0, 1, 12345])
def test_both_names_come_from_one_figure(pending: int) -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    reads = StatusReads(Cursor(None, None, None, None), 0, 0, 0, pending, None, [])
    flat = flatten(
        facts_from(reads, source="builtin", now=now, poll_seconds=30.0, database="sqlite://",
                   started_at=None)
    )  # fmt: skip
    assert flat["queue_depth"] == flat["deliveries_pending"] == pending


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        (None, "2026-12-06 00:23:23 +07:00"),
        ("UTC", "2026-12-05 17:23:23 +00:00"),
        ("America/Sao_Paulo", "2026-12-05 14:23:23 -03:00"),
        ("Asia/Kathmandu", "2026-12-05 23:08:23 +05:45"),
    ],
)
def test_the_text_says_times_in_the_site_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str | None, shown: str
) -> None:
    """``last_ingest_success 2026-12-05 17:23:23.292177+00:00`` (UTC, microseconds) beside
    every other CLI line's site time (a tester's): the site's zone to the second, its offset.
    ``--json`` keeps ISO 8601 UTC (the API's)."""
    from feedsvc.store.cursors import record_success
    from feedsvc.store.records import BUILTIN_SOURCE

    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    if zone is not None:
        monkeypatch.setenv("FEEDSVC_SITE__TIMEZONE", zone)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    db = Database(url)
    with db.write() as conn:
        at = datetime(2026, 12, 5, 17, 23, 23, 292177, tzinfo=UTC)
        record_success(conn, BUILTIN_SOURCE, at, "42", at)
    db.dispose()
    text = CliRunner().invoke(cli, ["status"])
    assert text.exit_code == 0, text.output
    lines = {line.split()[0]: line.split(None, 1)[1] for line in text.output.splitlines()
             if line[:1].strip()}  # fmt: skip
    assert lines["last_ingest_success"] == lines["last_ingest_tick"] == shown
    assert lines["ingest_cursor"] == f"{shown} / 42"  # the cursor too, with its row id
    as_json = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert as_json["last_ingest_success"] == "2026-12-05T17:23:23.292177Z"
