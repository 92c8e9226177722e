"""``feedsvc articles find|hide|unhide`` date a row in ``site.timezone`` with its offset.

They printed ``2026-11-30T03:34Z`` for an article published at 10:34 in Hải Phòng, while
``topics preview``, ``source check`` and the admin say ``2026-11-30 10:34 +07:00``: an editor
checking a takedown read the wrong day near midnight. The row now says the site's time, to the
second as every CLI time (``local_times.local_time``: ``2026-11-30 10:34:56 +07:00``; it said
the minute, the admin's pattern, until the tester's T4). ``find --json`` is for scripts: ``GET
/api/articles``' JSON, times in ISO 8601 UTC whatever the zone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factories import article, jsonl
from test_admin import TOKEN, TestClient

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config

PUBLISHED = datetime(2026, 11, 30, 3, 34, 56, tzinfo=UTC)  # 10:34:56 in Hải Phòng
LATE = datetime(2026, 11, 30, 20, 5, 9, tzinfo=UTC)  # 03:05:09 the next day in Hải Phòng

ZONES = [
    (None, "2026-11-30 10:34:56 +07:00", "2026-12-01 03:05:09 +07:00"),  # the default zone
    ("Europe/Paris", "2026-11-30 04:34:56 +01:00", "2026-11-30 21:05:09 +01:00"),
    ("UTC", "2026-11-30 03:34:56 +00:00", "2026-11-30 20:05:09 +00:00"),
    ("America/Sao_Paulo", "2026-11-30 00:34:56 -03:00", "2026-11-30 17:05:09 -03:00"),
]


def stored(tmp_path: Path, zone: str | None) -> dict[str, str]:
    """Two articles imported and ingested into a state DB in ``tmp_path``; the CLI's env."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    if zone is not None:
        env["FEEDSVC_SITE__TIMEZONE"] = zone
    src = tmp_path / "a.jsonl"
    lines = jsonl(article(1, published_at=PUBLISHED), article(2, published_at=LATE))
    src.write_text(lines, encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", str(src)], env=env).exit_code == 0
    service = Service(load_config(None, {"database": {"url": url}}))
    service.prepare()
    assert service.ingest_tick().new == 2
    service.close()
    return env


def articles(env: dict[str, str], *args: str) -> Result:
    done = CliRunner().invoke(cli, ["articles", *args], env=env)
    assert done.exit_code == 0, done.output
    return done


def times(output: str) -> dict[str, str]:
    """Each row's key → its time column."""
    return {row.split("\t")[0]: row.split("\t")[2] for row in output.splitlines()}


@pytest.mark.parametrize(("zone", "first", "second"), ZONES)
def test_find_dates_rows_in_the_site_zone(
    tmp_path: Path, zone: str | None, first: str, second: str
) -> None:
    env = stored(tmp_path, zone)
    found = articles(env, "find")
    assert times(found.stdout) == {"TEST-00001": first, "TEST-00002": second}, found.stdout
    assert all(len(row.split("\t")) == 4 for row in found.stdout.splitlines())  # columns kept


@pytest.mark.parametrize(("zone", "first", "second"), ZONES[:2])
def test_hide_and_unhide_rows_too(
    tmp_path: Path, zone: str | None, first: str, second: str
) -> None:
    env = stored(tmp_path, zone)
    hidden = articles(env, "hide", "TEST-00002", "--reason", "toà án")
    assert times(hidden.stdout) == {"TEST-00002": second}
    assert times(articles(env, "unhide", "TEST-00002").stdout) == {"TEST-00002": second}
    ahead = articles(env, "hide", "CMS-9", "--pending")  # no table holds it: no time
    assert times(ahead.stdout) == {"CMS-9": "-"}


@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_find_json_is_the_apis_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str | None
) -> None:
    env = stored(tmp_path, zone)
    articles(env, "hide", "TEST-00001", "--reason", "Yêu cầu của toà án")
    shown: dict[str, Any] = json.loads(articles(env, "find", "--json").stdout)
    by_key = {a["source_key"]: a for a in shown["articles"]}
    assert by_key["TEST-00001"]["published_at"] == "2026-11-30T03:34:56Z"
    assert by_key["TEST-00002"]["published_at"] == "2026-11-30T20:05:09Z"
    assert by_key["TEST-00001"]["state"] == "hidden"
    assert by_key["TEST-00001"]["hidden_at"].endswith("Z")
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None,
        {"database": {"url": env["FEEDSVC_DATABASE__URL"]}, "site": {"timezone": zone or "UTC"}},
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service)) as client:
        api = client.get("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert shown == api


def test_find_json_finding_none(tmp_path: Path) -> None:
    env = stored(tmp_path, None)
    none = articles(env, "find", "Cát Bà", "--json")
    assert json.loads(none.stdout) == {"articles": []}
    assert none.stderr == 'feedsvc: no article matches "Cát Bà"\n'


def test_hide_and_unhide_json_are_the_apis_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hide --json`` and ``unhide --json`` print the article as ``POST
    /api/articles/{key}/hide|unhide`` answer it (the same keys, in order; times UTC); a
    pending hide and its cancel carry their words in ``message``, as stderr says them."""
    env = stored(tmp_path, "Europe/Paris")
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": env["FEEDSVC_DATABASE__URL"]}})
    service = Service(settings, Roles(scheduler=False, bot=False))

    def api_item(client: TestClient, key: str) -> dict[str, Any]:
        listed = client.get("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"})
        [item] = [a for a in listed.json()["articles"] if a["source_key"] == key]
        return item  # type: ignore[no-any-return]

    with TestClient(create_app(service)) as client:
        hidden = articles(env, "hide", "TEST-00001", "--reason", "toà án", "--json")
        shown = json.loads(hidden.stdout)
        assert list(shown) == list(api_item(client, "TEST-00001"))  # the API's keys, in order
        assert shown == api_item(client, "TEST-00001") and hidden.stderr == ""
        assert (shown["state"], shown["hidden_reason"]) == ("hidden", "toà án")
        assert shown["published_at"] == "2026-11-30T03:34:56Z"
        back = json.loads(articles(env, "unhide", "TEST-00001", "--json").stdout)
        assert back == api_item(client, "TEST-00001") and back["state"] == "public"

        ahead = articles(env, "hide", "CMS-9", "--pending", "--json")
        pending = json.loads(ahead.stdout)
        assert (pending["state"], pending["pending"], pending["published_at"]) == (
            "hidden", True, None,
        )  # fmt: skip
        assert ahead.stderr == f"feedsvc: {pending['message']}\n" and "CMS-9" in ahead.stderr
        cancel = articles(env, "unhide", "CMS-9", "--json")
        cancelled = json.loads(cancel.stdout)
        assert (cancelled["state"], cancelled["pending"]) == ("not_ingested", False)
        assert cancel.stderr == f"feedsvc: {cancelled['message']}\n"
        articles(env, "hide", "CMS-10", "--pending")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        api = client.post("/api/articles/CMS-10/unhide", headers=auth).json()
        assert list(api) == list(cancelled)
        differ = ("source_key", "message")
        assert {k: v for k, v in api.items() if k not in differ} == {
            k: v for k, v in cancelled.items() if k not in differ
        }


@pytest.mark.parametrize("as_json", [False, True])
def test_find_says_when_more_match_than_listed(tmp_path: Path, as_json: bool) -> None:
    """``--limit`` (default 20) cut the list silently: 20 lines read as "all there are" (a
    tester's). A cut list says so on stderr (stdout unchanged: the rows, or the API's JSON)."""
    env = stored(tmp_path, None)
    flags = ["--json"] if as_json else []
    cut = CliRunner().invoke(cli, ["articles", "find", "--limit", "1", *flags], env=env)
    assert cut.exit_code == 0, cut.output
    assert "the newest 1 shown; more match" in cut.stderr
    listed = json.loads(cut.stdout)["articles"] if as_json else cut.stdout.splitlines()
    assert len(listed) == 1
    whole = CliRunner().invoke(cli, ["articles", "find", "--limit", "2", *flags], env=env)
    assert whole.exit_code == 0 and whole.stderr == ""
    found = json.loads(whole.stdout)["articles"] if as_json else whole.stdout.splitlines()
    assert len(found) == 2
