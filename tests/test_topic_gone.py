"""A deleted topic's feeds answer 410 Gone, which feed readers take for "unsubscribe" (RFC 9110
§15.5.11); they answered 404, which readers take for a passing fault, so they polled the
address for good. A switched-off topic keeps its 404 (it may be switched on again), a slug
never known stays 404, and a slug created again serves again. The deleted slugs are kept in
``deleted_topics`` (migration 0034, which records the topics deleted before it that the state
DB still knows of)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from factories import article
from migrated import premigrated
from sqlalchemy import inspect, select
from test_index_pages import hand_driven
from test_lifecycle_editors import AUTH, TOKEN
from upgrades import database_at, downgrade, run_sql

from feedsvc.app import Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database, schema, upgrade
from feedsvc.operations.topics import delete_topic, save_topic
from feedsvc.operations.topics import set_topic_enabled as set_enabled
from feedsvc.roles import Roles
from feedsvc.store.records import TopicSpec
from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

FORMATS = ("rss", "atom", "json")
NAVIGATE = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "accept": "text/html"}
TOPICS = [
    TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'),
    TopicSpec("an-ninh", "An ninh", '"công an"'),
    TopicSpec("tam-dung", "Tạm dừng", '"công an"'),
]


@pytest.fixture
def served(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    """A started service (its jobs stopped: the test syncs by hand) with three topics and an
    article each matches; ``tam-dung`` switched off."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": premigrated(db_url)},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        hand_driven(client, service)
        for spec in TOPICS:
            save_topic(service.db, spec, "cli")
        set_enabled(service.db, "tam-dung", False)
        now = service.db.now()
        with service.db.write() as conn:
            upsert_source_articles(conn, [article(1, published_at=now - timedelta(hours=1))], now)
        assert service.ingest_tick().error is None
        service.publisher.sync()
        yield client, service
    service.close()


def gone_line(r: object) -> None:
    """A 410 with the one line saying so, cacheable as a feed is."""
    assert getattr(r, "status_code") == 410  # noqa: B009
    headers = getattr(r, "headers")  # noqa: B009
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=300"
    assert "etag" not in headers


