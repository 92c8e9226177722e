"""A refused Apprise add never sends the URL back in the page (a tester's).

``POST /admin/subscriptions/apprise`` refused (an unknown topic, an unparseable URL, …)
answered the page again with ``<input id="apprise-url" type="password" …
value="json://alice:Hunter2Secret@…?token=TOKSECRET99">``: the password and token, which
feedsvc promises to show only masked, were in the HTML (view-source, a proxy, the browser's
cache of a ``no-store`` page all the same). Now the URL box comes back empty with words asking
for the URL again (``apprise.url_again``), the topic and query kept; for every kind of refusal
no secret part is anywhere in the answer. Through the whole app (``TestClient``, SQLite).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_admin_apprise_form import FORM, add, apprise_subs, served  # noqa: F401
from test_admin_refused_boxes import form_on

from feedsvc.app import Service
from feedsvc.catalogue import Translator

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

Client = Any
#: Secret parts, each in the URLs below: a password, a query token, a webhook's path token.
SECRETS = ("Hunter2Secret", "TOKSECRET99", "WebHookTok3n")
JSON_URL = "json://alice:Hunter2Secret@127.0.0.1:9/hook/WebHookTok3n?token=TOKSECRET99"
#: (what is refused, the form sent beside the csrf, the status)
REFUSALS = [
    ("unknown topic", {"url": JSON_URL, "topic": "no-such-topic"}, 422),
    ("unparseable URL", {"url": JSON_URL.replace("json://", "nope://"), "topic": "kien-thuy"}, 422),
    ("no scheme", {"url": JSON_URL.removeprefix("json://"), "topic": "kien-thuy"}, 422),
    ("neither topic nor query", {"url": JSON_URL}, 422),
    ("bad query", {"url": JSON_URL, "query": '"Kiến Thụy" AND ('}, 422),
    ("topic and query", {"url": JSON_URL, "topic": "kien-thuy", "query": "a"}, 422),
    ("control char in URL", {"url": JSON_URL + "\u0085", "topic": "kien-thuy"}, 422),
    ("control char in query", {"url": JSON_URL, "query": "Kiến\u0007"}, 422),
    (
        "discord webhook",
        {"url": "discord://WebHookTok3n/TOKSECRET99Hunter2Secret", "topic": "no-such-topic"},
        422,
    ),
]
URL_INPUT = re.compile(r'<input id="apprise-url"[^>]*>')


def no_secret(page: str) -> None:
    for secret in SECRETS:
        assert secret not in page, (secret, page)
    box = URL_INPUT.search(page)
    assert box is not None, page
    assert "value=" not in box.group(0), box.group(0)


@pytest.mark.parametrize(("kind", "typed", "status"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_add_never_sends_the_url_back(
    served: tuple[Client, Service],  # noqa: F811
    kind: str,
    typed: dict[str, str],
    status: int,
) -> None:
    client, service = served
    refused = add(client, **typed)
    assert refused.status_code == status, (kind, refused.text)
    no_secret(refused.text)
    assert Translator("vi")("apprise.url_again") in refused.text
    kept = form_on(refused.text, FORM)
    if typed.get("query") and "\u0007" not in typed["query"]:
        assert kept["query"] == typed["query"]  # the other boxes are kept
    if typed.get("topic") == "kien-thuy":
        assert re.search(r'<option value="kien-thuy"[^>]* selected>', refused.text)
    assert apprise_subs(service) == []
