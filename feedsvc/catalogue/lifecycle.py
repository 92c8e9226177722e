"""The article lifecycle (SPEC §10): the admin's articles page, article states, the editors'
operation errors (``op.<code>`` of :mod:`feedsvc.lifecycle.editors`)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "articles": ("Bài viết", "Articles"),
    "article_search": ("Tìm theo tiêu đề hoặc mã bài", "Search by title or key"),
    "articles_note": (
        "Bài bị ẩn không xuất hiện ở feed, trang đọc hay tin báo nào cho đến khi bỏ ẩn, dù"
        " nguồn nói gì.",
        "A hidden article is in no feed, reader page or alert until unhidden, whatever the"
        " source says.",
    ),
    "no_articles": ("Không có bài nào.", "No articles."),
    # `feedsvc articles find` finding nothing: a stderr line after "feedsvc: " (exit 0)
    "cli.find_none": ("không có bài nào khớp với {text}", "no article matches {text}"),
    "cli.find_none_stored": ("chưa có bài nào", "no article is stored"),
    "hide": ("Ẩn", "Hide"),
    "unhide": ("Bỏ ẩn", "Unhide"),
    "hide_reason": ("Lý do (không bắt buộc)", "Reason (optional)"),
    "hidden_since": ("Ẩn từ {when}", "Hidden since {when}"),
    "article_hidden": ("Đã ẩn bài {key}.", "Article {key} hidden."),
    "article_unhidden": ("Đã bỏ ẩn bài {key}.", "Article {key} unhidden."),
    "article_state.public": ("Đang hiển thị", "Public"),
    "article_state.hidden": ("Bị ẩn", "Hidden"),
    "article_state.withdrawn": ("Nguồn đã rút", "Withdrawn by the source"),
    "article_state.scheduled": ("Hẹn giờ đăng", "Scheduled"),
    "withdrawn_reason.source": ("Rút khi nhập dữ liệu", "Withdrawn in an import"),
    "withdrawn_reason.draft": ("Trở về bản nháp", "Back to draft"),
    "withdrawn_reason.deleted": ("Đã xoá khỏi nguồn", "Deleted from the source"),
    "op.article_not_found": ("Không có bài {key}.", "There is no article {key}."),
    "op.article_not_ingested": (
        "Bài {key} có trong bảng nguồn nhưng chưa được nạp: lần nạp tới sẽ đăng nó (trong "
        "source.poll_seconds khi dịch vụ chạy). Để giữ bài lại, hãy nhập lại nó với "
        '"withdrawn": true ngay, hoặc ẩn nó sau lần nạp đó.',
        "Article {key} is in the source table but not ingested yet: the next ingest publishes "
        "it (within source.poll_seconds while the service runs). To keep it out, import it with "
        '"withdrawn": true now, or hide it after that ingest.',
    ),
    "op.article_not_ingested_withdrawn": (
        "Bài {key} chưa được nạp và đang bị rút trong bảng nguồn: nó sẽ không được đăng. Nếu "
        'nó được nhập lại không có "withdrawn": true, hãy ẩn nó sau khi được nạp.',
        "Article {key} is not ingested yet and is withdrawn in the source table: it will not be "
        'published. If it is imported again without "withdrawn": true, hide it once ingested.',
    ),
    "op.source_key_invalid": (
        "Mã bài phải có từ 1 đến 255 ký tự.",
        "The article key must be 1–255 characters.",
    ),
    "op.search_too_long": (
        "Chuỗi tìm dài quá {limit} ký tự.",
        "The search text is longer than {limit} characters.",
    ),
    "op.reason_too_long": (
        "Lý do dài quá {limit} ký tự.",
        "The reason is longer than {limit} characters.",
    ),
}
