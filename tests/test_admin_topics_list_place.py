"""The admin's topics list keeps its place through an action (a report, medium): on
``/admin/topics?q=…&page=N`` each Enable, Disable, Delete and Backfill — and a Save or Cancel
in the editor opened from the list — went back to page 1 of the whole list, so an admin
disabling ten topics on page 7 of a filtered list looked for the place ten times. Now every
form and editor link leaving the list carries its ``q`` and page
(:class:`feedsvc.web.admin_topic_list.ListPlace`), and the answer goes back there: after a
refusal (a stale enable), through the delete's page asking again (its buttons and Cancel), a
page past the last after a delete being the list's last. What comes back is read as the list
reads it (``q`` cleaned, the page ASCII digits) and written by ``urlencode`` under the admin's
own ``/topics``: a tampered value (``page=abc``, a CR LF in ``q``, ``//evil.example``) is
never another place, nor a header split.

The real app on a real SQLite state DB (``test_admin``'s client), the admin in Vietnamese and
in English.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from test_admin import fields_in, login, make_client
from test_admin_topics_list import add_topics, slugs

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.store.topics import TopicSpec

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

Q = "Kiến Thụy"  # Vietnamese, with a space
#: 75 topics the filter keeps (page 1: kt-000…049, page 2: kt-050…074) among 140
KEPT = [TopicSpec(f"kt-{i:03d}", f"Kiến Thụy số {i}", f'"từ {i}"') for i in range(75)]
OTHERS = [TopicSpec(f"ds-{i:03d}", f"Đồ Sơn {i}", f'"biển {i}"') for i in range(65)]
LIST = "/admin/topics"
ON_PAGE_2 = "kt-060"


def place(q: str | None = Q, page: int | None = 2) -> str:
    """The list's URL with ``q`` and ``page`` as feedsvc writes it (``urlencode``)."""
    params = {"q": q} if q else {}
    if page and page > 1:
        params["page"] = str(page)
    return LIST + ("?" + urlencode(params) if params else "")


@pytest.fixture(params=["vi", "en"])
def admin(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Service, Translator]]:
    client, service = make_client(tmp_path, monkeypatch, language=request.param)
    with client:
        assert login(client).status_code == 303
        add_topics(service, KEPT + OTHERS)
        yield client, service, Translator(request.param)


def listed(client: Any, q: str | None = Q, page: int | None = 2) -> str:
    answer = client.get(place(q, page))
    assert answer.status_code == 200, answer.text
    return answer.text


def sent(client: Any, slug: str, action: str, fields: dict[str, str]) -> Any:
    return client.post(f"/admin/topics/{slug}/{action}", data=fields, follow_redirects=False)


def back_at(answer: Any, q: str | None = Q, page: int | None = 2) -> None:
    """A 303 to the list's place: the admin's own ``/topics``, nothing else."""
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location == place(q, page), location
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and parts.path == LIST, location


def flash(page: str) -> str:
    found = re.search(r'<p class="flash (ok|bad)" role="status">(.*?)</p>', page, re.S)
    assert found, page
    return found.group(1) + ": " + html.unescape(found.group(2))


# -- each action, from page 2 of a filtered list ----------------------------------------------


@pytest.mark.parametrize("action", ["enable", "disable", "delete", "backfill"])
def test_each_action_comes_back_to_the_filtered_page(admin: Any, action: str) -> None:
    client, service, t = admin
    if action == "enable":
        ops.set_topic_enabled(service.db, ON_PAGE_2, False)
    before = listed(client)
    assert slugs(before)[0] == "kt-050" and len(slugs(before)) == 25
    fields = fields_in(before, ON_PAGE_2, action)
    assert fields["q"] == Q and fields["page"] == "2", fields
    answer = sent(client, ON_PAGE_2, action, fields)
    back_at(answer)
    after = client.get(answer.headers["location"]).text
    expected = [f"kt-{i:03d}" for i in range(50, 75)]
    if action == "delete":
        expected.remove(ON_PAGE_2)
    assert slugs(after) == expected
    said = flash(after)
    assert said.startswith("ok: "), said
    if action in ("enable", "disable"):
        assert t(f"{action}d_msg", slug=ON_PAGE_2) in said, said
    if action == "delete":
        assert t("deleted", slug=ON_PAGE_2) in said, said


