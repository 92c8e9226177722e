"""Web admin labels and flash messages (keys without a prefix)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "admin": ("Quản trị feedsvc", "feedsvc admin"),
    "topics": ("Chủ đề", "Topics"),
    "subscriptions": ("Đăng ký", "Subscriptions"),
    "deliveries": ("Gửi tin", "Deliveries"),
    "status": ("Trạng thái", "Status"),
    "logout": ("Đăng xuất", "Log out"),
    "login": ("Đăng nhập", "Log in"),
    "login_title": ("Đăng nhập trang quản trị", "Log in to the admin"),
    "admin_token": ("Mã quản trị", "Admin token"),
    "login_failed": ("Sai mã.", "Wrong token."),
    "login_limited": (
        "Sai quá nhiều lần; thử lại sau {seconds} giây.",
        "Too many failed attempts; try again in {seconds} s.",
    ),
    "not_configured": (
        "Trang quản trị đang tắt: chưa cấu hình mã quản trị "
        "(đặt FEEDSVC_ADMIN__TOKEN hoặc admin.token_file) hoặc không đọc được tệp mã.",
        "The admin is disabled: no admin token is configured "
        "(set FEEDSVC_ADMIN__TOKEN or admin.token_file) or its file cannot be read.",
    ),
    "forbidden": (
        "Bị từ chối: biểu mẫu đã hết hạn hoặc đến từ trang khác. Tải lại rồi thử lại.",
        "Forbidden: the form expired or came from another site. Reload and try again.",
    ),
    "not_found": ("Không tìm thấy.", "Not found."),
    "form_not_text": (
        "Biểu mẫu gửi các byte {bytes}, không phải văn bản UTF-8; không có gì được lưu.",
        "The form sent the bytes {bytes}, which are not UTF-8 text; nothing was saved.",
    ),
    "form_unreadable": (
        "Không đọc được biểu mẫu gửi lên (dữ liệu multipart hỏng, hoặc quá nhiều trường hay "
        "quá lớn); không có gì được lưu.",
        "The form could not be read (malformed multipart data, or too many fields or too "
        "large a part); nothing was saved.",
    ),
    "form_repeated": (
        "Biểu mẫu gửi trường {field} nhiều lần; không có gì được lưu.",
        "The form sent the field {field} more than once; nothing was saved.",
    ),
    "query_not_text": (
        "Truy vấn phải là một chuỗi chữ.",
        "The query must be text.",
    ),
    "slug": ("Mã chủ đề", "Slug"),
    "title": ("Tiêu đề", "Title"),
    "description": ("Mô tả", "Description"),
    "query": ("Truy vấn", "Query"),
    "enabled": ("Đang bật", "Enabled"),
    "disabled": ("Đang tắt", "Disabled"),
    "feeds": ("Nguồn tin", "Feeds"),
    "actions": ("Thao tác", "Actions"),
    "edit": ("Sửa", "Edit"),
    "enable": ("Bật", "Enable"),
    "disable": ("Tắt", "Disable"),
    "delete": ("Xoá", "Delete"),
    "confirm_delete": ("Xoá mục này? Không thể hoàn tác.", "Delete this? This cannot be undone."),
    "new_topic": ("Chủ đề mới", "New topic"),
    "edit_topic": ("Sửa chủ đề", "Edit topic"),
    "save": ("Lưu", "Save"),
    "cancel": ("Huỷ", "Cancel"),
    "backfill": ("Làm mới nguồn tin từ bài đã lưu", "Refresh feed from stored articles"),
    "backfill_on_save": (
        "Sau khi lưu, nạp các bài đã lưu khớp truy vấn vào nguồn tin và bỏ các bài không còn "
        "khớp ({days} ngày)",
        "After saving, fill the feed with matching stored articles and drop those no longer "
        "matching ({days} days)",
    ),
    "no_topics": ("Chưa có chủ đề nào.", "No topics yet."),
    "preview": ("Xem trước", "Preview"),
    "preview_hint": (
        "Gõ truy vấn: phần xem trước cập nhật khi bạn gõ.",
        "Type a query: the preview updates as you type.",
    ),
    "preview_loading": ("Đang so khớp…", "Matching…"),
    # each with its English plural forms (Translator.counted, by the count): "1 of all 10
    # published articles match. 1 of them are within…" was said
    "preview_count.one": (
        "{count} trong {scanned} bài mới nhất đã đăng khớp truy vấn.",
        "{count} of the {scanned} latest published articles matches.",
    ),
    "preview_count.other": (
        "{count} trong {scanned} bài mới nhất đã đăng khớp truy vấn.",
        "{count} of the {scanned} latest published articles match.",
    ),
    "preview_count_all.one": (
        "{count} trong tổng số {scanned} bài đã đăng khớp truy vấn.",
        "{count} of all {scanned} published articles matches.",
    ),
    "preview_count_all.other": (
        "{count} trong tổng số {scanned} bài đã đăng khớp truy vấn.",
        "{count} of all {scanned} published articles match.",
    ),
    "preview_count_min.one": (
        "Ít nhất {count} trong tổng số {scanned} bài đã đăng khớp truy vấn "
        "(đã kiểm tra {checked} bài ứng viên mới nhất).",
        "At least {count} of all {scanned} published articles matches "
        "(the newest {checked} candidates were checked).",
    ),
    "preview_count_min.other": (
        "Ít nhất {count} trong tổng số {scanned} bài đã đăng khớp truy vấn "
        "(đã kiểm tra {checked} bài ứng viên mới nhất).",
        "At least {count} of all {scanned} published articles match "
        "(the newest {checked} candidates were checked).",
    ),
    # after preview_count*: of those matches, the ones a backfill puts in the feed
    # (feedsvc.backfill_window): "15 of 355 match" was read as what a save delivers (13)
    "preview_in_window.one": (
        "Trong đó {count} bài đăng trong {days} ngày gần đây (khoảng nạp bài): đó là các bài "
        "được thêm vào nguồn tin khi lưu có chọn nạp bài.",
        "{count} of them is within the backfill window ({days} days): those are added to the "
        "feed on save when filling the feed is ticked.",
    ),
    "preview_in_window.other": (
        "Trong đó {count} bài đăng trong {days} ngày gần đây (khoảng nạp bài): đó là các bài "
        "được thêm vào nguồn tin khi lưu có chọn nạp bài.",
        "{count} of them are within the backfill window ({days} days): those are added to the "
        "feed on save when filling the feed is ticked.",
    ),
    "preview_in_window_min.one": (
        "Trong đó ít nhất {count} bài đăng trong {days} ngày gần đây (khoảng nạp bài): đó là "
        "các bài được thêm vào nguồn tin khi lưu có chọn nạp bài.",
        "At least {count} of them is within the backfill window ({days} days): those are "
        "added to the feed on save when filling the feed is ticked.",
    ),
    "preview_in_window_min.other": (
        "Trong đó ít nhất {count} bài đăng trong {days} ngày gần đây (khoảng nạp bài): đó là "
        "các bài được thêm vào nguồn tin khi lưu có chọn nạp bài.",
        "At least {count} of them are within the backfill window ({days} days): those are "
        "added to the feed on save when filling the feed is ticked.",
    ),
    "preview_error": ("Lỗi truy vấn", "Query error"),
    # the preview's script, when no worded answer came (the page passes them: admin.js has none)
    "preview_unreachable": (
        "Không kết nối được máy chủ nên chưa xem trước được. Kiểm tra kết nối rồi gõ lại.",
        "The server could not be reached, so there is no preview. Check the connection and "
        "type again.",
    ),
    "preview_failed": (
        "Máy chủ không trả lời được phần xem trước (HTTP {status}). Gõ lại sau giây lát.",
        "The server could not answer the preview (HTTP {status}). Type again in a moment.",
    ),
    "at_position": ("tại ký tự {position}", "at character {position}"),
    # a form's box, less what no save takes (feedsvc.web.admin_text.removal_note)
    "box.removed": (
        "Đã bỏ khỏi ô “{field}” ký tự không ô nào nhận: {chars}. Hãy xem lại ô trước khi gửi lại.",
        "Taken out of the box “{field}”, as no box takes them: {chars}. Check the box before "
        "sending it again.",
    ),
    "box.char": ("{char} ({name}) tại ký tự {position}", "{char} ({name}) at character {position}"),
    "box.surrogate": ("nửa cặp UTF-16", "a lone surrogate"),
    "warnings": ("Cảnh báo", "Warnings"),
    "query_help": (
        'Từ, "cụm từ chính xác", AND, OR, NOT, (nhóm), @chu-de-khac.',
        'Words, "exact phrases", AND, OR, NOT, (groups), @other-topic.',
    ),
    "saved_created": ("Đã tạo chủ đề {slug}.", "Topic {slug} created."),
    "saved_updated": ("Đã lưu thay đổi của chủ đề {slug}.", "Topic {slug} updated."),
    "saved_unchanged": ("Chủ đề {slug} không có gì thay đổi.", "Topic {slug} was unchanged."),
    "deleted": ("Đã xoá chủ đề {slug}.", "Topic {slug} deleted."),
    "deleted_with_subs": (
        "Đã xoá chủ đề {slug} cùng {subs}.",
        "Topic {slug} deleted, with its {subs}.",
    ),
    # what a topic's delete takes with it (Translator.subscriptions): CLI, API, admin
    "topic_subs.one": ("{count} đăng ký ({channels})", "{count} subscription ({channels})"),
    "topic_subs.other": ("{count} đăng ký ({channels})", "{count} subscriptions ({channels})"),
    # in the topics list, in place of the delete button of a topic others use by @slug
    "delete_blocked": (
        "Không xoá được: đang được dùng bởi {users} (@{slug} trong truy vấn)",
        "Cannot be deleted: used by {users} (@{slug} in their queries)",
    ),
    # the page a delete from a stale topics list answers (web.admin_topic_actions): asks again
    "delete_again_title": ("Xoá chủ đề {slug}?", "Delete topic {slug}?"),
    "delete_again_intro": (
        "Chủ đề đã thay đổi kể từ khi trang bạn bấm Xoá được mở; chưa xoá gì. Xem lại bên dưới "
        "rồi xác nhận lần nữa, hoặc Huỷ.",
        "The topic changed since the page you deleted it from was opened; nothing was deleted. "
        "Review it below, then confirm again, or Cancel.",
    ),
    "delete_again_changes": ("Điều đã thay đổi", "What changed"),
    "delete_again_fields": ("Đã được sửa: {fields}.", "Edited: {fields}."),
    "delete_again_no_version": (
        "Trang bạn bấm Xoá không ghi phiên bản của chủ đề (có thể được mở từ trước khi cập nhật "
        "feedsvc): không biết nó đã hiện gì.",
        "The page you deleted it from did not say which version of the topic it showed (it "
        "may have been opened before feedsvc was updated).",
    ),
    "delete_again_subs": (
        "Đăng ký: trang hiện {shown}, bây giờ có {now}; chúng bị xoá theo chủ đề và không thể "
        "khôi phục.",
        "Subscriptions: the page showed {shown}, now there are {now}; they are deleted with "
        "the topic and cannot be restored.",
    ),
    "delete_again_subs_unknown": (
        "Trang bạn bấm Xoá không ghi số đăng ký nó đã hiện; bây giờ có {now}.",
        "The page you deleted it from did not say how many subscriptions it showed; now there "
        "are {now}.",
    ),
    # an enable or disable from a topics list opened before its forms carried the version
    "stale_list_reload": (
        "Trang danh sách được mở từ trước khi cập nhật feedsvc và không ghi phiên bản của chủ "
        "đề {slug}: chưa đổi gì. Xem lại danh sách bên dưới rồi bấm lại.",
        "The list was opened before feedsvc was updated and does not say which version of "
        "topic {slug} it showed: nothing was changed. Check the list below, then press again.",
    ),
    "confirm_delete_topic": (
        "Xoá chủ đề {slug}? Không thể hoàn tác.",
        "Delete topic {slug}? This cannot be undone.",
    ),
    "confirm_delete_topic_subs": (
        "Xoá chủ đề {slug} cùng {subs} của nó? Các đăng ký này bị xoá theo và không thể "
        "khôi phục (địa chỉ Apprise chỉ hiện ở dạng che, không nhập lại được). Muốn giữ "
        "chúng, hãy bấm Tắt thay vì Xoá.",
        "Delete topic {slug} with its {subs}? They are deleted with it and cannot be restored "
        "(Apprise URLs are only ever shown masked, so they cannot be entered again). To keep "
        "them, Disable the topic instead.",
    ),
    # the one wording of a topics-file topic kept deleted: the CLI, the admin, the start's log
    "topics_file.stays_deleted": (
        "Chủ đề {slug} có trong tệp chủ đề {path}: mỗi lần khởi động, nó vẫn bị xoá chừng nào "
        "mục của nó trong tệp không đổi; muốn khôi phục, hãy {bring_back}.",
        "Topic {slug} is listed in the topics file {path}: it stays deleted at every start while "
        "its entry there is unchanged; to bring it back, {bring_back}.",
    ),
    # a topics-file topic deleted while topics.file (as read here) does not list it
    "topics_file.not_listed": (
        "Chủ đề {slug} từng được nhập từ một tệp chủ đề, nhưng tệp chủ đề đang cấu hình "
        "(topics.file) {path} không có nó: khởi động với cấu hình này không tạo lại nó.",
        "Topic {slug} was imported from a topics file, but the configured topics file "
        "(topics.file) {path} does not list it: a start with this configuration does not bring "
        "it back.",
    ),
    # `feedsvc topics list` / `subs list` listing nothing: a stderr line after "feedsvc: "
    # (exit 0; stdout stays empty for scripts): an empty state DB and a wrong one looked alike
    "cli.topics_none": (
        "chưa có chủ đề nào trong cơ sở dữ liệu trạng thái {db}: thêm bằng `{command} topics add "
        "SLUG --title T --query Q`, hoặc nhập một tệp chủ đề: `{command} topics import FILE`",
        "no topic is stored in the state DB {db}: add one with `{command} topics add SLUG "
        "--title T --query Q`, or import a topics file: `{command} topics import FILE`",
    ),
    "cli.subs_none": (
        "không có đăng ký nào trong cơ sở dữ liệu trạng thái {db}",
        "no subscription is stored in the state DB {db}",
    ),
    "cli.subs_none_matching": (
        "không có đăng ký nào khớp ({which}) trong cơ sở dữ liệu trạng thái {db}",
        "no subscription matches ({which}) in the state DB {db}",
    ),
    "topics_file.bring_back": (
        "sửa mục của nó trong tệp hoặc chạy `{command} topics import` (lệnh này áp dụng cả tệp: "
        "mọi chủ đề của tệp đã xoá đều được tạo lại, và các chỉnh sửa trong cơ sở dữ liệu "
        "trạng thái của các chủ đề trong tệp bị thay bằng bản trong tệp)",
        "change its entry in the file or run `{command} topics import` (it applies the whole "
        "file: every deleted topic of the file comes back, and the state DB's edits of its "
        "topics are replaced by the file's)",
    ),
    # the topics file named in it, when no file is there (shown absolute: topics_file.shown_file)
    "topics_file.not_here": (
        "{path} (không có tệp này ở đây: đường dẫn tương đối của topics.file được tính từ thư mục "
        "mà dịch vụ khởi động)",
        "{path} (no such file from here: a relative topics.file is read from the directory the "
        "service starts in)",
    ),
    "topics_file.gone": ("{path} (hiện không có tệp này)", "{path} (no such file now)"),
    "enabled_msg": ("Đã bật chủ đề {slug}.", "Topic {slug} enabled."),
    # the editor after a conflict: what is stored now in the fields changed meanwhile
    "stored_now": ("Giá trị đang lưu", "Stored now"),
    # after op.topic_changed_meanwhile, in the editor only (the API's 412 has no form)
    "changed_meanwhile_hint": (
        "Nội dung bạn gõ vẫn ở dưới đây, giá trị đang lưu ở bên dưới thông báo này: xem lại "
        "rồi bấm Lưu để ghi đè, hoặc Huỷ.",
        "What you typed is below, the stored values under this message: review them, then "
        "Save overwrites them, or Cancel.",
    ),
    # after op.topic_deleted_meanwhile, in the editor only: what was typed, in a new-topic form
    "deleted_meanwhile_hint": (
        "Nội dung bạn gõ vẫn ở dưới đây: bấm Lưu để tạo lại chủ đề, hoặc Huỷ.",
        "What you typed is below: Save creates the topic again, or Cancel.",
    ),
    "topic_on": ("bật", "on"),
    "topic_off": ("tắt", "off"),
    "disabled_msg": ("Đã tắt chủ đề {slug}.", "Topic {slug} disabled."),
    # a backfill's counts (the admin's flash, `topics backfill`'s line): "in the feed" and
    # "added" only what readers see (public: not hidden, withdrawn or scheduled), as the live
    # preview and the feed count them; the matches that stay out, said apart (backfilled_out)
    "backfilled": (
        "{slug}: đã quét {scanned} bài, {matched} bài khớp, trong đó {shown} bài có trong nguồn "
        "tin (mới thêm {added} bài); bỏ {removed} bài không còn khớp.",
        "{slug}: {scanned} articles scanned, {matched} match, {shown} of them in the feed "
        "({added} newly added); {removed} removed (no longer matching).",
    ),
    "backfilled_out": (
        "{held} bài khớp không có trong nguồn tin vì đang bị ẩn, đã bị rút hoặc chưa đến giờ đăng.",
        "{held} matching articles are not in the feed: hidden, withdrawn or scheduled for later.",
    ),
    "backfill_db_failed": (
        "Chưa làm mới xong nguồn tin: cơ sở dữ liệu đang bận hoặc không truy cập được; phần đã "
        "làm được giữ nguyên, hãy làm mới lại sau.",
        "The feed refresh did not finish: the database was busy or unreachable; what was done "
        "stays, run it again later.",
    ),
    "chat": ("Cuộc trò chuyện", "Chat"),
    "topic_or_query": ("Chủ đề / truy vấn", "Topic / query"),
    "state": ("Trạng thái", "State"),
    "paused": ("Tạm dừng", "Paused"),
    "active": ("Hoạt động", "Active"),
    "pause": ("Tạm dừng", "Pause"),
    "resume": ("Tiếp tục", "Resume"),
    "no_subscriptions": ("Chưa có đăng ký nào.", "No subscriptions."),
    "paused_msg": ("Đã tạm dừng {chat}.", "Paused {chat}."),
    "resumed_msg": ("Đã cho {chat} nhận tin lại.", "Resumed {chat}."),
    "sub_deleted": ("Đã xoá đăng ký {id}.", "Subscription {id} deleted."),
    "all": ("Tất cả", "All"),
    "dead_letters": ("Tin gửi hỏng", "Dead letters"),
    "filter": ("Lọc", "Filter"),
    "article": ("Bài viết", "Article"),
    "attempts": ("Số lần thử", "Attempts"),
    "error": ("Lỗi", "Error"),
    "created": ("Tạo lúc", "Created"),
    "finished": ("Xong lúc", "Finished"),
    "resend": ("Gửi lại", "Re-send"),
    "resent": ("Đã xếp lại tin {id} vào hàng đợi.", "Delivery {id} queued again."),
    "no_deliveries": ("Không có tin gửi nào.", "No deliveries."),
    # a delivery-log page past the end of the log (an old link, rows deleted since): not empty
    "past_end_deliveries": (
        "Không có tin gửi nào ở đây: trang này đã qua cuối nhật ký gửi ({total} tin gửi).",
        "Nothing here: this page is past the end of the delivery log ({total} deliveries).",
    ),
    "first_page": ("Về trang đầu", "Back to the first page"),
    "shown_of": ("{first}–{last} / {total}", "{first}–{last} of {total}"),
    "newer": ("← Mới hơn", "← Newer"),
    "older": ("Cũ hơn →", "Older →"),
    "service": ("Dịch vụ", "Service"),
    "held_chats": ("Cuộc trò chuyện không nhận tin", "Chats not receiving alerts"),
    "reason": ("Lý do", "Reason"),
    "blocked_until": ("Bị giới hạn đến", "Rate-blocked until"),
    "recent_errors": ("Lỗi gần đây", "Recent errors"),
    "topic_errors": ("Chủ đề có truy vấn lỗi", "Topics with invalid queries"),
    "none": ("Không có.", "None."),
    "language": ("Ngôn ngữ", "Language"),
    # any channel (Telegram, Zalo, an Apprise destination): a 429 paused it
    "rate_limited": ("Bị giới hạn tốc độ (429)", "Rate-limited (429)"),
    "malformed": (
        "Yêu cầu không hợp lệ: cookie hoặc mã biểu mẫu bị hỏng. Đã xoá; "
        "hãy tải lại trang và đăng nhập lại.",
        "Bad request: a cookie or form token is damaged. It has been cleared; "
        "reload the page and log in again.",
    ),
    "login_required": ("Cần đăng nhập lại.", "Please log in again."),
    "time_note": ("Giờ theo múi {zone}.", "Times in {zone}."),
    "chat_type": ("Loại", "Type"),
    "when": ("Thời gian", "When"),
    "topics_list": ("Chủ đề trong tin", "Topics in the alert"),
    "subscribers_short": ("Người đăng ký", "Subscribers"),
    "status_facts": ("Tình trạng", "Health"),
    "charts": ("Biểu đồ", "Charts"),
    # the topics list: its filter, its pages, and each row's controls named with their topic
    # (a screen reader heard "Sửa, Sửa, Sửa…"): web.admin_topic_list, topics.html
    "topic_search": ("Tìm chủ đề (tên hoặc mã)", "Find a topic (title or slug)"),
    "topic_search_clear": ("Xem tất cả", "Show all"),
    "topics_shown": ("Chủ đề {first}–{last} / {total}", "Topics {first}–{last} of {total}"),
    "topics_found": (
        "Chủ đề khớp “{q}”: {total} / {all}.",
        "Topics matching “{q}”: {total} of {all}.",
    ),
    "topics_none_found": ("Không có chủ đề nào khớp “{q}”.", "No topic matches “{q}”."),
    "topics_pages": ("Các trang chủ đề", "Topic pages"),
    "previous_page": ("← Trang trước", "← Previous"),
    "next_page": ("Trang sau →", "Next →"),
    # said after a row's control, visually hidden: "Sửa, chủ đề Kiến Thụy (kien-thuy)"
    "row_topic": ("chủ đề", "topic"),
    "chart_more": (
        "Biểu đồ cho thấy {shown} chủ đề có nhiều người đăng ký nhất; còn {more} chủ đề khác:",
        "The chart shows the {shown} most followed topics; {more} more:",
    ),
    "chart_more_link": ("xem danh sách chủ đề", "see the topics list"),
    "chart_scroll": (
        "Biểu đồ người đăng ký (cuộn ngang)",
        "Subscribers chart (scrolls sideways)",
    ),
    "language_name": ("Tiếng Việt", "English"),
}
