"""``feedsvc status`` without the token the running service has (a tester's).

The service had its Telegram token from its own environment, and its Bot API had not answered
yet (so the state DB recorded no acceptance, ``store.channel_tokens``): ``/api/status`` said
``"telegram": "on"``, an operator's ``status --json`` ``"telegram": "console"``, which reads as
"alerts go to the log". A command without the token takes it as unset (README): its reading is
kept, and said to be this command's — ``token not available to this command`` beside the mode,
in the text and as ``channel_notes`` in the JSON. With the token, or with the DB's word of a
running service's token (``sent_elsewhere``), the line is the service's story.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.db import Database, upgrade
from feedsvc.store.channel_tokens import note_tokens

NOT_HERE = "token not available to this command"
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    return {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null",
            "FEEDSVC_TELEGRAM__TOKEN": None, "FEEDSVC_ZALO__TOKEN": None}  # fmt: skip


def status(env: dict[str, str | None]) -> tuple[dict[str, object], str]:
    runner = CliRunner()
    as_json = runner.invoke(cli, ["status", "--json"], env=env)
    text = runner.invoke(cli, ["status"], env=env)
    assert as_json.exit_code == 0 and text.exit_code == 0, (as_json.output, text.output)
    [line] = [x for x in text.output.splitlines() if x.startswith("channels")]
    return json.loads(as_json.output), line


def test_without_the_token_the_mode_is_said_to_be_this_commands(env: dict[str, str | None]) -> None:
    shown, line = status(env)
    assert shown["channels"] == {"telegram": "console", "zalo": "off", "apprise": "on"}
    notes = shown["channel_notes"]
    assert isinstance(notes, dict) and set(notes) == {"telegram", "zalo"}, notes
    assert all(str(v).startswith(NOT_HERE) and "/api/status" in str(v) for v in notes.values())
    assert f"telegram console ({NOT_HERE}" in line and f"zalo off ({NOT_HERE}" in line, line


def test_with_the_token_there_is_nothing_to_say(env: dict[str, str | None]) -> None:
    shown, line = status(env | {"FEEDSVC_TELEGRAM__TOKEN": TOKEN, "FEEDSVC_ZALO__TOKEN": "z:1"})
    assert shown["channels"] == {"telegram": "on", "zalo": "on", "apprise": "on"}
    assert shown["channel_notes"] == {} and NOT_HERE not in line, line


def test_a_running_services_accepted_token_is_its_story(env: dict[str, str | None]) -> None:
    db = Database(str(env["FEEDSVC_DATABASE__URL"]))
    with db.write() as conn:
        note_tokens(conn, ["telegram"], datetime.now(UTC) - timedelta(seconds=30))
    db.dispose()
    shown, line = status(env)
    assert shown["channels"] == {"telegram": "sent_elsewhere", "zalo": "off", "apprise": "on"}
    notes = shown["channel_notes"]
    assert isinstance(notes, dict)
    assert notes["telegram"] == "sent by a running service; this shell has no token", notes
    assert "telegram sent_elsewhere (sent by a running service" in line, line
