"""The HTML index page (``GET /``): every topic with its feed URLs and autodiscovery links.

Pure: the caller passes the topics; the lead's backend wraps the bytes in a Snapshot. Every
interpolated value is HTML-escaped. No JavaScript: URLs sit in ``<code>`` blocks that select as
a whole on tap (``user-select: all``) so they are easy to copy on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from feedsvc.feeds.model import MEDIA_TYPES, feed_urls
from feedsvc.feeds.sanitize import xml_clean

FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}

_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:46rem;padding:1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
section{border-top:1px solid #ddd;padding:.75rem 0}
h2{font-size:1.15rem;margin:0 0 .25rem}
p{margin:.25rem 0}
ul{list-style:none;padding:0;margin:.5rem 0}
li{margin:.35rem 0}
code{display:block;user-select:all;-webkit-user-select:all;overflow-wrap:anywhere;
background:#f4f4f4;border-radius:4px;padding:.35rem .5rem;font-size:.9rem}
a{color:#0645ad}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}code{background:#222}
a{color:#8ab4f8}section{border-color:#333}}
"""


@dataclass(frozen=True, slots=True)
class IndexTopic:
    """One enabled topic as listed on the index page."""

    slug: str
    title: str
    description: str = ""


def _e(text: str) -> str:
    return escape(xml_clean(text), quote=True)


def _alternate_links(topics: Sequence[IndexTopic], public_url: str) -> list[str]:
    links = []
    for topic in topics:
        for fmt, url in feed_urls(public_url, topic.slug).items():
            links.append(
                f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
                f'title="{_e(topic.title)} ({FORMAT_LABELS[fmt]})" href="{_e(url)}">'
            )
    return links


def _topic_section(topic: IndexTopic, public_url: str) -> str:
    items = "".join(
        f'<li><a href="{_e(url)}" type="{MEDIA_TYPES[fmt]}">{FORMAT_LABELS[fmt]}</a>'
        f"<code>{_e(url)}</code></li>"
        for fmt, url in feed_urls(public_url, topic.slug).items()
    )
    desc = f"<p>{_e(topic.description)}</p>" if topic.description else ""
    return (
        f'<section id="{_e(topic.slug)}"><h2>{_e(topic.title)}</h2>{desc}<ul>{items}</ul></section>'
    )


def render_index(
    site_title: str, site_url: str, public_url: str, topics: Sequence[IndexTopic]
) -> bytes:
    """UTF-8 HTML5 page listing ``topics`` (in the given order)."""
    base = public_url.rstrip("/")
    opml = f"{base}/feeds.opml"
    head = "\n".join(
        [
            "<!doctype html>",
            '<html lang="vi"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(site_title)} — Tin theo chủ đề</title>",
            *_alternate_links(topics, public_url),
            f'<link rel="outline" type="text/x-opml" title="OPML" href="{_e(opml)}">',
            f"<style>{_CSS}</style></head><body>",
        ]
    )
    intro = (
        f"<h1>{_e(site_title)}: tin theo chủ đề</h1><p>Theo dõi bằng trình đọc tin (RSS, Atom, "
        f"JSON Feed). Chép địa chỉ vào ứng dụng của bạn, hoặc nhập cả danh sách "
        f'<a href="{_e(opml)}">OPML</a>. Trang gốc: <a href="{_e(site_url)}">{_e(site_url)}</a>'
        "</p>"
    )
    sections = [_topic_section(topic, public_url) for topic in topics]
    if not sections:
        sections = ["<p>Chưa có chủ đề nào.</p>"]
    return "\n".join([head, intro, *sections, "</body></html>", ""]).encode("utf-8")
