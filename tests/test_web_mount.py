"""``web.mount``: ``http.public_url``'s path as the admin writes it, and the same addresses
served on the service's own port (the proxy and tunnel walks are ``tests/test_proxy_path.py``)."""

from __future__ import annotations

import pytest
from starlette.types import Receive, Scope, Send

from feedsvc.config import load_config
from feedsvc.web.mount import Mounted, mount_path


@pytest.mark.parametrize(
    ("public_url", "mount"),
    [
        (None, ""),
        ("https://tin.example.vn", ""),
        ("https://tin.example.vn/", ""),
        ("https://tin.example.vn/rss", "/rss"),
        ("https://tin.example.vn/rss/", "/rss"),
        ("https://tin.example.vn//rss//", "/rss"),  # "//rss" would be the host "rss"
        ("https://tin.example.vn/a/b/", "/a/b"),
        ("https://tin.example.vn/tin-t%E1%BB%A9c/", "/tin-t%E1%BB%A9c"),  # escapes kept
        ("https://tin.example.vn/tin-tức/", "/tin-t%E1%BB%A9c"),
        ("https://tin.example.vn/x;y/", "/x%3By"),  # a cookie's Path ends at ";"
    ],
)
def test_mount_path(public_url: str | None, mount: str) -> None:
    http = {} if public_url is None else {"http": {"public_url": public_url}}
    assert mount_path(load_config(None, http).http) == mount


KIEN, KIEN_RAW = "/topics/ki\u1ebfn", b"/topics/ki%E1%BA%BFn"


async def asked(app: Mounted, path: str, raw: bytes) -> tuple[str, bytes]:
    """The (path, raw_path) the wrapped app sees for a request of ``path``/``raw``."""
    seen: list[tuple[str, bytes]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["path"], scope["raw_path"]))

    app.app = inner
    await app({"type": "http", "path": path, "raw_path": raw}, None, None)  # type: ignore[arg-type]
    return seen[0]


@pytest.mark.parametrize(
    ("path", "raw", "seen"),
    [
        ("/rss/admin/topics", b"/rss/admin/topics", ("/admin/topics", b"/admin/topics")),
        ("/rss", b"/rss", ("/", b"/")),
        ("/rss/", b"/rss/", ("/", b"/")),
        ("/admin/topics", b"/admin/topics", ("/admin/topics", b"/admin/topics")),  # the root's
        ("/rssx/admin", b"/rssx/admin", ("/rssx/admin", b"/rssx/admin")),  # not under /rss
        ("/rss" + KIEN, b"/rss" + KIEN_RAW, (KIEN, KIEN_RAW)),
    ],
)  # fmt: skip
async def test_a_path_under_the_mount_is_served_as_at_the_root(
    path: str, raw: bytes, seen: tuple[str, bytes]
) -> None:
    app = Mounted(None, "/rss", {"admin", "feeds", "topics"})  # type: ignore[arg-type]
    assert await asked(app, path, raw) == seen


async def test_a_mount_named_like_a_route_is_left_alone() -> None:
    app = Mounted(None, "/feeds", {"admin", "feeds"})  # type: ignore[arg-type]
    assert await asked(app, "/feeds/x.rss", b"/feeds/x.rss") == ("/feeds/x.rss", b"/feeds/x.rss")


async def test_an_escaped_mount_is_stripped_as_sent() -> None:
    app = Mounted(None, "/tin-t%E1%BB%A9c", {"admin"})  # type: ignore[arg-type]
    got = await asked(app, "/tin-t\u1ee9c/admin", b"/tin-t%E1%BB%A9c/admin")
    assert got == ("/admin", b"/admin")
