"""Every time a command prints is the site's time to the second (tester's T4). ``feedsvc status``
said ``zalo chat z-lan (429 until 2026-12-07 17:47 +07:00)`` for a pause ending 10:47:22Z, and
``subs list``'s note the same, where README promises "`status` writes its times in
`site.timezone` to the second (`2026-12-06 00:23:23 +07:00`)" and ``/api/status``'s
``blocked_until`` had the seconds: its other times were ``cli.service.local_time``'s, the
pause's end the admin's pattern (the catalogue's minutes). The same minutes were in ``status``'
backlog words, ``articles``, ``topics preview`` and ``source check``'s notes.

Now one format, :func:`feedsvc.local_times.local_time`, for every CLI time, directly or through
the CLI's translator (``cli.common.cli_words``: ``Translator(seconds=True)``); the admin and the
bot keep the minute (README). In this process (``tests/in_process.py``), SQLite: the subject is
the wording, not the SQL; ``status`` through both its read paths."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from in_process import feedsvc

from feedsvc.catalogue import Translator
from feedsvc.cli.service import local_time  # also feedsvc.local_times (the one format)
from feedsvc.db import Database, upgrade
from feedsvc.store import subscriptions as subs
from feedsvc.store.claims import block_chat_until

GONE = "json://127.0.0.1:33333/gone"
#: the tester's pause's end, 10:47:22 UTC (``Retry-After: 90`` at 10:45:52), years ahead: a
#: pause still running whenever the test runs, with no clock to freeze
UNTIL = datetime(2036, 12, 7, 10, 47, 22, 480000, tzinfo=UTC)
NOW = datetime.now(UTC)


def _paused(tmp_path: Path) -> str:
    """A state DB whose Zalo chat z-lan and an Apprise URL wait out a 429 until
    :data:`UNTIL`, both subscribed to a query; its URL."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        for channel, address in (("zalo", "z-lan"), ("apprise", GONE)):
            chat = subs.ensure_recipient(conn, channel, address, "private", None, NOW)
            subs.subscribe(conn, chat.chat_id, topic_id=None, query="mưa", now=NOW)
            block_chat_until(conn, chat.chat_id, UNTIL)
    db.dispose()
    return url


ZONES = [
    (None, "2036-12-07 17:47:22 +07:00"),  # the tester's: Asia/Ho_Chi_Minh, the default
    ("UTC", "2036-12-07 10:47:22 +00:00"),
    ("Asia/Kolkata", "2036-12-07 16:17:22 +05:30"),
]


def _env(url: str, zone: str | None) -> dict[str, str]:
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    return env | ({"FEEDSVC_SITE__TIMEZONE": zone} if zone else {})


@pytest.mark.parametrize("lite", [True, False], ids=["driver", "sqlalchemy"])
@pytest.mark.parametrize(("zone", "shown"), ZONES)
def test_status_says_a_429_pause_s_end_to_the_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str | None, shown: str, lite: bool
) -> None:
    if not lite:  # SQLAlchemy's reads (tests/test_store_lite.py's _NO_LITE)
        monkeypatch.setattr("feedsvc.store.lite.read_only_url", lambda *a, **k: None)
    done = feedsvc(["status"], tmp_path, **_env(_paused(tmp_path), zone))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert "zalo chat z-lan (429 until " + shown + ")" in lines, done.stdout
    assert any(ln.startswith("apprise chat json://***#") and ln.endswith(f"(429 until {shown})")
               for ln in lines), done.stdout  # fmt: skip
    assert GONE not in done.stdout


@pytest.mark.parametrize(("zone", "shown"), ZONES)
def test_subs_list_notes_say_it_to_the_second(tmp_path: Path, zone: str | None, shown: str) -> None:
    done = feedsvc(["subs", "list"], tmp_path, **_env(_paused(tmp_path), zone))
    assert done.returncode == 0, done.stdout + done.stderr
    notes = done.stderr.splitlines()
    assert f"feedsvc: zalo chat z-lan receives no alerts now: 429 until {shown}" in notes, notes
    assert len(notes) == 2 and all(n.endswith(f"429 until {shown}") for n in notes), notes


def test_the_one_format() -> None:
    """``local_time``: the site's zone, to the second, the offset; a naive time is UTC (SQLite
    gives datetimes back naive), a fraction is cut, never rounded into the next second."""
    from feedsvc.local_times import local_time

    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    assert local_time(UNTIL, hanoi) == "2036-12-07 17:47:22 +07:00"
    assert local_time(UNTIL.replace(tzinfo=None), hanoi) == "2036-12-07 17:47:22 +07:00"
    assert local_time(UNTIL.replace(microsecond=999999), hanoi) == "2036-12-07 17:47:22 +07:00"
    assert local_time(UNTIL, ZoneInfo("UTC")) == "2036-12-07 10:47:22 +00:00"
    assert local_time(UNTIL, ZoneInfo("America/St_Johns")) == "2036-12-07 07:17:22 -03:30"


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "Europe/Paris", "UTC"])
def test_the_cli_s_translator_words_times_in_the_one_format(zone: str) -> None:
    """Whatever the CLI words through the catalogue (``status``' backlog words, ``articles``,
    ``topics preview``) is ``local_time``'s; the admin's translator keeps the minute."""
    from feedsvc.cli.common import cli_words

    tz = ZoneInfo(zone)
    words = cli_words(tz)
    assert words.time(UNTIL) == local_time(UNTIL, tz)
    assert words.time(UNTIL.replace(tzinfo=None)) == local_time(UNTIL, tz)
    assert words.time(None) == "—"
    admin = Translator("en", tz)
    assert admin.time(UNTIL) == local_time(UNTIL, tz).replace(":22 ", " ")  # the minute
    assert Translator("vi", tz).time(UNTIL).count(":") == 2  # HH:mm and the offset's


def test_every_cli_time_in_the_cli_package_is_the_one_format() -> None:
    """No command module words a time itself, or with the admin's translator: the class of
    the fault (the 429 pause's end was worded by the admin's pattern)."""
    import feedsvc.cli as package

    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for wrong in ('Translator("en", settings', '"en", self._tz', "%H:%M}", ".isoformat()}"):
            assert wrong not in text, (path.name, wrong)
