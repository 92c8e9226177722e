"""The web admin under hostile input (issue #12 §7): malformed cookies and CSRF values are a
400, never a 500; a logout is stored in the state DB (survives a restart, reaches replicas); a
missing or unreadable token file closes the admin with a 503; the login limiter believes
``X-Forwarded-For`` only from ``http.trusted_proxies``; and any path, query or form values a
client may send to any admin route get an answer below 500 (property test, SQLite and
PostgreSQL).

A cookie's or CSRF value's bytes and where a login goes on to are read before any SQL: those
cases run on SQLite only (``backend_cases.on_sqlite_only``), and a cookie and its non-ASCII
value are each-choice (``combos.each_choice``: every reader refuses any non-ASCII value first,
``admin_auth.require_ascii``, whatever its shape). Inputs that reach SQL (the property test, the
odd parameters: NUL and huge numbers fail on PostgreSQL alone), the logout reaching another
replica through the state DB and the revoked-sessions migration's data keep both."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from backend_cases import on_sqlite_only
from combos import each_choice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrated import premigrated
from processes import free_port, uvicorn_thread
from test_admin import CSRF_FIELD, TOKEN, login

from feedsvc.app import Roles, Service, create_app, uvicorn_config
from feedsvc.config import load_config
from feedsvc.web import admin_auth as auth

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def make_service(db_url: str, **sections: dict[str, Any]) -> Service:
    url = premigrated(db_url)
    settings_ = load_config(
        None, {"database": {"url": url}, "topics": {"import_on_start": False}, **sections}
    )
    service = Service(settings_, Roles(scheduler=False, bot=False))
    service.prepare()
    return service


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        yield client, service
    service.close()


def csrf(client: TestClient) -> str:
    found = CSRF_FIELD.search(client.get("/admin/topics").text)
    assert found
    return found.group(1)


# --- malformed cookies and CSRF values ------------------------------

NON_ASCII = ["\u00ff", "é", "Việt", "\x80\x81", "a.b.\u00e9", "😀|sig"]


@pytest.mark.parametrize(
    ("db_url", "cookie", "value"),
    on_sqlite_only(
        each_choice([auth.SESSION_COOKIE, auth.LOGIN_COOKIE, auth.FLASH_COOKIE], NON_ASCII)
    ),
    indirect=["db_url"],
)
def test_non_ascii_cookies_are_400_not_500(
    admin: tuple[TestClient, Service], cookie: str, value: str
) -> None:
    client, _ = admin
    raw = f"{cookie}={value}".encode()  # raw bytes in the Cookie header, as a browser may send
    # where the cookie is read it is refused with 400; elsewhere it is ignored
    reads = {
        auth.SESSION_COOKIE: {("GET", "/admin/topics"), ("POST", "/admin/logout")},
        auth.LOGIN_COOKIE: {("POST", "/admin/login")},
        auth.FLASH_COOKIE: set(),
    }[cookie]
    for method, path in (
        ("GET", "/admin/topics"),
        ("GET", "/admin/login"),
        ("POST", "/admin/login"),
        ("POST", "/admin/logout"),
    ):
        response = client.request(
            method,
            path,
            headers={"cookie": raw},  # type: ignore[dict-item]
            follow_redirects=False,
        )
        assert response.status_code < 500, (method, path)
        if (method, path) in reads:
            assert response.status_code == 400, (method, path)
            assert "Traceback" not in response.text
            assert f"{cookie}=" in response.headers.get("set-cookie", "")  # cleared


@pytest.mark.parametrize(("db_url", "value"), on_sqlite_only(NON_ASCII), indirect=["db_url"])
def test_non_ascii_csrf_values_are_400(admin: tuple[TestClient, Service], value: str) -> None:
    client, _ = admin
    assert login(client).status_code == 303
    form = client.post(
        "/admin/topics/new", data={"csrf": value, "slug": "x"}, follow_redirects=False
    )
    header = client.post(
        "/admin/preview", json={"query": "a"}, headers={"x-csrf-token": value.encode()}
    )  # type: ignore[dict-item]
    login_form = client.post("/admin/login", data={"csrf": value, "token": TOKEN})
    assert form.status_code == 400
    assert header.status_code == 400
    assert login_form.status_code == 400
    assert "Traceback" not in form.text + header.text + login_form.text


# --- logout is stored in the state DB ------------------------------


def test_logout_survives_a_restart_and_reaches_other_replicas(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    first, second = make_service(db_url), make_service(db_url)  # two replicas, one state DB
    try:
        with TestClient(create_app(first), base_url="http://127.0.0.1") as a:
            assert login(a).status_code == 303
            session = a.cookies.get(auth.SESSION_COOKIE)
            assert a.get("/admin/topics", follow_redirects=False).status_code == 200
            with TestClient(create_app(second), base_url="http://127.0.0.1") as b:
                b.cookies.set(auth.SESSION_COOKIE, session, path="/admin")
                assert b.get("/admin/topics", follow_redirects=False).status_code == 200
                token = csrf(a)
                assert (
                    a.post(
                        "/admin/logout", data={"csrf": token}, follow_redirects=False
                    ).status_code
                    == 303
                )
                # the other replica refuses the cookie a thief kept
                assert b.get("/admin/topics", follow_redirects=False).status_code == 303
        restarted = make_service(db_url)  # a new process on the same state DB
        with TestClient(create_app(restarted), base_url="http://127.0.0.1") as c:
            c.cookies.set(auth.SESSION_COOKIE, session, path="/admin")
            assert c.get("/admin/topics", follow_redirects=False).status_code == 303
        restarted.close()
    finally:
        for service in (first, second):
            service.close()


# --- the token file ------------------------------


@pytest.mark.parametrize("problem", ["missing", "directory", "not-utf8", "unreadable"])
def test_an_unusable_token_file_closes_admin_and_api_with_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    monkeypatch.delenv("FEEDSVC_ADMIN__TOKEN", raising=False)
    token_file = tmp_path / "admin.token"
    if problem == "directory":
        token_file.mkdir()
    elif problem == "not-utf8":
        token_file.write_bytes(b"\xff\xfe secret")
    elif problem == "unreadable":
        token_file.write_text("secret-token-123456")
        token_file.chmod(0)
    service = make_service(f"sqlite:///{tmp_path / 's.db'}")
    service.settings.admin.token_file = token_file  # removed or broken after start
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        if problem == "unreadable" and token_file.read_text():  # root reads anything
            pytest.skip("running as root: a mode-0 file is still readable")
        for method, path in (
            ("GET", "/admin/topics"),
            ("GET", "/admin/login"),
            ("POST", "/admin/login"),
        ):
            assert client.request(method, path).status_code == 503
        api = client.get("/api/topics", headers={"Authorization": "Bearer x"})
        assert api.status_code == 503


# --- the login limiter and trusted proxies ------------------------------


def wrong_logins(base: str, forwarded_for: str, n: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(n):
            page = client.get("/admin/login")
            token = CSRF_FIELD.search(page.text)
            assert token
            response = client.post(
                "/admin/login",
                data={"token": "wrong", "csrf": token.group(1)},
                headers={"X-Forwarded-For": forwarded_for},
            )
            statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("trusted", [[], ["127.0.0.1"]])
def test_login_limiter_believes_forwarded_for_only_from_trusted_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: list[str]
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    port = free_port()
    service = make_service(
        f"sqlite:///{tmp_path / 's.db'}", http={"trusted_proxies": trusted, "port": port}
    )
    with uvicorn_thread(uvicorn_config(service.settings, create_app(service))):
        base = f"http://127.0.0.1:{port}"
        # an attacker rotating X-Forwarded-For on every guess
        rotated = [wrong_logins(base, f"203.0.113.{i}", 1)[0] for i in range(8)]
        if not trusted:
            assert rotated[:5] == [401] * 5 and set(rotated[5:]) == {429}
        else:  # behind a trusted proxy each address is a client: one failure each
            assert rotated == [401] * 8
            assert wrong_logins(base, "198.51.100.4", 6)[-1] == 429
            # a spoofed hop in front of the proxy's entry does not reset the count
            assert wrong_logins(base, "10.9.9.9, 198.51.100.4", 1) == [429]


# --- any parameters: never a 500 ------------------------------

ROUTES = [
    ("GET", "/admin/topics/{}/edit"),
    ("POST", "/admin/topics/{}/edit"),
    ("POST", "/admin/topics/{}/enable"),
    ("POST", "/admin/topics/{}/disable"),
    ("POST", "/admin/topics/{}/delete"),
    ("POST", "/admin/topics/{}/backfill"),
    ("POST", "/admin/chats/{}/pause"),
    ("POST", "/admin/chats/{}/resume"),
    ("POST", "/admin/subscriptions/{}/delete"),
    ("POST", "/admin/deliveries/{}/resend"),
    ("GET", "/admin/deliveries"),
    ("GET", "/admin/topics/new"),
    ("POST", "/admin/topics/new"),
    ("GET", "/admin/subscriptions"),
    ("GET", "/admin/status"),
]
odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "9" * 30,
            "-9" * 20,
            "9" * 5000,
            "²",
            "٣",
            "0x1f",
            "1e9",
            " 1",
            "%ff",
            "\x00",
            "a\x00b",
            "../../etc",
            "Kiến Thụy",
            "-1",
            "0",
            "🙂",
        ]
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    path_value=odd_text,
    query=st.dictionaries(st.sampled_from(["state", "page", "next", "x"]), odd_text, max_size=3),
    form=st.dictionaries(
        st.sampled_from(["slug", "title", "query", "description", "enabled", "backfill", "x"]),
        odd_text,
        max_size=4,
    ),
)
def test_admin_routes_never_answer_500(
    admin: tuple[TestClient, Service],
    route: tuple[str, str],
    path_value: str,
    query: dict[str, str],
    form: dict[str, str],
) -> None:
    client, _ = admin
    if auth.SESSION_COOKIE not in client.cookies:
        assert login(client).status_code == 303
    method, template = route
    path = template.format(quote(path_value, safe=""))
    data = {**form, "csrf": csrf(client)} if method == "POST" else None
    response = client.request(method, path, params=query, data=data, follow_redirects=False)
    assert response.status_code < 500, (method, path, query, form, response.text[:300])


HUGE = "9" * 30
ODD_REQUESTS = [
    ("GET", "/admin/deliveries?page=" + "9" * 5000, None),
    ("GET", "/admin/deliveries?page=%C2%B2", None),  # "²" is a digit to str.isdigit
    ("GET", f"/admin/deliveries?page={HUGE}", None),
    ("GET", "/admin/deliveries?page=99999999999999&state=dead", None),
    ("GET", "/admin/deliveries?state=%FF%FE&page=%FF", None),
    ("POST", f"/admin/chats/{HUGE}/pause", {}),
    ("POST", f"/admin/chats/-{HUGE}/resume", {}),
    ("POST", "/admin/chats/%C2%B2/pause", {}),
    ("POST", f"/admin/deliveries/{HUGE}/resend", {}),
    ("POST", f"/admin/subscriptions/{HUGE}/delete", {}),
    ("GET", "/admin/topics/a%00b/edit", None),
    ("POST", "/admin/topics/a%00b/enable", {}),
    ("POST", "/admin/topics/new", {"slug": "a\x00b", "title": "T", "query": "x"}),
    ("POST", "/admin/topics/new", {"slug": "ok", "title": "T\x00", "query": "x\x00y"}),
    ("POST", "/admin/topics/new", {"slug": "k", "title": "T", "query": "x", "description": "\x00"}),
]


@pytest.mark.parametrize(("method", "path", "form"), ODD_REQUESTS)
def test_odd_admin_parameters_are_4xx(
    admin: tuple[TestClient, Service], method: str, path: str, form: dict[str, str] | None
) -> None:
    client, _ = admin
    assert login(client).status_code == 303
    data = {**form, "csrf": csrf(client)} if form is not None else None
    response = client.request(method, path, data=data, follow_redirects=False)
    assert response.status_code < 500, response.text[:300]


def test_the_revoked_sessions_migration_keeps_existing_data(db_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert, inspect, select

    from feedsvc.db import Database, upgrade
    from feedsvc.db.schema import topics
    from feedsvc.store import sessions

    db = Database(db_url)
    try:
        upgrade(db, "0003")
        assert "revoked_sessions" not in inspect(db.engine).get_table_names()
        with db.write() as conn:  # the columns 0003 has (today's save_topic writes later ones)
            now = datetime.now(UTC)
            conn.execute(insert(topics).values(
                slug="kien-thuy", title="Kiến Thụy", description="", query='"Kiến Thụy"',
                enabled=True, origin="cli", created_at=now, updated_at=now,
            ))  # fmt: skip
        upgrade(db)
        with db.write() as conn:
            assert conn.execute(select(topics.c.slug)).scalars().all() == ["kien-thuy"]
            now = datetime.now(UTC)
            sessions.revoke(conn, "sid-1", now.replace(year=now.year + 1), now)
            sessions.revoke(conn, "sid-1", now.replace(year=now.year + 1), now)  # twice: fine
        with db.read() as conn:
            assert sessions.is_revoked(conn, "sid-1") and not sessions.is_revoked(conn, "x")
    finally:
        db.dispose()


# --- bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/login", "/admin/topics/new", "/admin/preview"])
def test_an_oversized_admin_body_is_413_without_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    port = free_port()
    service = make_service(f"sqlite:///{tmp_path / 's.db'}", http={"port": port})
    big = b"token=" + b"a" * (4 * 2**20)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must count what arrives
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    with uvicorn_thread(uvicorn_config(service.settings, create_app(service))):
        base = f"http://127.0.0.1:{port}"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        declared = httpx.post(base + path, content=big, headers=headers, timeout=30)
        streamed = httpx.post(base + path, content=chunks(), headers=headers, timeout=30)
        small = httpx.post(base + "/admin/login", data={"token": "x"}, timeout=30)
    assert declared.status_code == 413
    # the login form is read without a session: the cap stops it; other routes refuse a
    # request without a session before reading its body at all
    assert streamed.status_code == (413 if path == "/admin/login" else 401)
    assert small.status_code == 403  # a normal form still reaches the login check


# --- where a login goes on to ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("db_url", "typed"),
    on_sqlite_only(
        [
            "/admin/../..//evil.com",
            "/admin/..//evil.com",
            "/admin/%2e%2e/%2E%2E//evil.com",
            "/admin/.%2e/x",
            "/admin/./topics",
            "/admin/\\evil.com",
            "/admin/..\\..\\evil.com",
            "/admin//evil.com",
            "//evil.com",
            "https://evil.com/admin/",
            "/admin/topics\r\nSet-Cookie: x=1",
            "/admin/topics#frag",
            "/admin/t\u00f4pics",
            "/adminx/topics",
            "",
            "/admin/topics?q=" + "a" * 3000,
        ]
    ),
    indirect=["db_url"],
)
def test_a_login_goes_on_only_to_an_admin_page(
    admin: tuple[TestClient, Service], typed: str
) -> None:
    """``next`` is an admin page or nothing: dot segments, backslashes, ``//``, controls."""
    location = _login_next(admin[0], typed)
    assert location.endswith("/admin/topics"), location


