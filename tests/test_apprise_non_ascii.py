"""Apprise URLs with letters outside ASCII (tester): ``json://127.0.0.1:9/hook?x=đ``,
``ntfy://ntfy.sh/tin-kiến-thụy``, ``mailto://…?to=Đức@example.vn`` were refused as "not an
Apprise URL Apprise can send to" (the admin: "Địa chỉ người nhận không hợp lệ cho kênh này."),
while their percent-encoded forms were taken — two of those every alert then failed on, as
Apprise ignores an ntfy topic or a mail recipient with such letters. A ``url.isascii()`` check
since the channel came (issue 14), with nothing depending on it but "percent-encode the rest".

Now ``channels.apprise_urls.checked_url``: the URL written as a URI (its letters percent-encoded
as a browser does; a host name in IDNA where the service has a host there) and stored so, one
recipient and one mask whichever form was typed, through the API, the CLI and the admin alike;
delivered end to end to a local ``json://`` receiver. What Apprise ignores is refused, naming
Apprise's own warning with every piece of the URL replaced by ``***``. SQLite: what is decided
here is before any SQL (the store's statements for recipients are ``test_apprise``'s)."""

from __future__ import annotations

import asyncio
import html
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from factories import VN
from receiver import Receiver
from test_admin import TOKEN, csrf_of, login, make_client
from test_admin_refused_boxes import note_under
from test_apprise import dispatch, done, publish, rows
from test_field_limits import run_cli

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

API = {"Authorization": f"Bearer {TOKEN}"}
PATH = "tin-kiến-thụy"


def mask(url: str) -> str:
    """The URL as every page and answer shows it (imported here: a module of this fix)."""
    from feedsvc.channels.apprise_urls import mask as masked

    return masked(url)


def encoded(text: str) -> str:
    return "".join(c if c.isascii() else quote(c, safe="") for c in text)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli")
        login(client)
        yield client, service
    service.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def api_add(client: TestClient, url: str, **more: str) -> Any:
    body = {"channel": "apprise", "address": url, "topic": "kien-thuy"} | more
    return client.post("/api/subscriptions", json=body, headers=API)


def admin_add(client: TestClient, url: str, query: str) -> Any:
    form = {"csrf": csrf_of(client, "/admin/subscriptions"), "url": url, "topic": "",
            "query": query}  # fmt: skip
    return client.post("/admin/subscriptions/apprise", data=form, follow_redirects=False)


def recipients(service: Service) -> list[str]:
    with service.db.read() as conn:
        return sorted({s.address for s in sub_store.list_subscriptions(conn, channel="apprise")})


def test_a_url_with_vietnamese_letters_is_one_recipient_and_gets_its_alert(
    served: tuple[TestClient, Service], receiver: Receiver
) -> None:
    client, service = served
    raw = receiver.url(f"{PATH}?:nguồn=Kiến-Thụy")
    stored = receiver.url(f"{encoded(PATH)}?:{encoded('nguồn=Kiến-Thụy')}")
    added = api_add(client, raw)  # typed raw: refused before
    assert added.status_code == 201, added.text
    assert added.json()["address"] == mask(stored)
    # the CLI with the percent-encoded form (as before), then the admin raw: one recipient
    cli = run_cli(service, "subs", "add", "--channel", "apprise", "--to", stored,
                  "--topic", "kien-thuy")  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert raw not in cli.output and "Kiến-Thụy" not in cli.output
    page = admin_add(client, raw, "Kiến Thụy")
    assert page.status_code == 303, page.text
    assert recipients(service) == [stored]
    listed = client.get("/api/subscriptions", headers=API).json()["subscriptions"]
    assert {s["address"] for s in listed} == {mask(stored)}
    assert mask(stored) in client.get("/admin/subscriptions").text
    assert mask(stored) in run_cli(service, "subs", "list").output
    publish(service.db, 1)
    asyncio.run(dispatch(service.db, AppriseChannel(VN), done))
    assert [s for s, _, _ in rows(service.db)] == ["sent"]
    [got] = receiver.at(encoded(PATH))
    assert got.body["nguồn"] == "Kiến-Thụy"  # the query's value reached it, decoded
    assert "Kiến Thụy" in got.body["title"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("json://ví-dụ.vn/hook", "json://xn--v-d-rma6749a.vn/hook"),
        ("json://Ví-Dụ.vn:8443/hook/đường", "json://xn--v-d-rma6749a.vn:8443/hook/%C4%91%C6%B0%E1%BB%9Dng"),
        ("mailto://tin:pw-1234@ví-dụ.vn", "mailto://tin:pw-1234@xn--v-d-rma6749a.vn"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#tin-nóng",
         "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#tin-n%C3%B3ng"),
        ("json://127.0.0.1:9/hook?x=đ", "json://127.0.0.1:9/hook?x=%C4%91"),  # the tester's
    ],
)  # fmt: skip
def test_the_stored_form_is_a_uri_whichever_form_was_typed(typed: str, stored: str) -> None:
    """A host name in IDNA where the service's URL has a host (as a browser, and as a feed's
    link: ``feeds.sanitize``), the rest percent-encoded; the encoded form stays as it is."""
    from feedsvc.channels.apprise_urls import address_problem, checked_url

    assert checked_url(typed) == stored
    assert checked_url(stored) == stored
    assert address_problem(typed) is None


