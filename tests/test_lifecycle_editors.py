"""Editors hide and unhide (issue #13 §2) through every front end: `feedsvc articles`, the API
(`POST /api/articles/{source_key}/hide|unhide`, Bearer, JSON errors) and the web admin's
articles page (search, reason shown, CSRF). State DB on SQLite and PostgreSQL.

A key holding slashes, an API error, the front end and a legacy bidi key are each given one
state DB backend, rotating (``backend_cases.on_backends``): they are read by the HTTP layer or
refused before any SQL, and a key is then looked up by equality, the same statement for all
(every front end calls the same store functions). What ``find`` typed keeps both backends:
case folding and ``LIKE`` differ by backend."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from factories import article
from migrated import premigrated
from sqlalchemy import Connection, select, update

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db.schema import articles, deliveries
from feedsvc.lifecycle import editors
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TOKEN = "admin-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def make_service(
    db_url: str, monkeypatch: pytest.MonkeyPatch, titles: tuple[str, str] | None = None
) -> Service:
    """A service with two ingested articles, TEST-00001 (now) and TEST-00002 (older): titled
    ``titles``, else two different headlines."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None, {"database": {"url": premigrated(db_url)}, "topics": {"import_on_start": False}}
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    now = service.db.now()
    first, second = titles or ("Kiến Thụy khánh thành cầu mới", "Đồ Sơn đón khách")
    with service.db.write() as conn:
        upsert_source_articles(
            conn,
            [
                article(1, title=first, published_at=now),
                article(2, title=second, published_at=now - timedelta(hours=1)),
            ],
            now,
        )
    assert service.ingest_tick().error is None
    return service


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    service = make_service(db_url, monkeypatch)
    yield service
    service.close()


def state(service: Service, key: str) -> Any:
    with service.db.read() as conn:
        return editor_state(conn, key)


def test_cli_hide_unhide_find_and_exit_codes(service: Service) -> None:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["articles", *args], env=env)

    done = run("hide", "TEST-00001", "--reason", "Yêu cầu của toà án")
    assert done.exit_code == 0, done.output
    assert done.output.split("\t")[:2] == ["TEST-00001", "hidden"]
    assert "Yêu cầu của toà án" in done.output
    assert state(service, "TEST-00001").hidden_by == "cli"
    found = run("find", "khánh thành")
    assert found.exit_code == 0 and found.output.startswith("TEST-00001\thidden")
    assert run("unhide", "TEST-00001").output.split("\t")[1] == "public"
    missing = run("hide", "NO-SUCH")
    assert missing.exit_code == 1 and "unknown article 'NO-SUCH'" in missing.output
    bad = run("hide", "TEST-00001", "--reason", "x" * 501)
    assert bad.exit_code == 2 and state(service, "TEST-00001").hidden_at is None


def test_cli_find_says_when_nothing_matches(service: Service, tmp_path: Path) -> None:
    """It printed nothing, exit 0: a typo, a wrong DB and no match looked alike. One line on
    stderr now (stdout stays the rows: none), exit 0 as before."""
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    none = runner.invoke(cli, ["articles", "find", "Cát Bà"], env=env)
    assert (none.exit_code, none.stdout) == (0, "")
    assert none.stderr == 'feedsvc: no article matches "Cát Bà"\n'
    found = runner.invoke(cli, ["articles", "find", "Đồ Sơn"], env=env)
    assert found.exit_code == 0 and found.stdout.startswith("TEST-00002\t")
    assert found.stderr == ""
    assert runner.invoke(cli, ["articles", "find"], env=env).stderr == ""  # lists all
    empty = {**env, "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    assert runner.invoke(cli, ["db", "upgrade"], env=empty).exit_code == 0
    nothing = runner.invoke(cli, ["articles", "find"], env=empty)
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert nothing.stderr == "feedsvc: no article is stored\n"


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("KIẾN THỤY", ["TEST-00001"]),  # capitals: SQLite's LIKE folds ASCII only
        ("kiến thuỵ", ["TEST-00001"]),  # the other tone-mark placement
        (unicodedata.normalize("NFD", "Kiến Thụy khánh"), ["TEST-00001"]),  # decomposed
        ("kien thuy", ["TEST-00001"]),  # typed without accents
        ("ĐỒ SƠN", ["TEST-00002"]),
        ("đồ  sơn", ["TEST-00002"]),
        ("Cầu mới", ["TEST-00001"]),
        ("khánh thành", ["TEST-00001"]),  # the plain substring still works
        ("TEST-00002", ["TEST-00002"]),  # a source key
        ("test-00002", ["TEST-00002"]),  # a tester's: a key in another case
        ("Test-00001", ["TEST-00001"]),
        ("test-0000", []),  # a key is found whole, not by a part of it
        ("Thủy", []),  # accents typed are accents meant
        ('"', []), ("%", []), ("_", []),
    ],
)  # fmt: skip
def test_find_reads_titles_as_vietnamese(service: Service, typed: str, keys: list[str]) -> None:
    found = editors.find_articles(service.db, typed)
    assert [a.source_key for a in found] == keys


