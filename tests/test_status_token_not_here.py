"""``feedsvc status`` without the token the running service has (a tester's).

The service had its Telegram token from its own environment, and its Bot API had not answered
yet (so the state DB recorded no acceptance, ``store.channel_tokens``): ``/api/status`` said
``"telegram": "on"``, an operator's ``status --json`` ``"telegram": "console"``, which reads as
"alerts go to the log". A command without the token takes it as unset (README): its reading is
kept, and said to be this command's — ``token not available to this command`` beside the mode,
in the text and as ``channel_notes`` in the JSON (``no token set (telegram.token)`` when none is
configured at all). With the token, or with the DB's word of a
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
#: No token configured at all (a fresh install): "not available" implied one existed.
UNSET = "no token set ({setting})"
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
    [line] = [x for x in text.stdout.splitlines() if x.startswith("channels")]
    return json.loads(as_json.stdout), line


def test_without_any_token_set_the_note_says_none_is_set(env: dict[str, str | None]) -> None:
    """A fresh install, no token anywhere: "token not available to this command" read as
    though one existed (a newcomer's)."""
    shown, line = status(env)
    assert shown["channels"] == {"telegram": "console", "zalo": "off", "apprise": "on"}
    notes = shown["channel_notes"]
    assert isinstance(notes, dict) and set(notes) == {"telegram", "zalo"}, notes
    telegram, zalo = UNSET.format(setting="telegram.token"), UNSET.format(setting="zalo.token")
    assert str(notes["telegram"]).startswith(telegram) and "/api/status" in notes["telegram"]
    assert str(notes["zalo"]).startswith(zalo) and "/api/status" in notes["zalo"]
    assert NOT_HERE not in line, line
    assert f"telegram console ({telegram}" in line and f"zalo off ({zalo}" in line, line


def test_a_token_file_this_command_cannot_read_is_not_available_to_it(
    env: dict[str, str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token is configured (``telegram.token_file``) but this user may not read it: taken
    as unset (README), and said to be this command's reading, not that none is set."""
    from feedsvc.config import secrets

    secret = tmp_path / "telegram-token"
    secret.write_text(TOKEN + "\n")

    def refused(path: Path) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(secrets, "read_secret_file", refused)  # the service user's, 0600
    shown, line = status(env | {"FEEDSVC_TELEGRAM__TOKEN_FILE": str(secret)})
    assert shown["channels"] == {"telegram": "console", "zalo": "off", "apprise": "on"}
    notes = shown["channel_notes"]
    assert isinstance(notes, dict) and str(notes["telegram"]).startswith(NOT_HERE), notes
    assert str(notes["zalo"]).startswith(UNSET.format(setting="zalo.token")), notes
    assert f"telegram console ({NOT_HERE}" in line, line


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