NTFY = "ntfy://ntfy.sh/tin-kiến-thụy"
MAIL = "mailto://bob:Hunter2pw@example.vn?to=Đức@example.vn"


@pytest.mark.parametrize(
    ("url", "said", "pieces"),
    [
        (NTFY, "A specified ntfy topic (***) is invalid", ["tin-ki"]),
        (encoded(NTFY), "A specified ntfy topic (***) is invalid", ["tin-ki"]),  # taken before
        (MAIL, "Dropped invalid To email (***) specified", ["Đức", "bob", "Hunter2pw"]),
        (encoded(MAIL), "Dropped invalid To email (***) specified", ["Đức", "%C4%90", "bob"]),
        ("ntfy://tin-kiến", "A specified ntfy topic (***) is invalid", ["tin-ki"]),
        ("ntfy://ntfy.sh/tin.kien", "A specified ntfy topic (***) is invalid", ["tin.kien"]),
        ("json://127.0.0.1:9/hook?cto=abc", "Invalid socket connect timeout (cto)", ["abc"]),
    ],
)
def test_a_url_apprise_would_partly_ignore_is_refused_saying_what(
    served: tuple[TestClient, Service], url: str, said: str, pieces: list[str]
) -> None:
    """Through the API, the CLI and the admin alike: the code, Apprise's warning with the
    URL's pieces as ``***``, what to do; nothing stored, nothing of the URL in the answer."""
    client, service = served
    for lang, words in (("vi", "Apprise bỏ qua một phần của URL này"),
                        ("en", "Apprise ignores part of this URL as invalid")):  # fmt: skip
        answer = client.post(
            "/api/subscriptions",
            headers=API | {"Accept-Language": lang},
            json={"channel": "apprise", "address": url, "topic": "kien-thuy"},
        )
        assert answer.status_code == 422, answer.text
        out = answer.json()
        assert (out["code"], out["field"]) == ("address_part_ignored", "address")
        assert words in out["message"] and said in out["message"], out
        assert said in out["error"] and "correct that part" in out["error"]
        assert all(p not in answer.text for p in pieces), answer.text
    cli = run_cli(service, "subs", "add", "--channel", "apprise", "--to", url,
                  "--topic", "kien-thuy")  # fmt: skip
    assert cli.exit_code == 2, cli.output
    assert said in cli.output and all(p not in cli.output for p in pieces), cli.output
    page = admin_add(client, url, "Kiến Thụy")
    assert page.status_code == 422, page.text
    under = html.unescape(note_under(page.text, "url"))
    assert "Apprise bỏ qua một phần của URL này" in under and said in under, under
    assert all(p not in under for p in pieces)
    assert recipients(service) == []


@pytest.mark.parametrize(
    "url", ["json://ví_dụ.vn/x", "jsón://127.0.0.1:9/x", "json://ví-dụ\u200b.vn/x"]
)
def test_a_url_no_service_takes_is_still_refused(
    served: tuple[TestClient, Service], url: str
) -> None:
    client, service = served
    answer = api_add(client, url)
    assert answer.status_code == 422 and answer.json()["code"] == "address_invalid", answer.text
    assert recipients(service) == []


def test_a_url_long_only_once_encoded_is_refused_by_its_stored_length(
    served: tuple[TestClient, Service],
) -> None:
    """The limit holds for what is stored (a unique index's key on PostgreSQL)."""
    client, service = served
    url = "json://127.0.0.1:9/" + "đ" * 400  # 419 characters typed, 2,419 stored
    answer = api_add(client, url)
    assert answer.status_code == 422 and answer.json()["code"] == "address_length", answer.text
    assert "percent-encoding" in answer.json()["error"]
    assert recipients(service) == []