def test_find_lists_newest_first_whatever_matched(service: Service) -> None:
    now = service.db.now()
    later = article(3, title="Kiến Thụy: lễ hội", published_at=now + timedelta(days=1))
    with service.db.write() as conn:
        upsert_source_articles(conn, [later], now)
    assert service.ingest_tick().error is None
    editors.hide_article(service.db, "TEST-00001", None, "cli")
    found = editors.find_articles(service.db, "kien thuy")  # scheduled and hidden: listed
    assert [a.source_key for a in found] == ["TEST-00003", "TEST-00001"]
    assert [a.source_key for a in editors.find_articles(service.db, "KIẾN", 1)] == ["TEST-00003"]


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_api_hide_unhide(client: httpx.AsyncClient, service: Service) -> None:
    feed = await client.get("/feeds/search.rss", params={"q": "Kiến Thụy"})
    assert b"/tin/1.html" in feed.content
    r = await client.post(
        "/api/articles/TEST-00001/hide", headers=AUTH, json={"reason": "Gỡ theo yêu cầu"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["state"], body["hidden_reason"], body["hidden_by"]) == (
        "hidden", "Gỡ theo yêu cầu", "api",
    )  # fmt: skip
    service.publisher.cache.clear()
    feed = await client.get("/feeds/search.rss", params={"q": "Kiến Thụy"})
    assert b"/tin/1.html" not in feed.content  # gone from this replica at once
    listed = await client.get("/api/articles", headers=AUTH, params={"q": "TEST-00001"})
    assert [a["state"] for a in listed.json()["articles"]] == ["hidden"]
    r = await client.post("/api/articles/TEST-00001/unhide", headers=AUTH)
    assert (r.status_code, r.json()["state"]) == (200, "public")
    assert (await client.post("/api/articles/TEST-00001/hide", headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    ("db_url", "key"),
    on_backends(["CMS/2026/11/0042", "a/hide", "/lead", "x//y/", "50%/off"]),
    indirect=["db_url"],
)
async def test_api_hides_a_key_holding_slashes(
    client: httpx.AsyncClient, service: Service, key: str
) -> None:
    """CMS keys like ``2026/11/0042`` reach the API path raw or as ``%2F``."""
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(9, source_key=key, published_at=now)], now)
    assert service.ingest_tick().error is None
    raw = quote(key, safe="/")
    for path, want in ((raw, "hidden"), (quote(key, safe=""), "public")):
        verb = "hide" if want == "hidden" else "unhide"
        r = await client.post(f"/api/articles/{path}/{verb}", headers=AUTH)
        assert (r.status_code, r.json().get("source_key"), r.json().get("state")) == (
            200, key, want,
        ), r.text  # fmt: skip
        assert (state(service, key).hidden_at is not None) == (want == "hidden")
        assert state(service, "TEST-00001").hidden_at is None  # no other article touched
    assert (await client.post("/api/articles/CMS/2026/hide", headers=AUTH)).status_code == 404
    doc = (await client.get("/api/openapi.json", headers=AUTH)).json()
    assert "/api/articles/{source_key}/hide" in doc["paths"]


@pytest.mark.parametrize(
    ("db_url", "path", "kwargs", "status"),
    on_backends(
        [
            ("/api/articles/NO-SUCH/hide", {}, 404),
            ("/api/articles/NO-SUCH/unhide", {}, 404),
            ("/api/articles/TEST-00001/hide", {"json": {"reason": "x" * 501}}, 400),
            ("/api/articles/TEST-00001/hide", {"json": {"reason": 5}}, 400),
            ("/api/articles/TEST-00001/hide", {"json": {"why": "?"}}, 400),
            ("/api/articles/TEST-00001/hide", {"content": b"{not json"}, 400),
            ("/api/articles/TEST-00001/hide", {"json": {"reason": "a\x07b"}}, 422),
        ],
        label=lambda v: ascii(v)[:40],
    ),
    indirect=["db_url"],
)
async def test_api_errors_are_json(
    client: httpx.AsyncClient, service: Service, path: str, kwargs: dict[str, Any], status: int
) -> None:
    r = await client.post(path, headers=AUTH, **kwargs)
    assert r.status_code == status and r.json()["error"]
    assert state(service, "TEST-00001").hidden_at is None


