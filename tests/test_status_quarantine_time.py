"""``feedsvc status`` lists quarantined source rows with their last-seen time in
``site.timezone``, as its every other time (``cli.service.local_time``); it said "(last seen
2026-12-05 17:23 UTC)" there alone. ``--json`` and ``/api/status`` write it ISO 8601 UTC, as
every other time they write.

The site's zones are given one state DB backend each, rotating (``backend_cases.on_backends``):
the stored last-seen time is the same UTC moment for every zone, and the zone only changes how
Python writes it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from factories import article
from sqlalchemy import text

from feedsvc.app import Roles, Service
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.status import collect_status
from feedsvc.store.source_articles import upsert_source_articles

SEEN = datetime(2026, 12, 5, 17, 23, 5, tzinfo=UTC)

#: site.timezone → how SEEN reads there.
ZONES = {
    "Asia/Ho_Chi_Minh": "2026-12-06 00:23:05 +07:00",
    "Europe/Berlin": "2026-12-05 18:23:05 +01:00",
    "UTC": "2026-12-05 17:23:05 +00:00",
}


def quarantined(db_url: str, tmp_path: Path, zone: str) -> tuple[Path, Service]:
    """A state DB with one quarantined row last seen at :data:`SEEN`, and its config."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[topics]\nimport_on_start = false\n'
        f'[site]\ntimezone = "{zone}"\n',
        encoding="utf-8",
    )
    service = Service(load_config(config), Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    with service.db.write() as conn:
        bad = article(2, url="javascript:alert(1)")
        upsert_source_articles(conn, [article(1), bad], datetime.now(UTC))
    service.ingest_tick()
    with service.db.write() as conn:
        conn.execute(text("UPDATE ingest_quarantine SET last_seen_at = :at"), {"at": SEEN})
    return config, service


def status(config: Path, *args: str) -> str:
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    out = CliRunner().invoke(cli, ["status", "--config", str(config), *args], env=env)
    assert out.exit_code == 0, out.output
    return out.stdout


@pytest.mark.parametrize(("db_url", "zone"), on_backends(list(ZONES)), indirect=["db_url"])
def test_the_last_seen_time_is_the_site_s(db_url: str, tmp_path: Path, zone: str) -> None:
    config, service = quarantined(db_url, tmp_path, zone)
    try:
        api = collect_status(service)
    finally:
        service.close()
    [line] = [ln for ln in status(config).splitlines() if "(TEST-00002)" in ln]
    assert line.endswith(f"(last seen {ZONES[zone]})"), line
    assert " UTC)" not in line
    [json_line] = json.loads(status(config, "--json"))["quarantined_rows"]
    assert json_line.endswith("(last seen 2026-12-05T17:23:05Z)"), json_line
    [api_line] = api["quarantined_rows"]
    assert api_line == json_line