def test_a_delete_emptying_the_last_page_shows_the_page_before(admin: Any) -> None:
    """The list clamps: page 2 held one topic, and after its delete page 2 is page 1."""
    client, service, _ = admin
    for i in range(51, 75):
        ops.delete_topic(service.db, f"kt-{i:03d}")
    last = listed(client)
    assert slugs(last) == ["kt-050"]
    answer = sent(client, "kt-050", "delete", fields_in(last, "kt-050", "delete"))
    back_at(answer)
    after = client.get(answer.headers["location"]).text
    assert slugs(after) == [f"kt-{i:03d}" for i in range(50)]


def test_the_unfiltered_last_page_and_the_first_page(admin: Any) -> None:
    client, _, _ = admin
    last = listed(client, None, 3)  # 140 topics by slug: page 3 is kt-035…kt-074
    on_last = slugs(last)
    assert len(on_last) == 40
    slug = on_last[-1]
    back_at(sent(client, slug, "disable", fields_in(last, slug, "disable")), None, 3)
    first = listed(client, None, None)
    slug = slugs(first)[0]
    fields = fields_in(first, slug, "disable")
    assert "q" not in fields and "page" not in fields  # page 1, no filter: as before
    back_at(sent(client, slug, "disable", fields), None, None)


# -- after a refusal, and through the page asking again ---------------------------------------


def test_a_stale_enable_comes_back_with_its_refusal(admin: Any) -> None:
    client, service, _ = admin
    ops.set_topic_enabled(service.db, ON_PAGE_2, False)
    fields = fields_in(listed(client), ON_PAGE_2, "enable")
    topic = ops.get_topic(service.db, ON_PAGE_2)  # edited meanwhile, elsewhere
    spec = TopicSpec(topic.slug, "Kiến Thụy (sửa)", topic.query, enabled=False)
    ops.save_topic(service.db, spec, "test")
    answer = sent(client, ON_PAGE_2, "enable", fields)
    back_at(answer)
    after = client.get(answer.headers["location"]).text
    assert flash(after).startswith("bad: "), flash(after)
    assert slugs(after)[0] == "kt-050" and not ops.get_topic(service.db, ON_PAGE_2).enabled


def test_a_stale_delete_asks_again_and_its_buttons_keep_the_place(admin: Any) -> None:
    client, service, _ = admin
    fields = fields_in(listed(client), ON_PAGE_2, "delete")
    ops.add_subscription(service.db, 8001, "private", topic=ON_PAGE_2, query=None)  # meanwhile
    asked = sent(client, ON_PAGE_2, "delete", fields)
    assert asked.status_code == 409, asked.text
    for action in ("delete", "disable"):
        again = fields_in(asked.text, ON_PAGE_2, action)
        assert again["q"] == Q and again["page"] == "2", (action, again)
    cancel = re.findall(r'<a class="button secondary" href="([^"]*)"', asked.text)
    assert [html.unescape(href) for href in cancel] == [place()], cancel
    done = sent(client, ON_PAGE_2, "delete", fields_in(asked.text, ON_PAGE_2, "delete"))
    back_at(done)
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, ON_PAGE_2)


# -- the editor opened from the list -----------------------------------------------------------