async def test_api_needs_the_bearer_token(client: httpx.AsyncClient, service: Service) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = await client.post("/api/articles/TEST-00001/hide", headers=headers)
        assert r.status_code == 401 and r.json()["error"]
    assert state(service, "TEST-00001").hidden_at is None


def test_admin_articles_page(service: Service) -> None:
    client = TestClient(create_app(service), base_url="http://127.0.0.1")
    with client:
        page = client.get("/admin/login")
        csrf = CSRF_FIELD.search(page.text)
        assert csrf
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        listing = client.get("/admin/articles", params={"q": "khánh thành"})
        assert listing.status_code == 200
        assert "Kiến Thụy khánh thành cầu mới" in listing.text and "Đồ Sơn" not in listing.text
        token = CSRF_FIELD.search(listing.text)
        assert token
        refused = client.post(
            "/admin/articles/hide", data={"key": "TEST-00001"}, follow_redirects=False
        )
        assert refused.status_code == 403 and state(service, "TEST-00001").hidden_at is None
        done = client.post(
            "/admin/articles/hide",
            data={"key": "TEST-00001", "reason": "<b>Pháp lý</b>", "csrf": token.group(1)},
        )
        assert done.status_code == 200
        assert "Đã ẩn bài TEST-00001" in done.text
        assert "&lt;b&gt;Pháp lý&lt;/b&gt;" in done.text  # the reason shown, escaped
        assert state(service, "TEST-00001").hidden_by == "admin"
        missing = client.post(
            "/admin/articles/hide", data={"key": "NO-SUCH", "csrf": token.group(1)}
        )
        assert "Không có bài NO-SUCH" in missing.text
        client.post("/admin/articles/unhide", data={"key": "TEST-00001", "csrf": token.group(1)})
        assert state(service, "TEST-00001").hidden_at is None


def test_a_re_hide_without_a_reason_keeps_the_takedown_record(service: Service) -> None:
    """Newcomer D4: `articles hide KEY` on a hidden article erased its reason (and author)."""
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    first = runner.invoke(
        cli, ["articles", "hide", "TEST-00001", "--reason", "Yêu cầu\tgỡ\nbài"], env=env
    )
    assert first.exit_code == 0, first.output
    taken = state(service, "TEST-00001")
    assert (taken.hidden_reason, taken.hidden_by) == ("Yêu cầu gỡ bài", "cli")
    client = TestClient(create_app(service), base_url="http://127.0.0.1")
    with client:
        again = runner.invoke(cli, ["articles", "hide", "TEST-00001"], env=env)
        assert again.exit_code == 0 and "Yêu cầu gỡ bài" in again.output
        api = client.post("/api/articles/TEST-00001/hide", headers=AUTH)
        assert api.status_code == 200 and api.json()["hidden_reason"] == "Yêu cầu gỡ bài"
        page = client.get("/admin/login")
        csrf = CSRF_FIELD.search(page.text)
        assert csrf
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        token = CSRF_FIELD.search(client.get("/admin/articles").text)
        assert token
        for reason in ("", "   "):  # the admin form sends an empty reason field
            form = {"key": "TEST-00001", "reason": reason, "csrf": token.group(1)}
            assert client.post("/admin/articles/hide", data=form).status_code == 200
        kept = state(service, "TEST-00001")
        assert (kept.hidden_reason, kept.hidden_by, kept.hidden_at) == (
            "Yêu cầu gỡ bài", "cli", taken.hidden_at,
        )  # fmt: skip
        # a new reason replaces the old one and names who gave it; the time stays the first
        api = client.post("/api/articles/TEST-00001/hide", headers=AUTH, json={"reason": "Mới"})
        assert (api.json()["hidden_reason"], api.json()["hidden_by"]) == ("Mới", "api")
        assert state(service, "TEST-00001").hidden_at == taken.hidden_at


def followed_topic(service: Service, conn: Connection, now: datetime) -> None:
    """Topic ``kien-thuy`` (query "Kiến Thụy") followed by private chat 777, the matcher
    refreshed, in the caller's transaction."""
    save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", now)
    topic = get_topic(conn, "kien-thuy")
    assert topic is not None
    ensure_chat(conn, 777, "private", "Phóng viên", now)
    subscribe(conn, 777, topic_id=topic.id, query=None, now=now)
    service.index.refresh(conn)


