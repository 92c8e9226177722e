"""Web admin over HTTP, in process: login and sessions, CSRF on every POST, escaping, the live
preview endpoint, and the operator actions (pause, delete, re-send a dead letter)."""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from factories import article
from migrated import premigrated
from sqlalchemy import select, update

from feedsvc import delivery_states
from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import CATALOGUE
from feedsvc.channels.apprise_urls import mask
from feedsvc.config import load_config
from feedsvc.db.schema import articles, deliveries
from feedsvc.store import delivery_log
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.web import admin_auth as auth
from feedsvc.web import admin_recipients
from feedsvc.web.admin_text import char_name
from feedsvc.web.api_models import DeliveryState

with warnings.catch_warnings():  # starlette 1.x prefers httpx2; the test extra ships httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TOKEN = "admin-test-token-0123456789abcdef"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')
XSS = "<script>alert(1)</script>"


def make_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None = TOKEN, **http: Any
) -> tuple[TestClient, Service]:
    if token:
        monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", token)
    else:
        monkeypatch.delenv("FEEDSVC_ADMIN__TOKEN", raising=False)
    overrides: dict[str, Any] = {
        "database": {"url": premigrated(f"sqlite:///{tmp_path / 'state.db'}")},
        "topics": {"import_on_start": False},
        "admin": {"language": http.pop("language", "vi")},
    }
    if http:
        overrides["http"] = http
    settings = load_config(None, overrides)
    service = Service(settings, Roles(scheduler=False, bot=False))
    base = (
        "https://127.0.0.1" if settings.http.public_url.startswith("https") else "http://127.0.0.1"
    )
    client = TestClient(create_app(service), base_url=base)
    return client, service


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        with service.db.write() as conn:
            upsert_source_articles(
                conn,
                [
                    article(1, title="Kiến Thụy khánh thành cầu mới"),
                    article(
                        2,
                        title="Đồ Sơn đón khách du lịch",
                        body="<p>Biển đẹp.</p>",
                        summary="Du lịch biển.",
                        section="Du lịch",
                        tags=(),
                    ),
                ],
                service.db.now(),
            )
        service.ingest_tick()
        yield client, service


@pytest.fixture
def client(served: tuple[TestClient, Service]) -> TestClient:
    return served[0]


def login(client: TestClient, token: str = TOKEN) -> Any:
    page = client.get("/admin/login")
    csrf = CSRF_FIELD.search(page.text)
    assert csrf, page.text
    return client.post(
        "/admin/login", data={"token": token, "csrf": csrf.group(1)}, follow_redirects=False
    )


def csrf_of(client: TestClient, path: str = "/admin/topics") -> str:
    found = CSRF_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


def hidden_of(client: TestClient, path: str) -> dict[str, str]:
    """The hidden fields a browser sends back with the page's form: ``csrf`` and, on a
    chat's page, the ``version`` of the options it shows (``web.admin_chats``)."""
    page = client.get(path).text
    found = dict(re.findall(r'<input type="hidden" name="(csrf|version)" value="([^"]*)">', page))
    assert "csrf" in found, page
    return found


def button_fields(
    client: TestClient, slug: str, action: str, page: str = "/admin/topics", **get: Any
) -> dict[str, str]:
    """The hidden fields the topics list's ``action`` button of ``slug`` sends (``csrf``, the
    topic's ``version``, a delete's ``subscriptions``: ``web.admin_topic_actions`` refuses a
    stale one), as a browser sends them back from the page."""
    return fields_in(client.get(page, **get).text, slug, action)


def fields_in(text: str, slug: str, action: str) -> dict[str, str]:
    """The hidden fields of the form in ``text`` posting ``action`` to topic ``slug``."""
    found = re.search(
        rf'<form method="post" action="[^"]*/topics/{re.escape(slug)}/{action}"[^>]*>(.*?)</form>',
        text, re.S,
    )  # fmt: skip
    assert found, text
    return {k: html.unescape(v) for k, v in HIDDEN.findall(found.group(1))}


HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def create_topic(client: TestClient, slug: str, title: str, query: str) -> Any:
    return client.post(
        "/admin/topics/new",
        data={
            "csrf": csrf_of(client),
            "slug": slug,
            "title": title,
            "query": query,
            "enabled": "on",
            "backfill": "on",
        },
        follow_redirects=False,
    )


# -- login, sessions -----------------------------------------------------------------------


