"""Every HTML answer carries its side's security headers (:mod:`feedsvc.web.security_headers`).

Found by a tester: ``/`` and ``/topics/{slug}`` (and the page a browser gets at a feed's
address, the site's error pages) were sent with no ``X-Content-Type-Options: nosniff``, no
Content-Security-Policy and no word on framing; the admin's 404 line (curl, a script) had
``nosniff`` but no ``X-Frame-Options`` or CSP. Now one module owns the policy: the admin never
framed, only its own files; the reader pages framable (a newsroom embeds its topic page) with a
CSP that allows exactly their one inline style and script by hash; feeds, OPML, the XSL and the
QR codes ``nosniff`` alone, precomputed with the snapshot's header lines. Run against the whole
app (``create_app``) with a real SQLite state DB; in Chromium: ``test_security_headers_browser``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest
from test_not_found_page import BROWSER
from test_state_outage import SLUG, client_of, service_on, unopenable
from test_web_words import client, service  # noqa: F401  (the fixtures)

from feedsvc.app import Service
from feedsvc.operations import delete_topic, save_topic
from feedsvc.store.topics import TopicSpec
from feedsvc.web.security_headers import ADMIN_CSP, READER_CSP

#: the telegram button and its QR code are on the topic pages (a bot's name is known)
WITH_BOT = [{"telegram": {"username": "TinHaiPhongBot"}}]
HTML = {"Accept": BROWSER["Accept"]}

#: (path, request headers, status): every kind of reader HTML answer
READER_PAGES = [
    ("/", BROWSER, 200),
    ("/?q=kien", BROWSER, 200),  # a filtered index, rendered on demand
    ("/?q=%FF", BROWSER, 200),  # a query not text: every topic with a notice
    ("/topics/kien-thuy", BROWSER, 200),
    ("/topics/kien-thuy", HTML, 200),  # no Fetch Metadata: the same snapshot
    ("/topics/khong-co", BROWSER, 404),
    ("/topics/da-xoa", BROWSER, 410),
    ("/feeds/khong-co.rss", BROWSER, 404),  # a feed's address, navigated: the site's page
    ("/feeds/da-xoa.atom", BROWSER, 410),
    ("/feeds/search.rss?q=ki%E1%BA%BFn", BROWSER, 200),  # the search's page
    ("/feeds/search.json", BROWSER, 400),  # a search without words: the site's error page
    ("/khong-co", BROWSER, 404),
    ("/feeds/kien-thuy", BROWSER, 404),
]


def seeded(svc: Service) -> None:
    """A topic, and one deleted (its page and feeds answer 410)."""
    save_topic(svc.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
    save_topic(svc.db, TopicSpec("da-xoa", "Đã xoá", '"xoá"'), "test")
    delete_topic(svc.db, "da-xoa")
    svc.publisher.refresh()


def csp_sources(policy: str) -> dict[str, list[str]]:
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in directives}


def inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", html, re.S)


def allowed(text: str, sources: list[str]) -> bool:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'" in sources


@pytest.mark.parametrize("service", WITH_BOT, indirect=True)
@pytest.mark.parametrize(("path", "headers", "status"), READER_PAGES)
async def test_a_reader_page_has_nosniff_and_a_csp_its_style_and_script_pass(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    seeded(service)
    r = await client.get(path, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == READER_CSP
    # framable on purpose (a newsroom embeds its topic page): nothing to click-jack there
    assert "x-frame-options" not in r.headers
    policy = csp_sources(r.headers["content-security-policy"])
    assert "frame-ancestors" not in policy
    assert policy["default-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    html = r.text
    styles, scripts = inline(html, "style"), inline(html, "script")
    assert len(styles) == 1 and len(scripts) == 1, path  # the layout's, nothing else
    assert allowed(styles[0], policy["style-src"]) and allowed(scripts[0], policy["script-src"])
    # the files' comments are the developers': never sent to a reader (the hash still matches)
    assert "/*" not in styles[0] and "inlined whole" not in html, path
    assert not [line for line in scripts[0].splitlines() if line.lstrip().startswith("//")]
    # no inline style attribute or handler, which no hash allows
    assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", html), path
    if path == "/topics/kien-thuy":
        assert 'class="qr"' in html and "/topics/kien-thuy/telegram.svg" in html


@pytest.mark.parametrize("service", WITH_BOT, indirect=True)
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/feeds/kien-thuy.rss", "application/rss+xml"),
        ("/feeds/kien-thuy.atom", "application/atom+xml"),
        ("/feeds/kien-thuy.json", "application/feed+json"),
        ("/feeds/kien-thuy.rss?limit=3", "application/rss+xml"),
        ("/feeds/search.atom?q=ki%E1%BA%BFn", "application/atom+xml"),
        ("/feeds.opml", "text/x-opml"),
        ("/feed.xsl", "text/xsl"),
        ("/topics/kien-thuy/telegram.svg", "image/svg+xml"),
    ],
)
async def test_feeds_and_files_have_nosniff_and_no_page_policy(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
    kind: str,
) -> None:
    """A feed reader's answer: ``nosniff`` (precomputed with the snapshot's lines), no CSP (a
    browser renders a feed with ``/feed.xsl``, whose output has its own inline style), on the
    200 and on the 304 a poll gets."""
    seeded(service)
    r = await client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind), r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in r.headers and "x-frame-options" not in r.headers
    again = await client.get(path, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/admin/khong-co", {}, 404),  # curl: the line
        ("GET", "/admin/khong-co", {"Accept": "*/*"}, 404),
        ("GET", "/admin/khong-co", HTML, 404),  # a browser: the admin's page
        ("GET", "/admin/topics/kien-thuy/x", {"Accept": "application/json"}, 404),
        ("POST", "/admin/login/x", {}, 404),
        ("GET", "/admin/logout", {}, 405),  # POST only
        ("GET", "/admin/logout", HTML, 405),
        ("GET", "/admin/login?next=%FF", {}, 400),  # a query that is not text
        ("GET", "/admin/%FF", {}, 400),  # a path that is not text
        ("GET", "/admin/%FF", HTML, 400),
        ("GET", "/admin/login", HTML, 200),
        ("GET", "/admin/topics", HTML, 303),  # to the login page
        ("GET", "/admin", HTML, 303),
        ("GET", "/admin/static/khong-co.js", {}, 404),
    ],
)
async def test_every_admin_answer_refuses_framing_and_foreign_code(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    """The admin's line for curl or a script had ``nosniff`` alone: framed, a 404's text is
    harmless, but one policy for every admin answer leaves no answer to reason about."""
    r = await client.request(method, path, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == ADMIN_CSP
    assert "frame-ancestors 'none'" in ADMIN_CSP


async def test_the_admins_script_and_stylesheet_are_not_sniffed(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    for name, kind in (("admin.js", "text/javascript"), ("admin.css", "text/css")):
        r = await client.get(f"/admin/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
        assert r.headers["x-content-type-options"] == "nosniff"


def test_the_state_dbs_503_page_has_the_admins_headers(tmp_path: Path) -> None:
    """The 503's own small page (the state DB away, a client naming no HTML: the reader pages
    are served from memory then, so the admin's are what answer it) is a page too."""
    file = tmp_path / "state.db"
    svc = service_on(f"sqlite:///{file}")
    with client_of(svc) as c, unopenable(file, svc):
        r = c.get("/admin/topics")
        assert r.status_code == 503 and r.text.startswith("<!doctype html>")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"] == ADMIN_CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store" and r.headers["retry-after"]
        assert c.get(f"/topics/{SLUG}").status_code == 200  # from memory


def test_comments_are_dropped_not_what_looks_like_one_in_a_string() -> None:
    from feedsvc.pages.inline import without_css_comments, without_js_comment_lines

    css = "/* a\n   note */\na{content:\"/* kept */\"}/* gone */\nb{x:'\\'/*'}\n"
    assert without_css_comments(css) == "a{content:\"/* kept */\"}\nb{x:'\\'/*'}\n"
    js = '// a note\nvar u = "http://x";\n  // another\nf(); // kept: after code\n'
    assert without_js_comment_lines(js) == 'var u = "http://x";\nf(); // kept: after code\n'
