"""The public reader pages (``reader.*``): the topic index ``/`` and ``/topics/{slug}``."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "reader.index_title": ("{site}: tin theo chủ đề", "{site}: news by topic"),
    "reader.index_intro": (
        "Chọn chủ đề bạn quan tâm và theo dõi theo cách bạn thích: nhận tin qua {chats}, "
        "hoặc chép địa chỉ nguồn tin (RSS, Atom, JSON Feed) vào ứng dụng đọc tin.",
        "Pick the topics you care about and follow them your way: alerts on {chats}, or copy "
        "a feed address (RSS, Atom, JSON Feed) into your feed reader.",
    ),
    "reader.index_intro_feeds": (
        "Chọn chủ đề bạn quan tâm và chép địa chỉ nguồn tin (RSS, Atom, JSON Feed) vào ứng dụng "
        "đọc tin.",
        "Pick the topics you care about and copy a feed address (RSS, Atom, JSON Feed) into "
        "your feed reader.",
    ),
    "reader.chats_or": ("{first} hoặc {second}", "{first} or {second}"),
    "reader.opml": (
        "Tất cả chủ đề trong một tệp OPML",
        "Every topic in one OPML file",
    ),
    "reader.site_link": ("Trang chủ {site}", "{site} home page"),
    "reader.no_topics": ("Chưa có chủ đề nào.", "There are no topics yet."),
    "reader.range": ("Chủ đề {first}–{last} trên {total}", "Topics {first}–{last} of {total}"),
    "reader.found": (
        "Chủ đề {first}–{last} trên {total} chủ đề khớp với “{query}”",
        "Topics {first}–{last} of {total} matching “{query}”",
    ),
    "reader.none_found": (
        "Không có chủ đề nào khớp với “{query}”.",
        "No topic matches “{query}”.",
    ),
    "reader.query_not_text": (
        "Không đọc được nội dung tìm kiếm trong địa chỉ này (có các byte không phải văn bản"
        " UTF-8), nên đây là tất cả chủ đề. Hãy gõ lại từ cần tìm.",
        "The search in this address could not be read (it holds bytes that are not UTF-8"
        " text), so every topic is shown. Type your search again.",
    ),
    "reader.all_topics": ("Xem tất cả chủ đề", "See every topic"),
    # in the feeds (their language is site.language) and on the pages
    "reader.feed_untitled": ("(Không có tiêu đề)", "(Untitled)"),
    "reader.feed_read_more": ("Đọc tiếp", "Read more"),
    "reader.search_feed_description": ("Tìm kiếm: {query}", "Search: {query}"),
    "reader.missing_title": ("Không có chủ đề {slug} — {site}", "No topic {slug} — {site}"),
    "reader.missing_hint": (
        "Có thể chủ đề đã đổi tên, đã tắt hoặc đã bị xoá.",
        "It may have been renamed, switched off or removed.",
    ),
    "reader.gone_title": ("Chủ đề {slug} đã bị xoá — {site}", "Topic {slug} was deleted — {site}"),
    "reader.gone_hint": (
        "Các chủ đề đang có ở trang chủ.",
        "The topics there are now are on the home page.",
    ),
    "reader.not_found_title": ("Không tìm thấy trang — {site}", "Page not found — {site}"),
    "reader.not_found_hint": (
        "Không có trang nào ở địa chỉ này: có thể liên kết đã cũ hoặc bị gõ sai.",
        "There is no page at this address: the link may be old or mistyped.",
    ),
    # the <title> of the page a browser gets for any other error (feedsvc.web.error_pages)
    "reader.error_title": ("{error} — {site}", "{error} — {site}"),
    "reader.find_label": ("Tìm chủ đề", "Find a topic"),
    "reader.find_hint": ("Tên xã, huyện, người, sự kiện…", "A commune, district, person, event…"),
    "reader.find": ("Tìm", "Search"),
    "reader.pages": ("Các trang chủ đề", "Pages of topics"),
    "reader.page": ("Trang {page}/{pages}", "Page {page} of {pages}"),
    "reader.prev": ("← Trang trước", "← Previous"),
    "reader.next": ("Trang sau →", "Next →"),
    "reader.article_count.one": ("{count} bài", "{count} article"),
    "reader.article_count.other": ("{count} bài", "{count} articles"),
    "reader.no_articles": ("Chưa có bài nào.", "No articles yet."),
    # under a topic page's list, when the topic holds more than the page shows
    "reader.shown_newest": (
        "Đây là {shown} bài mới nhất trong {count} bài của chủ đề.",
        "These are the newest {shown} of {count} articles in this topic.",
    ),
    "reader.latest": ("Bài mới", "Latest"),
    "reader.all_articles": ("Xem {count} bài mới nhất", "See the newest {count} articles"),
    "reader.back": ("← Tất cả chủ đề", "← All topics"),
    "reader.subscribe": ("Theo dõi", "Follow"),
    "reader.telegram": ("Nhận tin qua Telegram", "Get alerts on Telegram"),
    "reader.telegram_qr": (
        "Quét mã bằng điện thoại để mở Telegram",
        "Scan with your phone to open Telegram",
    ),
    "reader.zalo": ("Nhận tin qua Zalo", "Get alerts on Zalo"),
    "reader.zalo_qr": (
        "Quét mã bằng điện thoại để mở Zalo",
        "Scan with your phone to open Zalo",
    ),
    # the Zalo bot has no start link: the reader sends the command shown (``/sub <slug>``)
    "reader.zalo_command": (
        "Rồi gửi lệnh này cho bot để theo dõi chủ đề:",
        "Then send the bot this command to follow the topic:",
    ),
    # in a Zalo group the bot refuses /sub (bot.zalo_private_only): said under the command
    "reader.zalo_private": (
        "Gửi lệnh trong chat riêng với bot (bot không nhận đăng ký trong nhóm Zalo).",
        "Send it in a private chat with the bot (it takes no subscriptions in a Zalo group).",
    ),
    "reader.feed_hint": (
        "Chép địa chỉ này vào ứng dụng đọc tin (Feedly, Inoreader, NetNewsWire…):",
        "Copy this address into your feed reader (Feedly, Inoreader, NetNewsWire…):",
    ),
    "reader.feed_opened": (
        "Bạn vừa mở nguồn tin {format}. Trình duyệt không đọc được nguồn tin: "
        "hãy chép địa chỉ dưới đây vào ứng dụng đọc tin.",
        "You opened the {format} feed. Browsers do not read feeds: copy the address below "
        "into your feed reader.",
    ),
    "reader.xsl_before": (
        "Đây là nguồn tin (feed). Chép địa chỉ",
        "This is a feed. Copy the address",
    ),
    "reader.xsl_after": (
        "vào trình đọc tin để theo dõi.",
        "into your feed reader to follow it.",
    ),
    "reader.copy": ("Chép", "Copy"),
    "reader.copied": ("Đã chép", "Copied"),
    # a copy button's name for screen readers: what it copies (three or four buttons a page,
    # each heard as "Chép" alone before); it begins with the word shown, as WCAG 2.5.3 asks.
    # It names the action, so it stays after a copy: "Đã chép" is said by the live region
    "reader.copy_feed": ("Chép địa chỉ {format}", "Copy the {format} address"),
    "reader.copy_zalo": ("Chép lệnh Zalo", "Copy the Zalo command"),
    "reader.section": ("Chuyên mục", "Section"),
    "reader.read_more": ("Đọc bài", "Read"),
    "reader.updated": ("Cập nhật {time}", "Updated {time}"),
    "reader.topic_title": ("{topic} — {site}", "{topic} — {site}"),
    "reader.footer": (
        "Trang này được tạo tự động từ các bài đã đăng trên {site}.",
        "This page is made automatically from the articles published on {site}.",
    ),
}
