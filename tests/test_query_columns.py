"""Where a query error is, said the same way everywhere: the character counted from 1.

The CLI said ``at 10`` (the parser's 0-based offset) where the admin, the bot and the search
feed said "at character 11" for the same query ``"an ninh" OR``; the API's ``error`` said
``at 10`` too. Every surface now shows :attr:`feedsvc.matching.QueryError.column`; the API
and the admin's live preview keep ``position``, the 0-based offset, for code that slices
the query text, and add ``column``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from test_admin import csrf_of, login, make_client
from test_api import ADMIN_TOKEN, make_service
from test_cli_topics import run

from feedsvc.app import create_app
from feedsvc.bot import texts
from feedsvc.catalogue import CATALOGUE
from feedsvc.matching import QueryError, parse_query

__all__ = ["run"]  # the fixture, shared with test_cli_topics

QUERY = '"an ninh" OR'  # "OR needs a term after it", at the O: offset 10, character 11
OFFSET, COLUMN = 10, 11


def test_the_error_names_the_character_counted_from_one() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(QUERY)
    assert (caught.value.position, caught.value.column) == (OFFSET, COLUMN)
    assert str(caught.value).startswith(f"at character {COLUMN}: OR needs a term")
    with pytest.raises(QueryError) as first:
        parse_query(")")
    assert first.value.column == 1 and str(first.value).startswith("at character 1: ")


def test_an_error_inside_a_reference_counts_from_one_too() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("công @y", {"y": "a OR"}.get)
    assert str(caught.value).startswith("at character 6: in @y at character 3: OR needs")


def test_cli_topics_add_preview_and_match_count_from_one(run) -> None:  # type: ignore[no-untyped-def]
    added = run("topics", "add", "x", "--title", "X", "--query", QUERY)
    assert added.exit_code == 2
    assert f"at character {COLUMN}: OR needs a term after it" in added.stderr
    previewed = run("topics", "preview", QUERY)
    assert previewed.exit_code == 2
    lines = previewed.stderr.splitlines()
    assert lines[0] == f"feedsvc: invalid query: at character {COLUMN}: OR needs a term after it"
    assert lines[1:] == [f"  {QUERY}", "  " + " " * OFFSET + "^"]  # the caret under the O
    matched = run("match", "--query", QUERY, input="")
    assert matched.exit_code == 2 and f"at character {COLUMN}: " in matched.stderr


async def test_api_says_the_column_and_keeps_the_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    service = make_service(tmp_path)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"slug": "x", "title": "X", "query": QUERY}
    try:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path, json in (("/api/topics", body), ("/api/topics/preview", {"query": QUERY})):
                for language, at in (("en", "at character"), ("vi", "tại ký tự")):
                    headers = auth | {"Accept-Language": language}
                    r = await client.post(path, json=json, headers=headers)
                    assert r.status_code == 422, (path, r.text)
                    out = r.json()
                    assert (out["position"], out["column"]) == (OFFSET, COLUMN)
                    assert out["error"].startswith(f"at character {COLUMN}: OR needs")
                    assert out["message"].startswith(f"{at} {COLUMN}: "), out["message"]
    finally:
        service.close()


def test_admin_preview_form_bot_and_search_feed_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = CATALOGUE["at_position"][0].format(position=COLUMN)  # "tại ký tự 11"
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        login(client)
        headers = {"X-CSRF-Token": csrf_of(client)}
        data = client.post("/admin/preview", json={"query": QUERY}, headers=headers).json()
        assert (data["position"], data["column"], data["where"]) == (OFFSET, COLUMN, at)
        form = client.post(
            "/admin/topics/new",
            data={"slug": "x", "title": "X", "query": QUERY, "csrf": csrf_of(client)},
        )
        assert f"({at})" in form.text
        feed = client.get("/feeds/search.json", params={"q": QUERY})
        assert feed.status_code == 400 and f"{at}: " in feed.text
    service.close()
    with pytest.raises(QueryError) as caught:
        parse_query(QUERY)
    assert f"({at})" in texts.invalid_query(QUERY, caught.value)