def test_a_deleted_topics_feeds_answer_410(served: tuple[TestClient, Service]) -> None:
    client, service = served
    before = {fmt: client.get(f"/feeds/an-ninh.{fmt}") for fmt in FORMATS}
    assert all(r.status_code == 200 for r in before.values())
    assert client.delete("/api/topics/an-ninh", headers=AUTH).status_code == 200
    service.publisher.sync()
    for fmt, old in before.items():
        r = client.get(f"/feeds/an-ninh.{fmt}")
        gone_line(r)
        assert r.text == "Chủ đề an-ninh đã bị xoá: nguồn tin này không còn nữa, hãy huỷ đăng ký.\n"
        head = client.head(f"/feeds/an-ninh.{fmt}")
        gone_line(head)
        assert head.content == b""
        for conditional in (
            {"if-none-match": old.headers["etag"]},
            {"if-modified-since": old.headers["last-modified"]},
        ):
            gone_line(client.get(f"/feeds/an-ninh.{fmt}", headers=conditional))
        gone_line(client.get(f"/feeds/an-ninh.{fmt}", params={"limit": "5"}))
        gone_line(client.get(f"/feeds/AN-NINH.{fmt}"))  # a slug's other case
        moved = client.get(f"/feeds/an-ninh.{fmt.upper()}", follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (301, f"/feeds/an-ninh.{fmt}")
        page = client.get(f"/feeds/an-ninh.{fmt}", headers=NAVIGATE)  # a person, a browser
        assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert "an-ninh đã bị xoá" in page.text
    page = client.get("/topics/an-ninh", headers={"accept": "text/html"})
    assert page.status_code == 410 and "an-ninh đã bị xoá" in page.text
    assert page.headers["cache-control"] == "public, max-age=300"
    gone_line(client.get("/topics/an-ninh"))
    en = client.get("/feeds/an-ninh.rss", headers={"accept-language": "en"})
    assert en.status_code == 410  # the site's language, as every feed error


def test_switched_off_and_never_known_stay_404(served: tuple[TestClient, Service]) -> None:
    client, service = served
    delete_topic(service.db, "an-ninh")
    service.publisher.sync()
    for slug in ("tam-dung", "khong-co"):
        for fmt in FORMATS:
            r = client.get(f"/feeds/{slug}.{fmt}")
            assert r.status_code == 404 and r.text == f"Không có chủ đề {slug}.\n", slug
            assert client.head(f"/feeds/{slug}.{fmt}").status_code == 404
        assert client.get(f"/topics/{slug}").status_code == 404
    assert client.get("/feeds/search.rss", params={"q": "công an"}).status_code == 200


def test_a_slug_created_again_serves_again(served: tuple[TestClient, Service]) -> None:
    client, service = served
    delete_topic(service.db, "an-ninh")
    service.publisher.sync()
    assert client.get("/feeds/an-ninh.rss").status_code == 410
    save_topic(service.db, TopicSpec("an-ninh", "An ninh mới", '"Kiến Thụy"'), "cli")
    service.publisher.sync()
    for fmt in FORMATS:
        r = client.get(f"/feeds/an-ninh.{fmt}")
        assert r.status_code == 200 and "An ninh mới" in r.text
    assert client.get("/topics/an-ninh").status_code == 200
    with service.db.read() as conn:
        assert conn.execute(select(schema.deleted_topics)).all() == []
    set_enabled(service.db, "an-ninh", False)  # switched off after: a 404, not a 410
    service.publisher.sync()
    assert client.get("/feeds/an-ninh.rss").status_code == 404


def test_another_replica_answers_410_after_its_sync(served: tuple[TestClient, Service]) -> None:
    from feedsvc.publish.publisher import FeedPublisher

    _, service = served
    other = FeedPublisher(service.db, service.settings)
    other.sync()
    assert not other.gone("an-ninh")
    delete_topic(service.db, "an-ninh")
    assert not other.gone("an-ninh")  # served from memory until its next sync
    other.sync()
    assert other.gone("an-ninh") and other.snapshot("an-ninh", "rss", 50) is None
    assert not other.gone("tam-dung") and not other.gone("khong-co")


def test_the_cli_remove_records_it(db: Database) -> None:
    save_topic(db, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli")
    url = str(db.engine.url.render_as_string(hide_password=False))
    done = CliRunner().invoke(
        cli, ["topics", "remove", "an-ninh"], env={"FEEDSVC_DATABASE__URL": url}
    )
    assert done.exit_code == 0, done.output
    with db.read() as conn:
        rows = conn.execute(select(schema.deleted_topics.c.slug)).scalars().all()
    assert rows == ["an-ninh"]


def test_upgrade_to_0034_remembers_topics_deleted_before(db_url: str) -> None:
    """A DB at 0033: a live topic, a switched-off one, a file topic kept deleted
    (``deleted_file_topics``) and a topic deleted long ago whose feed snapshots are still
    stored; the index's pages are stored too. The upgrade records the two deleted ones only;
    the downgrade drops the table and keeps the rest."""
    db = database_at(db_url, "0033")
    t = "2026-11-30 10:00:00"
    try:
        insert = (
            "INSERT INTO topics (slug, title, description, query, enabled, origin, created_at,"
            " updated_at) VALUES (:slug, 'T', '', 'a', :on, 'cli', :t, :t)"
        )
        run_sql(db, insert, slug="kien-thuy", on=True, t=t)
        run_sql(db, insert, slug="tam-dung", on=False, t=t)
        snap = (
            "INSERT INTO feed_snapshots (topic_slug, format, body, etag, last_modified,"
            " rendered_at) VALUES (:slug, :fmt, :body, 'e', :t, :t)"
        )
        for slug, fmt in [("kien-thuy", "rss"), ("tam-dung", "json"), ("cu", "rss"),
                          ("cu", "html"), ("_index", "html"), ("_index/2", "html")]:  # fmt: skip
            run_sql(db, snap, slug=slug, fmt=fmt, body=b"x", t=t)
        run_sql(db, "INSERT INTO deleted_file_topics (slug, file_entry) VALUES ('tep', 'f')")
        upgrade(db)
        with db.read() as conn:
            got = conn.execute(select(schema.deleted_topics.c.slug)).scalars().all()
            live = conn.execute(select(schema.topics.c.slug)).scalars().all()
        assert sorted(got) == ["cu", "tep"] and sorted(live) == ["kien-thuy", "tam-dung"]
        save_topic(db, TopicSpec("cu", "Cũ", '"công an"'), "cli")  # created again
        with db.read() as conn:
            assert conn.execute(select(schema.deleted_topics.c.slug)).scalars().all() == ["tep"]
        downgrade(db, "0033")
        assert "deleted_topics" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()
