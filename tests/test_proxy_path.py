"""Behind a proxy that serves feedsvc under a path (``http.public_url`` =
``https://tin.example.vn/rss/``, the proxy passing ``/rss/x`` on as ``/x``), every address the
app hands a browser stays under that path: the admin's links, forms, scripts and cookies, every
redirect the admin answers and a browser's navigation from a feed to its reader page
(path-absolute: the host asked stays), and the API's description. They
pointed at the root of the outer site (``/admin/topics``, ``/topics/x#rss``): a 404 there, and
the admin's session cookie, scoped to ``/admin``, was never sent back, so no login held.

The same addresses work on the service's own port (a tunnel to the admin, kept off the public
proxy): there the browser follows ``/rss/admin/…`` to the service itself (``web.mount``). The
test client asks the app's own paths, as the proxy does after stripping its prefix, or the
path with the prefix (``tunnel``); cookies are handed back by hand when their ``Path`` is where
the browser would send them."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from migrated import premigrated
from test_admin import button_fields

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

ADMIN_TOKEN = "adm-proxy-path-0123456789abcdef"
NAVIGATE = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "accept": "text/html"}
VN = "https://tin.example.vn"
#: (http.public_url, where redirects point, the path browsers see the app's root under)
BEHIND = [
    ("https://tin.example.vn/rss/", "https://tin.example.vn/rss", "/rss"),
    ("https://tin.example.vn/a/b", "https://tin.example.vn/a/b", "/a/b"),
    (f"{VN}/tin-t%E1%BB%A9c/", f"{VN}/tin-t%E1%BB%A9c", "/tin-t%E1%BB%A9c"),  # "tin-tức"
    ("https://tin.example.vn/x;y/", "https://tin.example.vn/x;y", "/x%3By"),
    ("https://tin.example.vn//rss//a/", "https://tin.example.vn//rss//a", "/rss/a"),  # not a host
    ("https://tin.example.vn", "https://tin.example.vn", ""),
    (None, "", ""),  # not set: path-absolute addresses, as before
]  # fmt: skip


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public_url: str | None) -> Service:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", ADMIN_TOKEN)
    http = {} if public_url is None else {"http": {"public_url": public_url}}
    settings = load_config(
        None,
        {"database": {"url": premigrated(f"sqlite:///{tmp_path / 's.db'}")},
         "topics": {"import_on_start": False}, **http},
    )  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    ops.save_topic(service.db, TopicSpec("phap-luat", "Pháp luật", "Pháp luật"), "test")
    return service


@pytest.fixture(params=BEHIND, ids=lambda b: str(b[0]))
def behind(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str, str]]:
    public_url, base, mount = request.param
    service = start(tmp_path, monkeypatch, public_url)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        service.publisher.sync()
        yield client, base, mount
    service.close()


class Tunnel:
    """A browser on the service's own port following the admin's links: it asks ``mount +
    path`` (what the links say) where the proxy would have asked ``path``."""

    def __init__(self, client: TestClient, mount: str) -> None:
        self.client, self.mount = client, mount

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(self.mount + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.mount + path, **kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self.client.cookies


def cookies_of(response: httpx.Response) -> dict[str, tuple[str, str]]:
    """``name → (value, Path)`` of every ``Set-Cookie`` in ``response``."""
    found: dict[str, tuple[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        pair, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = pair.partition("=")
        paths = [a[5:] for a in attributes if a.lower().startswith("path=")]
        found[name] = (value.strip('"'), paths[0] if paths else "")
    return found


def test_a_browser_opening_a_feed_goes_to_the_page_under_the_path(
    behind: tuple[TestClient, str, str],
) -> None:
    client, _, mount = behind
    for fmt in ("rss", "atom", "json"):
        page = client.get(f"/feeds/phap-luat.{fmt}", headers=NAVIGATE, follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (
            303,
            f"{mount}/topics/phap-luat#{fmt}",
        )
    reader = client.get("/feeds/phap-luat.rss", follow_redirects=False)  # a feed reader
    assert reader.status_code == 200


@pytest.mark.parametrize("tunnel", [False, True], ids=["proxy", "tunnel"])
def test_the_admin_works_under_the_path(behind: tuple[TestClient, str, str], tunnel: bool) -> None:
    proxied, _, mount = behind
    client = Tunnel(proxied, mount) if tunnel else proxied
    admin = f"{mount}/admin"
    home = client.get("/admin", follow_redirects=False)  # path-absolute: the host asked stays
    assert (home.status_code, home.headers["location"]) == (303, f"{admin}/topics")
    asked = client.get("/admin/topics/phap-luat/edit", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"{admin}/login?next=/admin/topics/phap-luat/edit"

    form = client.get("/admin/login?next=/admin/topics/phap-luat/edit")
    assert f'href="{admin}/static/admin.css"' in form.text
    assert f'src="{admin}/static/admin.js"' in form.text
    assert f'action="{admin}/login?next=' in form.text
    nonce = cookies_of(form)["feedsvc_login"]
    assert nonce[1] == admin  # sent back by a browser on the login form's POST
    csrf = re.search(r'name="csrf" value="([^"]*)"', form.text)
    assert csrf
    client.cookies.clear()
    login = client.post(
        "/admin/login?next=/admin/topics/phap-luat/edit",
        data={"token": ADMIN_TOKEN, "csrf": csrf.group(1)},
        headers={"cookie": f"feedsvc_login={nonce[0]}"},
        follow_redirects=False,
    )
    assert (login.status_code, login.headers["location"]) == (
        303,
        f"{admin}/topics/phap-luat/edit",
    )
    session = cookies_of(login)["feedsvc_admin"]
    assert session[1] == admin
    assert cookies_of(login)["feedsvc_login"][1] == admin  # cleared where it was set
    client.cookies.clear()
    cookie = {"cookie": f"feedsvc_admin={session[0]}"}

    editor = client.get("/admin/topics/phap-luat/edit", headers=cookie)
    assert editor.status_code == 200
    assert f'action="{admin}/topics/phap-luat/edit"' in editor.text
    assert f'data-preview="{admin}/preview"' in editor.text
    assert f'href="{admin}/topics"' in editor.text
    links = re.findall(r'(?:href|action|src|data-preview)="(/[^"]*)"', editor.text)
    assert links and all(link.startswith(f"{admin}/") for link in links), links
    token = re.search(r'name="csrf" value="([^"]*)"', editor.text)
    assert token
    done = client.post(
        "/admin/topics/phap-luat/disable",
        data=button_fields(client, "phap-luat", "disable", headers=cookie),
        headers=cookie,
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{admin}/topics")
    assert cookies_of(done)["feedsvc_flash"][1] == admin
    out = client.post(
        "/admin/logout", data={"csrf": token.group(1)}, headers=cookie, follow_redirects=False
    )
    assert (out.status_code, out.headers["location"]) == (303, f"{admin}/login")
    assert cookies_of(out)["feedsvc_admin"] == ("", admin)  # deleted where it was set


def test_the_api_document_names_the_path(behind: tuple[TestClient, str, str]) -> None:
    """An OpenAPI client resolves every operation against ``servers``: it said ``/``."""
    client, _, mount = behind
    document = client.get("/api/openapi.json").json()
    assert document["servers"] == [{"url": mount or "/"}]  # + "/api/topics": no "//"
    assert "/api/topics" in document["paths"]
    assert client.get("/api/").json()["openapi"] == f"{mount}/api/openapi.json"


def test_a_proxy_path_that_is_one_of_the_apps_own_is_not_stripped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``http.public_url`` ``https://x.vn/feeds/``: ``/feeds/phap-luat.rss`` on the service's
    own port is still the feed (not ``/phap-luat.rss``), and the admin at its own path works."""
    service = start(tmp_path, monkeypatch, "https://tin.example.vn/feeds/")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        service.publisher.sync()
        assert client.get("/feeds/phap-luat.rss").status_code == 200
        assert client.get("/admin/login").status_code == 200
    service.close()
