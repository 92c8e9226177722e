"""The public reader pages: ``/`` (every enabled topic with its newest headlines and subscribe
buttons), ``/topics/{slug}`` (a topic's newest articles) and a search feed's page for a
browser. Pure: data in, HTML bytes out; the
publisher (:mod:`feedsvc.publish`) renders them when ingest changes a topic and serves them from
snapshots like the feeds."""

from .render import (
    INDEX_HEADLINES,
    QR_CHATS,
    IndexEntry,
    IndexView,
    PageArticle,
    PageTopic,
    Site,
    Subscribe,
    index_entries,
    page_article,
    page_topic,
    qr_path,
    qr_svg,
    render_error,
    render_index,
    render_index_of,
    render_missing,
    render_not_found,
    render_search,
    render_topic,
    search_subscribe,
    shown_chats,
    subscribe_links,
    telegram_link,
)

__all__ = [
    "INDEX_HEADLINES",
    "QR_CHATS",
    "IndexEntry",
    "IndexView",
    "PageArticle",
    "PageTopic",
    "Site",
    "Subscribe",
    "index_entries",
    "page_article",
    "page_topic",
    "qr_path",
    "qr_svg",
    "render_error",
    "render_index",
    "render_index_of",
    "render_missing",
    "render_not_found",
    "render_search",
    "render_topic",
    "search_subscribe",
    "shown_chats",
    "subscribe_links",
    "telegram_link",
]