@pytest.mark.parametrize(
    ("db_url", "front"), on_backends(["cli", "api", "admin"]), indirect=["db_url"]
)
def test_every_front_end_alerts_an_article_hidden_before_its_time(
    service: Service, front: str
) -> None:
    """Attack F2 through each front end: hidden before its time, unhidden 30 minutes after it
    (the due check's 10-minute overlap long gone): its subscribers are alerted, once."""
    db = service.db
    now = db.now()
    with db.write() as conn:
        followed_topic(service, conn, now)
        upsert_source_articles(
            conn, [article(5, title="Kiến Thụy: hẹn giờ", published_at=now + timedelta(hours=1))],
            now,
        )  # fmt: skip
    assert service.ingest_tick().error is None
    editors.hide_article(db, "TEST-00005", "chờ duyệt", "admin")
    with db.write() as conn:  # 90 minutes on: hidden 2 h ago, its time 30 minutes ago
        conn.execute(
            update(articles)
            .where(articles.c.source_key == "TEST-00005")
            .values(
                first_seen_at=now - timedelta(hours=3),
                hidden_at=now - timedelta(hours=2),
                published_at=now - timedelta(minutes=30),
            )
        )
    if front == "cli":
        env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
        done = CliRunner().invoke(cli, ["articles", "unhide", "TEST-00005"], env=env)
        assert done.exit_code == 0, done.output
    else:
        client = TestClient(create_app(service), base_url="http://127.0.0.1")
        with client:
            if front == "api":
                r = client.post("/api/articles/TEST-00005/unhide", headers=AUTH)
                assert r.status_code == 200, r.text
            else:
                csrf = CSRF_FIELD.search(client.get("/admin/login").text)
                assert csrf
                client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
                token = CSRF_FIELD.search(client.get("/admin/articles").text)
                assert token
                form = {"key": "TEST-00005", "csrf": token.group(1)}
                assert client.post("/admin/articles/unhide", data=form).status_code == 200
    assert state(service, "TEST-00005").hidden_at is None
    with db.read() as conn:
        queued = conn.execute(select(deliveries.c.chat_id, deliveries.c.state)).all()
    assert [tuple(r) for r in queued] == [(777, "pending")]


# -- keys stored before bidi controls were refused in keys ------------------------------------
LEGACY_KEYS = ["K\u202e1gnp.exe", "\u2067ABC\u2069-7", "X-\u202aY"]


def legacy_key(service: Service, key: str) -> None:
    """Article TEST-00001 given ``key``, as import and ingest stored such keys before they
    refused them: no front end could find it to take it down (a tester's)."""
    with service.db.write() as conn:
        conn.execute(
            update(articles).where(articles.c.source_key == "TEST-00001").values(source_key=key)
        )


@pytest.mark.parametrize(
    ("db_url", "key"), on_backends(LEGACY_KEYS, label=ascii), indirect=["db_url"]
)
async def test_a_key_stored_with_a_bidi_control_can_be_taken_down_everywhere(
    client: httpx.AsyncClient, service: Service, key: str
) -> None:
    legacy_key(service, key)
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    done = CliRunner().invoke(cli, ["articles", "hide", key, "--reason", "lừa đảo"], env=env)
    assert done.exit_code == 0 and "\thidden\t" in done.output, done.output
    assert "\\u20" in done.output and not any(c in done.output for c in key if c > "\u2000")
    assert state(service, key).hidden_by == "cli"
    r = await client.post(f"/api/articles/{quote(key, safe='')}/unhide", headers=AUTH)
    assert (r.status_code, r.json().get("state")) == (200, "public"), r.text
    with TestClient(create_app(service), base_url="http://127.0.0.1") as browser:
        page = browser.get("/admin/login")
        csrf = CSRF_FIELD.search(page.text)
        assert csrf
        browser.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        token = CSRF_FIELD.search(browser.get("/admin/articles").text)
        assert token
        browser.post("/admin/articles/hide", data={"key": key, "csrf": token.group(1)})
    assert state(service, key).hidden_by == "admin"


@pytest.mark.parametrize(
    ("db_url", "key", "pending"),
    [
        case
        for i, key in enumerate(LEGACY_KEYS)
        for case in on_backends(
            [(key, False), (key, True)],
            start=i,
            label=lambda v: ("pending" if v else "now") if isinstance(v, bool) else ascii(v),
        )
    ],
    indirect=["db_url"],
)
def test_a_bidi_key_not_stored_is_still_refused(service: Service, key: str, pending: bool) -> None:
    """No article can have one now: refused as before, never recorded as a pending hide."""
    with pytest.raises(editors.OperationError) as refused:
        editors.hide_article(service.db, key, None, "cli", pending=pending)
    assert refused.value.code == "control_character" and refused.value.field == "source_key"
    with pytest.raises(editors.OperationError) as again:
        editors.unhide_article(service.db, key, ())
    assert again.value.code == "control_character"
    with service.db.read() as conn:
        assert editor_state(conn, key) is None
