"""``feedsvc db upgrade`` says which state DB it migrated (an operator-tester's: README
"Upgrading" step 4, run without the unit's ``FEEDSVC_CONFIG`` and working directory, made
``./var/feedsvc.db`` where the operator stood and printed only "database at revision 0038",
exit 0: the service's own DB was left for ``run`` to migrate)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

PASSWORD = "Upgr4de-pw-77"


def upgrade(tmp_path: Path, url: str) -> str:
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    done = CliRunner().invoke(cli, ["db", "upgrade", "--config", str(config)])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.parametrize("written", ["var/feedsvc.db", "./var/../var/feedsvc.db", "ABSOLUTE"])
def test_an_sqlite_state_db_is_named_by_its_file_and_a_new_one_said_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if written == "ABSOLUTE":  # an absolute path's directory is the operator's to make
        (tmp_path / "var").mkdir()
    path = str(tmp_path / "var" / "feedsvc.db") if written == "ABSOLUTE" else written
    first = upgrade(tmp_path, f"sqlite:///{path}")
    file = (tmp_path / "var" / "feedsvc.db").resolve()
    assert first.startswith("database at revision ")
    assert first.rstrip("\n").endswith(f": {file} (a new file)"), first
    again = upgrade(tmp_path, f"sqlite:///{path}")
    assert again.rstrip("\n").endswith(f": {file}"), again


@pytest.mark.postgres
def test_a_postgresql_state_db_is_named_by_its_url_without_its_password(
    tmp_path: Path, pg_url: str
) -> None:
    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    said = upgrade(tmp_path, url)
    assert PASSWORD not in said
    assert said.rstrip("\n").endswith(url.replace(PASSWORD, "***")), said
