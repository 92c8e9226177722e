"""A running service's state DB disk full, on its status (a defect: the log said it once, but
``/api/status``, the admin's status page and ``/readyz``'s checks said nothing, and nothing
could be recorded in the full DB: an operator saw ingest "nothing read lately" or a stale last
poll with no reason). Now ``state_db_disk_full`` is true from the first write refused for lack
of space (``db.outage.Outage.disk_full``: since when, the directory, what is left there) until
a write commits with room again; ``/readyz`` stays 200 (reads and feeds are served) and says it
among its checks; ``feedsvc_state_db_disk_full`` is 1 on ``/metrics``. English and Vietnamese
on the admin's page; a PostgreSQL server's disk likewise, without a directory.

Real full file systems: :mod:`test_full_disk_start`'s tmpfs (root only, skipped elsewhere);
the service's ingest meets the full disk itself (an in-process tick; a real ``feedsvc run``).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import article
from in_process import feedsvc
from migrated import premigrated
from processes import CLIENT, answers_ok, free_port, wait_until
from test_admin import TOKEN, TestClient, login
from test_full_disk_running import Cms, count, lines
from test_full_disk_start import fill, small_fs  # noqa: F401  (the fixture)
from test_metrics_unknown import scrape

from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.db.where import mark
from feedsvc.disk_space import NEARLY_FULL
from feedsvc.store import cursors
from feedsvc.store.source_articles import upsert_source_articles

NO_SPACE = "no space left on device at {dir}: free space on that file system"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
#: The admin's label of the fact, and how its value begins when full / not full.
SAID = {
    "en": ("State database disk", "full since ", "not full: "),
    "vi": ("Ổ đĩa của CSDL", "đầy từ ", "chưa đầy: "),
}


def served(url: str, monkeypatch: pytest.MonkeyPatch, language: str) -> tuple[Service, TestClient]:
    """The real app on ``url`` (no scheduler: the test runs ingest's ticks), the admin in
    ``language`` with :data:`test_admin.TOKEN`."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": url}, "topics": {"import_on_start": False},
                                  "admin": {"language": language}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    return service, TestClient(create_app(service), base_url="http://127.0.0.1")


