"""A ``PUT /api/topics/{slug}`` whose ``If-Match`` or ``If-None-Match`` the stored topics do not
meet: 412 (RFC 9110 §13.1.1, §13.1.2), said in words for a program's author.

Found by a tester on a fresh ``feedsvc demo``: ``PUT /api/topics/never-existed`` with
``If-Match: *`` (or ``If-Match: "<version>"``) answered 412 ``topic_deleted_meanwhile``, "…
was deleted while you were editing it …; nothing was saved. What you typed is below: Save
creates the topic again, or Cancel." — of a topic that never existed, to an API client that
has no "below", no Save and no Cancel. The class: a catalogue message written for the admin's
form that the JSON API carries with the form's instructions in it. Now a slug no topic ever had
is 412 ``topic_not_found``, a topic the store recorded as deleted 412
``topic_deleted_meanwhile``, each worded for the API (``op.<code>.precondition``), the admin's
editor keeping its own words; and ``If-None-Match: *`` (create only), which a ``PUT`` ignored
and saved over the existing topic, is 412 ``topic_exists``. Through the whole app
(``create_app``) over HTTP with a real SQLite state DB, as ``test_web_words``.
"""

from __future__ import annotations

import re

import httpx
import pytest
from test_web_words import AUTH, EN, VI, client, en, service, vi  # noqa: F401  (fixtures)

from feedsvc.app import Service
from feedsvc.catalogue import CATALOGUE
from feedsvc.operations import get_topic, save_topic
from feedsvc.store.topics import TopicSpec, find_topic

BODY = {"title": "Chủ đề mới", "query": '"Đồ Sơn"'}
#: what a form's instructions are made of, in either language: an API answer holds none
FORM_WORDS = re.compile(
    r"\b(Save|Cancel|click|Click)\b|\bbelow\b(?! -?\d)|bấm|Bấm|\bLưu\b|Huỷ|Hủy|dưới đây"
)


async def put(http: httpx.AsyncClient, slug: str, headers: dict[str, str]) -> httpx.Response:
    return await http.put(f"/api/topics/{slug}", headers=AUTH | headers, json=BODY)


def a_version(svc: Service) -> str:
    """A version as GET gives one (another topic's): readable, matching no topic here."""
    save_topic(svc.db, TopicSpec("d6", "D6", '"Cát Bà"'), "cli")
    return get_topic(svc.db, "d6").version


def not_saved(svc: Service, slug: str) -> None:
    with svc.db.read() as conn:
        assert find_topic(conn, slug) is None, slug


@pytest.mark.parametrize("tag", ["*", "version"])
async def test_if_match_on_a_topic_that_never_was_says_there_is_none(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    service: Service,  # noqa: F811
    tag: str,
) -> None:
    header = "*" if tag == "*" else f'"{a_version(service)}"'
    for lang, words in ((EN, en), (VI, vi)):
        r = await put(client, "never-existed", {"If-Match": header} | lang)
        assert r.status_code == 412, r.text
        out = r.json()
        assert out["code"] == "topic_not_found", out
        assert out["message"] == words("op.topic_not_found.precondition").format(
            slug="'never-existed'"
        )
        assert "If-Match" in out["message"] and not FORM_WORDS.search(out["message"]), out
        assert "If-Match" in out["error"] and "deleted" not in out["error"], out
    not_saved(service, "never-existed")


@pytest.mark.parametrize("tag", ["*", "version"])
async def test_if_match_on_a_deleted_topic_says_it_was_deleted(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    tag: str,
) -> None:
    """The store records a deleted slug (its feeds answer 410): the answer says so, in the
    API's words, with no form in them."""
    first = await put(client, "ghost", {})
    assert first.status_code == 201
    header = "*" if tag == "*" else f'"{first.json()["version"]}"'
    assert (await client.delete("/api/topics/ghost", headers=AUTH)).status_code == 200
    for lang, words in ((EN, en), (VI, vi)):
        r = await put(client, "ghost", {"If-Match": header} | lang)
        assert r.status_code == 412, r.text
        out = r.json()
        assert out["code"] == "topic_deleted_meanwhile", out
        assert out["message"] == words("op.topic_deleted_meanwhile.precondition").format(
            slug="ghost"
        )
        assert not FORM_WORDS.search(out["message"]), out["message"]
    not_saved(service, "ghost")
    again = await put(client, "ghost", {})  # without If-Match: created again, as the words say
    assert again.status_code == 201


@pytest.mark.parametrize("slug", ["d6", "D6", " d6"])
async def test_if_none_match_star_never_saves_over_a_topic(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    slug: str,
) -> None:
    """``If-None-Match: *``: create only. It was ignored: the ``PUT`` overwrote d6. A slug
    naming d6 in another case is d6 (:mod:`feedsvc.slugs`), so it is refused too."""
    version = a_version(service)
    for lang, words in ((EN, en), (VI, vi)):
        r = await put(client, slug, {"If-None-Match": "*"} | lang)
        assert r.status_code == 412, r.text
        out = r.json()
        assert out["code"] == "topic_exists", out
        assert out["message"] == words("op.topic_exists.precondition").format(slug="d6")
        assert not FORM_WORDS.search(out["message"])
    assert get_topic(service.db, "d6").version == version  # nothing saved


