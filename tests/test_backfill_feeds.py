"""A backfill shows in the topic's feeds at once, through every entry point: the admin's button,
``POST /api/topics/{slug}/backfill`` and ``feedsvc topics backfill`` (picked up by the running
service's snapshot sync). Before, each said "added N" while the feed stayed empty until the topic
was edited or a new article arrived.

SQLite only: this module is about each entry point rendering (or leaving to the service) what a
backfill stored, and what it answers when stopped; the statements are the backfill's and the
publisher's, run on PostgreSQL by ``test_backfill.py`` (narrowed and widened queries, a query
changed meanwhile, a signal anywhere and a stop asked for ending it between batches, two at
once), ``test_store_snapshots.py`` and ``test_publish*.py`` (the snapshot sync a CLI backfill
reaches the service by)."""

from __future__ import annotations

import contextlib
import html
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
from feedsvc.cli import cli, terminate
from feedsvc.config import load_config
from feedsvc.store.article_reads import topic_articles
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, get_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TOKEN = "backfill-test-token-0123456789"
TITLES = ["Kiến Thụy khánh thành cầu mới", "Núi Đối mở hội", "Đồ Sơn đón khách"]


@pytest.fixture
def served(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Service, Path]]:
    """Articles ingested first, then a topic created without a backfill: its feeds are empty."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n[topics]\nimport_on_start = false\n', encoding="utf-8"
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


def opened_at(client: TestClient, slug: str) -> str:
    """The version the topic's edit form was opened at (``feedsvc.topic_versions``)."""
    found = re.search(
        r'name="version" value="([^"]*)"', client.get(f"/admin/topics/{slug}/edit").text
    )
    assert found
    return html.unescape(found.group(1))


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
    assert "2 of them in the feed (2 newly added)" in result.output
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
    assert r.json() == {
        "scanned": 3, "matched": 1, "added": 0, "removed": 1,
        "in_feed": 1, "added_to_feed": 0, "not_in_feed": 0,
    }  # fmt: skip
    assert narrowed_in_feeds(client)

    narrowed(client, service)
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "kt", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "; 1 removed (no longer matching)." in result.output
    service.publisher.sync()
    assert narrowed_in_feeds(client)


# -- a backfill that stops part-way ----------------------------------------------------------
# Its batches done are stored (a backfill commits batch by batch), so the feeds must show them:
# before, every entry point rendered only after a backfill that ran to its end, and the feeds
# lagged what the topic held until the next edit or article (a tester's SIGTERM, and the 409
# of a query changed meanwhile).


def stopped_after_one_batch(monkeypatch: pytest.MonkeyPatch, stop: Any) -> None:
    """Backfills run one article per batch and call ``stop()`` after the first batch."""
    from feedsvc.operations import backfill as module

    batches = module._backfill_batches

    def one_then_stop(db: Any, ids: Any, since: Any, _size: int) -> Iterator[Any]:
        for n, rows in enumerate(batches(db, ids, since, 1)):
            if n == 1:
                stop()
            yield rows

    monkeypatch.setattr(module, "_backfill_batches", one_then_stop)


def widened(service: Service) -> None:
    """The admin (elsewhere) edits the query while the backfill runs."""
    spec = TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối" OR "Cát Bà"')
    ops.save_topic(service.db, spec, "elsewhere")


def flash_of(page: str) -> tuple[str, str]:
    """The admin page's flash message: its kind ("ok", "bad") and its text."""
    found = re.search(r'<p class="flash (ok|bad)" role="status">([^<]*)</p>', page)
    assert found, page
    return found.group(1), html.unescape(found.group(2))


def feeds_show_what_is_stored(client: TestClient, service: Service) -> bool:
    """Each feed lists exactly the topic's stored matches, and there is one."""
    with service.db.read() as conn:
        topic = get_topic(conn, "kt")
        assert topic is not None
        stored = {row.title for row in topic_articles(conn, topic.id, 100, service.db.now())}
    shown = [
        {title for title in TITLES if title in client.get(f"/feeds/kt.{fmt}").text}
        for fmt in ("rss", "atom", "json")
    ]
    return len(stored) == 1 and all(s == stored for s in shown)