@pytest.mark.parametrize(
    ("db_url", "typed"),
    on_sqlite_only(["/admin/topics/kien-thuy/edit", "/admin/deliveries?state=failed&page=2"]),
    indirect=["db_url"],
)
def test_a_login_goes_on_to_the_admin_page_asked_for(
    admin: tuple[TestClient, Service], typed: str
) -> None:
    location = _login_next(admin[0], typed)
    assert location.endswith(typed), location


@pytest.mark.parametrize(
    ("db_url", "typed", "lands"),
    on_sqlite_only(
        [
            ("/admin/topics/kien-thuy/enable", "/admin/topics"),
            ("/admin/topics/kien-thuy/delete?x=1", "/admin/topics"),
            ("/admin/chats/42/pause", "/admin/chats/42"),
            ("/admin/deliveries/7/resend", "/admin/deliveries"),
            ("/admin/subscriptions/apprise", "/admin/subscriptions"),
            ("/admin/preview", "/admin/topics"),
            ("/admin/logout", "/admin/topics"),
            ("/admin/login?next=/admin/status", "/admin/topics"),
            ("/admin/no/such/page", "/admin/topics"),
            ("/admin/status/", "/admin/status"),
        ]
    ),
    indirect=["db_url"],
)
def test_a_login_goes_on_to_a_page_a_browser_can_open(
    admin: tuple[TestClient, Service], typed: str, lands: str
) -> None:
    """A ``next`` the admin answers only to a POST (a button's action: enable, pause, resend)
    ended the login on a 405; one naming no page on a 404: the nearest page above it opens."""
    location = _login_next(admin[0], typed)
    assert location.endswith(lands), location
    # a chat the DB never saw is the admin's own "not found" page, not a 405
    assert admin[0].get(location).status_code == (404 if "/chats/" in lands else 200)


def _login_next(client: TestClient, typed: str) -> str:
    """Where a login with ``?next=<typed>`` goes on to (its 303's ``Location``)."""
    from urllib.parse import quote

    login_url = f"/admin/login?next={quote(typed, safe='')}"
    found = CSRF_FIELD.search(client.get(login_url).text)
    assert found
    done = client.post(
        login_url, data={"token": TOKEN, "csrf": found.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303
    return str(done.headers["location"])
