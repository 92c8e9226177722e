"""An article URL holding a user name and password (``https://user:pass@example.vn/a.html``) is
never published, stored or logged with them (:mod:`feedsvc.url_credentials`, the one rule).

It was published to every reader: the RSS ``<link>`` and enclosure, the Atom ``link href``,
the JSON Feed's ``url`` and ``image``, the reader pages, the search feed, a body's links, the
Telegram alert (its link and the photo URL Telegram fetches), the Zalo/Apprise text, the
digest, the JSON API and the admin's pages; a URL refused for another reason (a bad port, an
``ftp:`` scheme) was quoted with its password in the quarantine reason ingest logs and stores,
and in ``import``'s rejection line. Now ingest and ``import`` store the URL without it and
say so (the row or line, the field), every output drops it from a row stored before, migration
0035 removes it from what is stored, and every quoted URL shows it as ``***``.
"""

from __future__ import annotations

import html
import json
import logging
import re
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from factories import article
from migrated import premigrated
from sqlalchemy import select, update
from test_lifecycle_editors import AUTH, CSRF_FIELD, TOKEN
from test_stored_url_unseen import (  # noqa: F401  (service: the fixture)
    TOPIC,
    feed_items,
    feed_links,
    service,
)
from upgrades import database_at, run_sql

from feedsvc.app import Service, create_app
from feedsvc.articles import ArticleError, parse_article
from feedsvc.channels.plain import format_plain_alert
from feedsvc.cli import cli
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, source_articles
from feedsvc.digest.message import DigestEntry, DigestGroup, DigestWords, format_digest
from feedsvc.feeds import FeedMeta, render_feed
from feedsvc.feeds.links import article_link
from feedsvc.notify.message import format_alert
from feedsvc.pages.render import page_article
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

SECRET = "s3cret"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SITE = "https://x.vn/"
WORDS = DigestWords("Tin mới ({count})", "Xem tất cả", "(tiếp)")

#: raw URL → the URL stored and linked (as written; feeds write it as a URI)
FORMS = {
    "shown": ("https://user:s3cret@example.vn/a.html", "https://example.vn/a.html"),
    "user only": ("https://s3cret@example.vn/a", "https://example.vn/a"),
    "password only": ("https://:s3cret@example.vn/a", "https://example.vn/a"),
    "empty": ("https://@example.vn/a", "https://example.vn/a"),
    "encoded @ in user": ("https://u%40x:s3cret@example.vn/a", "https://example.vn/a"),
    "encoded colon": ("https://u%3As3cret@example.vn/a", "https://example.vn/a"),
    "two @": ("https://u:s3cret@x@example.vn/a", "https://example.vn/a"),
    "upper case scheme": ("HTTPS://USER:S3CRET@EXAMPLE.VN/a", "HTTPS://EXAMPLE.VN/a"),
    "http": ("http://user:s3cret@example.vn/a", "http://example.vn/a"),
    "port": ("https://user:s3cret@example.vn:8443/a", "https://example.vn:8443/a"),
    "idn host": ("https://user:s3cret@ví-dụ.vn/a", "https://ví-dụ.vn/a"),
    "ipv6": ("http://user:s3cret@[::1]/a", "http://[::1]/a"),
    "no path": ("https://user:s3cret@example.vn", "https://example.vn"),
    "query with @": ("https://u:s3cret@example.vn/a?to=b@c.vn", "https://example.vn/a?to=b@c.vn"),
}
#: not credentials: left as they are
PLAIN = [
    "https://example.vn/a@b.html",
    "https://example.vn/a?mail=b@c.vn",
    "https://example.vn/a#@x",
    "mailto:toa-soan@example.vn",
]


