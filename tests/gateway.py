"""An HTTP gateway on 127.0.0.1 in front of a fake Bot API (Telegram's or Zalo's), as nginx is
in front of a local Bot API server.

It passes every request on to the fake and hands the fake's answer back, except the next calls
of a method a test scripted: :meth:`Gateway.after` passes the call on (the fake acts on it: a
message IS delivered) and then answers the page given instead of the fake's answer, as nginx
does with a 504 when upstream is slow; :meth:`Gateway.instead` answers the page without passing
the call on (a 502 with upstream down). :attr:`Gateway.seen` counts the calls of each method
(lower case) that reached the gateway.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def nginx_page(status: int, reason: str) -> bytes:
    """nginx's own error page for ``status``."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>"
        f"{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


@dataclass(frozen=True)
class Page:
    """What the gateway answers instead of the fake: a status, a body and its type;
    ``passed``: whether the call went on to the fake first."""

    status: int
    body: bytes
    passed: bool
    content_type: str = "text/html"


class Gateway:
    """``with Gateway(fake.base_url) as gw:`` then point the client at ``gw.base_url``."""

    def __init__(self, upstream_base_url: str) -> None:
        # ``http://127.0.0.1:PORT/bot`` (Telegram's) or ``http://127.0.0.1:PORT`` (Zalo's)
        root = upstream_base_url.split("/", 3)
        self.upstream = "/".join(root[:3])
        self.path = "/" + root[3] if len(root) > 3 else ""
        self.seen: Counter[str] = Counter()
        self._pages: dict[str, list[Page]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def after(self, method: str, status: int, body: bytes, times: int = 1, **kw: str) -> None:
        """The next ``times`` calls of ``method`` go on to the fake, then get ``body``."""
        self._script(method, Page(status, body, True, **kw), times)

    def instead(self, method: str, status: int, body: bytes, times: int = 1, **kw: str) -> None:
        """The next ``times`` calls of ``method`` get ``body`` and never reach the fake."""
        self._script(method, Page(status, body, False, **kw), times)

    def clear(self) -> None:
        """Forget the pages not used yet."""
        with self._lock:
            self._pages.clear()

    def _script(self, method: str, page: Page, times: int) -> None:
        with self._lock:
            self._pages.setdefault(method.lower(), []).extend([page] * times)

    def _page(self, method: str) -> Page | None:
        with self._lock:
            self.seen[method] += 1
            pages = self._pages.get(method)
            return pages.pop(0) if pages else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                page = gateway._page(self.path.rsplit("/", 1)[-1].split("?")[0].lower())
                if page is None or page.passed:
                    status, data, kind = self._upstream(body)
                if page is not None:
                    status, data, kind = page.status, page.body, page.content_type
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _upstream(self, body: bytes | None) -> tuple[int, bytes, str]:
                skip = {"host", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                request = urllib.request.Request(
                    gateway.upstream + self.path, data=body, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        kind = answer.headers.get("Content-Type") or "application/json"
                        return answer.status, answer.read(), kind
                except urllib.error.HTTPError as error:
                    kind = error.headers.get("Content-Type") or "application/json"
                    return error.code, error.read(), kind

        return Handler

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def gateway(upstream_base_url: str) -> Iterator[Gateway]:
    with Gateway(upstream_base_url) as found:
        yield found