def test_the_editor_opened_from_the_list_saves_and_cancels_back_there(admin: Any) -> None:
    client, service, _ = admin
    page = listed(client)
    link = re.search(rf'href="([^"]*/topics/{ON_PAGE_2}/edit[^"]*)"', page)
    assert link, page
    href = html.unescape(link.group(1))
    assert href == f"/admin/topics/{ON_PAGE_2}/edit?" + urlencode({"q": Q, "page": "2"}), href
    editor = client.get(href).text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', editor))
    assert html.unescape(hidden["q"]) == Q and hidden["page"] == "2", hidden
    cancel = re.search(r'<a class="button secondary" href="([^"]*)"', editor)
    assert cancel and html.unescape(cancel.group(1)) == place(), cancel
    form = {k: html.unescape(v) for k, v in hidden.items()}
    form |= {"slug": ON_PAGE_2, "query": '"từ 60"', "enabled": "on"}
    refused = client.post(f"/admin/topics/{ON_PAGE_2}/edit", data=form | {"title": " "})
    assert refused.status_code == 422, refused.text  # a refused save keeps the place
    kept = dict(re.findall(r'<input type="hidden" name="(q|page)" value="([^"]*)">', refused.text))
    assert html.unescape(kept["q"]) == Q and kept["page"] == "2", kept
    saved = client.post(
        f"/admin/topics/{ON_PAGE_2}/edit", data=form | {"title": "Kiến Thụy số 60 (mới)"},
        follow_redirects=False,
    )  # fmt: skip
    back_at(saved)
    assert ops.get_topic(service.db, ON_PAGE_2).title == "Kiến Thụy số 60 (mới)"


def test_a_new_topic_from_the_filtered_list_comes_back_there(admin: Any) -> None:
    client, _, _ = admin
    page = listed(client)
    link = re.search(r'href="([^"]*/topics/new[^"]*)"', page)
    assert link and html.unescape(link.group(1)) == "/admin/topics/new?" + urlencode(
        {"q": Q, "page": "2"}
    ), link
    editor = client.get(html.unescape(link.group(1))).text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', editor))
    form = {k: html.unescape(v) for k, v in hidden.items()}
    form |= {"slug": "kt-new", "title": "Kiến Thụy mới", "query": '"mới"', "enabled": "on"}
    back_at(client.post("/admin/topics/new", data=form, follow_redirects=False))


# -- tampered values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "page", "q_back", "page_back"),
    [
        (Q, "abc", Q, None),
        (Q, "-3", Q, None),
        (Q, "１２", Q, None),  # full-width digits are no page number
        (Q, "2.0", Q, None),
        (Q, "9" * 5000, Q, None),  # not a number anyone typed
        (Q, "99999999999", Q, 1_000_000),  # a number: the list shows its last page
        ("Kiến\r\nThụy", "2", Q, 2),  # a header split tried: cleaned as the list cleans it
        ("Kiến\rLocation: https://evil.example/", "2", "Kiến Location: https://evil.example/", 2),
        ("//evil.example", "2", "//evil.example", 2),
        ("https://evil.example/", None, "https://evil.example/", None),
        ("\\\\evil.example", None, "\\\\evil.example", None),
        ("  \u202eKiến  Thụy\u200b ", "2", Q, 2),  # format characters dropped, spaces folded
        ("\r\n", "1", None, None),
        ("x" * 500, "2", "x" * 200, 2),  # cut as the list cuts it
    ],
)
def test_a_tampered_place_is_read_as_the_list_reads_it(
    admin: Any, q: str, page: str | None, q_back: str | None, page_back: int | None
) -> None:
    client, _, _ = admin
    fields = fields_in(listed(client), ON_PAGE_2, "disable")
    fields["q"] = q
    if page is None:
        del fields["page"]
    else:
        fields["page"] = page
    answer = sent(client, ON_PAGE_2, "disable", fields)
    back_at(answer, q_back, page_back)
    location = answer.headers["location"]
    assert "\r" not in location and "\n" not in location and location.isascii()
    given = parse_qs(urlsplit(location).query)
    assert given.get("q") == ([q_back] if q_back else None), given
    follow = client.get(location)
    assert follow.status_code == 200 and flash(follow.text).startswith("ok: ")
