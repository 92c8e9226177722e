"""An editor's hide of an article that is imported into the built-in source table but not yet
ingested (between ``feedsvc import`` and the next ingest, or while the service is stopped)
said "unknown article" (exit 1, API 404): read as a typo, the editor moved on, and the next
ingest published and alerted the article (tester 2, finding 3). Nothing can hold a hide before
ingest makes the article's row (no migration for it), so the answer now says the truth and what
to do: it is in the source table, the next ingest publishes it, import it with
``"withdrawn": true`` or hide it after that ingest. Same status and exit code as before."""

from __future__ import annotations

from typing import Any

import httpx
from click.testing import CliRunner
from factories import article
from starlette.testclient import TestClient
from test_admin_hide_back import admin
from test_lifecycle_editors import AUTH, client, service, state

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.store.source_articles import upsert_source_articles

__all__ = ["admin", "client", "service"]  # fixtures shared with test_admin_hide_back, …editors

KEY = "TEST-00009"
SAID = (
    f"'{KEY}' is in the source table but not ingested yet: the next ingest publishes it "
    "(within source.poll_seconds while the service runs); to keep it out, import it with "
    '"withdrawn": true now, or hide it after that ingest'
)


def imported(service: Service, **fields: Any) -> None:
    """Article 9 in the source table, not ingested."""
    with service.db.write() as conn:
        row = article(9, title="Kiến embargo", published_at=service.db.now(), **fields)
        upsert_source_articles(conn, [row], service.db.now())


def hide_cli(service: Service, key: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", "hide", key, "--reason", "legal hold"], env=env)


def test_the_cli_says_it_is_waiting_for_ingest_and_how_to_keep_it_out(service: Service) -> None:
    imported(service)
    result = hide_cli(service, KEY)
    assert (result.exit_code, result.output) == (1, f"feedsvc: {SAID}\n")
    assert service.ingest_tick().error is None
    assert hide_cli(service, KEY).exit_code == 0  # once ingested, hidden as any other
    assert state(service, KEY).hidden_reason == "legal hold"


def test_a_key_nowhere_is_still_unknown(service: Service) -> None:
    result = hide_cli(service, "NO-SUCH")
    assert (result.exit_code, result.output) == (1, "feedsvc: unknown article 'NO-SUCH'\n")


def test_one_withdrawn_in_the_table_is_said_to_stay_out(service: Service) -> None:
    imported(service, withdrawn=True)
    result = hide_cli(service, KEY)
    assert result.exit_code == 1 and "is withdrawn in the source table" in result.output


async def test_the_api_says_it_in_both_languages(
    client: httpx.AsyncClient, service: Service
) -> None:
    imported(service)
    for lang, words in (("vi", "có trong bảng nguồn nhưng chưa được nạp"),
                        ("en", "is in the source table but not ingested yet")):  # fmt: skip
        answer = await client.post(
            f"/api/articles/{KEY}/hide", headers=AUTH | {"Accept-Language": lang}
        )
        assert answer.status_code == 404
        body = answer.json()
        assert (body["code"], body["error"]) == ("article_not_ingested", SAID)
        assert words in body["message"] and '"withdrawn": true' in body["message"]


def test_the_admin_says_it(service: Service, admin: tuple[TestClient, str]) -> None:
    imported(service)
    client, csrf = admin
    page = client.post("/admin/articles/hide", data={"key": KEY, "csrf": csrf})
    assert "có trong bảng nguồn nhưng chưa được nạp" in page.text


def test_what_it_says_of_a_withdrawn_one_holds(service: Service) -> None:
    imported(service, withdrawn=True)
    assert service.ingest_tick().error is None
    held = state(service, KEY)
    assert held is None or held.withdrawn_at is not None  # never public


def find_cli(service: Service, text: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", "find", text], env=env)


def test_find_says_it_is_waiting_for_ingest_not_that_nothing_matches(service: Service) -> None:
    """``articles find KEY`` right after ``import`` said "no article matches", as for a typo
    (verifier); it now says what ``hide`` says, exit 0 as any search that finds nothing."""
    imported(service)
    result = find_cli(service, KEY)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"feedsvc: {SAID}\n")
    assert find_cli(service, "NO-SUCH").stderr == 'feedsvc: no article matches "NO-SUCH"\n'
    assert find_cli(service, "embargo").stderr == 'feedsvc: no article matches "embargo"\n'
    assert service.ingest_tick().error is None
    found = find_cli(service, KEY)
    assert found.exit_code == 0 and found.stdout.startswith(f"{KEY}\tpublic") and not found.stderr


def test_find_of_one_withdrawn_in_the_table_says_it_stays_out(service: Service) -> None:
    imported(service, withdrawn=True)
    result = find_cli(service, KEY)
    assert result.exit_code == 0 and "is withdrawn in the source table" in result.stderr
