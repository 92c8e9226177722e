"""OPML 2.0 subscription list (http://opml.org/spec2.opml) of the topic feeds.

Feed readers import it to subscribe to every topic at once. ``dateCreated`` is deliberately
absent so the document is byte-identical for identical input.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from feedsvc.feeds.sanitize import xml_clean


def render_opml(title: str, feeds: Sequence[tuple[str, str, str]]) -> bytes:
    """OPML 2.0 bytes; ``feeds`` are ``(title, xml_url, html_url)`` in display order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_clean(title)
    body = ET.SubElement(root, "body")
    for feed_title, xml_url, html_url in feeds:
        text = xml_clean(feed_title)
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=text,
            title=text,
            xmlUrl=xml_clean(xml_url),
            htmlUrl=xml_clean(html_url),
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"
