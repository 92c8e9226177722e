"""README's SQLite restore, as typed: ``sqlite3 var/feedsvc.db ".restore var/backup.db"``.

An operator-tester restored a backup with ``cp`` after the service had been killed: its
``feedsvc.db-wal`` (frames the dead process never checkpointed) was replayed onto the copied
file and ``status`` said "database disk image is malformed". README now gives the restore
command; this checks it gives back the backup's state DB whole, with such a ``-wal`` beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

SQLITE3 = shutil.which("sqlite3")

#: A writer that commits and is killed before it closes: its WAL stays, never checkpointed.
KILLED_WRITER = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
for n in range(int(sys.argv[2]), int(sys.argv[3])):
    conn.execute(
        "INSERT INTO source_articles (source_key, url, title, published_at, changed_at, body)"
        " VALUES (?, ?, ?, '2026-12-05 03:00:00', '2026-12-05 03:00:00', ?)",
        (f"K{n}", f"https://e.vn/{n}", f"Kiến Thụy {n}", "Núi Đối " * 200),
    )
os.kill(os.getpid(), signal.SIGKILL)
"""


def feedsvc(tmp_path: Path, *argv: str, stdin: str = "") -> str:
    done = CliRunner().invoke(cli, [*argv, "--config", str(tmp_path / "feedsvc.toml")], stdin)
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.skipif(SQLITE3 is None, reason="the sqlite3 shell README's command runs is absent")
@pytest.mark.parametrize("rows", [50, 1500])
def test_the_readme_restore_gives_back_the_backup_beside_a_killed_writers_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feedsvc.toml").write_text(
        '[database]\nurl = "sqlite:///var/feedsvc.db"\n', encoding="utf-8"
    )
    at = "2026-12-05T10:00:00+07:00"
    lines = [
        json.dumps(
            {"source_key": f"B{n}", "url": f"https://e.vn/{n}", "title": "Tin", "published_at": at}
        )
        for n in range(30)
    ]
    feedsvc(tmp_path, "import", "-", stdin="\n".join(lines) + "\n")
    assert SQLITE3 is not None
    subprocess.run([SQLITE3, "var/feedsvc.db", ".backup var/backup.db"], check=True)
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, "var/feedsvc.db", "0", str(rows)])
    assert killed.returncode == -signal.SIGKILL
    assert os.path.getsize("var/feedsvc.db-wal") > 0  # the dead writer's frames

    subprocess.run([SQLITE3, "var/feedsvc.db", ".restore var/backup.db"], check=True)
    check = subprocess.run(
        [SQLITE3, "var/feedsvc.db", "PRAGMA integrity_check; SELECT count(*) FROM source_articles"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert check.stdout.split() == ["ok", "30"], check.stdout
    status = feedsvc(tmp_path, "status")
    assert "malformed" not in status