#: a user name or password in an absolute or scheme-relative URL, read as a browser reads it
_USERINFO = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?[/\\]*[^/\\?#]*@")


def holds_userinfo(url: str) -> bool:
    return _USERINFO.match(url) is not None


def no_secret(text: str | bytes) -> bool:
    low = text.lower() if isinstance(text, str) else text.decode("utf-8", "replace").lower()
    return SECRET not in low and "user:" not in low


# -- 2. ingest's and import's parse ------------------------------------------------------------


def record(url: str, image: str | None = None) -> dict[str, object]:
    return {"source_key": "K", "url": url, "title": "Tin", "image_url": image,
            "published_at": "2026-12-01T10:00:00+07:00"}  # fmt: skip


@pytest.mark.parametrize(("raw", "clean"), list(FORMS.values()), ids=list(FORMS))
def test_parse_stores_the_url_without_it(raw: str, clean: str) -> None:
    a = parse_article(record(raw, raw.replace("/a", "/anh.jpg")))
    assert a.url == clean
    assert a.image_url is not None and no_secret(a.image_url)
    assert a.credentials_dropped == ("url", "image_url")


def test_a_relative_image_with_credentials_is_resolved_without_them() -> None:
    a = parse_article(record("https://example.vn/a.html", "//user:s3cret@cdn.vn/x.jpg"))
    assert (a.url, a.image_url) == ("https://example.vn/a.html", "https://cdn.vn/x.jpg")
    assert a.credentials_dropped == ("image_url",)


def test_an_article_without_credentials_says_nothing() -> None:
    a = parse_article(record("https://example.vn/a@b.html", "https://example.vn/x.jpg"))
    assert a.url == "https://example.vn/a@b.html" and a.credentials_dropped == ()
    assert a == replace(a, credentials_dropped=("url",))  # not the article's content


@pytest.mark.parametrize(
    "url",
    [
        "https://user:s3cret@example.vn:99999/a",  # a bad port
        "ftp://user:s3cret@example.vn/a",  # another scheme
        "https://user:s3cret@/a",  # no host
        "https://user:s3cret@exa\uff0fmple.vn/a",  # NFKC: urllib quotes the netloc
    ],
)
def test_a_refused_url_is_never_quoted_with_its_password(url: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_article(record(url))
    assert no_secret(str(caught.value)) and "***@" in str(caught.value)
    with pytest.raises(ArticleError) as caught:
        parse_article(record("https://example.vn/a", url))
    assert no_secret(str(caught.value))


# -- 3. every output, for a row stored before (pure formatters) -------------------------------


@pytest.mark.parametrize(("raw", "clean"), list(FORMS.values()), ids=list(FORMS))
def test_every_output_drops_it_from_a_row_stored_before(raw: str, clean: str) -> None:
    a = article(1, url=raw, image_url=raw.replace("/a", "/anh.jpg"),
                body=f'<p><a href="{raw}">x</a> <img src="{raw}.jpg"></p>')  # fmt: skip
    for link, image in feed_links(a).values():
        assert no_secret(link) and image is not None and no_secret(image)
        assert not holds_userinfo(link) and not holds_userinfo(image)
    meta = FeedMeta(title="K", description="T", site_url=SITE,
                    self_url="https://feeds.x.vn/k.{fmt}", feed_id="urn:k")  # fmt: skip
    for fmt in ("rss", "atom", "json"):
        assert no_secret(render_feed(meta, [a], fmt)), fmt
    alert = format_alert(a, ["Kiến Thụy"], TZ, with_image=True)
    link = feed_links(a)["rss"][0]  # alerts link the feeds' address (feeds.links)
    assert link == article_link(clean)
    assert f'<a href="{html.escape(link)}">' in alert.text and no_secret(alert.text)
    assert no_secret(alert.photo_url or "")
    assert format_plain_alert(a, ["Kiến Thụy"], TZ).endswith("\n" + link)
    part = format_digest([DigestEntry(1, a, DigestGroup("Kiến Thụy"))], TZ, WORDS)[0]
    assert no_secret(part.message.text) and no_secret(part.message.plain_text)
    assert no_secret(page_article(a, SITE).url)


def test_the_shown_input_links_to_the_page() -> None:
    a = article(1, url="https://user:pass@example.vn/a.html")
    assert {link for link, _ in feed_links(a).values()} == {"https://example.vn/a.html"}
    assert format_plain_alert(a, [], TZ).endswith("\nhttps://example.vn/a.html")


# -- 4. through the service, on SQLite and PostgreSQL ----------------------------------------


def test_ingest_stores_it_without_and_says_which_row_and_field(
    service: Service,  # noqa: F811  (the imported fixture)
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = service.db.now()
    rows = [
        article(1, url="https://user:s3cret@example.vn/a.html", published_at=now),
        article(2, url="https://example.vn/b.html", image_url="https://u:s3cret@cdn.vn/b.jpg",
                published_at=now),
        article(3, url="https://example.vn/c@d.html", published_at=now),
    ]  # fmt: skip
    with service.db.write() as conn:
        upsert_source_articles(conn, rows, now)  # the CMS's rows as they are
    with caplog.at_level(logging.WARNING):
        assert service.ingest_tick().error is None
    with service.db.read() as conn:
        got = {r.source_key: (r.url, r.image_url) for r in conn.execute(select(articles))}
    assert got == {
        "TEST-00001": ("https://example.vn/a.html", None),
        "TEST-00002": ("https://example.vn/b.html", "https://cdn.vn/b.jpg"),
        "TEST-00003": ("https://example.vn/c@d.html", None),
    }
    said = [r.getMessage() for r in caplog.records if "user name or password" in r.getMessage()]
    assert len(said) == 2, said
    assert "row id=1 (TEST-00001): url held a user name or password" in said[0]
    assert said[0].endswith("as https://example.vn/a.html")
    assert "row id=2 (TEST-00002): image_url held" in said[1]
    assert all(no_secret(r.getMessage()) for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        service.ingest_tick()  # the window reads the rows again: nothing new, said once
    assert not [r for r in caplog.records if "user name or password" in r.getMessage()]


def store_old_rows(service: Service, client: TestClient, raw: list[str]) -> None:  # noqa: F811
    """Articles ingested clean, then given credentialed URLs in the state DB, as an install
    from before this change holds them."""
    assert client.post("/api/topics", json=TOPIC, headers=AUTH).status_code == 201
    now = service.db.now()
    rows = [article(n, title=f"Tin Kiến Thụy số {n}", published_at=now - timedelta(minutes=n),
                    body=f'<p><a href="{u}">nguồn</a></p>')
            for n, u in enumerate(raw, 1)]  # fmt: skip
    with service.db.write() as conn:
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None
    with service.db.write() as conn:
        for n, url in enumerate(raw, 1):
            conn.execute(update(articles).where(articles.c.source_key == f"TEST-{n:05d}")
                         .values(url=url, image_url=url + ".jpg"))  # fmt: skip
    service.topic_changed("kien-thuy")


def test_rows_stored_before_are_published_without_it_everywhere(
    service: Service,  # noqa: F811  (the imported fixture)
) -> None:
    raw = [r for r, _ in FORMS.values()]
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        store_old_rows(service, client, raw)
        answers = []
        for fmt in ("rss", "atom", "json"):
            answers.append(client.get(f"/feeds/kien-thuy.{fmt}"))
            assert len(feed_items(fmt, answers[-1].content)) == len(raw), fmt
        answers += [
            client.get("/topics/kien-thuy"),
            client.get("/"),
            client.get("/feeds/search.rss", params={"q": "Kiến Thụy"}),
            client.get("/feeds/search.json", params={"q": "Kiến Thụy"}),
            client.get("/feeds/kien-thuy.atom", params={"limit": "100"}),
            client.get("/api/articles", params={"q": "Kiến Thụy"}, headers=AUTH),
        ]
        csrf = CSRF_FIELD.search(client.get("/admin/login").text)
        assert csrf is not None
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        answers += [client.get("/admin/articles", params={"q": "Kiến Thụy"})]
        for r in answers:
            assert r.status_code == 200, (r.url, r.text[:200])
            assert no_secret(r.content), r.url
        assert "https://example.vn/a.html" in answers[0].text
        api = json.loads(answers[-2].text)["articles"]
        assert {a["url"] for a in api} == {c for _, c in FORMS.values()}
    with service.db.read() as conn:
        ids = list(conn.execute(select(articles.c.id)).scalars())
        held = articles_by_ids(conn, ids)
    for a in held.values():
        alert = format_alert(a, ["Kiến Thụy"], TZ, with_image=True)
        assert no_secret(alert.text) and no_secret(alert.photo_url or "")
        assert no_secret(format_plain_alert(a, ["Kiến Thụy"], TZ))


def test_import_stores_it_without_and_warns(db_url: str, tmp_path: Path) -> None:
    url = premigrated(db_url)
    lines = [
        record("https://user:s3cret@example.vn/a.html") | {"source_key": "A"},
        record("https://example.vn/b.html", "//u:s3cret@cdn.vn/b.jpg") | {"source_key": "B"},
        record("ftp://user:s3cret@example.vn/c") | {"source_key": "C"},
        record("https://example.vn/d.html") | {"source_key": "D"},
    ]
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    result = CliRunner().invoke(cli, ["import", "-"], input=data.encode(), env=env)
    assert result.exit_code == 1, result.output  # line 3 is refused
    err = result.stderr
    assert no_secret(result.output), result.output
    assert (
        err.index("warning: line 1: url held a user name or password")
        < err.index("warning: line 2: image_url held")
        < err.index("rejected line 3: url: must be an absolute http(s) URL, got 'ftp://***@")
    )
    assert "as https://example.vn/a.html" in err and "as https://cdn.vn/b.jpg" in err
    assert "inserted 3" in result.stdout
    db = Database(url)
    try:
        with db.read() as conn:
            got = {r.source_key: (r.url, r.image_url) for r in conn.execute(
                select(source_articles))}  # fmt: skip
    finally:
        db.dispose()
    assert got == {
        "A": ("https://example.vn/a.html", None),
        "B": ("https://example.vn/b.html", "https://cdn.vn/b.jpg"),
        "D": ("https://example.vn/d.html", None),
    }


# -- 5. migration 0035: what is stored already ----------------------------------------------


def test_upgrade_removes_it_from_stored_rows(db_url: str) -> None:
    db = database_at(db_url, "0034")
    t = "2026-11-30 10:00:00"
    try:
        run_sql(
            db,
            "INSERT INTO articles (source_key, version, url, image_url, title, tags, published_at,"
            " search_text, source_cursor, first_seen_at, last_changed_at, body) VALUES"
            " ('a-1', :t, :u1, :i1, 'Tin', '[]', :t, '', :t, :t, :t, NULL),"
            " ('a-2', :t, 'https://x.vn/2@b', NULL, 'Tin', '[]', :t, '', :t, :t, :t, :b2),"
            " ('a-3', :t, 'https://x.vn/3', NULL, 'Tin', '[]', :t, '', :t, :t, :t, :b3)",
            "INSERT INTO source_articles (source_key, url, image_url, title, published_at,"
            " changed_at, withdrawn) VALUES ('a-1', :s1, NULL, 'Tin', :t, :t, false)",
            t=t,
            u1="https://user:s3cret@x.vn/1",
            i1="https://u:s3cret@x.vn/1.jpg",
            s1="HTTPS://:s3cret@x.vn/1",
            b2="<p>Liên hệ toa-soan@x.vn, https://x.vn/a@b</p>",  # no credentials
            b3='<p><a href="https://u:s3cret@x.vn/b">nguồn</a></p>',  # a body's link: rendered
        )
        before = datetime.now(UTC)
        upgrade(db)
        with db.read() as conn:
            rows = {r.source_key: r for r in conn.execute(select(articles))}
            source = conn.execute(select(source_articles.c.url)).scalar_one()
        assert (rows["a-1"].url, rows["a-1"].image_url) == ("https://x.vn/1", "https://x.vn/1.jpg")
        assert rows["a-1"].last_changed_at >= before - timedelta(seconds=5)  # renders first
        assert (rows["a-2"].url, rows["a-2"].last_changed_at) == (
            "https://x.vn/2@b",
            datetime(2026, 11, 30, 10, tzinfo=UTC),
        )
        assert source == "HTTPS://x.vn/1"
        assert rows["a-3"].last_changed_at >= before - timedelta(seconds=5)
        assert rows["a-3"].body == '<p><a href="https://u:s3cret@x.vn/b">nguồn</a></p>'  # kept
    finally:
        db.dispose()


def test_after_the_upgrade_a_restart_never_serves_a_stored_render_holding_it(
    db: Database,
) -> None:
    """The stored snapshots an older feedsvc rendered hold the password; a restart serves
    stored snapshots unless what they show changed. The upgrade's scrub moves the articles'
    ``last_changed_at``, so the restart renders their topics before serving anything."""
    from test_warm_start import renders_of, settings, world
    from upgrades import downgrade

    from feedsvc.publish.publisher import FeedPublisher
    from feedsvc.store.snapshots import StoredSnapshot, get_snapshots, put_snapshot

    world(db)  # three topics rendered and stored; "Kiến Thụy" article 1 in two of them
    clean, raw = b"https://example.vn/tin/1.html", b"https://user:s3cret@example.vn/tin/1.html"
    with db.write() as conn:  # as an older feedsvc stored the row and rendered it
        conn.execute(update(articles).where(articles.c.source_key == "TEST-00001")
                     .values(url=raw.decode()))  # fmt: skip
        old = [s for s in get_snapshots(conn) if clean in s.body]
        assert {s.slug for s in old} >= {"an-ninh", "kien-thuy"}
        for s in old:
            body = s.body.replace(clean, raw)
            put_snapshot(conn, StoredSnapshot(s.slug, s.fmt, body, s.etag + "x", s.last_modified),
                         db.now())  # fmt: skip
    downgrade(db, "0034")
    upgrade(db)
    pub = FeedPublisher(db, settings())
    rendered = renders_of(pub)
    pub.sync()  # the restart's first sync: what it serves from now on
    assert {"an-ninh", "kien-thuy"} <= set(rendered)
    for slug in ("an-ninh", "kien-thuy", "do-son"):
        for fmt in ("rss", "atom", "json", "html"):
            snap = pub.page(slug) if fmt == "html" else pub.snapshot(slug, fmt, 50)
            assert snap is not None and no_secret(snap.body), (slug, fmt)
