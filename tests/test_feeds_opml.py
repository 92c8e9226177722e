"""The OPML document (``feedsvc.feeds.opml``) is written as text: its bytes are the ones
ElementTree wrote before (same escaping, indentation, declaration), for hostile titles and
URLs, no feeds, an empty title."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pytest

from feedsvc.feeds import render_opml
from feedsvc.feeds.sanitize import xml_clean


def element_tree(title: str, feeds: Sequence[tuple[str, str, str]]) -> bytes:
    """The OPML document as ElementTree serialised it until the text writer."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_clean(title)
    body = ET.SubElement(root, "body")
    for feed_title, xml_url, html_url in feeds:
        text = xml_clean(feed_title)
        ET.SubElement(
            body, "outline", type="rss", text=text, title=text,
            xmlUrl=xml_clean(xml_url), htmlUrl=xml_clean(html_url),
        )  # fmt: skip
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


HOSTILE = [
    'Kiến Thụy "mới" & <b>cũ</b>',
    "dòng\nhai\r\tba",
    "điều khiển \x00\x01\x1f\x7f\x85 và \ufffe",
    "'nháy đơn' ]]> --> <!--",
    "",
    "   ",
    "😀 emoji \u200b zero width",
]


@pytest.mark.parametrize("site", ["Báo Hải Phòng", "", 'A & <B> "C"\n', "\x00\x01"])
def test_the_text_writer_gives_element_trees_bytes(site: str) -> None:
    feeds = [
        (title, f"https://tin.example.vn/feeds/t{i}.rss?a=1&b=<{title}>", f"https://x.vn/{title}")
        for i, title in enumerate(HOSTILE)
    ]
    assert render_opml(site, feeds) == element_tree(site, feeds)
    assert render_opml(site, []) == element_tree(site, [])
    assert render_opml(site, feeds[:1]) == element_tree(site, feeds[:1])
    ET.fromstring(render_opml(site, feeds))  # well-formed