@pytest.mark.parametrize(
    ("signal_raised", "code", "word"),
    [
        (terminate.Terminated, 143, "terminated (SIGTERM)"),
        (KeyboardInterrupt, 130, "interrupted"),
    ],
)
def test_cli_backfill_interrupted_leaves_its_batches_in_the_feeds(
    served: tuple[TestClient, Service, Path],
    monkeypatch: pytest.MonkeyPatch,
    signal_raised: type[BaseException],
    code: int,
    word: str,
) -> None:
    client, service, config = served

    def interrupt() -> None:
        raise signal_raised

    stopped_after_one_batch(monkeypatch, interrupt)
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "KT", "--config", str(config)])
    assert result.exit_code == code, result.output
    assert f"backfill: {word}: the batches done are stored" in result.output
    assert "Traceback" not in result.output
    service.publisher.sync()
    assert feeds_show_what_is_stored(client, service)


def test_cli_backfill_stopped_by_an_edit_leaves_its_batches_in_the_feeds(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service, config = served
    stopped_after_one_batch(monkeypatch, lambda: widened(service))
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "kt", "--config", str(config)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    service.publisher.sync()
    assert feeds_show_what_is_stored(client, service)


def test_api_backfill_409_leaves_its_batches_in_the_feeds(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service, _config = served
    stopped_after_one_batch(monkeypatch, lambda: widened(service))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/topics/Kt/backfill", json={"days": 0}, headers=auth)
    assert r.status_code == 409 and "backfill_topic_changed" in r.text, r.text
    assert feeds_show_what_is_stored(client, service)


@pytest.mark.parametrize("entry", ["api", "admin"])
def test_a_backfill_the_service_stop_interrupts_answers_and_leaves_its_batches(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    """SIGTERM to the service (``Service.interrupt``) during a backfill from the API or the
    admin: a tester's plain-text 500 and a ``CancelledError`` traceback when the server's
    grace period ended mid-backfill. It now stops between batches and answers at once."""
    client, service, _config = served
    csrf = admin_login(client)
    stopped_after_one_batch(monkeypatch, lambda: monkeypatch.setattr(service, "interrupted", True))
    if entry == "api":
        auth = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en"}
        r = client.post("/api/topics/kt/backfill", json={"days": 0}, headers=auth)
        assert r.status_code == 503 and r.json()["code"] == "backfill_stopped", r.text
        assert r.headers["retry-after"] == "30"
        assert "stopped after 1 articles" in r.json()["error"]
        assert r.json()["message"].startswith("The service is stopping"), r.text
    else:
        r = client.post("/admin/topics/kt/backfill", data={"csrf": csrf})
        kind, text = flash_of(r.text)
        assert kind == "bad" and text.startswith("Dịch vụ đang dừng"), text
    monkeypatch.setattr(service, "interrupted", False)  # the answer went out: serve the feeds
    service.publisher.sync()
    assert feeds_show_what_is_stored(client, service)


def test_admin_backfill_button_stopped_by_an_edit_leaves_its_batches_in_the_feeds(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service, _config = served
    csrf = admin_login(client)
    stopped_after_one_batch(monkeypatch, lambda: widened(service))
    r = client.post("/admin/topics/kt/backfill", data={"csrf": csrf})
    kind, text = flash_of(r.text)
    assert r.status_code == 200 and kind == "bad" and "đã đổi trong lúc nạp lại" in text, text
    assert feeds_show_what_is_stored(client, service)


def test_saving_with_backfill_says_saved_when_the_backfill_stops(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Backfill on save": the save had happened, yet a backfill stopped by an edit elsewhere
    showed the editor with the error (422), as if nothing was saved, and left the feeds and the
    matcher unrefreshed."""
    client, service, _config = served
    csrf = admin_login(client)
    stopped_after_one_batch(monkeypatch, lambda: widened(service))
    form = {"csrf": csrf, "title": "KT mới", "query": '"Kiến Thụy" OR "Núi Đối"',
            "enabled": "on", "backfill": "on", "version": opened_at(client, "kt")}  # fmt: skip
    r = client.post("/admin/topics/kt/edit", data=form)
    assert r.status_code == 200 and r.url.path == "/admin/topics", (r.status_code, r.url)
    kind, text = flash_of(r.text)
    assert kind == "bad" and text.startswith("Đã lưu thay đổi của chủ đề kt."), text
    assert "đã đổi trong lúc nạp lại" in text, text
    with service.db.read() as conn:
        topic = get_topic(conn, "kt")
    assert topic is not None and "Cát Bà" in (topic.query or "")  # the later edit stands
    assert feeds_show_what_is_stored(client, service)


def test_cli_backfill_leaves_the_rendering_to_the_service_and_its_settings(
    served: tuple[TestClient, Service, Path], tmp_path: Path
) -> None:
    """A tester's find: the CLI rendered the feeds with *its* settings and stored them, and
    the service served those: after the demo banner's own `topics backfill`, run with only the
    DB URL, the feeds' self links pointed at port 8080 where nothing listened, for good. The
    CLI's settings here differ from the service's in the public URL and the site's title."""
    client, service, config = served
    cli_config = tmp_path / "cli.toml"
    db_line = config.read_text(encoding="utf-8").splitlines()[1]
    cli_config.write_text(
        f'[database]\n{db_line}\n[http]\npublic_url = "https://cli-only.example.test/x"\n'
        '[site]\ntitle = "CLI-ONLY TITLE"\n',
        encoding="utf-8",
    )
    args = ["topics", "backfill", "kt", "--days", "0", "--config", str(cli_config)]
    result: Any = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "2 of them in the feed (2 newly added)" in result.output, result.output
    service.publisher.sync()
    assert in_feeds(client)
    for fmt in ("rss", "atom", "json"):
        body = client.get(f"/feeds/kt.{fmt}").text
        assert "cli-only" not in body and "CLI-ONLY" not in body, body[:600]
    assert "cli-only" not in client.get("/topics/kt").text


def test_saving_with_backfill_says_saved_when_the_database_fails_the_backfill(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: the state DB locked past its busy timeout during "backfill on save" showed
    the outage page (503), as if nothing was saved; it was."""
    from sqlalchemy.exc import OperationalError

    client, service, _config = served
    csrf = admin_login(client)

    def locked(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("UPDATE …", {}, Exception("database is locked"))

    monkeypatch.setattr(ops, "backfill_topic", locked)
    form = {"csrf": csrf, "title": "KT mới", "query": '"Kiến Thụy"', "enabled": "on",
            "backfill": "on", "version": opened_at(client, "kt")}  # fmt: skip
    r = client.post("/admin/topics/kt/edit", data=form)
    assert r.status_code == 200 and r.url.path == "/admin/topics", (r.status_code, r.url)
    kind, text = flash_of(r.text)
    assert kind == "bad" and text.startswith("Đã lưu thay đổi của chủ đề kt."), text
    assert "cơ sở dữ liệu đang bận" in text, text
    with service.db.read() as conn:
        topic = get_topic(conn, "kt")
    assert topic is not None and topic.title == "KT mới"


def test_sigterm_lost_in_a_cleanup_still_ends_the_command_as_terminated(
    served: tuple[TestClient, Service, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: SIGTERM while the backfill waited for SQLite's write lock ended as "the
    state DB is locked", exit 1: Python ran the handler after the C call returned, where a
    cleanup swallowed its exception. Here the handler runs inside such a cleanup, then the
    database error comes."""
    import signal

    from sqlalchemy.exc import OperationalError

    _client, _service, config = served

    def waited_for_the_lock(*_args: Any, **_kwargs: Any) -> None:
        with contextlib.suppress(terminate.Terminated):  # the cleanup that lost it
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)  # what the signal runs
        raise OperationalError("INSERT …", {}, Exception("database is locked"))

    monkeypatch.setattr(ops, "backfill_topic", waited_for_the_lock)
    result: Any = CliRunner().invoke(cli, ["topics", "backfill", "kt", "--config", str(config)])
    assert result.exit_code == 143, result.output
    assert "terminated (SIGTERM)" in result.output and "Traceback" not in result.output
    ok: Any = CliRunner().invoke(cli, ["topics", "list", "--config", str(config)])
    assert ok.exit_code == 0, ok.output  # the next command in this process is not "terminated"