async def test_if_none_match_star_creates_a_new_topic(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    r = await put(client, "moi", {"If-None-Match": "*"})
    assert r.status_code == 201, r.text
    assert get_topic(service.db, "moi").title == BODY["title"]
    both = await put(client, "moi2", {"If-None-Match": "*", "If-Match": "*"})
    assert both.status_code == 412 and both.json()["code"] == "topic_not_found"  # If-Match first
    not_saved(service, "moi2")


@pytest.mark.parametrize("value", ['"1"', 'W/"x"', "*, *", ""])
async def test_if_none_match_other_than_star_is_refused_not_ignored(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    value: str,
) -> None:
    version = a_version(service)
    r = await put(client, "d6", {"If-None-Match": value} | VI)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "if_none_match_invalid"
    assert r.json()["message"] == vi("api.if_none_match_invalid")
    assert get_topic(service.db, "d6").version == version


def test_no_message_the_api_can_carry_holds_a_forms_instructions() -> None:
    """The class: every operation error and API error is worded by its code for whoever
    raised it; only the admin's form raises ``topic_version_missing`` (the API refuses an
    unreadable If-Match itself, 400 ``if_match_invalid``)."""
    form_only = {"op.topic_version_missing"}
    found = {
        key
        for key, pair in CATALOGUE.items()
        if key.startswith(("op.", "api.")) and key not in form_only
        for text in pair
        if FORM_WORDS.search(text)
    }
    assert sorted(found) == []


# -- empty and repeated header lines (RFC 9110 §5.3: the lines are one comma-separated list) ----


async def put_lines(
    http: httpx.AsyncClient, slug: str, lines: list[tuple[str, str]]
) -> httpx.Response:
    """A ``PUT`` with header ``lines`` sent as they are, a field repeated on several lines."""
    headers = [*AUTH.items(), *VI.items(), *lines]
    return await http.put(f"/api/topics/{slug}", headers=headers, json=BODY)


@pytest.mark.parametrize(
    "lines",
    [
        [("If-None-Match", '"x"'), ("If-None-Match", "*")],  # was 400: the first line alone
        [("If-None-Match", "*"), ("If-None-Match", '"x"')],  # was 412 topic_exists
        [("If-None-Match", "*"), ("If-None-Match", "*")],  # "*, *": no list the grammar has
        [("If-None-Match", ""), ("If-None-Match", '*, "x"')],
        [("If-None-Match", "")],
        [("If-None-Match", " ")],
    ],
)
async def test_if_none_match_on_several_lines_is_read_whole(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    lines: list[tuple[str, str]],
) -> None:
    version = a_version(service)
    r = await put_lines(client, "d6", lines)
    assert r.status_code == 400, r.text
    assert (r.json()["code"], r.json()["field"]) == ("if_none_match_invalid", "If-None-Match")
    assert get_topic(service.db, "d6").version == version
    new = await put_lines(client, "d7", lines)
    assert new.status_code == 400, new.text  # the same answer whether the topic exists or not
    not_saved(service, "d7")


async def test_if_none_match_star_on_its_own_line_beside_empty_members_still_guards(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    """Empty list members are nothing (RFC 9110 §5.6.1): ``*`` with them is ``*``."""
    version = a_version(service)
    for lines in ([("If-None-Match", " *, ")], [("If-None-Match", "*"), ("If-None-Match", "")]):
        r = await put_lines(client, "d6", lines)
        assert r.status_code == 412 and r.json()["code"] == "topic_exists", r.text
    assert get_topic(service.db, "d6").version == version


@pytest.mark.parametrize(
    "lines",
    [
        [("If-Match", "")],
        [("If-Match", "*"), ("If-Match", "{v}")],  # was 412: "*" read, the version not
        [("If-Match", "{v}"), ("If-Match", "*")],  # was a save over the version: "*" not read
        # two versions are "any of them", a tag that is no version beside the current one
        # too (tests/test_api_entity_tags.py)
        [("If-Match", "*, *")],
    ],
)
async def test_if_match_on_several_lines_is_read_whole(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    lines: list[tuple[str, str]],
) -> None:
    version = a_version(service)
    sent = [(name, value.format(v=f'"{version}"')) for name, value in lines]
    r = await put_lines(client, "d6", sent)
    assert r.status_code == 400, r.text
    assert (r.json()["code"], r.json()["field"]) == ("if_match_invalid", "If-Match")
    assert get_topic(service.db, "d6").version == version


async def test_if_match_with_one_version_beside_empty_lines_saves_over_it(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    version = a_version(service)
    r = await put_lines(client, "d6", [("If-Match", ""), ("If-Match", f'"{version}"')])
    assert r.status_code == 200, r.text
    assert get_topic(service.db, "d6").title == BODY["title"]
