"""A backfill shows in the topic's feeds at once, through every entry point: the admin's button,
``POST /api/topics/{slug}/backfill`` and ``feedsvc topics backfill`` (picked up by the running
service's snapshot sync). Before, each said "added N" while the feed stayed empty until the topic
was edited or a new article arrived."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TOKEN = "backfill-test-token-0123456789"
TITLES = ["Kiến Thụy khánh thành cầu mới", "Núi Đối mở hội", "Đồ Sơn đón khách"]


@pytest.fixture
def served(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Service, Path]]:
    """Articles ingested first, then a topic created without a backfill: its feeds are empty."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[topics]\nimport_on_start = false\n', encoding="utf-8"
    )
    service = Service(load_config(config), Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        with service.db.write() as conn:
            rows = [article(i + 1, title=title) for i, title in enumerate(TITLES)]
            upsert_source_articles(conn, rows, service.db.now())
        service.ingest_tick()
        ops.save_topic(service.db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"'), "t")
        service.publisher.sync()
        assert "Kiến Thụy khánh thành" not in client.get("/feeds/kt.rss").text
        yield client, service, config


def in_feeds(client: TestClient) -> bool:
    bodies = [client.get(f"/feeds/kt.{fmt}").text for fmt in ("rss", "atom", "json")]
    return all("Kiến Thụy khánh thành" in b and "Núi Đối mở hội" in b for b in bodies) and all(
        "Đồ Sơn" not in b for b in bodies
    )


def admin_login(client: TestClient) -> str:
    page = client.get("/admin/login").text
    csrf = re.search(r'name="csrf" value="([^"]*)"', page)
    assert csrf
    client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
    found = re.search(r'name="csrf" value="([^"]*)"', client.get("/admin/topics").text)
    assert found
    return found.group(1)


def test_admin_backfill_button_fills_the_feed(served: tuple[TestClient, Service, Path]) -> None:
    client, _service, _config = served
    csrf = admin_login(client)
    r = client.post("/admin/topics/kt/backfill", data={"csrf": csrf})
    assert r.status_code == 200 and "thêm 2 bài" in r.text
    assert in_feeds(client)


def test_api_backfill_fills_the_feed(served: tuple[TestClient, Service, Path]) -> None:
    client, _service, _config = served
    r = client.post(
        "/api/topics/kt/backfill", json={"days": 0}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 200 and r.json()["added"] == 2
    assert in_feeds(client)


def test_cli_backfill_reaches_the_running_service(
    served: tuple[TestClient, Service, Path],
) -> None:
    client, service, config = served
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "kt", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "added 2" in result.output
    service.publisher.sync()  # what the service's feeds-sync job does every few seconds
    assert in_feeds(client)


def narrowed(client: TestClient, service: Service) -> None:
    """The topic backfilled, then its query narrowed to "Kiến Thụy" alone (by the API, with no
    backfill): "Núi Đối mở hội" is still in its feeds until one is asked for."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for query in ('"Kiến Thụy" OR "Núi Đối"', '"Kiến Thụy"'):  # as in `served`, then narrowed
        r = client.put("/api/topics/kt", json={"title": "KT", "query": query}, headers=auth)
        assert r.status_code == 200, r.text
        if "OR" in query:
            client.post("/api/topics/kt/backfill", json={"days": 0}, headers=auth)
    assert "Núi Đối mở hội" in client.get("/feeds/kt.rss").text


def narrowed_in_feeds(client: TestClient) -> bool:
    bodies = [client.get(f"/feeds/kt.{fmt}").text for fmt in ("rss", "atom", "json")]
    return all("Kiến Thụy khánh thành" in b and "Núi Đối" not in b for b in bodies)


def test_backfill_after_a_narrowed_query_empties_the_feed_of_it_everywhere(
    served: tuple[TestClient, Service, Path],
) -> None:
    client, service, config = served
    narrowed(client, service)
    csrf = admin_login(client)
    r = client.post("/admin/topics/kt/backfill", data={"csrf": csrf})
    assert r.status_code == 200 and "bỏ 1 bài không còn khớp" in r.text
    assert narrowed_in_feeds(client)

    narrowed(client, service)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/topics/kt/backfill", json={"days": 0}, headers=auth)
    assert r.json() == {"scanned": 3, "matched": 1, "added": 0, "removed": 1}
    assert narrowed_in_feeds(client)

    narrowed(client, service)
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "kt", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "removed 1 no longer matching" in result.output
    service.publisher.sync()
    assert narrowed_in_feeds(client)