def api(client: TestClient) -> dict[str, Any]:
    answer = client.get("/api/status", headers=BEARER)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def admin_line(client: TestClient, language: str) -> str:
    """The value of the admin's status page's state DB disk line, as text."""
    page = client.get("/admin/status").text
    found = re.search(rf"<dt>{SAID[language][0]}</dt><dd>(.*?)</dd>", page, re.DOTALL)
    assert found, page
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def cli_status(url: str, cwd: Path) -> tuple[dict[str, Any], str]:
    """``feedsvc status --json`` and the text's disk line (another process's reading)."""
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    as_json, plain = (feedsvc(args, cwd, **env) for args in (["status", "--json"], ["status"]))
    for ran in (as_json, plain):
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    [line] = [x for x in plain.stdout.splitlines() if x.startswith("state_db_disk_full ")]
    return json.loads(as_json.stdout), line.split(None, 1)[1]


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_services_full_disk_is_on_its_status_until_a_write_commits(
    small_fs: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    url = premigrated(f"sqlite:///{small_fs / 'state.db'}")
    service, client = served(url, monkeypatch, language)
    with client:
        login(client)
        now = service.db.now()
        with service.db.write() as conn:  # rows the full disk cannot take once ingested
            big = [article(n, body=f"<p>{os.urandom(10_000).hex()}</p>", published_at=now)
                   for n in range(1, 9)]  # fmt: skip
            upsert_source_articles(conn, big, now)
        assert api(client)["state_db_disk_full"] is False
        fill(small_fs)
        began = datetime.now(UTC)
        assert service.ingest_tick().error  # the state DB's outage: a full disk
        shown = api(client)
        assert shown["state_db_disk_full"] is True, shown
        disk = shown["state_db_disk"]
        assert disk["directory"] == str(small_fs) and disk["free_bytes"] < NEARLY_FULL, disk
        since = datetime.fromisoformat(disk["full_since"].replace("Z", "+00:00"))
        assert began <= since <= datetime.now(UTC)
        line = admin_line(client, language)
        words = Translator(language, service.settings.site.timezone)
        assert line.startswith(f"{SAID[language][1]}{words.time(since)} ("), line
        said = "no space left on device (" if language == "en" else "hết chỗ trống trên đĩa ("
        assert said in line and line.endswith(f" {small_fs}"), line  # the path as data
        ready = client.get("/readyz", headers=BEARER)  # still serving: 200, the check says why
        assert ready.status_code == 200, ready.text
        assert ready.json()["state_db_disk"].startswith(f"full since {disk['full_since']}: ")
        assert NO_SPACE.format(dir=small_fs) in ready.json()["state_db_disk"]
        assert client.get("/readyz?ingest=1", headers=BEARER).json()["state_db_disk"] != "ok"
        assert scrape(client)["feedsvc_state_db_disk_full"] == 1
        names = {p.name for p in small_fs.iterdir()}
        from_here, said = cli_status(url, tmp_path)  # another process, the service holding it
        assert from_here["state_db_disk_full"] is True and said.startswith("yes: "), said
        assert {p.name for p in small_fs.iterdir()} == names
        subprocess.run(["mount", "-o", "remount,size=20m", str(small_fs)], check=True)
        assert service.ingest_tick().error is None  # a write commits, with room
        shown = api(client)
        assert shown["state_db_disk_full"] is False, shown
        assert shown["state_db_disk"]["full_since"] is None
        assert shown["state_db_disk"]["free_bytes"] > NEARLY_FULL
        line = admin_line(client, language)
        assert line.startswith(SAID[language][2]) and line.endswith(f" {small_fs}"), line
        assert client.get("/readyz", headers=BEARER).json()["state_db_disk"] == "ok"
        assert scrape(client)["feedsvc_state_db_disk_full"] == 0
        assert cli_status(url, tmp_path)[1].startswith("no (")
    service.close()


@pytest.mark.postgres
def test_a_postgresql_state_db_is_full_only_while_its_writes_are_refused_so(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: never "full" while writes go through; full (no directory, no free space:
    the server's disk) from a write refused with SQLSTATE 53100 — what ingest counts on the
    outage, ``ingest.failures.Failures._state_full`` — until a write commits. ``feedsvc
    status`` cannot see it (null) either way."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    url = premigrated(pg_url)
    service, client = served(url, monkeypatch, "en")
    with client:
        login(client)
        shown = api(client)
        assert shown["state_db_disk_full"] is False and shown["state_db_disk"] is None, shown
        assert admin_line(client, "en") == "not full (writes go through)"
        words = 'could not extend file "base/16384/16385": No space left on device'
        refused = OperationalError("INSERT INTO articles …", {}, psycopg.errors.DiskFull(words))
        mark(refused, service.db.where)
        service.db.outage.failed(refused, "ingest")
        shown = api(client)
        assert shown["state_db_disk_full"] is True, shown
        assert shown["state_db_disk"]["directory"] is None
        assert shown["state_db_disk"]["free_bytes"] is None
        assert shown["state_db_disk"]["full_since"] is not None
        line = admin_line(client, "en")
        assert line.startswith("full since ") and "the database server's disk" in line, line
        assert cli_status(url, tmp_path)[0]["state_db_disk_full"] is None
        with service.db.write() as conn:  # a write commits: ingest's bookkeeping, say
            now = service.db.now()
            cursors.record_success(conn, "builtin", now, "1", now)
        assert api(client)["state_db_disk_full"] is False
    service.close()


@pytest.fixture
def running(small_fs: Path, tmp_path: Path) -> Iterator[tuple[int, Path, Cms, str]]:  # noqa: F811
    """``feedsvc run --no-bot`` with HTTP on the small file system's state DB, reading a CMS
    table outside it: its port, log, CMS and state DB URL."""
    url = premigrated(f"sqlite:///{small_fs / 'f.db'}")
    cms, port, log = Cms(tmp_path / "cms.db"), free_port(), tmp_path / "service.log"
    env = {
        **os.environ, "FEEDSVC_DATABASE__URL": url, "FEEDSVC_ADMIN__TOKEN": TOKEN,
        "FEEDSVC_SOURCE__URL": f"sqlite:///{tmp_path / 'cms.db'}",
        "FEEDSVC_SOURCE__POLL_SECONDS": "0.5", "FEEDSVC_SOURCE__MATCH_WORKERS": "0",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false", "FEEDSVC_CONFIG": "/dev/null",
    }  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: answers_ok(f"http://127.0.0.1:{port}/readyz"), 60, "the service")
        yield port, log, cms, url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_real_service_says_its_full_disk_on_api_status_and_readyz(
    small_fs: Path,  # noqa: F811
    tmp_path: Path,
    running: tuple[int, Path, Cms, str],
) -> None:
    """``feedsvc run`` itself: its ingest meets the full disk; ``/api/status``, ``/readyz``
    and ``feedsvc status`` say so while it runs, and stop once space is freed and ingest's
    write commits."""
    port, log, cms, url = running
    base = f"http://127.0.0.1:{port}"

    def status() -> dict[str, Any]:
        return CLIENT.get(f"{base}/api/status", headers=BEARER).json()  # type: ignore[no-any-return]

    cms.add(2, 200)
    wait_until(lambda: count(small_fs / "f.db", "SELECT count(*) FROM articles") == 2, 60,
               "the first articles")  # fmt: skip
    assert status()["state_db_disk_full"] is False
    fill(small_fs)
    cms.add(8, 20_000)  # a batch that cannot fit
    wait_until(lambda: status()["state_db_disk_full"] is True, 30, "the full disk on status")
    assert len(lines(log, "cannot be written: no space left on device")) == 1
    disk = status()["state_db_disk"]
    assert disk["directory"] == str(small_fs) and disk["full_since"].endswith("Z"), disk
    ready = CLIENT.get(f"{base}/readyz", headers=BEARER)
    assert ready.status_code == 200 and ready.json()["state_db_disk"].startswith("full since ")
    assert "feedsvc_state_db_disk_full 1.0" in CLIENT.get(f"{base}/metrics").text
    shown, line = cli_status(url, tmp_path)
    assert shown["state_db_disk_full"] is True
    assert line.startswith(f"yes: {NO_SPACE.format(dir=small_fs)} ("), line
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_fs)], check=True)
    wait_until(lambda: status()["state_db_disk_full"] is False, 30, "the full disk's end")
    # any write that commits with room ends it (a lease renewal may come before ingest's
    # retry: a CI run's 2 of 10); then ingest's next poll stores the rest, none lost
    wait_until(lambda: count(small_fs / "f.db", "SELECT count(*) FROM articles") == cms.rows,
               30, "every row stored once the disk has room")  # fmt: skip
    assert status()["state_db_disk"]["full_since"] is None
    assert CLIENT.get(f"{base}/readyz", headers=BEARER).json()["state_db_disk"] == "ok"
    assert cli_status(url, tmp_path)[1].startswith("no (")
    assert "Traceback" not in log.read_text()


