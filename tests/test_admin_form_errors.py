"""A form's error in the admin: under its field, red, announced, and the field marked.

Found by looking (the ``looks`` pass): the chat settings form wrote a refused digest or quiet
time ("“25:99” không phải giờ hợp lệ…") as a plain black paragraph after the field's help
text, the articles search its error likewise (class ``error``, which the stylesheet never
styled), where the topic editor's errors are red, right under their field. And the editor's
field in error was not marked: no ``aria-invalid``, its error not tied to it, the focus left
at the top of the page after the save. Now every admin form wires a field's error one way
(``_macros.html``: ``invalid``, ``field_error``).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from test_admin import csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.store import subscriptions as sub_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

CHAT = -1004242


def field_tag(html: str, field: str) -> str:
    """The opening tag of the form field ``id=field``."""
    found = re.search(rf'<(?:input|textarea)\b[^>]*\bid="{field}"[^>]*>', html)
    assert found, field
    return found.group(0)


def assert_error_wired(html: str, field: str, words: str) -> None:
    """``field`` is marked invalid, tied to its error and focused; the error, styled and
    announced, comes right after the field (before its help text), and is the page's only
    focused field and only error."""
    tag = field_tag(html, field)
    assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error"' in tag, tag
    assert " autofocus" in tag, tag
    error = f'<p class="field-error" id="{field}-error" role="alert">'
    assert html.count(error) == 1, html
    after = html.split(tag, 1)[1]
    if tag.startswith("<textarea"):  # its text, then the error
        after = after.split("</textarea>", 1)[1]
    # next: the error (the search's button between), then the field's help
    assert after.index(error) < after.index('class="muted small"'), after[:400]
    assert re.match(r"\s*(<button[^>]*>[^<]*</button>\s*</form>\s*)?<p", after), after[:300]
    assert words in after.split(error, 1)[1].split("</p>", 1)[0]
    assert html.count("autofocus") == 1 and html.count('class="field-error"') == 1
    assert 'class="error"' not in html


@pytest.mark.parametrize(
    ("field", "form", "words"),
    [
        ("slug", {"slug": "Kiến Thụy"}, "kien-thuy"),
        ("title", {"title": "   "}, ""),
        ("query", {"query": '"Kiến Thụy" AND ('}, "18"),
        ("description", {"description": "x" * 5001}, "Mô tả"),
    ],
)
def test_the_topic_editors_field_in_error(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    field: str,
    form: dict[str, str],
    words: str,
) -> None:
    client, _ = served
    login(client)
    data = {"slug": "kt-moi", "title": "Kiến Thụy", "query": '"Kiến Thụy"', **form}
    r = client.post(
        "/admin/topics/new", data={"csrf": csrf_of(client), **data}, follow_redirects=False
    )
    assert r.status_code == 422, r.text
    assert_error_wired(r.text, field, words)


@pytest.mark.parametrize(
    ("field", "form"),
    [
        ("digest", {"digest": "25:99", "quiet": "off"}),
        ("digest", {"digest": "7h tối, 8h", "quiet": "off"}),
        ("quiet", {"digest": "off", "quiet": "22:00"}),
    ],
)
def test_the_chat_settings_field_in_error(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    field: str,
    form: dict[str, str],
) -> None:
    client, service = served
    with service.db.write() as conn:
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm Kiến Thụy", service.db.now())
    login(client)
    path = f"/admin/chats/{CHAT}"
    r = client.post(path, data={"csrf": csrf_of(client, path), **form}, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert_error_wired(r.text, field, form[field])


def test_the_articles_search_in_error(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    login(client)
    r = client.get("/admin/articles", params={"q": "khánh\x00thành"})
    assert_error_wired(r.text, "q", "U+0000")
