"""deploy/nginx/feedsvc.conf in front of a real feedsvc: cached feeds, 304s, admin untouched.

Runs real nginx (Debian package nginx-light, which .ci/run installs) and ``feedsvc run`` on
loopback; the shipped config is used as is apart from its listen port, upstream address and
cache directory.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakeserver import PATIENCE
from processes import answers_ok, free_port, start_feedsvc, wait_until

ROOT = Path(__file__).parent.parent
CONF = ROOT / "deploy" / "nginx" / "feedsvc.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx not installed (Debian package nginx-light; .ci/run installs it)"
)


def site_config(feedsvc_port: int, nginx_port: int, cache: Path) -> str:
    text = CONF.read_text(encoding="utf-8")
    for old, new in (
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{feedsvc_port};"),
        ("listen 80;", f"listen 127.0.0.1:{nginx_port};"),
        ("/var/cache/nginx/feedsvc", str(cache)),
    ):
        assert old in text, f"{CONF} no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def get(url: str, **kwargs: Any) -> httpx.Response:
    """A GET through the stack, at the fakes' patience: httpx's own 5 s read timeout is a
    loaded CI host's stall, not a fault of nginx's or feedsvc's."""
    return httpx.get(url, timeout=PATIENCE, **kwargs)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(proxy base URL, direct feedsvc base URL), both serving.

    nginx's workers run as the test's user (``user`` is ignored unless we are root), so they
    can write the cache under pytest's private temp dir.
    """
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "topics.toml", tmp_path / "config" / "topics.toml")
    svc_port, ngx_port = free_port(), free_port()
    svc = start_feedsvc(
        ["run", "--no-bot"],
        {"FEEDSVC_HTTP__PORT": str(svc_port), "FEEDSVC_HTTP__CACHE_SECONDS": "120"},
        tmp_path,
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""daemon off;
user {getpass.getuser()};
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}/tmp; proxy_temp_path {tmp_path}/tmp;
  fastcgi_temp_path {tmp_path}/tmp; uwsgi_temp_path {tmp_path}/tmp; scgi_temp_path {tmp_path}/tmp;
  {site_config(svc_port, ngx_port, tmp_path / "cache")}
}}
""",
        encoding="utf-8",
    )
    (tmp_path / "tmp").mkdir()
    assert NGINX is not None
    check = subprocess.run([NGINX, "-t", "-c", str(main)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    ngx = subprocess.Popen([NGINX, "-c", str(main)], stderr=subprocess.PIPE)
    try:
        direct, proxy = f"http://127.0.0.1:{svc_port}", f"http://127.0.0.1:{ngx_port}"
        wait_until(lambda: answers_ok(f"{direct}/healthz"), 60, "feedsvc")
        wait_until(lambda: answers_ok(f"{proxy}/healthz"), 60, "nginx")
        yield proxy, direct
    finally:
        ngx.send_signal(signal.SIGQUIT)
        svc.send_signal(signal.SIGTERM)
        ngx.wait(timeout=30)  # patience for a loaded host, not a claim
        svc.wait(timeout=30)


def test_feeds_are_cached_and_revalidated_by_nginx(stack: tuple[str, str]) -> None:
    proxy, direct = stack
    path = "/feeds/kien-thuy.rss"
    origin = get(direct + path, headers={"accept-encoding": "identity"})
    first = get(proxy + path, headers={"accept-encoding": "identity"})
    assert first.status_code == 200 and first.content == origin.content
    assert first.headers["etag"] == origin.headers["etag"]
    assert first.headers["x-cache-status"] == "MISS"
    again = get(proxy + path, headers={"accept-encoding": "identity"})
    assert again.headers["x-cache-status"] == "HIT" and again.content == origin.content
    held = {"if-none-match": origin.headers["etag"], "accept-encoding": "identity"}
    not_modified = get(proxy + path, headers=held)
    assert not_modified.status_code == 304
    assert not_modified.headers["x-cache-status"] == "HIT"
    # the gzip variant is kept apart (Vary: Accept-Encoding) and decodes to the same feed
    zipped = get(proxy + path, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == origin.content
    assert zipped.headers["etag"] == origin.headers["etag"][:-1] + '-gz"'
    assert zipped.headers["cache-control"] == "public, max-age=120"


def test_a_browser_opening_a_feed_through_nginx_gets_the_topic_page(
    stack: tuple[str, str],
) -> None:
    proxy, _ = stack
    path = "/feeds/kien-thuy.atom"
    reader = {"accept-encoding": "identity"}
    get(proxy + path, headers=reader)
    assert get(proxy + path, headers=reader).headers["x-cache-status"] == "HIT"
    browser = {
        "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
        **reader,
    }
    nav = get(proxy + path, headers=browser)
    assert nav.status_code == 303 and nav.headers["location"] == "/topics/kien-thuy#atom"
    assert nav.headers["x-cache-status"] == "BYPASS"
    after = get(proxy + path, headers=reader)  # the redirect was not stored
    assert after.status_code == 200 and after.headers["x-cache-status"] == "HIT"
    page = get(proxy + "/topics/kien-thuy", headers=reader)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_admin_api_and_health_pass_through_uncached(stack: tuple[str, str]) -> None:
    proxy, _ = stack
    for path in ("/healthz", "/metrics", "/api/topics", "/admin"):
        response = get(proxy + path)
        assert "x-cache-status" not in response.headers, path
    assert get(proxy + "/api/topics").status_code in (401, 503)  # feedsvc's own answer
    assert "feedsvc_ingest_ticks_total" in get(proxy + "/metrics").text  # allowed locally
    unknown = get(proxy + "/feeds/khong-co.rss")
    assert unknown.status_code == 404 and unknown.text.startswith("Không có chủ đề")
