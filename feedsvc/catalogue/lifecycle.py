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
    # more matched than --limit: the list is the newest ones only (a stderr line, exit 0)
    "cli.find_more": (
        "chỉ hiện {limit} bài mới nhất; còn bài khớp khác: dùng --limit (tối đa 200) hoặc tìm cụ "
        "thể hơn",
        "the newest {limit} shown; more match: --limit (up to 200) or a narrower TEXT",
    ),
    # `feedsvc source reconcile`: the head line, then what the pass did in its mode (stdout)
    "cli.reconcile_head": (
        "{days} ngày gần nhất: đang giữ {held} bài, nguồn có {seen} dòng",
        "last {days} days: {held} articles held, {seen} rows in the source",
    ),
    "cli.reconcile_withdrew": ("đã rút {count}", "withdrew {count}"),
    "cli.reconcile_would": (
        "sẽ rút {count} (chạy thử --dry-run: không thay đổi gì)",
        "would withdraw {count} (dry run: nothing changed)",
    ),
    # the share rule refused the pass (exit 1); the rows listed below it are the ones it names
    "cli.reconcile_refused_share": (
        "từ chối: {count} dòng sẽ bị rút, quá một nửa trong {held} bài đang giữ; nếu toà soạn "
        "thật sự đã xoá chúng, chạy lại với --bulk",
        "refused: {count} rows would be withdrawn, more than half of the {held} articles held; "
        "if the newsroom did delete them, re-run with --bulk",
    ),
    # another safety rule refused it (an empty window: --bulk does not lift it), exit 1
    "cli.reconcile_refused": ("từ chối: {why}; không rút gì", "refused: {why}; nothing withdrawn"),
    "cli.reconcile_more": ("… và {count} dòng nữa", "… and {count} more"),
    "cli.reconcile_kept": (
        "giữ {count}: một dòng khác mang cùng khoá",
        "kept {count}: another row carries the key",
    ),
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
    # {near}: "" or article_near_keys (Translator.operation_error: part of a key typed)
    "op.article_not_found": ("Không có bài {key}.{near}", "There is no article {key}.{near}"),
    "article_near_keys": (
        " Mã bài bắt đầu bằng hoặc chứa chuỗi này: {keys}.",
        " Keys that begin with or contain it: {keys}.",
    ),
    # `articles find KEY` of a key imported but not ingested yet, hidden by nobody (stderr)
    "op.article_not_ingested": (
        "Bài {key} có trong bảng nguồn nhưng chưa được nạp: lần nạp tới sẽ đăng nó (trong "
        "source.poll_seconds khi dịch vụ chạy). Ẩn nó ngay bây giờ sẽ giữ nó lại.",
        "Article {key} is in the source table but not ingested yet: the next ingest publishes "
        "it (within source.poll_seconds while the service runs). Hiding it now keeps it out.",
    ),
    "op.article_not_ingested_withdrawn": (
        "Bài {key} chưa được nạp và đang bị rút trong bảng nguồn: nó sẽ không được đăng. Ẩn nó"
        ' ngay bây giờ sẽ giữ nó ẩn nếu nó được nhập lại không có "withdrawn": true.',
        "Article {key} is not ingested yet and is withdrawn in the source table: it will not be "
        'published. Hiding it now keeps it hidden if it is imported again without "withdrawn":'
        " true.",
    ),
    # a hide of a key ingest has not stored yet: recorded, applied when ingest stores it
    "hide_pending": (
        "Bài {key} chưa được nạp: lệnh ẩn đã được ghi lại và sẽ áp dụng khi bài được nạp (bài"
        " không bao giờ hiển thị, không gửi tin báo). Bỏ ẩn để huỷ.",
        "Article {key} is not ingested yet: the hide is recorded and applies when it is"
        " ingested (it is never public, never alerted). Unhide cancels it.",
    ),
    "hide_pending_cancelled": (
        "Đã huỷ lệnh ẩn bài {key} (chưa được nạp): bài sẽ được nạp như mọi bài khác.",
        "The hide of article {key} (not ingested yet) is cancelled: it will be ingested as"
        " any other.",
    ),
    "article_state.pending": ("Bị ẩn (chờ nạp)", "Hidden (waiting for ingest)"),
    "hide_ahead": ("Ẩn trước khi nạp", "Hide before ingest"),
    "hide_ahead_note": (
        "Không có bài {key}. Nếu nguồn (CMS) có bài này mà feedsvc chưa đọc tới, có thể ẩn nó"
        " trước: lệnh ẩn được ghi lại và áp dụng khi bài được nạp.",
        "There is no article {key}. If the source (CMS) has it and feedsvc has not read it"
        " yet, you can hide it ahead: the hide is recorded and applies when it is ingested.",
    ),
    # a search by key that found nothing, with the built-in source: feedsvc sees the table
    "hide_ahead_builtin": (
        "Không có bài {key}, và bảng nguồn cũng không có mã này: bài chưa được nhập (feedsvc"
        " import). Mã bài được tìm nguyên văn, không theo một phần của mã.",
        "There is no article {key}, and the source table does not hold this key: it has not"
        " been imported (feedsvc import). A key is searched whole, not by a part of it.",
    ),
    # … offered only when no stored key begins with or contains it (not a part of a key)
    "hide_ahead_import": (
        "Nếu bài sẽ được nhập sau, có thể ẩn nó trước: bài đến nơi đã bị ẩn.",
        "If it is to be imported later, you can hide it ahead, so that it arrives hidden.",
    ),
    # the stored keys that begin with or contain a key searched for that is none (links)
    "near_keys": (
        "Mã bài bắt đầu bằng hoặc chứa chuỗi đã nhập:",
        "Keys that begin with or contain what was typed:",
    ),
    # a typed key that is the same text as several stored keys in other Unicode forms
    # (`lifecycle.typed_keys`): refused, each listed quoted and spelled by code point
    "op.article_key_ambiguous": (
        "Mã {key} trùng chữ với nhiều mã bài đã lưu ở dạng Unicode khác nhau: {keys}. Hãy"
        " nhập đúng mã cần dùng.",
        "Key {key} is the same text as several stored keys in other Unicode forms: {keys}."
        " Give the one meant exactly.",
    ),
    # an editor's action on a stored key given in another Unicode form (they look the same)
    "key_other_form": (
        "Đã dùng mã bài đã lưu {key}: cùng chữ với mã đã nhập nhưng ở dạng Unicode khác.",
        "Used the stored key {key}: the same text as the key given, in another Unicode form.",
    ),
    # other stored keys that look the same as the one acted on: not changed
    "key_lookalikes": (
        "Còn bài có mã trông giống hệt (cùng chữ, dạng Unicode khác), không bị thay đổi: {keys}.",
        "Other articles have a key that looks the same (the same text in another Unicode"
        " form) and were not changed: {keys}.",
    ),
    # a hide recorded ahead for a key holding "\u0302" as six characters (`typed_keys`)
    "key_literal_escape": (
        "Lưu ý: mã {key} chứa dấu gạch ngược, chữ u và số hex như ký tự thường (không phải"
        " một ký tự Unicode); nguồn hiếm khi gửi mã như vậy. Nếu muốn chỉ ký tự đó, hãy nhập"
        " mã như feedsvc in ra (\\u0302 là một ký tự).",
        "Note: key {key} holds a backslash, u and hex digits as characters (not the Unicode"
        " character they spell); a source seldom sends such a key. To name that character,"
        " give the key as feedsvc prints it (\\u0302 is one character).",
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