def test_no_token_configured_closes_the_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = make_client(tmp_path, monkeypatch, token=None)
    with client:
        for path in ("/admin/login", "/admin/topics", "/admin/status"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 503, path
            assert "FEEDSVC_ADMIN__TOKEN" in r.text


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/admin/topics", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert client.post("/admin/preview", json={"query": "x"}).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/admin/articles?q=Ki%E1%BA%BFn",  # a tester's: the filter was lost at the login
        "/admin/articles?q=Ki\u1ebfn&state=withdrawn",  # raw UTF-8, two parameters
        "/admin/deliveries?page=2",
        "/admin/topics",
    ],
)
def test_the_login_leads_back_to_the_page_asked_for_with_its_query(
    client: TestClient, path: str
) -> None:
    sent = client.get(path, follow_redirects=False)
    assert sent.status_code == 303
    form = client.get(sent.headers["location"])
    csrf = CSRF_FIELD.search(form.text)
    action = re.search(r'<form method="post" action="([^"]*)"', form.text)
    assert csrf and action, form.text
    done = client.post(
        html.unescape(action.group(1)),
        data={"token": TOKEN, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    back = httpx.URL(done.headers["location"])
    assert (back.path, back.params) == (httpx.URL(path).path, httpx.URL(path).params)
    assert client.get(done.headers["location"]).status_code == 200


def test_login_sets_a_strict_httponly_cookie_and_logout_revokes_it(client: TestClient) -> None:
    r = login(client)
    assert r.status_code == 303 and r.headers["location"] == "/admin/topics"
    cookie = next(
        c for c in r.headers.get_list("set-cookie") if c.startswith(auth.SESSION_COOKIE + "=")
    )
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/admin" in flags
    assert "secure" not in flags  # public URL is http
    page = client.get("/admin/topics")
    assert page.status_code == 200 and 'name="viewport"' in page.text
    session = client.cookies.get(auth.SESSION_COOKIE)
    client.post("/admin/logout", data={"csrf": csrf_of(client)})
    client.cookies.set(auth.SESSION_COOKIE, session or "", path="/admin")
    assert client.get("/admin/topics", follow_redirects=False).status_code == 303


def test_cookie_is_secure_behind_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = make_client(tmp_path, monkeypatch, public_url="https://tin.example.vn")
    with client:
        r = login(client)
        cookie = next(c for c in r.headers.get_list("set-cookie") if "feedsvc_admin=" in c)
        assert "secure" in cookie.lower()


def test_wrong_token_fails_and_is_rate_limited(client: TestClient) -> None:
    for _ in range(auth.LOGIN_FAILURES):
        r = login(client, "wrong")
        assert r.status_code == 401 and auth.SESSION_COOKIE not in r.cookies
    limited = login(client)  # even the right token waits now
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert auth.SESSION_COOKIE not in limited.cookies


@pytest.mark.parametrize("first", ["login form", "API"])
def test_the_login_form_and_the_api_share_one_failure_budget(
    client: TestClient, first: str
) -> None:
    """Tester F8: 5 wrong logins locked the address out of the form, yet /api/ with a wrong
    Bearer token stayed 401 and unlimited. One limiter now (the service's): failures on
    either count toward one budget per address, and the lockout holds on both."""
    bearer = {"Authorization": "Bearer wrong"}

    def wrong_login() -> int:
        return int(login(client, "wrong").status_code)

    def wrong_api() -> int:
        return client.get("/api/topics", headers=bearer).status_code

    one, other = (wrong_login, wrong_api) if first == "login form" else (wrong_api, wrong_login)
    assert [one() for _ in range(3)] + [other() for _ in range(2)] == [401] * 5
    assert login(client).status_code == 429  # the right token at the form: locked out too
    api = client.get("/api/topics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 429 and api.json()["code"] == "token_limited"
    assert int(api.headers["retry-after"]) >= 1


def test_login_limiter_memory_is_bounded_under_an_address_spray() -> None:
    limiter = auth.LoginLimiter(limit=2, window=60, max_clients=100)
    for n in range(1_000):  # a spray: each address fails once, 1 s apart
        limiter.failed(f"2001:db8::{n:x}", now=float(n))
    assert len(limiter._failures) <= 101
    limiter.failed("198.51.100.7", now=1_000.0)
    limiter.failed("198.51.100.7", now=1_001.0)
    assert limiter.blocked("198.51.100.7", now=1_002.0) == 58.0  # a live offender stays blocked
    assert limiter.blocked("198.51.100.7", now=1_061.0) is None


def test_sessions_are_signed_with_the_token() -> None:
    key = auth.derive_key(TOKEN)
    cookie = auth.new_session_cookie(key)
    assert auth.read_session(key, cookie) is not None
    assert auth.read_session(auth.derive_key("another token"), cookie) is None
    sid, issued, sig = cookie.split(".")
    assert auth.read_session(key, f"{sid}x.{issued}.{sig}") is None
    expired = auth.new_session_cookie(key, now=0)
    assert auth.read_session(key, expired) is None


# -- CSRF ----------------------------------------------------------------------------------

POSTS = [
    "/admin/logout",
    "/admin/topics/new",
    "/admin/topics/t1/edit",
    "/admin/topics/t1/enable",
    "/admin/topics/t1/disable",
    "/admin/topics/t1/delete",
    "/admin/topics/t1/backfill",
    "/admin/chats/-100/pause",
    "/admin/chats/-100/resume",
    "/admin/subscriptions/1/delete",
    "/admin/subscriptions/apprise",
    "/admin/deliveries/1/resend",
    "/admin/preview",
]


def test_every_post_needs_the_csrf_token(client: TestClient) -> None:
    login(client)
    good = csrf_of(client)
    form = {"slug": "t1", "title": "T", "query": "x"}
    for path in POSTS:
        assert client.post(path, data=form).status_code == 403, path
        assert client.post(path, data=form | {"csrf": "0" * 64}).status_code == 403, path
        evil = client.post(
            path, data=form | {"csrf": good}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403, path
    assert client.post("/admin/preview", json={"query": "x"}).status_code == 403
    # the session still works, and nothing was created
    assert "t1" not in client.get("/admin/topics").text


def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    r = client.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 403 and auth.SESSION_COOKIE not in r.cookies


# -- topics --------------------------------------------------------------------------------


def test_create_edit_disable_delete_topic(served: tuple[TestClient, Service]) -> None:
    client, _service = served
    login(client)
    r = create_topic(client, "kien-thuy", "Kiến Thụy", '"Kiến Thụy"')
    assert r.status_code == 303 and r.headers["location"] == "/admin/topics"
    page = client.get("/admin/topics").text
    assert "kien-thuy" in page and "Đã tạo chủ đề kien-thuy" in page
    assert "/feeds/kien-thuy.rss" in page
    assert "Đã tạo" not in client.get("/admin/topics").text  # the flash is shown once
    assert "/feeds/kien-thuy.rss" in client.get("/").text  # index refreshed at once
    assert "Kiến Thụy khánh thành" in client.get("/feeds/kien-thuy.rss").text  # backfilled
    edit = client.get("/admin/topics/kien-thuy/edit").text
    assert "readonly" in edit and "&#34;Kiến Thụy&#34;" in edit
    r = client.post(
        "/admin/topics/kien-thuy/edit",
        data={"csrf": csrf_of(client), "title": "KT", "query": "(broken", "enabled": "on"},
    )
    assert r.status_code == 422 and 'class="field-error"' in r.text and "(broken" in r.text
    client.post(
        "/admin/topics/kien-thuy/disable", data=button_fields(client, "kien-thuy", "disable")
    )
    assert "/feeds/kien-thuy.rss" not in client.get("/").text
    assert create_topic(client, "kien-thuy", "Again", "x").status_code == 422  # exists
    client.post("/admin/topics/kien-thuy/delete", data=button_fields(client, "kien-thuy", "delete"))
    assert (
        "kien-thuy"
        not in client.get("/admin/topics").text.split("</nav>")[1].split('class="flash')[0]
    )
    assert client.get("/admin/topics/kien-thuy/edit").status_code == 404


def delete_form_question(page: str, slug: str) -> str:
    """The question the delete button of ``slug`` asks (its form's ``data-confirm``)."""
    found = re.search(
        rf'action="/admin/topics/{re.escape(slug)}/delete" class="inline" data-confirm="([^"]*)"',
        page,
    )
    assert found, page
    return html.unescape(found.group(1))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_deleting_a_topic_names_its_subscriptions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """The delete button asked the generic "Delete this?" of a topic with 3 subscribers, whose
    subscriptions went with it (tester F2); it now names them, and so does the flash after."""
    from feedsvc import operations as ops

    client, service = make_client(tmp_path, monkeypatch, language=language)
    vi = language == "vi"
    with client:
        login(client)
        create_topic(client, "rt-1", "R1", "b")
        create_topic(client, "bare", "Bare", "c")
        for chat, kind in ((1004, "private"), (-1001009876543, "supergroup")):
            ops.add_subscription(service.db, chat, kind, topic="rt-1", query=None)
        ops.add_subscription(
            service.db, None, None, topic="rt-1", query=None, channel="apprise",
            address="json://127.0.0.1:18099/x",
        )  # fmt: skip
        page = client.get("/admin/topics").text
        subs = (
            "3 đăng ký (1 Apprise, 2 Telegram)" if vi else "3 subscriptions (1 Apprise, 2 Telegram)"
        )
        asked = delete_form_question(page, "rt-1")
        if vi:
            assert asked.startswith(f"Xoá chủ đề rt-1 cùng {subs} của nó?"), asked
            assert "hãy bấm Tắt thay vì Xoá" in asked
        else:
            assert asked.startswith(f"Delete topic rt-1 with its {subs}?"), asked
            assert "Disable the topic instead" in asked
        bare = delete_form_question(page, "bare")
        assert bare == ("Xoá chủ đề bare? Không thể hoàn tác." if vi else
                        "Delete topic bare? This cannot be undone.")  # fmt: skip
        done = client.post(
            "/admin/topics/rt-1/delete", data=button_fields(client, "rt-1", "delete")
        )
        flash = "Đã xoá chủ đề rt-1 cùng " if vi else "Topic rt-1 deleted, with its "
        assert html.unescape(done.text).count(flash + subs + ".") == 1, done.text
        with service.db.read() as conn:
            assert sub_store.list_subscriptions(conn) == []
        done = client.post(
            "/admin/topics/bare/delete", data=button_fields(client, "bare", "delete")
        )
        assert ("Đã xoá chủ đề bare." if vi else "Topic bare deleted.") in done.text


def test_a_topic_a_chat_query_uses_is_not_deleted(served: tuple[TestClient, Service]) -> None:
    """The admin's delete refuses as the CLI and the API do, naming chat and subscription."""
    from feedsvc import operations as ops

    client, service = served
    login(client)
    create_topic(client, "rt-1", "R1", "b")
    sub, _ = ops.add_subscription(service.db, 1003, "private", topic=None, query="@rt-1 c")
    # the list shows who uses it in place of the button (test_admin_topics_list); a delete
    # posted all the same, as that button's form sent it, is refused
    page = client.get("/admin/topics").text
    assert 'action="/admin/topics/rt-1/delete"' not in page
    chat = f"chat Telegram 1003 (đăng ký {sub.id})"
    assert f"Không xoá được: đang được dùng bởi {chat} (@rt-1 trong truy vấn)" in html.unescape(
        page
    )
    fields = button_fields(client, "rt-1", "disable")
    fields["subscriptions"] = "0"
    done = client.post("/admin/topics/rt-1/delete", data=fields)
    assert (
        f"Chủ đề rt-1 đang được truy vấn riêng của chat Telegram 1003 (đăng ký {sub.id}) dùng"
        in html.unescape(done.text)
    ), done.text
    assert ops.get_topic(service.db, "rt-1").slug == "rt-1"


def test_a_topic_another_topic_uses_shows_why_it_has_no_delete_button(
    served: tuple[TestClient, Service],
) -> None:
    """A tester's: the delete button of a topic another topic uses by ``@slug`` asked to
    confirm deleting its subscriptions, then the delete was refused for the reference. The
    list now says so in place of the button; other topics keep theirs; once the user drops the
    reference the button is back."""
    client, _ = served
    login(client)
    create_topic(client, "kt", "Kiến Thụy", '"Kiến Thụy"')
    create_topic(client, "an-kt", "An ninh Kiến Thụy", '@kt "an ninh"')
    create_topic(client, "an-kt-2", "An ninh 2", "@kt OR @an-kt")
    page = html.unescape(client.get("/admin/topics").text)
    assert "Không xoá được: đang được dùng bởi an-kt, an-kt-2 (@kt trong truy vấn)" in page
    assert "Không xoá được: đang được dùng bởi an-kt-2 (@an-kt trong truy vấn)" in page
    assert 'action="/admin/topics/kt/delete"' not in page
    assert 'action="/admin/topics/an-kt/delete"' not in page
    assert 'action="/admin/topics/an-kt-2/delete"' in page
    done = client.post(
        "/admin/topics/an-kt-2/delete", data=button_fields(client, "an-kt-2", "delete")
    )
    assert done.status_code in (200, 303), done.text
    page = html.unescape(client.get("/admin/topics").text)
    assert 'action="/admin/topics/an-kt/delete"' in page
    assert "Không xoá được: đang được dùng bởi an-kt (@kt trong truy vấn)" in page


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_edit_of_a_topic_deleted_meanwhile_never_recreates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """Editor A opens the edit form, B deletes the topic, A saves: it was upserted back, with
    the flash "Topic ghost created." (tester F10)."""
    from feedsvc import operations as ops

    client, service = make_client(tmp_path, monkeypatch, language=language)
    with client:
        login(client)
        create_topic(client, "ghost", "Ghost", "ma")
        form = client.get("/admin/topics/ghost/edit")
        csrf = CSRF_FIELD.search(form.text)
        assert form.status_code == 200 and csrf
        ops.delete_topic(service.db, "ghost")  # B, through the API or the CLI
        saved = client.post(
            "/admin/topics/ghost/edit",
            data={"csrf": csrf.group(1), "slug": "ghost", "title": "Ghost edited",
                  "query": "ma", "enabled": "on"},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 409, saved.text
        said = html.unescape(saved.text)
        assert (
            "Chủ đề ghost đã bị xoá trong lúc bạn sửa" if language == "vi"
            else "Topic ghost was deleted while you were editing it"
        ) in said  # fmt: skip
        assert "Ghost edited" in said and 'action="/admin/topics/new"' in said  # kept, as new
        with pytest.raises(ops.OperationError):
            ops.get_topic(service.db, "ghost")
        assert client.get("/admin/topics/ghost/edit").status_code == 404
        again = client.post(  # saving the kept text from the new form: deliberate
            "/admin/topics/new",
            data={"csrf": csrf.group(1), "slug": "ghost", "title": "Ghost edited",
                  "query": "ma", "enabled": "on"},
        )  # fmt: skip
        assert again.status_code == 200
        assert ops.get_topic(service.db, "ghost").title == "Ghost edited"


def test_script_title_renders_as_text(client: TestClient) -> None:
    login(client)
    assert create_topic(client, "xss", XSS, "Kiến").status_code == 303
    for path in ("/admin/topics", "/admin/topics/xss/edit"):
        page = client.get(path)
        assert XSS not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_bad_slug_is_reported_on_the_field(client: TestClient) -> None:
    login(client)
    r = create_topic(client, "Bad Slug!", "T", "x")
    assert r.status_code == 422 and 'class="field-error"' in r.text
    for slug in ("a\nb", "a-\n-b"):  # the admin strips a slug's ends; inside is refused
        r = create_topic(client, slug, "T", "x")
        assert r.status_code == 422 and 'class="field-error"' in r.text, repr(slug)


# -- preview -------------------------------------------------------------------------------


def test_preview_returns_highlighted_samples(client: TestClient) -> None:
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    r = client.post("/admin/preview", json={"query": '"Kiến Thụy"'}, headers=headers)
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 1 and data["scanned"] == 2
    sample = data["samples"][0]
    assert sample["title"] == "Kiến Thụy khánh thành cầu mới"
    assert any("<mark>" in h["snippet_html"] for h in sample["hits"])


def test_preview_reports_the_parser_error_with_its_position(client: TestClient) -> None:
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    data = client.post("/admin/preview", json={"query": "Kiến AND ("}, headers=headers).json()
    assert data["error"] and isinstance(data["position"], int)
    assert "count" not in data
    assert client.post("/admin/preview", json={"q": 1}, headers=headers).status_code == 400
    assert client.post("/admin/preview", json={"query": " "}, headers=headers).json() == {
        "empty": True
    }


@pytest.mark.parametrize(
    ("query", "char"),
    [
        ("\u202eKiến Thụy", "U+202E"),  # a bidi override pasted with a name
        ('"Kiến Thụy" \u2066OR Đồ Sơn', "U+2066"),
        ("Kiến\x00", "U+0000"),
        ("Kiến \x07Thụy", "U+0007"),
        ("Kiến \ud800", "U+D800"),  # "\ud800" in the script's JSON
    ],
)
def test_preview_refuses_what_the_save_refuses(client: TestClient, query: str, char: str) -> None:
    """The preview matched a query holding a character the save refuses ("1 article
    matches"), and Save then refused it: the preview now says the save's refusal, placed."""
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client), "Content-Type": "application/json"}
    body = json.dumps({"query": query})  # ASCII escapes: "\ud800" as the script sends it
    data = client.post("/admin/preview", content=body, headers=headers).json()
    assert "count" not in data and char in data["error"], data
    assert data["position"] == query.index(chr(int(char[2:], 16)))
    if char != "U+D800":  # a browser's form cannot carry a lone surrogate
        saved = create_topic(client, "refused", "Kiến Thụy", query)
        # the same character at the same place, said as taken out of the box (admin_text)
        name = char_name(chr(int(char[2:], 16)))
        assert saved.status_code == 422
        assert f"{char} ({name}) tại ký tự {data['position'] + 1}" in saved.text


@pytest.mark.parametrize(
    "form",
    [
        {"query": "Kiến AND ("},  # the verifier's: a 500, "Stream consumed"
        {"query": '"Kiến Thụy"'},
        {"query": " "},
        {},  # no query field
        {"query": "x", "extra": "y"},
    ],
)
def test_preview_as_a_form_post_is_answered_not_a_500(
    client: TestClient, form: dict[str, str]
) -> None:
    """A form post (``csrf`` and ``query`` fields: a page without the script, a curl) was read
    by the CSRF check, then again as JSON: ``RuntimeError: Stream consumed``, a 500 with a
    traceback in the log. It is read as the form it is, answered as the JSON post is."""
    login(client)
    r = client.post("/admin/preview", data={"csrf": csrf_of(client), **form})
    as_json = client.post(
        "/admin/preview",
        json={k: v for k, v in form.items() if k == "query"},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert r.status_code == as_json.status_code and r.status_code in (200, 400)
    assert r.json() == as_json.json()


# -- subscriptions, deliveries, status -----------------------------------------------------


def seed_delivery(service: Service, state: str) -> int:
    db = service.db
    with db.write() as conn:
        now = db.now()
        sub_store.ensure_chat(conn, -100, "group", XSS, now)
        sub_store.subscribe(conn, -100, topic_id=None, query="Kiến Thụy", now=now)
        aid = conn.execute(select(articles.c.id).order_by(articles.c.id)).scalars().first()
        enqueue(
            conn,
            [
                {
                    "chat_id": -100,
                    "article_id": aid,
                    "topics": ["Kiến Thụy"],
                    "state": state,
                    "due_at": now - timedelta(minutes=5),
                    "created_at": now,
                    "attempts": 3,
                    "error": "Forbidden: bot was blocked by the user",
                    "finished_at": now,
                }
            ],
        )
        return int(conn.execute(select(deliveries.c.id)).scalars().one())


def test_resend_a_dead_letter(served: tuple[TestClient, Service]) -> None:
    client, service = served
    delivery_id = seed_delivery(service, "blocked")
    login(client)
    page = client.get("/admin/deliveries?state=dead").text
    assert f"/admin/deliveries/{delivery_id}/resend" in page and XSS not in page
    r = client.post(
        f"/admin/deliveries/{delivery_id}/resend",
        data={"csrf": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with service.db.read() as conn:
        state = conn.execute(select(deliveries.c.state)).scalar_one()
    assert state == "pending"
    again = client.post(f"/admin/deliveries/{delivery_id}/resend", data={"csrf": csrf_of(client)})
    assert 'class="flash bad"' in again.text  # no longer a dead letter
    assert "Re-send" not in client.get("/admin/deliveries?state=pending").text


def test_the_delivery_log_shows_what_became_of_a_sent_alert(
    served: tuple[TestClient, Service],
) -> None:
    """SPEC §10: a retraction (and a correction) is visible on the delivery, with its outcome."""
    from feedsvc.db.schema import alert_followups
    from feedsvc.store import followup_queue

    client, service = served
    delivery_id = seed_delivery(service, "sent")
    with service.db.write() as conn:
        now = service.db.now()
        conn.execute(update(deliveries).values(message_id=5))
        aid = conn.execute(select(deliveries.c.article_id)).scalar_one()
        assert followup_queue.queue_retractions(conn, [aid], now) == 1
    login(client)
    page = client.get("/admin/deliveries").text
    assert "Gỡ tin đã gửi" in page and "đang chờ" in page
    with service.db.write() as conn:
        conn.execute(
            update(alert_followups)
            .where(alert_followups.c.delivery_id == delivery_id)
            .values(state="done", outcome="deleted", finished_at=service.db.now())
        )
    page = client.get("/admin/deliveries?state=sent").text
    assert "Gỡ tin đã gửi" in page and "đã xoá" in page and "⟦" not in page


def test_unknown_outcome_is_a_dead_letter_named_in_the_log(
    served: tuple[TestClient, Service],
) -> None:
    """A send whose outcome stayed unknown ends ``unknown_outcome``: listed among dead letters
    and under its own filter, with its label (not the raw state) and a re-send button."""
    client, service = served
    delivery_id = seed_delivery(service, "unknown_outcome")
    login(client)
    for query in ("state=dead", "state=unknown_outcome"):
        page = client.get(f"/admin/deliveries?{query}").text
        assert f"/admin/deliveries/{delivery_id}/resend" in page, query
        assert CATALOGUE["state.unknown_outcome"][0] in page
    r = client.post(
        f"/admin/deliveries/{delivery_id}/resend",
        data={"csrf": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with service.db.read() as conn:
        assert conn.execute(select(deliveries.c.state)).scalar_one() == "pending"


def test_every_delivery_state_has_a_label_and_an_api_name() -> None:
    for state in delivery_states.STATES:
        assert f"state.{state}" in CATALOGUE, state
    assert set(get_args(DeliveryState)) == {*delivery_states.STATES, delivery_log.DEAD}


def test_delivery_log_pages(
    served: tuple[TestClient, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service = served
    monkeypatch.setattr(admin_recipients, "DELIVERIES_PER_PAGE", 2)
    db = service.db
    with db.write() as conn:
        now = db.now()
        aid = conn.execute(select(articles.c.id).order_by(articles.c.id)).scalars().first()
        for n in range(3):
            sub_store.ensure_chat(conn, -200 - n, "group", f"Nhóm số {n}", now)
            enqueue(
                conn,
                [
                    {
                        "chat_id": -200 - n,
                        "article_id": aid,
                        "topics": ["Kiến Thụy"],
                        "state": "sent",
                        "due_at": now,
                        "created_at": now,
                    }
                ],
            )
    login(client)
    first = client.get("/admin/deliveries").text
    assert "Nhóm số 2" in first and "Nhóm số 1" in first and "Nhóm số 0" not in first  # newest
    shown = CATALOGUE["shown_of"][0]
    assert shown.format(first=1, last=2, total=3) in first
    assert 'href="?before=2" rel="next"' in first and 'rel="prev"' not in first  # keyset
    second = client.get("/admin/deliveries?state=&page=2").text  # an old link: its page now
    assert "Nhóm số 0" in second and "Nhóm số 1" not in second
    assert shown.format(first=3, last=3, total=3) in second
    assert 'href="?" rel="prev"' in second and 'rel="next"' not in second
    nonsense = client.get("/admin/deliveries?page=nonsense").text  # → the first page
    assert shown.format(first=1, last=2, total=3) in nonsense


def test_subscriptions_pause_resume_delete(served: tuple[TestClient, Service]) -> None:
    client, service = served
    seed_delivery(service, "failed")
    login(client)
    page = client.get("/admin/subscriptions").text
    assert "Kiến Thụy" in page and "&lt;script&gt;" in page and XSS not in page
    client.post("/admin/chats/-100/pause", data={"csrf": csrf_of(client)})
    with service.db.read() as conn:
        chat = sub_store.get_chat(conn, -100)
    assert chat is not None and chat.paused
    status = client.get("/admin/status").text
    assert "-100" in status and "bot was blocked" in status and "Bài viết đã lưu" in status
    client.post("/admin/chats/-100/resume", data={"csrf": csrf_of(client)})
    with service.db.read() as conn:
        chat = sub_store.get_chat(conn, -100)
        sub_id = sub_store.list_subscriptions(conn)[0].id
    assert chat is not None and not chat.paused
    client.post(f"/admin/subscriptions/{sub_id}/delete", data={"csrf": csrf_of(client)})
    with service.db.read() as conn:
        assert sub_store.list_subscriptions(conn) == []
    assert client.post("/admin/chats/42/pause", data={"csrf": csrf_of(client)}).status_code == 404


@pytest.mark.parametrize("chat", ["-１００", "-١٠٠", "%EF%BC%8D100", "-100%C2%B2", "+100"])
def test_an_admin_url_id_is_ascii_digits(served: tuple[TestClient, Service], chat: str) -> None:
    """Chat -100 exists; "-１００" (full-width digits, which int() reads) is no chat of it."""
    client, service = served
    seed_delivery(service, "failed")
    login(client)
    for action in ("pause", "resume"):
        r = client.post(f"/admin/chats/{chat}/{action}", data={"csrf": csrf_of(client)})
        assert r.status_code == 404, (chat, action)
    assert client.get(f"/admin/chats/{chat}").status_code == 404
    with service.db.read() as conn:
        found = sub_store.get_chat(conn, -100)
    assert found is not None and not found.paused


def test_an_admin_topic_title_is_one_line_and_control_free(
    served: tuple[TestClient, Service],
) -> None:
    """The form's title pasted with a line break and tabs is saved on one line; a control
    character is the editor again (422) naming the title; the description keeps its lines."""
    client, service = served
    login(client)
    r = client.post(
        "/admin/topics/new",
        data={"csrf": csrf_of(client), "slug": "kt", "title": " Kiến\r\n\tThụy\xa0 ",
              "query": '"Kiến Thụy"', "description": "dòng 1\r\ndòng 2", "enabled": "on"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    from feedsvc import operations as ops

    topic = ops.get_topic(service.db, "kt")
    assert topic.title == "Kiến Thụy" and topic.description == "dòng 1\ndòng 2"
    for char in ("\x1b", "\x07", "\x85"):
        r = client.post(
            "/admin/topics/kt/edit",
            data={"csrf": csrf_of(client), "title": f"Kiến{char}Thụy", "query": "a",
                  "enabled": "on"},
        )  # fmt: skip
        assert r.status_code == 422 and 'class="field-error"' in r.text
        # taken out of the box, said so (test_admin_refused_boxes)
        assert f"U+{ord(char):04X} ({char_name(char)}) tại ký tự 5" in r.text
    assert ops.get_topic(service.db, "kt").title == "Kiến Thụy"


HOOK = "json://hook-user:s3cret-Pa55word@127.0.0.1:9/deliver/TOKEN-abcdef123456"


def test_apprise_destinations_and_channel_filters(served: tuple[TestClient, Service]) -> None:
    """Issue 14 §3/§4: the form adds an Apprise destination (shown masked, never the URL);
    subscriptions and the delivery log filter by channel."""
    client, service = served
    seed_delivery(service, "failed")  # a Telegram group's delivery
    login(client)
    page = client.get("/admin/subscriptions").text
    assert 'id="apprise-form"' in page and 'name="url" type="password"' in page
    form = {"csrf": csrf_of(client), "url": HOOK, "topic": "", "query": "Kiến Thụy"}
    r = client.post("/admin/subscriptions/apprise", data=form)
    assert r.status_code == 200 and 'class="flash bad"' not in r.text
    with service.db.read() as conn:
        subs = sub_store.list_subscriptions(conn, channel="apprise")
    assert len(subs) == 1 and subs[0].address == HOOK
    shown = mask(HOOK)
    for query in ("", "?channel=apprise"):
        page = client.get(f"/admin/subscriptions{query}").text
        assert shown in page
        assert all(secret not in page for secret in (HOOK, "s3cret", "TOKEN-abc"))
    assert shown not in client.get("/admin/subscriptions?channel=telegram").text
    bad = client.post("/admin/subscriptions/apprise", data=form | {"url": "nope://secret-thing"})
    # refused under the URL box, which comes back empty (a secret): never in the page
    assert bad.status_code == 422 and 'id="url-error"' in bad.text
    said = re.search(r'<p class="field-error" id="url-error" role="alert">(.*?)</p>', bad.text)
    assert said and "secret-thing" not in bad.text
    assert "Kiến Thụy" in client.get("/admin/deliveries?channel=telegram").text
    none = client.get("/admin/deliveries?channel=zalo").text
    assert CATALOGUE["no_deliveries"][0] in none
    assert "Kiến Thụy" in client.get("/admin/deliveries?channel=bogus").text  # → all


# -- language ------------------------------------------------------------------------------


def test_admin_in_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = make_client(tmp_path, monkeypatch, language="en")
    with client:
        login(client)
        page = client.get("/admin/topics").text
        assert "New topic" in page and 'lang="en"' in page


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_previews_refusals_are_worded_in_the_admins_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """The preview's script shows ``error`` of any answer but 200. Its 401 (no session, or the
    admin logged out in another tab) and 403s (no or a wrong CSRF token, another origin) put
    English there ("login required") and the words in a field the script never read."""
    client, _ = make_client(tmp_path, monkeypatch, language=language)
    words = {k: CATALOGUE[k][0 if language == "vi" else 1] for k in ("login_required", "forbidden")}

    def preview(**headers: str) -> tuple[int, object]:
        r = client.post("/admin/preview", json={"query": "an ninh"}, headers=headers)
        return r.status_code, r.json()

    with client:
        assert preview() == (401, {"error": words["login_required"]})
        login(client)
        good = csrf_of(client)
        assert preview() == (403, {"error": words["forbidden"]})
        assert preview(**{"X-CSRF-Token": "0" * 64}) == (403, {"error": words["forbidden"]})
        evil = {"X-CSRF-Token": good, "Origin": "https://evil.example"}
        assert preview(**evil) == (403, {"error": words["forbidden"]})
        status, answer = preview(**{"X-CSRF-Token": good})
        assert status == 200 and isinstance(answer, dict) and "error" not in answer
        client.post("/admin/logout", data={"csrf": good})
        assert preview(**{"X-CSRF-Token": good}) == (401, {"error": words["login_required"]})


def test_a_chats_switch_off_reason_is_worded_in_the_admins_language(
    served: tuple[TestClient, Service],
) -> None:
    """The stored reason is a code (+ the channel's technical words), never shown as a code;
    the words in the admin's language, the channel's own words on a muted line of their own
    (test_delivery_words)."""
    from feedsvc.catalogue.reasons import stored_reason

    client, service = served
    with service.db.write() as conn:
        now = service.db.now()
        sub_store.ensure_chat(conn, -300, "group", "Nhóm bị chặn", now)
        sub_store.ensure_chat(conn, -301, "group", "Nhóm cũ", now)
        sub_store.subscribe(conn, -300, topic_id=None, query='"an ninh"', now=now)
        sub_store.subscribe(conn, -301, topic_id=None, query='"an ninh"', now=now)
        sub_store.disable_chat(conn, -300, stored_reason("blocked", "Forbidden: bot was kicked"))
        sub_store.disable_chat(conn, -301, "văn bản cũ, trước khi có mã")  # written before codes
    login(client)
    words = CATALOGUE["reason.blocked"][0]
    for path in ("/admin/subscriptions", "/admin/status"):
        page = client.get(path).text
        assert f"<div>{words}</div>" in page, path
        assert 'translate="no">Forbidden: bot was kicked</span>' in page, path
        assert "blocked|" not in page and "văn bản cũ, trước khi có mã" in page, path


CHAT_FIELDS = re.compile(r'name="(digest|quiet)"[^>]*value="([^"]*)"|name="silent"( checked)?')


def test_a_head_is_the_get_it_asks_for_never_a_form_sent(
    served: tuple[TestClient, Service],
) -> None:
    """Starlette routes a HEAD to every GET route; the admin took it for a POST the guard never
    checked: ``HEAD /admin/chats/N`` (no CSRF token) reset the chat's digest, quiet hours and
    silence, a topic editor's HEAD was a 422 save, the login page's a 403 and a page's HEAD
    without a session a 401 instead of the login redirect. A HEAD answers as its GET."""
    client, service = served
    seed_delivery(service, "failed")
    for path in ("/admin/login", "/admin/topics", "/admin/chats/-100", "/admin/status"):
        get = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert (head.status_code, head.headers.get("location")) == (
            get.status_code,
            get.headers.get("location"),
        ), path
    login(client)
    create_topic(client, "kt", "Kiến Thụy", '"Kiến Thụy"')
    chat = {"digest": "08:00", "quiet": "22:00-06:00", "silent": "on"}
    sent = client.post(
        "/admin/chats/-100", data=chat | hidden_of(client, "/admin/chats/-100"),
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303
    before = CHAT_FIELDS.findall(client.get("/admin/chats/-100").text)
    assert ("digest", "08:00", "") in before and ("", "", " checked") in before
    for path in (
        "/admin/chats/-100",
        "/admin/topics/new",
        "/admin/topics/kt/edit",
        "/admin/topics",
        "/admin/login",
        "/admin/deliveries",
    ):
        get = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
    assert CHAT_FIELDS.findall(client.get("/admin/chats/-100").text) == before


@pytest.mark.parametrize(
    "path", ["/admin/chats/abc", "/admin/chats/424242", "/admin/topics/ghost/edit"]
)
def test_a_signed_in_admins_not_found_page_keeps_the_navigation(
    client: TestClient, path: str
) -> None:
    """An id or slug that names nothing, opened by a signed-in admin, was a bare red line with
    no way on (the logged-out look, not even a link to the list it came from). It keeps the
    admin's navigation; signed out, the same address still goes to the login, showing nothing."""
    signed_out = client.get(path, follow_redirects=False)
    assert signed_out.status_code in (303, 307), signed_out.status_code
    assert login(client).status_code == 303
    r = client.get(path)
    assert r.status_code == 404
    assert '<p class="flash bad">Không tìm thấy.</p>' in r.text
    for link in ("/admin/topics", "/admin/subscriptions", "/admin/deliveries"):
        assert f'href="{link}"' in r.text, link
    assert 'action="/admin/logout"' in r.text
