"""``http.public_url``'s path (a proxy serving feedsvc under ``/rss/``): the path browsers see
the app's root under, and the same addresses served on the service's own port.

Behind such a proxy (``/rss/admin/topics`` passed on as ``/admin/topics``) the admin's links,
forms, cookie path and redirects carry the path (:func:`mount_path`), so they work through the
proxy. An operator who reaches the service directly (a tunnel to its port: the admin kept off
the public proxy) follows those same links to ``/rss/admin/…`` on the service itself:
:class:`Mounted` serves a path under the mount as the path without it, so both ways in work
with one configuration (before, the tunnel's login never held: its cookie was scoped to
``/rss/admin``). A mount whose first segment is one of the app's own (``/admin/``, ``/feeds/``:
a proxy path that collides with a route) is not stripped: the app's own paths win.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc.web.slashes import PATH_SAFE

if TYPE_CHECKING:
    from feedsvc.config import HttpSettings


def mount_path(http: HttpSettings) -> str:
    """The path under which browsers reach feedsvc's root, for the links, form actions, cookie
    path and redirects of pages not built from ``http.public_url`` itself (the admin):
    ``http.public_url``'s path without its trailing slash when the operator set it (``"/rss"``
    behind a proxy serving feedsvc under ``https://tin.example.vn/rss/``), else ``""``. Runs of
    slashes are one (``//rss`` would read as the host ``rss``); escaped as a redirected path
    is, ``;`` too (a cookie's ``Path`` attribute ends at one)."""
    if "public_url" not in http.model_fields_set:
        return ""
    segments = [part for part in urlsplit(http.public_url).path.split("/") if part]
    path = "".join("/" + part for part in segments)
    return quote(path, safe=PATH_SAFE.replace(";", "") + "%", errors="surrogateescape")


class Mounted:
    """Serve ``mount + path`` as ``path`` (see the module doc); ``mount`` as :func:`mount_path`
    gives it, ``reserved``: the first segments of the app's own routes."""

    def __init__(self, app: ASGIApp, mount: str, reserved: Collection[str]) -> None:
        self.app = app
        first = unquote(mount).split("/")[1] if mount else ""
        self.mount = mount if first and first not in reserved else ""
        self.decoded = unquote(self.mount)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mount and scope["type"] == "http":
            raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
            path: str = scope["path"]
            # the request line is ASCII (percent-encoded): its bytes read as latin-1 are its text
            if _under(raw.decode("latin-1"), self.mount) and _under(path, self.decoded):
                scope = {**scope, "raw_path": raw[len(self.mount) :] or b"/",
                         "path": path[len(self.decoded) :] or "/"}  # fmt: skip
        await self.app(scope, receive, send)


def _under(path: str, mount: str) -> bool:
    """``path`` is ``mount`` or below it (``/rss/x``, not ``/rssx``)."""
    return path == mount or path.startswith(mount + "/")
