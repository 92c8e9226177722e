"""Every page with an ETag keeps its ``Last-Modified`` across restarts while its bytes stay the
same, and a change moves it forward (never back, never past the clock): the reader pages, the
index and its filtered views, the OPML document, the pages' QR codes, as the topic feeds did.

A tester's: ``/``, ``/feeds.opml`` and ``/topics/kien-thuy`` kept their ETag across a restart
of ``feedsvc run`` but their ``Last-Modified`` jumped to the restart time (the OPML and the
filtered views were dated by the process; the pages lost the bot's links until getMe answered
and got them back), so If-Modified-Since got a full 200 after every deploy.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from factories import article, builtin_ingestor
from fakebot import FakeBotAPI
from processes import CLIENT, free_port, get, start_feedsvc, wait_until
from sqlalchemy import select

from feedsvc.config import Settings, load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles
from feedsvc.publish import FeedPublisher
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.store.withdrawals import withdraw_deleted
from feedsvc.web.http_cache import Snapshot

BOT = "hp_tin_bot"
QR = "/topics/kien-thuy/telegram.svg"
FAKE_BOT = "feedsvc_test_bot"  # what the fake Bot API answers getMe with
PLAIN = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}


def settings(token: str | None = "123456789:AAFakeTokenForTests_do-not-leak") -> Settings:
    """The service's settings with a bot token and no configured @username: the pages' links
    come from getMe (:meth:`FeedPublisher.set_bot_username`)."""
    telegram = {"token": token} if token else {}
    return load_config(
        None, {"http": {"public_url": "https://feeds.example.vn"}, "telegram": telegram}
    )


def started(db: Database, ingest: bool = True) -> FeedPublisher:
    """Two topics and their articles ingested just now (so a restart renders them first: the
    watermark's overlap), rendered by a process whose getMe answered :data:`BOT`."""
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(
            conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Tin huyện"), "cli", now
        )
        save_topic(conn, TopicSpec("do-son", "Đồ Sơn", '"Đồ Sơn"'), "cli", now)
        upsert_source_articles(conn, [
            article(1, title="Kiến Thụy mở đường mới", **PLAIN),
            article(2, title="Đồ Sơn đón khách", **PLAIN),
        ], now)  # fmt: skip
    if ingest:
        assert builtin_ingestor(db, overlap_seconds=60).tick().error is None
    pub = FeedPublisher(db, settings())
    pub.sync()
    pub.set_bot_username(BOT)
    pub.sync()  # the watermark: everything rendered
    return pub


def served(pub: FeedPublisher) -> dict[str, Snapshot]:
    """Every page with an ETag the publisher serves besides the topic feeds."""
    page, qr = pub.page("kien-thuy"), pub.telegram_qr("kien-thuy")
    assert page is not None and isinstance(qr, Snapshot)
    return {
        "/": pub.index_html(),
        "/feeds.opml": pub.opml(),
        "/topics/kien-thuy": page,
        "/?q=kien": pub.index_search("kien", 1),
        QR: qr,
    }


def dated(found: dict[str, Snapshot]) -> dict[str, tuple[str, datetime]]:
    return {path: (snap.etag, snap.last_modified) for path, snap in found.items()}


def restart(db: Database) -> FeedPublisher:
    """A new process on the same state DB: its first sync, then getMe answering the same bot."""
    pub = FeedPublisher(db, settings())
    pub.sync()
    return pub


def test_a_restart_keeps_every_pages_last_modified(db: Database) -> None:
    before = dated(served(started(db)))
    pub = restart(db)
    assert dated(served(pub)) == before  # before getMe answers
    pub.set_bot_username(BOT)
    pub.sync()
    assert dated(served(pub)) == before
    again = restart(db)  # and once more, with the background pass done
    again.sync()
    assert dated(served(again)) == before


def test_a_restart_before_the_first_rebuild_dates_the_filtered_views_as_stored(
    db: Database,
) -> None:
    """A restart serving the stored index (nothing changed: no rebuild before serving) answers
    ``/?q=`` and ``/`` with a query string that is not UTF-8 as the stored pages are dated."""
    last = started(db, ingest=False)
    index = last.index_html()
    pub = FeedPublisher(db, settings())
    pub.sync()
    assert pub.index_search("kien", 1).last_modified == index.last_modified
    assert pub.index_unread().last_modified == index.last_modified


def moved(
    before: dict[str, tuple[str, datetime]], after: dict[str, tuple[str, datetime]]
) -> set[str]:
    """The paths whose bytes changed, each dated later than before (a version a later second
    than the one it replaces: ahead of the clock for a moment in a test this quick, served as
    the clock's then, ``http_cache.Replies``); the others dated as before, but the QR code,
    dated as its page (which shows its link)."""
    changed = {path for path in before if before[path][0] != after[path][0]}
    for path in changed:
        assert before[path][1] < after[path][1], path
    for path in set(before) - changed - {QR}:
        assert after[path][1] == before[path][1], path
    assert after[QR][1] == after["/topics/kien-thuy"][1]
    return changed


def test_a_new_article_moves_the_pages_forward(db: Database) -> None:
    started(db)
    pub = restart(db)
    before = dated(served(pub))
    with db.write() as conn:
        upsert_source_articles(
            conn, [article(3, title="Kiến Thụy khánh thành cầu", **PLAIN)], datetime.now(UTC)
        )
    ingestor = builtin_ingestor(db, overlap_seconds=60)
    ingestor.after_commit.append(pub.on_ingest)
    assert ingestor.tick().error is None
    assert moved(before, dated(served(pub))) == {"/", "/topics/kien-thuy", "/?q=kien"}


def test_a_withdrawal_moves_the_pages_forward_across_a_restart(db: Database) -> None:
    started(db)
    before = dated(served(restart(db)))
    with db.write() as conn:
        (sid,) = conn.execute(
            select(articles.c.source_id).where(articles.c.source_key == "TEST-00001")
        ).one()
        assert withdraw_deleted(conn, [sid], datetime.now(UTC) - timedelta(days=400),
                                lambda: datetime.now(UTC))  # fmt: skip
    pub = restart(db)  # the takedown found at the start
    changed = moved(before, dated(served(pub)))
    assert changed == {"/", "/topics/kien-thuy", "/?q=kien"}
    page = pub.page("kien-thuy")
    assert page is not None and "mở đường mới" not in page.body.decode()


def test_a_topic_edit_moves_the_pages_and_the_opml_forward(db: Database) -> None:
    started(db)
    pub = restart(db)
    before = dated(served(pub))
    with db.write() as conn:
        spec = TopicSpec("kien-thuy", "Huyện Kiến Thụy", '"Kiến Thụy"', "Tin huyện cũ")
        save_topic(conn, spec, "cli", datetime.now(UTC))
    pub.sync()
    after = dated(served(pub))
    assert moved(before, after) == {"/", "/feeds.opml", "/topics/kien-thuy", "/?q=kien"}
    assert dated(served(restart(db))) == after  # and kept so


def test_a_new_bot_name_moves_the_pages_forward(db: Database) -> None:
    """A token of another bot: the restart renders with the name stored, getMe's moves them."""
    started(db)
    pub = restart(db)
    before = dated(served(pub))
    pub.set_bot_username("hp_khac_bot")
    changed = moved(before, dated(served(pub)))
    assert changed == {"/", "/topics/kien-thuy", "/?q=kien", QR}


def test_without_a_token_the_stored_bot_name_is_not_shown(db: Database) -> None:
    """No token, no getMe to correct it: a name an earlier start learnt is not shown."""
    started(db)
    pub = FeedPublisher(db, settings(token=None))
    pub.sync()
    assert pub.bot_username is None


# -- the real service, restarted ------------------------------------------------------------
PATHS = ("/", "/feeds.opml", "/topics/kien-thuy", "/?q=kien", "/topics/kien-thuy/telegram.svg")


def headers_of(base: str) -> dict[str, tuple[str, str]]:
    """ETag and Last-Modified of :data:`PATHS`, each once its date is behind the answer's
    ``Date``: a version dated ahead of the clock (a later second than the one it replaced) is
    sent with the clock's date and never answered 304 until its second has come."""
    out = {}
    for path in PATHS:
        answers: list[httpx.Response] = []

        def settled(path: str = path, answers: list[httpx.Response] = answers) -> bool:
            answer = get(base + path)
            assert answer is not None and answer.status_code == 200, path
            answers.append(answer)
            date, modified = (parsedate_to_datetime(answer.headers[k])
                              for k in ("date", "last-modified"))  # fmt: skip
            return modified < date

        wait_until(settled, 30, f"{path}'s date behind the clock")
        out[path] = (answers[-1].headers["etag"], answers[-1].headers["last-modified"])
    return out


def ready(url: str) -> bool:
    """The page shows the article ingested and the bot's link (getMe answered)."""
    page = get(url)
    return page is not None and "mở đường mới" in page.text and f"t.me/{FAKE_BOT}" in page.text


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as bot:
        yield bot


def test_a_restarted_service_answers_304_to_the_dates_it_gave(
    tmp_path: Path, fake: FakeBotAPI
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Tin huyện"), "cli",
                   datetime.now(UTC))  # fmt: skip
        upsert_source_articles(
            conn, [article(1, title="Kiến Thụy mở đường mới", **PLAIN)], datetime.now(UTC)
        )
    db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")} | {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_HTTP__PUBLIC_URL": "https://feeds.example.vn",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_SOURCE__MATCH_WORKERS": "0",
        "FEEDSVC_TELEGRAM__TOKEN": fake.token,
        "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url,
    }

    def run(check: object) -> object:
        port = free_port()
        proc = start_feedsvc(["run", "--port", str(port), "--no-bot"], env, tmp_path)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: all(ready(base + p) for p in ("/", "/topics/kien-thuy")), 60,
                       "the article and the bot's links on the pages")  # fmt: skip
            return check(base)  # type: ignore[operator]
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 0, out.decode()

    first = run(headers_of)
    assert isinstance(first, dict)

    def revalidated(base: str) -> dict[str, tuple[str, str]]:
        for path, (_, modified) in first.items():
            answer = CLIENT.get(base + path, headers={"If-Modified-Since": modified})
            assert answer.status_code == 304, (path, answer.headers)
        return headers_of(base)

    assert run(revalidated) == first
    # a new article while stopped: the next start shows it, dated after the first run's
    db = Database(url)
    with db.write() as conn:
        upsert_source_articles(
            conn, [article(2, title="Kiến Thụy khánh thành cầu", **PLAIN)], datetime.now(UTC)
        )
    db.dispose()

    moved = ("/", "/topics/kien-thuy", "/?q=kien")

    def changed(base: str) -> dict[str, tuple[str, str]]:
        # each page is rendered on its own: the index may still be the first run's version
        # (its date too) a moment after the topic's page shows the article
        def shown() -> bool:
            answers = [get(base + path) for path in moved]
            return all(a is not None and a.headers.get("etag") != first[path][0]
                       for a, path in zip(answers, moved, strict=True))  # fmt: skip

        wait_until(shown, 60, "the new article on every page")
        return headers_of(base)

    later = run(changed)
    assert isinstance(later, dict)
    for path in moved:
        assert parsedate_to_datetime(later[path][1]) > parsedate_to_datetime(first[path][1])
    assert later["/feeds.opml"] == first["/feeds.opml"]
