"""The ingest cursor's time is one instant on every status surface, in the site's zone.

A tester's ``feedsvc demo`` (site zone +07:00) printed ``ingest_cursor 2026-12-06 22:03:55
+07:00 / ["2026-12-06T15:03:55.201350+00:00","300"]`` beside ``last_ingest_success …22:03:58
+07:00``: the "row id" was the stored ``cursor_id``, the source's native cursor value and the
row id, and that native value (UTC for the built-in table, a CMS's naive wall time in its own
zone for an external one) read as a second time seven hours off. Here a real ingestor reads
the newest rows of the built-in table and of a CMS table whose naive times are in Tokyo
(+09:00: no site zone here), and ``feedsvc status`` (text, ``--json``) and the admin page are
read with the site in UTC, +07:00 and -05:00: each says the newest row's instant, in the
site's zone for people (as ``last_ingest_success``), ISO ``Z`` in JSON, and the row id alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from cms_table import COLUMNS, Cms, cms_table
from factories import article, builtin_ingestor
from sqlalchemy import select
from starlette.testclient import TestClient
from test_admin import TOKEN, login

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.cli.service import local_time
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import source_articles as t
from feedsvc.importer import import_articles
from feedsvc.ingest import Ingestor
from feedsvc.roles import Roles
from feedsvc.server import create_app
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

#: The CMS's own zone for its naive ``modified`` times: none of the site zones below.
CMS_ZONE = ZoneInfo("Asia/Tokyo")
SITE_ZONES = ["UTC", "Asia/Ho_Chi_Minh", "America/Bogota"]  # +00:00, +07:00, -05:00


@pytest.fixture
def state(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    upgrade(db)
    yield db
    db.dispose()


def _builtin(db: Database, site: ZoneInfo) -> tuple[datetime, str, dict[str, str]]:
    """Three articles imported a moment ago, read by the built-in source's ingest: the newest
    one's change time (its ``updated_at``, aware UTC) and row id."""
    now = datetime.now(UTC).replace(microsecond=0)
    items = [(n, article(n)) for n in (1, 2, 3)]
    import_articles(db, items, now=lambda: now)
    result = builtin_ingestor(db, tz=site).tick()
    assert result.error is None, result.error
    with db.read() as conn:
        newest = conn.execute(select(t.c.id).order_by(t.c.updated_at.desc(), t.c.id.desc())).first()
    assert newest is not None
    return now, str(newest[0]), {}


def _external(db: Database, cms: Cms, site: ZoneInfo) -> tuple[datetime, str, dict[str, str]]:
    """Three CMS posts changed a moment ago, ``modified`` naive in :data:`CMS_ZONE`, read by
    the service's ingest with ``source.timezone`` so: the newest one's instant and id."""
    cms.clock.now = datetime.now(CMS_ZONE).replace(microsecond=0) - timedelta(seconds=3)
    for n in (1, 2, 3):
        cms.clock.advance(seconds=1)
        cms.put(n, "published", cms.clock() - timedelta(minutes=5))
    source = external_source(cms.url, "posts", COLUMNS, CMS_ZONE)
    ing = Ingestor(db=db, source=source, index=TopicIndex(), tz=site, poll_seconds=1,
                   overlap_seconds=60, batch_size=100)  # fmt: skip
    result = ing.tick()
    assert result.error is None and result.read == 3, result
    env = {"FEEDSVC_SOURCE__URL": cms.url, "FEEDSVC_SOURCE__TABLE": "posts",
           "FEEDSVC_SOURCE__TIMEZONE": "Asia/Tokyo"}  # fmt: skip
    # the CMS's wall time, naive, is that instant in Tokyo (what the cursor's time must say)
    return cms.clock().astimezone(UTC), "3", env


def _text_lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line.split(None, 1)[1] for line in output.splitlines()
            if line[:1].strip()}  # fmt: skip


def _admin_page(url: str, env: dict[str, str], zone: str) -> str:
    settings = load_config(None, {
        "database": {"url": url}, "topics": {"import_on_start": False},
        "admin": {"language": "en"}, "site": {"timezone": zone},
        **({"source": {"url": env["FEEDSVC_SOURCE__URL"], "table": "posts",
                       "timezone": "Asia/Tokyo"}} if env else {}),
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            login(client)
            page = client.get("/admin/status")
            assert page.status_code == 200, page.text
            return page.text
    finally:
        service.close()


def _check_surfaces(
    url: str, env: dict[str, str], zone: str, at: datetime, row: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    monkeypatch.setenv("FEEDSVC_SITE__TIMEZONE", zone)
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    site = ZoneInfo(zone)
    done = CliRunner().invoke(cli, ["status"])
    assert done.exit_code == 0, done.output
    lines = _text_lines(done.output)
    # the text: the newest row's instant in the site's zone, its offset that of the ingest's
    # success line (read a moment later), and the row id alone: no other time beside it
    assert lines["ingest_cursor"] == f"{local_time(at, site)} / {row}", lines["ingest_cursor"]
    offset = lines["last_ingest_success"].rsplit(" ", 1)[1]
    assert lines["ingest_cursor"].split(" / ")[0].endswith(f" {offset}")
    success = datetime.fromisoformat(lines["last_ingest_success"].replace(" +", "+").replace(
        " -", "-"))  # fmt: skip
    assert timedelta(0) <= success - at < timedelta(minutes=5), (success, at)
    shown = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    iso = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert shown["ingest_cursor"] == f"{iso} / {row}", shown["ingest_cursor"]
    page = _admin_page(url, env, zone)
    dd = page.split(">Source read up to<", 1)[1].split("</dd>", 1)[0]
    assert Translator("en", site).time(at) in dd, dd


@pytest.mark.parametrize("zone", SITE_ZONES)
@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_builtin_cursor_time_on_every_surface(
    db_url: str, state: Database, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, row, env = _builtin(state, ZoneInfo(zone))
    _check_surfaces(db_url, env, zone, at, row, monkeypatch)


@pytest.mark.parametrize("zone", SITE_ZONES)
@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_external_naive_cursor_time_on_every_surface(
    db_url: str, state: Database, zone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cms_table(state, tmp_path) as cms:
        at, row, env = _external(state, cms, ZoneInfo(zone))
        _check_surfaces(db_url, env, zone, at, row, monkeypatch)
