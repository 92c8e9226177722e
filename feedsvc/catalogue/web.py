"""HTTP answers outside the admin pages (``http.*``, ``api.*``, ``ready.*``, ``reason.*``).

``api.<code>``: the JSON API's own errors by code (:class:`feedsvc.web.api_base.ApiError`); the
API answers ``{"error": English, "code": code, "message": localized}``. ``http.*``: plain-text
answers of the feed routes, unknown routes and the admin's body cap. ``ready.*``: ``/readyz``.
``reason.<code>``: why a chat was switched off, stored as a code with the chat
(:mod:`feedsvc.notify.reasons`).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # -- the JSON API's own errors ---------------------------------------------------------------
    "api.admin_disabled": (
        "API quản trị đang tắt: chưa cấu hình mã quản trị (admin.token).",
        "The admin API is disabled: admin.token is not configured.",
    ),
    "api.state_db_unavailable": (
        "Dịch vụ tạm thời không đọc được cơ sở dữ liệu; thử lại sau {seconds} giây.",
        "The state database does not answer; retry in {seconds} s.",
    ),
    "api.state_db_disk_full": (
        "Ổ đĩa của cơ sở dữ liệu đã đầy nên không lưu được thay đổi; đọc vẫn được. "
        "Hãy giải phóng chỗ trống rồi thử lại sau {seconds} giây.",
        "The state database's disk is full, so nothing can be saved; reads still work. "
        "Free some space, then retry in {seconds} s.",
    ),
    "api.service_stopping": (
        "Dịch vụ đang dừng và không kịp trả lời yêu cầu này; thử lại sau {seconds} giây.",
        "The service is stopping and could not finish this request; retry in {seconds} s.",
    ),
    # a topic's PUT and a chat's PATCH alike (web/preconditions.py)
    "api.if_match_invalid": (
        'If-Match phải là một hay nhiều phiên bản như GET trả về (trường "version", tức ETag), '
        'mỗi phiên bản đặt trong ngoặc kép ("<version>"), hoặc *.',
        'If-Match must be one or more versions as GET gives them (its "version", its ETag), '
        'each quoted ("<version>"), or *.',
    ),
    "api.if_match_too_long": (
        "If-Match liệt kê quá nhiều thẻ thực thể: tối đa {limit}.",
        "If-Match lists too many entity tags: at most {limit}.",
    ),
    # a write body's "version" (a GET's body sent back) is an If-Match (web/preconditions.py)
    "api.version_invalid": (
        'version phải là phiên bản như GET trả về (trường "version"), hoặc null.',
        'version must be the version as GET gives it (its "version"), or null.',
    ),
    "api.version_mismatch": (
        "version trong nội dung không nằm trong các phiên bản If-Match liệt kê: chỉ gửi một "
        "điều kiện.",
        "The version in the body is not one If-Match lists: send one condition.",
    ),
    # weak tags only: valid, and never matching (RFC 9110 §13.1.1: a strong comparison), 412
    "api.if_match_weak": (
        "If-Match chỉ có thẻ thực thể yếu (W/...), không bao giờ khớp: hãy gửi phiên bản (trường "
        '"version") như GET trả về, dạng thẻ mạnh; chưa lưu gì.',
        "If-Match names only weak entity tags (W/...), which never match: send the version as "
        'GET gives it (its "version") as a strong tag; nothing was saved.',
    ),
    # strong tags none of which is a version: a list that matches nothing, RFC 9110 §13.1.1
    "api.if_match_unknown": (
        "If-Match không nêu phiên bản nào (không thẻ thực thể nào là phiên bản như GET trả về, "
        'trường "version"), nên không khớp; chưa lưu gì.',
        "If-Match names no version (none of its entity tags is one GET gives, its "
        '"version"), so none matches; nothing was saved.',
    ),
    # every write's conditional headers, one gate (web/preconditions.py)
    "api.if_none_match_invalid": (
        "If-None-Match của một thao tác ghi phải là *: chỉ ghi khi chưa có gì.",
        "If-None-Match on a write must be *: write only where nothing exists yet.",
    ),
    "api.condition_unsupported": (
        "{header} là điều kiện mà đường dẫn này không thể kiểm tra: hãy gửi yêu cầu không kèm "
        "nó; chưa lưu gì.",
        "{header} is a condition this route cannot honour: send the write without it; nothing "
        "was saved.",
    ),
    "api.if_unmodified_since_not_met": (
        "Đã có thay đổi sau ngày nêu trong If-Unmodified-Since; chưa lưu gì.",
        "It was modified after the If-Unmodified-Since date; nothing was saved.",
    ),
    "api.chat_exists": (
        "Cuộc trò chuyện {chat_id} đã có (If-None-Match: * không thỏa); chưa lưu gì.",
        "Chat {chat_id} exists (If-None-Match: * not met); nothing was saved.",
    ),
    "api.unauthorized": (
        "Thiếu mã Bearer hoặc sai mã.",
        "Missing or wrong Bearer token.",
    ),
    "api.token_limited": (
        "Sai mã quá nhiều lần từ địa chỉ này; thử lại sau {seconds} giây.",
        "Too many wrong admin tokens from this address; try again in {seconds} s.",
    ),
    "api.body_too_large": (
        "Nội dung gửi lên quá lớn (tối đa {limit} byte).",
        "Request body larger than {limit} bytes.",
    ),
    # a body that is not JSON text as sent (web/api_input.py check_media, json_constant)
    "api.unsupported_media_type": (
        "Không nhận Content-Type {given}: hãy gửi application/json (hoặc application/json; "
        "charset=utf-8).",
        "Content-Type {given} is not accepted: send application/json (or application/json; "
        "charset=utf-8).",
    ),
    "api.unsupported_content_encoding": (
        "Không nhận Content-Encoding {encoding}: hãy gửi nội dung JSON nguyên dạng, không nén.",
        "Content-Encoding {encoding} is not accepted: send the JSON body as it is, uncompressed.",
    ),
    "api.json_not_a_number": (
        "Nội dung không phải JSON hợp lệ: {token} ở dòng {line}, cột {column} không phải số "
        "JSON (RFC 8259).",
        "The body is not valid JSON: {token} at line {line}, column {column} is no JSON number "
        "(RFC 8259).",
    ),
    "api.invalid_body": ("Dữ liệu gửi lên không hợp lệ: {details}", "Invalid request: {details}"),
    "api.repeated_param": (
        "Tham số {name} được gửi nhiều lần.",
        "Parameter {name} is given more than once.",
    ),
    "api.not_integer": ("{name} phải là số nguyên.", "{name} must be an integer."),
    "api.not_text": (
        "{field} không phải văn bản UTF-8 (các byte {bytes}).",
        "The {field} is not UTF-8 text (the bytes {bytes}).",
    ),
    "api.duplicate_key": (
        "{field}: khoá này xuất hiện nhiều lần trong cùng một đối tượng JSON"
        " (không rõ giá trị nào mới đúng); gửi mỗi khoá một lần.",
        "{field}: this key appears more than once in one JSON object"
        " (which value is meant?); send each key once.",
    ),
    # a request that fails validation, one entry per kind (feedsvc.web.api_invalid.KINDS)
    "api.invalid.missing": (
        "{where}: thiếu trường bắt buộc này",
        "{where}: this field is required",
    ),
    "api.invalid.extra": ("{where}: không có trường này", "{where}: unknown field"),
    "api.invalid.string": ("{where}: phải là chuỗi ký tự", "{where}: must be a string"),
    "api.invalid.too_short": (
        "{where}: cần ít nhất {min_length} ký tự",
        "{where}: at least {min_length} characters",
    ),
    "api.invalid.too_long": (
        "{where}: tối đa {max_length} ký tự",
        "{where}: at most {max_length} characters",
    ),
    "api.invalid.integer": (
        "{where}: phải là số nguyên (chữ số 0-9)",
        "{where}: must be an integer (digits 0-9)",
    ),
    "api.invalid.number": ("{where}: phải là một số", "{where}: must be a number"),
    "api.invalid.boolean": ("{where}: phải là true hoặc false", "{where}: must be true or false"),
    "api.invalid.choice": (
        "{where}: phải là một trong các giá trị {expected}",
        "{where}: must be one of {expected}",
    ),
    "api.invalid.min": ("{where}: phải lớn hơn hoặc bằng {ge}", "{where}: must be at least {ge}"),
    "api.invalid.above": ("{where}: phải lớn hơn {gt}", "{where}: must be greater than {gt}"),
    "api.invalid.max": ("{where}: phải nhỏ hơn hoặc bằng {le}", "{where}: must be at most {le}"),
    "api.invalid.below": ("{where}: phải nhỏ hơn {lt}", "{where}: must be less than {lt}"),
    "api.invalid.too_many": (
        "{where}: tối đa {max_length} phần tử",
        "{where}: at most {max_length} items",
    ),
    "api.invalid.too_few": (
        "{where}: cần ít nhất {min_length} phần tử",
        "{where}: at least {min_length} items",
    ),
    "api.invalid.list": ("{where}: phải là một danh sách", "{where}: must be a list"),
    "api.invalid.object": ("{where}: phải là một đối tượng JSON", "{where}: must be a JSON object"),
    "api.invalid.json": ("{where}: không phải JSON hợp lệ", "{where}: not valid JSON"),
    "api.invalid.invalid": ("{where}: giá trị không hợp lệ", "{where}: invalid value"),
    "api.unknown_id": ("Không có {name} {value}.", "Unknown {name} {value}."),
    "api.chat_id_mismatch": (
        "chat_id {given} trong nội dung không phải cuộc trò chuyện {chat_id} của đường dẫn.",
        "chat_id {given} in the body is not the path's chat {chat_id}.",
    ),
    "api.not_found": ("Không tìm thấy.", "Not found."),
    # -- /readyz ---------------------------------------------------------------------------------
    "ready.serving_yes": ("Sẵn sàng phục vụ.", "Ready to serve."),
    "ready.serving_no": (
        "Chưa sẵn sàng: CSDL trạng thái không trả lời hoặc nguồn tin chưa nạp xong.",
        "Not ready: the state database does not answer or the feeds are not loaded yet.",
    ),
    "ready.ingest_yes": ("Việc lấy bài đang theo kịp nguồn.", "Ingest is keeping up."),
    "ready.ingest_no": (
        "Việc lấy bài đang lỗi hoặc chậm: xem trang trạng thái.",
        "Ingest is failing or behind: see the status page.",
    ),
    "ready.bad_ingest": (
        "{value} không đọc được: dùng {yes} để kiểm tra cả việc lấy bài, {no} hoặc để"
        " trống để không kiểm tra.",
        "{value} is not understood: use {yes} to check ingest too, {no} or nothing not to.",
    ),
    "ready.ingest_twice": (
        "ingest được cho nhiều lần với câu trả lời khác nhau ({yes_value} và {no_value}): chỉ"
        " cho một lần, {yes} để kiểm tra cả việc lấy bài, {no} hoặc để trống để không kiểm tra.",
        "ingest is given more than once with different answers ({yes_value} and {no_value}):"
        " give it once, {yes} to check ingest too, {no} or nothing not to.",
    ),
    # -- plain-text HTTP answers -----------------------------------------------------------------
    "http.not_found": ("Không tìm thấy trang này.", "Page not found."),
    "http.method_not_allowed": (
        "Phương thức này không dùng được ở địa chỉ này.",
        "This method is not allowed here.",
    ),
    "http.no_topic": ("Không có chủ đề {slug}.", "There is no topic {slug}."),
    # 410 Gone: a feed reader unsubscribes; a person reads why
    "http.topic_gone": (
        "Chủ đề {slug} đã bị xoá: nguồn tin này không còn nữa, hãy huỷ đăng ký.",
        "The topic {slug} was deleted: this feed is gone for good, please unsubscribe.",
    ),
    "http.no_telegram_bot": (
        "Chưa cấu hình bot Telegram, nên chủ đề {slug} chưa có mã QR để đăng ký.",
        "No Telegram bot is configured, so topic {slug} has no subscription QR code.",
    ),
    "http.no_zalo_link": (
        "Trang chưa có liên kết bot Zalo (zalo.link), nên chủ đề {slug} chưa có mã QR Zalo.",
        "No Zalo bot link is shown (zalo.link), so topic {slug} has no Zalo QR code.",
    ),
    "http.telegram_slug_too_long": (
        "Tên chủ đề {slug} dài quá {most} ký tự của liên kết Telegram, nên không có mã QR.",
        "Topic {slug}'s name is longer than a Telegram link allows ({most} characters),"
        " so it has no QR code.",
    ),
    "http.feed_suffix": (
        "Không tìm thấy: địa chỉ nguồn tin kết thúc bằng .rss, .atom hoặc .json.",
        "Not found: feed addresses end in .rss, .atom or .json.",
    ),
    "http.no_stylesheet": ("Không có bảng định kiểu.", "No stylesheet."),
    "http.state_db_down": (
        "Dịch vụ tạm thời không đọc được cơ sở dữ liệu; thử lại sau {seconds} giây.",
        "The service cannot reach its database right now; retry in {seconds} s.",
    ),
    "http.state_db_disk_full": (
        "Ổ đĩa của cơ sở dữ liệu đã đầy nên không lưu được thay đổi; đọc vẫn được. "
        "Hãy giải phóng chỗ trống rồi thử lại sau {seconds} giây.",
        "The database's disk is full, so nothing can be saved; reads still work. "
        "Free some space, then retry in {seconds} s.",
    ),
    "http.service_stopping": (
        "Dịch vụ đang dừng và không kịp trả lời yêu cầu này; thử lại sau {seconds} giây.",
        "The service is stopping and could not finish this request; retry in {seconds} s.",
    ),
    "http.state_db_down_title": ("Tạm thời gián đoạn", "Temporarily unavailable"),
    "http.busy": (
        "Máy chủ đang bận; thử lại sau {seconds} giây.",
        "The server is busy; retry in {seconds} s.",
    ),
    "http.too_many": (
        "Quá nhiều yêu cầu từ địa chỉ của bạn; thử lại sau {seconds} giây.",
        "Too many requests from your address; retry in {seconds} s.",
    ),
    "http.bad_limit": (
        "limit phải là số nguyên từ 1 trở lên (lớn hơn {limit} thì trả {limit} bài mới nhất),"
        " nhận được {value}.",
        "limit must be a whole number of 1 or more (above {limit}: the newest {limit}),"
        " got {value}.",
    ),
    "http.missing_query": (
        "Thiếu truy vấn: dùng /feeds/search.{fmt}?q=TỪ_KHOÁ",
        "Missing query: use /feeds/search.{fmt}?q=WORDS",
    ),
    "http.invalid_query": ("Truy vấn không hợp lệ: {details}", "Invalid query: {details}"),
    "http.head_too_large": (
        "Phần đầu của yêu cầu (các header) quá lớn.",
        "Request header fields too large.",
    ),
    "http.path_not_text": (
        "Địa chỉ này không đọc được: đường dẫn có các byte {bytes}, không phải văn bản UTF-8.",
        "This address cannot be read: its path holds the bytes {bytes}, which are not UTF-8 text.",
    ),
    "http.query_not_text": (
        "Địa chỉ này không đọc được: phần truy vấn (sau dấu ?) có các byte {bytes}, không phải"
        " văn bản UTF-8.",
        "This address cannot be read: its query string (after the ?) holds the bytes {bytes},"
        " which are not UTF-8 text.",
    ),
    "http.query_repeated": (
        "Địa chỉ này không đọc được: tham số {name} được cho nhiều lần với các giá trị khác nhau"
        " ({first} và {other}): chỉ cho một lần.",
        "This address cannot be read: the parameter {name} is given more than once with"
        " different values ({first} and {other}): give it once.",
    ),
    "http.bad_request": (
        "Yêu cầu HTTP sai định dạng; máy chủ không đọc được.",
        "Malformed HTTP request; the server could not read it.",
    ),
    "http.body_timeout": (
        "Hết thời gian chờ nội dung yêu cầu: máy khách gửi quá chậm hoặc đã ngừng gửi.",
        "Request body timed out: the client sent it too slowly or stopped sending it.",
    ),
    "http.too_many_connections": (
        "Quá nhiều kết nối cùng lúc từ địa chỉ của bạn; hãy thử lại sau giây lát.",
        "Too many connections open at once from your address; try again in a moment.",
    ),
    "http.body_too_large": (
        "Nội dung gửi lên quá lớn.",
        "Request body too large.",
    ),
    # the heading of the HTML page a browser gets for each error (feedsvc.web.error_pages)
    "http.title_400": ("Yêu cầu không hợp lệ", "Bad request"),
    "http.title_404": ("Không tìm thấy trang", "Page not found"),
    "http.title_405": ("Không dùng được phương thức này", "Method not allowed"),
    "http.title_413": ("Nội dung gửi lên quá lớn", "Request too large"),
    "http.title_429": ("Quá nhiều yêu cầu", "Too many requests"),
    "http.title_500": ("Lỗi máy chủ", "Server error"),
    "http.title_503": ("Tạm thời gián đoạn", "Temporarily unavailable"),
    "http.server_error": (
        "Lỗi máy chủ; đã ghi nhật ký. Thử lại sau.",
        "Server error; it has been logged. Try again later.",
    ),
}
