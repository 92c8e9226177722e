"""A reader's query is quoted alike wherever it is shown: a search feed's title (RSS, Atom,
JSON Feed), its reader page's heading and ``<title>``, its description, and an alert's topic
line for a chat's own query (``fieldtext.quoted_query``, the one quoter).

Before, the same phrase typed with a keyboard's quotes (``«an ninh»``, ``'an ninh'``,
``「an ninh」``, searched for as ``"an ninh"``) was wrapped again, “«an ninh»”, while
``"an ninh"`` and ``„an ninh“`` were not; the description under the title “an ninh” read
"Tìm kiếm: an ninh"; and an alert's label for a chat's query ``an ninh`` was bare.
"""

from __future__ import annotations

import json

import pytest
from test_publish_metas import SETTINGS

from feedsvc.feeds.render import render_feed
from feedsvc.fieldtext import quoted_query
from feedsvc.notify.message import topic_line
from feedsvc.publish.metas import search_metas, search_page_text
from feedsvc.wanted import labels

SITE = "Tin tức Hải Phòng"

#: as typed → as every title and label shows it
SHOWN = {
    "an ninh": "“an ninh”",
    '"an ninh"': '"an ninh"',
    "«an ninh»": "«an ninh»",
    "'an ninh'": "'an ninh'",
    "‘an ninh’": "‘an ninh’",
    "„an ninh“": "„an ninh“",
    "「an ninh」": "「an ninh」",
    "＂an ninh＂": "＂an ninh＂",
    "«an ninh» OR «công an»": "«an ninh» OR «công an»",
    "Tom's": "“Tom's”",  # an apostrophe is no phrase mark
    "an ninh or công an": "“an ninh or công an”",
}


@pytest.mark.parametrize(("typed", "shown"), SHOWN.items())
def test_every_title_and_label_quotes_the_query_alike(typed: str, shown: str) -> None:
    assert quoted_query(typed) == shown
    metas = search_metas(SETTINGS, typed)
    assert {meta.title for meta in metas.values()} == {f"{shown} — {SITE}"}
    assert {meta.description for meta in metas.values()} == {f"Tìm kiếm: {shown}"}
    heading, description = search_page_text(SETTINGS, typed)
    assert (heading, description) == (shown, f"Tìm kiếm: {shown}")
    assert json.loads(render_feed(metas["json"], [], "json"))["title"] == f"{shown} — {SITE}"
    assert labels([(1, "An ninh")], [(7, typed)]) == ["An ninh", shown]
    assert topic_line(labels([], [(7, typed)])) == f"Chủ đề: {shown}"


def test_a_phrase_is_never_quoted_twice() -> None:
    for typed in SHOWN:
        shown = quoted_query(typed)
        assert shown == typed or shown == f"“{typed}”"
        assert not (shown != typed and any(m in typed for m in '"«»「」＂„“”‘’'))
