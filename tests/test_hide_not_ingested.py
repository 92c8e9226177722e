"""An editor's hide of an article imported into the built-in source table but not ingested yet
(between ``feedsvc import`` and the next ingest, or while the service is stopped) was refused
(exit 1, API 404 ``article_not_ingested``): nothing could hold a hide before ingest made the
article's row, and the next ingest published the article and alerted every subscribed chat —
exactly when a takedown is urgent (tester 2, finding 3). The hide is now recorded
(``pending_hides``, migration 0023) and ingest applies it in the transaction that stores the
article: it arrives hidden, never public, never alerted, in no feed. Through the CLI, the API
and the admin; State DB on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from factories import article
from lifecycle_world import entry_keys
from sqlalchemy import func, select
from starlette.testclient import TestClient
from test_admin_hide_back import admin
from test_lifecycle_editors import AUTH, client, followed_topic, service, state

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.db.schema import articles, deliveries, pending_hides
from feedsvc.store.source_articles import upsert_source_articles

__all__ = ["admin", "client", "service"]  # fixtures shared with test_admin_hide_back, …editors

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

KEY = "TEST-00009"
OTHER = "TEST-00010"  # imported with it, hidden by nobody: alerted and listed as usual
NOTE = (
    f"feedsvc: Article {KEY} is not ingested yet: the hide is recorded and applies when it is "
    "ingested (it is never public, never alerted). Unhide cancels it.\n"
)
#: what ``hide`` of a key found nowhere adds, with the built-in source (feedsvc sees the key is
#: not imported; a CMS's: "not read from the source yet?", ``test_hide_near_keys``)
HINT = " (not imported yet? --pending hides it ahead, so it arrives hidden)"


def imported(service: Service, **fields: Any) -> None:
    """Articles 9 and 10 in the source table, not ingested; topic ``kien-thuy`` (both match)
    followed by chat 777."""
    now = service.db.now()
    with service.db.write() as conn:
        followed_topic(service, conn, now)
        rows = [
            article(9, title="Kiến Thụy: tin cần gỡ", published_at=now, **fields),
            article(10, title="Kiến Thụy: tin thường", published_at=now),
        ]
        upsert_source_articles(conn, rows, now)


def alerted(service: Service) -> list[str]:
    """The keys of every queued alert (any state)."""
    stmt = select(articles.c.source_key).join(deliveries, articles.c.id == deliveries.c.article_id)
    with service.db.read() as conn:
        return sorted(conn.execute(stmt).scalars())


def listed(service: Service) -> list[str]:
    service.publisher.sync()
    snap = service.publisher.snapshot("kien-thuy", "rss", 50)
    assert snap is not None
    return entry_keys(snap.body)


def waiting_records(service: Service) -> int:
    with service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(pending_hides)).scalar_one())


def arrives_hidden(service: Service, reason: str | None, by: str) -> None:
    """The next ingest stores it hidden: never alerted, in no feed, its record gone; the
    article imported with it ingests as usual."""
    assert service.ingest_tick().error is None
    held = state(service, KEY)
    assert held is not None and held.hidden_at is not None
    assert (held.hidden_reason, held.hidden_by, held.hidden_unpublic) == (reason, by, True)
    assert alerted(service) == [OTHER]
    assert listed(service) == ["10.html"]
    assert waiting_records(service) == 0


def run_cli(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", *args], env=env)


def test_the_cli_hides_it_ahead_and_ingest_stores_it_hidden(service: Service) -> None:
    imported(service)
    result = run_cli(service, "hide", KEY, "--reason", "legal hold")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{KEY}\thidden (waiting for ingest)\t")
    assert result.stdout.rstrip("\n").endswith("\tlegal hold")
    assert result.stderr == NOTE
    found = run_cli(service, "find", KEY)
    assert found.stdout.startswith(f"{KEY}\thidden (waiting for ingest)\t") and not found.stderr
    arrives_hidden(service, "legal hold", "cli")
    assert run_cli(service, "find", KEY).stdout.startswith(f"{KEY}\thidden\t")


def test_a_key_nowhere_is_still_unknown(service: Service) -> None:
    result = run_cli(service, "hide", "NO-SUCH")
    assert (result.exit_code, result.output) == (1, f"feedsvc: unknown article 'NO-SUCH'{HINT}\n")
    assert waiting_records(service) == 0
    with_pending = run_cli(service, "hide", "NO-SUCH", "--pending")  # what the hint says works
    assert with_pending.exit_code == 0 and waiting_records(service) == 1


def test_unhide_of_a_key_nowhere_gives_no_hint(service: Service) -> None:
    result = run_cli(service, "unhide", "NO-SUCH-EITHER")
    assert (result.exit_code, result.output) == (1, "feedsvc: unknown article 'NO-SUCH-EITHER'\n")


def test_one_withdrawn_in_the_table_stays_hidden_when_imported_again(service: Service) -> None:
    """Withdrawn in the table it would not be published; hidden ahead, an import without
    ``"withdrawn": true`` afterwards does not publish it either."""
    imported(service, withdrawn=True)
    assert run_cli(service, "hide", KEY).exit_code == 0
    with service.db.write() as conn:
        again = article(9, title="Kiến Thụy: tin cần gỡ", published_at=service.db.now(),
                        updated_at=service.db.now())  # fmt: skip
        upsert_source_articles(conn, [again], service.db.now())
    arrives_hidden(service, None, "cli")


async def test_the_api_hides_it_ahead_in_both_languages(
    client: httpx.AsyncClient, service: Service
) -> None:
    imported(service)
    for lang, words in (("vi", "chưa được nạp: lệnh ẩn đã được ghi lại"),
                        ("en", "not ingested yet: the hide is recorded")):  # fmt: skip
        answer = await client.post(
            f"/api/articles/{KEY}/hide", headers=AUTH | {"Accept-Language": lang},
            json={"reason": "lệnh toà"},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["state"], body["pending"], body["hidden_by"]) == ("hidden", True, "api")
        assert body["hidden_reason"] == "lệnh toà" and words in body["message"]
    listing = await client.get("/api/articles", headers=AUTH, params={"q": KEY})
    assert [(a["source_key"], a["pending"]) for a in listing.json()["articles"]] == [(KEY, True)]
    arrives_hidden(service, "lệnh toà", "api")
    listing = await client.get("/api/articles", headers=AUTH, params={"q": KEY})
    assert [(a["state"], a["pending"]) for a in listing.json()["articles"]] == [("hidden", False)]


def test_the_admin_offers_it_and_hides_it_ahead(
    service: Service, admin: tuple[TestClient, str]
) -> None:
    imported(service)
    client, csrf = admin
    offered = client.get("/admin/articles", params={"q": KEY}).text
    assert "có trong bảng nguồn nhưng chưa được nạp" in offered
    assert 'name="pending" value="1"' in offered
    form = {"key": KEY, "csrf": csrf, "reason": "chờ duyệt", "pending": "1"}
    page = client.post("/admin/articles/hide", data=form)
    assert "lệnh ẩn đã được ghi lại" in page.text
    assert "Bị ẩn (chờ nạp)" in client.get("/admin/articles").text
    arrives_hidden(service, "chờ duyệt", "admin")


def test_the_admin_form_without_pending_hides_a_waiting_key_too(
    service: Service, admin: tuple[TestClient, str]
) -> None:
    """The article list's own hide form (no ``pending``) of a key waiting for ingest."""
    imported(service)
    client, csrf = admin
    page = client.post("/admin/articles/hide", data={"key": KEY, "csrf": csrf})
    assert "lệnh ẩn đã được ghi lại" in page.text
    arrives_hidden(service, None, "admin")


def test_find_says_it_is_waiting_for_ingest_not_that_nothing_matches(service: Service) -> None:
    """``articles find KEY`` right after ``import`` said "no article matches", as for a typo
    (verifier); it says the key waits for ingest and that a hide now keeps it out."""
    imported(service)
    result = run_cli(service, "find", KEY)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        f"feedsvc: '{KEY}' is in the source table but not ingested yet: the next ingest "
        "publishes it (within source.poll_seconds while the service runs); a hide now keeps it "
        "out\n"
    )
    assert run_cli(service, "find", "NO-SUCH").stderr == 'feedsvc: no article matches "NO-SUCH"\n'
    assert service.ingest_tick().error is None
    found = run_cli(service, "find", KEY)
    assert found.exit_code == 0 and found.stdout.startswith(f"{KEY}\tpublic") and not found.stderr


def test_find_of_one_withdrawn_in_the_table_says_it_stays_out(service: Service) -> None:
    imported(service, withdrawn=True)
    result = run_cli(service, "find", KEY)
    assert result.exit_code == 0 and "is withdrawn in the source table" in result.stderr
