"""Where "character N" of a box's text is: counted as the box shows it, a CR LF pair as one.

Found by a tester: a browser sends a textarea's line breaks as CR LF (HTML's form-submission
newline normalisation) while the box — its ``value``, what the admin sees and what the live
preview sends — holds LF. A description ``d⏎d⏎d`` + BEL was noted "at character 8" for a BEL
the box shows after the 5th character, and a query error after a line break was one character
further on Save than in the live preview for each line break before it.
:func:`feedsvc.fieldtext.shown_position` now says where a character is in a box, for the
boxes' notes, a query's error on Save and the live preview alike.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from test_admin import csrf_of, login, served  # noqa: F401  (served: the fixture)
from test_admin_refused_boxes import new_topic, note_under

from feedsvc import fieldtext
from feedsvc.fieldtext import refused_chars

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.mark.parametrize(
    ("sent", "position"),
    [
        ("d\r\nd\r\nd\x07", 6),  # the tester's: after the 5th character the box shows
        ("d\nd\nd\x07", 6),  # the same text as the box's value sends it
        ("d\rd\rd\x07", 6),  # a lone CR is one line break, one character
        ("\r\n\r\n\x07", 3),
        ("a\u2028b\x07", 4),  # a line separator is a character of its own in a box
        ("\x07\r\n", 1),
    ],
)
def test_a_refused_character_is_placed_as_the_box_shows_the_text(sent: str, position: int) -> None:
    assert refused_chars(sent) == [(position, "\x07")]


def test_a_crlf_pair_is_one_character() -> None:
    text = "ab\r\ncd\r\n\r\ne"
    shown = text.replace("\r\n", "\n")
    for index, char in enumerate(text):
        if char != "\n" or text[index - 1] != "\r":  # a pair's LF is its CR's character
            assert shown[fieldtext.shown_position(text, index)] == char.replace("\r", "\n")


def test_a_description_note_counts_as_the_box_shows_it(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _service = served
    login(client)
    r = new_topic(client, description="d\r\nd\r\nd\x07")
    assert r.status_code == 422, r.text
    note = note_under(r.text, "description")
    assert "U+0007 (BEL) tại ký tự 6" in note, note


@pytest.mark.parametrize(
    "query",
    ['"Kiến Thụy"\r\nAND (', '"Kiến"\r\n\r\nOR', '\r\n"Kiến"\r\nAND\r\n(', '"Kiến" AND\r\n)'],
)
def test_a_query_error_on_save_is_where_the_preview_places_it(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    query: str,
) -> None:
    client, _service = served
    login(client)
    typed = query.replace("\r\n", "\n")  # the box's value: what the admin sees and the script sends
    headers = {"X-CSRF-Token": csrf_of(client)}
    shown = client.post("/admin/preview", json={"query": typed}, headers=headers).json()
    assert shown.get("column") is not None, shown
    # a form posted to the preview (no script) counts as the box shows it too
    posted = client.post(
        "/admin/preview", data={"query": query, "csrf": csrf_of(client)}, headers=headers
    ).json()
    assert (posted["column"], posted["where"]) == (shown["column"], shown["where"])
    r = new_topic(client, query=query)  # as the browser posts the box: CR LF
    assert r.status_code == 422, r.text
    said = note_under(r.text, "query")
    found = re.search(r"\((?:tại ký tự|at character) (\d+)\)", said)
    assert found is not None, said
    assert int(found[1]) == shown["column"], (said, shown)
