"""The topic editor's live preview speaks the admin's language when no worded answer comes
(in Chromium): the server cannot be reached, an answer breaks off, a proxy's page or a body the
script cannot read, a query error without its label.

Found by a tester: with the server unreachable the preview showed the browser's English
"TypeError: Failed to fetch", a query error the server sent without ``label`` was headed
"Error", and anything not JSON nor plain text "HTTP 502". Every word the preview shows is now
the server's or the page's, which passes them from the catalogue (``data-*`` on the query box,
as it passed the hint and the loading words).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    By,
    driver,
    ec,
    login_as_admin,
    server,
    set_query,
    untranslated,
    wait,
)

from feedsvc.catalogue import Translator

pytestmark = BROWSER_MARKS

#: ``window.fetch`` answering the preview with ``arguments[0]`` (a script making a Response)
FAKE_FETCH = "window.fetch = function () { return Promise.resolve().then(function () {%s}); };"
ANSWERS = {
    # a proxy's error page: neither JSON nor plain words
    "proxy page": (
        "return new Response('<html><h1>502 Bad Gateway</h1></html>',"
        "{status: 502, headers: {'Content-Type': 'text/html'}});",
        ("preview_failed", {"status": 502}),
    ),
    # JSON cut short (a proxy's timeout mid-body): its status, never the parser's SyntaxError
    "json cut short": (
        'return new Response(\'{"summary": "3 of\', {status: 200,'
        "headers: {'Content-Type': 'application/json'}});",
        ("preview_failed", {"status": 200}),
    ),
    "json cut short 500": (
        "return new Response('{\"err', {status: 500,"
        "headers: {'Content-Type': 'application/json'}});",
        ("preview_failed", {"status": 500}),
    ),
    # the connection breaks while the body is read
    "broken body": (
        "return new Response(new ReadableStream({start: function (c) {"
        "c.error(new TypeError('network error')); }}),"
        "{status: 200, headers: {'Content-Type': 'application/json'}});",
        ("preview_unreachable", {}),
    ),
    # fetch itself refused: what Chromium does with the server down
    "no answer": (
        "throw new TypeError('Failed to fetch');",
        ("preview_unreachable", {}),
    ),
}


def editor(b: Any, base: str) -> None:
    login_as_admin(b, base)
    b.get(f"{base}/admin/topics/new")
    wait(b).until(ec.presence_of_element_located((By.ID, "query")))


def opened_editor(b: Any, base: str, request: pytest.FixtureRequest) -> tuple[str, Translator]:
    """The new-topic editor of the server at ``base`` open in ``b``; its language and words."""
    language = request.node.callspec.params["server"]
    editor(b, base)
    return language, Translator(language)


def summary_is(b: Any, words: str) -> None:
    wait(b).until(lambda _: b.find_element(By.ID, "preview-summary").text == words)


@pytest.mark.parametrize("server", ["vi", "en"], indirect=True)
def test_an_unreachable_server_is_said_in_the_admins_words(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    request: pytest.FixtureRequest,
) -> None:
    language, t = opened_editor(driver, server, request)
    b = driver
    set_query(b, "Đồ Sơn")  # the server answers: the preview works
    wait(b).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#preview-samples li")))
    b.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    b.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    try:
        set_query(b, "Kiến Thụy")
        summary_is(b, t("preview_unreachable"))
        shown = b.find_element(By.ID, "preview-summary").text
        assert "Failed to fetch" not in shown and not untranslated(shown, language)
    finally:
        online = {**offline, "offline": False}
        b.execute_cdp_cmd("Network.emulateNetworkConditions", online)


@pytest.mark.parametrize("server", ["vi", "en"], indirect=True)
def test_every_answer_the_script_cannot_word_is_said_in_the_admins_words(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    request: pytest.FixtureRequest,
) -> None:
    language, t = opened_editor(driver, server, request)
    b = driver
    for n, (name, (answer, (key, params))) in enumerate(ANSWERS.items()):
        b.execute_script(FAKE_FETCH % answer)
        set_query(b, f"Đồ Sơn {n}")  # a new query each time: the preview runs again
        summary_is(b, t(key, **params))
        shown = b.find_element(By.ID, "preview-summary").text
        assert not untranslated(shown, language), name
    # a query error the server sent without its label: the catalogue's heading, not "Error"
    b.execute_script(
        FAKE_FETCH
        % (
            "return new Response(JSON.stringify({error: arguments[0], position: 0}),"
            "{status: 200, headers: {'Content-Type': 'application/json'}});"
        ).replace("arguments[0]", "'" + t("preview_hint").replace("'", "\\'") + "'")
    )
    set_query(b, "AND")
    error = wait(b).until(ec.visibility_of_element_located((By.ID, "preview-error")))
    assert error.find_element(By.TAG_NAME, "strong").text == t("preview_error")
