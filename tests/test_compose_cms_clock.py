"""docker-compose.yml's sample CMS writes its times in the zone deploy/feedsvc-cms.toml reads
them in.

The sample CMS (deploy/cms/schema.sql) dates its rows with the server's clock, ``NOW()`` and
``ON UPDATE CURRENT_TIMESTAMP``, as a CMS using DATETIME columns does; MariaDB writes those in
its session time zone, which in the official image is the container's (``TZ``; its entrypoint
runs the init scripts with ``--default-time-zone=SYSTEM`` too). The image's default is UTC,
while the mounted mapping says ``source.timezone = "Asia/Ho_Chi_Minh"``: every sample article
and every row a newcomer inserted with ``NOW()`` was dated 7 hours early (an alert at 22:10
read "15:10"), and the ``feedsvc source check`` the compose file's header suggests warned to
set ``source.timezone = "UTC"``. Without docker here, the container's clock is replayed on
the machine's MariaDB: the schema is loaded, and the check run, in the session zone the
compose file gives the CMS container.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from conftest import mariadb_database
from sqlalchemy import create_engine

from feedsvc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "deploy" / "feedsvc-cms.toml"


def compose_cms() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    cms = data["services"]["cms"]
    assert isinstance(cms, dict)
    return cms


def cms_container_zone() -> str:
    """The CMS container's time zone: its ``TZ``, else the image's default, UTC."""
    env = compose_cms().get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return str(env.get("TZ", "UTC"))


def mapping_zone() -> str:
    source = tomllib.loads(MAPPING.read_text(encoding="utf-8"))["source"]
    return str(source["timezone"])


def session_offset(zone: str) -> str:
    """``zone``'s UTC offset now as MariaDB's ``time_zone`` takes it (``+07:00``): the machine's
    server may have no zone tables, and an offset is what the container's zone gives now."""
    offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_the_cms_container_runs_in_the_mappings_time_zone() -> None:
    assert cms_container_zone() == mapping_zone(), (
        "the sample CMS writes NOW() in its container's zone (TZ), which must be the "
        "source.timezone deploy/feedsvc-cms.toml reads its DATETIMEs in"
    )


def test_the_cms_zone_is_an_iana_name_the_image_knows() -> None:
    """TZ is read by the C library from /usr/share/zoneinfo (the image ships it: its entrypoint
    loads the zone tables from there), so it must be an IANA name, not an offset."""
    zone = cms_container_zone()
    assert ZoneInfo(zone).key == zone


@pytest.fixture
def cms_in_its_zone() -> Iterator[str]:
    """deploy/cms/schema.sql loaded as the CMS container loads it: in its zone's session."""
    offset = session_offset(cms_container_zone())
    sql = (ROOT / "deploy/cms/schema.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with mariadb_database("feedsvc_cmsclock") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SET time_zone = '{offset}'")
            for statement in body.split(";\n"):
                skip = ("CREATE DATABASE", "USE ", "CREATE USER", "GRANT")
                if statement.strip() and not statement.strip().startswith(skip):
                    conn.exec_driver_sql(statement.replace("%", "%%"))
        engine.dispose()
        # every later session of the server (ingest's, source check's) runs in that zone too
        yield url + "&init_command=" + quote(f"SET time_zone='{offset}'", safe="")


@pytest.mark.mysql
def test_source_check_of_the_sample_cms_dates_its_rows_now(
    cms_in_its_zone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compose header's `feedsvc source check` finds the clocks agreeing: no warning that
    the rows are dated hours early, and the newest sample row (written an hour ago) is shown
    at its real local time."""
    monkeypatch.setenv("FEEDSVC_SOURCE__URL", cms_in_its_zone)
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.chdir(ROOT)  # topics.file is relative, as in the image's /app
    result = CliRunner().invoke(cli, ["source", "check", "--config", str(MAPPING)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output.lower(), result.output
    newest = next(line for line in result.output.splitlines() if "BV-0005" in line)
    shown = datetime.fromisoformat(newest.split("| published ")[1].split(" |")[0])
    ago = datetime.now(UTC) - shown
    assert 50 * 60 < ago.total_seconds() < 70 * 60, newest  # `NOW() - INTERVAL 1 HOUR`
