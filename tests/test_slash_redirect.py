"""The trailing-slash redirect goes to ``http.public_url``, never to the request's Host (tester3
F8).

Starlette's redirect built an absolute URL from the ``Host`` header and the socket's scheme:
``Host: evil.example`` was reflected into ``Location`` (a cache keyed on the path alone could
keep it), and behind a TLS-terminating proxy ``https://…/feeds/x.rss/`` went to ``http://``.
Now the target is ``http.public_url`` + the path when it is set, else a relative ``Location``.
(Two ``Host`` lines are refused by the protocol: ``tests/test_web_malformed.py``.)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from migrated import premigrated

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

EVIL = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}


def _client(sqlite_url: str, http: dict[str, object]) -> Iterator[TestClient]:
    url = premigrated(sqlite_url)
    settings = load_config(
        None, {"database": {"url": url}, "topics": {"import_on_start": False}, "http": http}
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
        service.publisher.sync()
        yield client


@pytest.fixture
def public(sqlite_url: str) -> Iterator[TestClient]:
    """``http.public_url`` set: readers come through ``https://tin.example.vn``."""
    yield from _client(sqlite_url, {"public_url": "https://tin.example.vn"})


@pytest.fixture
def prefixed(sqlite_url: str) -> Iterator[TestClient]:
    """A public URL with a path: the site under ``/tin/`` of a shared host."""
    yield from _client(sqlite_url, {"public_url": "https://news.example.vn/tin/"})


@pytest.fixture
def unset(sqlite_url: str) -> Iterator[TestClient]:
    """``http.public_url`` not set (its default is no reader's address)."""
    yield from _client(sqlite_url, {})


#: request path (with query) → the path it redirects to
REDIRECTED = {
    "/feeds/kien-thuy.rss/": "/feeds/kien-thuy.rss",
    "/feeds/kien-thuy.atom//": "/feeds/kien-thuy.atom",
    "/topics/kien-thuy/": "/topics/kien-thuy",
    "/feeds/search.rss/?q=an": "/feeds/search.rss?q=an",
    "/feeds/search.json/?q=c%C3%B4ng+an&limit=5": "/feeds/search.json?q=c%C3%B4ng+an&limit=5",
    "/topics/ki%E1%BA%BFn%20th%E1%BB%A5y/": "/topics/ki%E1%BA%BFn%20th%E1%BB%A5y",
    "/healthz/": "/healthz",
}


@pytest.mark.parametrize("path", REDIRECTED)
def test_the_redirect_goes_to_the_public_url_whatever_the_host(
    public: TestClient, path: str
) -> None:
    answer = public.get(path, headers=EVIL, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "https://tin.example.vn" + REDIRECTED[path]
    assert "evil" not in answer.headers["location"]


@pytest.mark.parametrize("path", ["/feeds/kien-thuy.rss/", "/feeds/search.rss/?q=an"])
def test_a_public_url_with_a_path_keeps_it(prefixed: TestClient, path: str) -> None:
    answer = prefixed.get(path, headers=EVIL, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "https://news.example.vn/tin" + REDIRECTED[path]


@pytest.mark.parametrize("path", REDIRECTED)
def test_without_a_public_url_the_location_is_relative(unset: TestClient, path: str) -> None:
    answer = unset.get(path, headers=EVIL, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == REDIRECTED[path]


def test_the_redirected_url_serves(public: TestClient) -> None:
    """The target is the route the slash-less path names (relative: followed here)."""
    answer = public.get("/feeds/kien-thuy.rss/", follow_redirects=False)
    target = answer.headers["location"].removeprefix("https://tin.example.vn")
    assert public.get(target).status_code == 200


@pytest.mark.parametrize("path", ["/nothing/", "/feeds/", "/topics/a/b/", "/feeds/a/b/"])
def test_no_route_no_redirect(public: TestClient, path: str) -> None:
    answer = public.get(path, headers=EVIL, follow_redirects=False)
    assert answer.status_code == 404, answer.headers
    assert "location" not in answer.headers


def test_the_target_never_names_another_host() -> None:
    """A path starting ``//`` would be a network-path reference: one slash kept."""
    from feedsvc.web.slashes import redirect_target

    assert redirect_target(None, "//evil.example/x", b"") == "/evil.example/x"
    assert redirect_target(None, "/a b/ü", b"q=1") == "/a%20b/%C3%BC?q=1"
    assert redirect_target("https://x.vn", "/feeds/a.rss", b"") == "https://x.vn/feeds/a.rss"