#: A state DB disk's fields (``state_disk.StateDisk``) and how the admin's words begin.
WORDED = [
    ({"full": True, "directory": Path("/srv/var"), "free_bytes": 4096, "free_inodes": 0,
      "since": datetime(2026, 12, 6, 3, 2, tzinfo=UTC)},
     "full since 2026-12-06 10:02 +07:00 (", "đầy từ 06/12/2026 10:02 +07:00 ("),
    ({"full": False, "directory": Path("/srv/var"), "free_bytes": 851_443_712,
      "free_inodes": 120_000},
     "not full: 851.4 MB and 120,000 inodes free on the file system at",
     "chưa đầy: còn trống 851,4 MB, 120.000 inode trên ổ đĩa chứa"),
    ({"full": None, "server": True}, "not seen from here", "không xem được từ đây"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "en", "vi"), WORDED, ids=["full", "room", "server"])
def test_the_admins_words_of_the_disk(fields: dict[str, Any], en: str, vi: str) -> None:
    """Sizes in kB/MB, counts grouped, a full inode table said so (bytes free, yet no new
    ``-shm`` or WAL can be made), in both languages."""
    from feedsvc.state_disk import StateDisk

    disk = StateDisk(**fields)
    said = {lang: Translator(lang, "Asia/Ho_Chi_Minh").state_disk(disk) for lang in ("en", "vi")}
    assert said["en"].startswith(en) and said["vi"].startswith(vi), said
    if disk.free_inodes == 0:
        assert "(4.1 kB free but no inode left)" in said["en"], said
        assert "(còn trống 4,1 kB nhưng hết inode)" in said["vi"], said
