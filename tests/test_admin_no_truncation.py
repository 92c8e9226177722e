"""Admin form fields are never cut: over-long input is a clear error (defects §3).

The chat page read ``digest``/``quiet`` as their first 100 characters (and the browser cut them
at ``maxlength="100"``), so ``"8:00," * 30`` was saved as one digest at 08:00 and a long bad
value was refused for what its first 100 characters said. Every admin field is now taken whole:
no ``maxlength`` in the templates (a browser cuts a paste silently), no slicing in handlers; the
rule that owns the value refuses what is too long, for the bot, the API and the admin alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import article
from starlette.testclient import TestClient
from test_admin import CSRF_FIELD, login, make_client

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.digest import ChatSettings
from feedsvc.lifecycle.editors import MAX_SEARCH
from feedsvc.store import digests as held
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat

TOKEN = "admin-test-token-0123456789abcdef"  # test_admin.TOKEN
CHAT = 777
LONG_KEY = "CMS-" + "k" * 240  # a legal source key (≤ 255) longer than the old 200 cut


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        now = service.db.now()
        with service.db.write() as conn:
            ensure_chat(conn, CHAT, "private", "Lan", datetime.now(UTC))
            upsert_source_articles(conn, [article(1, title="Kiến Thụy khánh thành cầu mới"),
                                          article(2, source_key=LONG_KEY, title="Đồ Sơn")],
                                   now)  # fmt: skip
        assert service.ingest_tick().error is None
        login(client)
        yield client, service


def settings_of(service: Service) -> ChatSettings | None:
    with service.db.read() as conn:
        return held.get_settings(conn, CHAT)


def test_no_admin_page_has_a_maxlength(admin: tuple[TestClient, Service]) -> None:
    client, _ = admin
    for path in (f"/admin/chats/{CHAT}", "/admin/articles", "/admin/subscriptions",
                 "/admin/topics/new", "/admin/topics"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, path
        assert "maxlength" not in page.text.lower(), path


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("digest", "8:00," * 30),  # its first 100 characters are a valid digest
        ("digest", "07:00" + " " * 100 + "25:00"),
        ("digest", "hourly" + " " * 200),
        ("digest", "x" * 150),  # refused before for a cut "xxx…" not being a time
        ("quiet", "22:00-06:00" + " " * 95 + "junk"),
        ("quiet", "off" + "\u00a0" * 120),
    ],
)
def test_an_over_long_chat_setting_is_refused_whole(
    admin: tuple[TestClient, Service], field: str, typed: str
) -> None:
    client, service = admin
    csrf = CSRF_FIELD.search(client.get(f"/admin/chats/{CHAT}").text)
    assert csrf
    form = {"csrf": csrf.group(1), "digest": "off", "quiet": "off"} | {field: typed}
    refused = client.post(f"/admin/chats/{CHAT}", data=form)
    assert refused.status_code == 422
    assert "dài quá 100 ký tự" in refused.text and f'id="{field}-error"' in refused.text
    shown = re.search(rf'id="{field}" name="{field}"[^>]*value="([^"]*)"', refused.text)
    assert shown and len(shown.group(1)) == len(typed)  # kept whole for correcting
    assert settings_of(service) == ChatSettings()  # nothing saved


def test_the_api_and_bot_rule_is_the_same(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    auth = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en"}
    answer = client.patch(f"/api/chats/{CHAT}", headers=auth, json={"digest": "8:00," * 30})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "setting_too_long" and answer.json()["field"] == "digest"
    assert answer.json()["message"] == "The value is longer than 100 characters."
    assert settings_of(service) == ChatSettings()


def test_article_search_is_whole_or_refused(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    found = client.get("/admin/articles", params={"q": LONG_KEY})
    assert found.status_code == 200 and "Đồ Sơn" in found.text  # cut at 200 it found nothing
    too_long = "Kiến Thụy " + "x" * MAX_SEARCH  # over the search's limit, a typed key's
    refused = client.get("/admin/articles", params={"q": too_long})
    assert refused.status_code == 422 and f"dài quá {MAX_SEARCH} ký tự" in refused.text
    assert "Kiến Thụy khánh thành" not in refused.text
    api = client.get("/api/articles", params={"q": LONG_KEY},
                     headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert api.status_code == 200 and [a["source_key"] for a in api.json()["articles"]] == [
        LONG_KEY
    ]
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    cli_found = CliRunner().invoke(cli, ["articles", "find", LONG_KEY], env=env)
    assert cli_found.exit_code == 0 and cli_found.output.startswith(LONG_KEY + "\t")
    cli_long = CliRunner().invoke(cli, ["articles", "find", "a" * (MAX_SEARCH + 1)], env=env)
    assert cli_long.exit_code == 2 and f"longer than {MAX_SEARCH}" in cli_long.output


def test_over_long_reason_and_url_are_errors_not_cuts(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    listing = client.get("/admin/articles", params={"q": "TEST-00001"})
    csrf = CSRF_FIELD.search(listing.text)
    assert csrf
    hidden = client.post("/admin/articles/hide", data={"key": "TEST-00001", "csrf": csrf.group(1),
                                                       "reason": "r" * 501})  # fmt: skip
    assert "dài quá 500 ký tự" in hidden.text
    with service.db.read() as conn:
        assert editor_state(conn, "TEST-00001").hidden_at is None
    subs = client.get("/admin/subscriptions")
    csrf = CSRF_FIELD.search(subs.text)
    assert csrf
    url = "json://127.0.0.1:9/" + "p" * 2100
    added = client.post("/admin/subscriptions/apprise",
                        data={"csrf": csrf.group(1), "url": url, "query": "an ninh"})  # fmt: skip
    assert "2.000 ký tự" in added.text


@pytest.mark.parametrize("typed", ["8:00," * 30, "on" + " " * 99, "x" * 101])
def test_every_setting_parser_refuses_over_long_text(typed: str) -> None:
    """The one rule behind the bot's /digest, /quiet, /silent, the API and the admin."""
    from feedsvc.digest import SettingError, parse_digest, parse_quiet, parse_switch

    for field, parse in (("digest", parse_digest), ("quiet", parse_quiet),
                         ("silent", parse_switch)):  # fmt: skip
        with pytest.raises(SettingError) as refused:
            parse(typed)
        assert (refused.value.code, refused.value.field) == ("too_long", field)
        assert refused.value.params == {"limit": 100}
