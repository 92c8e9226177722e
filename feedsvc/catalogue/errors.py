"""Errors worded by code: the admin operations' (``op.<code>``,
:class:`feedsvc.operations.OperationError`) and the preview's warnings; the query parser's are
in :mod:`.query_errors`."""

from __future__ import annotations

#: A field over its limit (:mod:`feedsvc.limits`), the one sentence for every front end: the
#: operations' ``op.too_long`` (CLI, API, admin, topics file) and the bot's reply to a chat
#: query; ``{what}`` is ``too_long.<field>`` (:meth:`feedsvc.catalogue.Translator.too_long`).
#: The parser's ``query.too_long`` says the same figures as a query error says everything:
#: after words that already name the query (the query errors' rule, :mod:`.query_errors`).
TOO_LONG = (
    "{what} quá dài: {length} ký tự, tối đa {limit}.",
    "{what} is too long: {length} characters, at most {limit}.",
)

MESSAGES: dict[str, tuple[str, str]] = {
    # -- admin operations (feedsvc.operations) --------------------------------------------
    "op.slug_format": (
        "Mã chỉ gồm chữ thường không dấu (a-z), số và '-', bắt đầu và kết thúc bằng chữ hoặc "
        "số (ví dụ kien-thuy), tối đa {limit} ký tự.",
        "The slug must be lowercase letters a-z (no marks), digits and '-', with a letter or "
        "digit at each end (e.g. kien-thuy), at most {limit} characters.",
    ),
    "op.slug_reserved": (
        "Mã 'search' dành cho /feeds/search.",
        "The slug 'search' is reserved for /feeds/search.",
    ),
    "op.title_required": ("Cần có tiêu đề.", "A title is required."),
    "op.too_long": TOO_LONG,
    "too_long.title": ("Tiêu đề", "The title"),
    "too_long.description": ("Mô tả", "The description"),
    "too_long.query": ("Truy vấn", "The query"),
    "too_long.slug": ("Mã chủ đề", "The slug"),
    "op.control_character": (
        "Trường {field} có ký tự điều khiển ({char}); hãy xoá nó.",
        "The {field} contains a control character ({char}); remove it.",
    ),
    "op.not_text": (
        "Trường {field} có ký tự không phải văn bản ({char}, nửa cặp UTF-16); hãy xoá nó.",
        "The {field} contains a character that is not text ({char}, a lone surrogate); remove it.",
    ),
    "op.topic_exists": ("Chủ đề {slug} đã có.", "Topic {slug} already exists."),
    # -- the API's 412s (``op.<code>.precondition``: Translator.operation_error), words for a
    # program's author: a save whose If-Match / If-None-Match the stored topics do not meet
    "op.topic_exists.precondition": (
        "Chủ đề {slug} đã có: If-None-Match: * chỉ lưu một chủ đề chưa có; chưa lưu gì.",
        "Topic {slug} already exists: If-None-Match: * saves only a topic that does not exist "
        "yet; nothing was saved.",
    ),
    "op.topic_not_found.precondition": (
        "Không có chủ đề {slug}: If-Match chỉ khớp một chủ đề đang có; chưa lưu gì. PUT không "
        "kèm If-Match sẽ tạo chủ đề này.",
        "There is no topic {slug}: If-Match matches only a topic that exists; nothing was "
        "saved. A PUT without If-Match creates it.",
    ),
    "op.topic_deleted_meanwhile.precondition": (
        "Chủ đề {slug} đã bị xoá (ở trang quản trị, qua API hoặc dòng lệnh): If-Match chỉ khớp "
        "một chủ đề đang có; chưa lưu gì. PUT không kèm If-Match sẽ tạo lại chủ đề này.",
        "Topic {slug} was deleted (in an admin page, through the API or the command line): "
        "If-Match matches only a topic that exists; nothing was saved. A PUT without If-Match "
        "creates it again.",
    ),
    "op.slug_mismatch": (
        "slug trong nội dung không phải chủ đề {slug} của đường dẫn: PUT không đổi tên chủ đề.",
        "The slug in the body is not the path's topic {slug}: a PUT never renames a topic.",
    ),
    "op.query_invalid": ("Truy vấn không hợp lệ.", "Invalid query."),
    "op.breaks_users": (
        "Các chủ đề {users} dùng @{slug} sẽ không còn hợp lệ với truy vấn này.",
        "The topics {users} that use @{slug} would become invalid with this query.",
    ),
    "op.topic_not_found": ("Không có chủ đề {slug}.", "There is no topic {slug}."),
    "op.topic_in_use": (
        "Chủ đề {slug} đang được {users} dùng; hãy sửa các chủ đề đó trước.",
        "Topic {slug} is used by {users}; change those first.",
    ),
    "op.breaks_chat_queries": (
        "Truy vấn riêng của {chats} dùng @{slug} sẽ không còn hợp lệ với truy vấn này.",
        "The own queries of {chats} that use @{slug} would become invalid with this query.",
    ),
    "op.topic_in_chat_queries": (
        "Chủ đề {slug} đang được truy vấn riêng của {chats} dùng; hãy sửa những truy vấn đó "
        "trước (xoá đăng ký, hoặc cuộc trò chuyện đổi truy vấn của mình).",
        "Topic {slug} is used by the own queries of {chats}; change those first (remove the "
        "subscription, or the chat changes its query).",
    ),
    "op.topic_in_use_and_chat_queries": (
        "Chủ đề {slug} đang được {users} và truy vấn riêng của {chats} dùng; hãy sửa những "
        "chỗ đó trước (truy vấn của một cuộc trò chuyện: xoá đăng ký, hoặc cuộc trò chuyện "
        "đổi truy vấn của mình).",
        "Topic {slug} is used by {users} and by the own queries of {chats}; change those "
        "first (a chat's query: remove the subscription, or the chat changes its query).",
    ),
    "chat_query_ref": ("{chat} (đăng ký {id})", "{chat} (subscription {id})"),
    "and_more": ("và {count} chỗ khác", "and {count} more"),
    # no form in it: the admin's editor adds admin.deleted_meanwhile_hint
    "op.topic_deleted_meanwhile": (
        "Chủ đề {slug} đã bị xoá trong lúc bạn sửa (ở trang quản trị khác, qua API hoặc dòng "
        "lệnh); chưa lưu gì.",
        "Topic {slug} was deleted while you were editing it (in another admin page, through "
        "the API or the command line); nothing was saved.",
    ),
    # a new-topic form opened before the slug's topic was deleted (the admin's only: the API's
    # creates carry no form version); the editor adds admin.deleted_meanwhile_hint
    "op.topic_deleted_since_opened": (
        "Chủ đề {slug} đã bị xoá sau khi trang này được mở (ở trang quản trị khác, qua API hoặc "
        "dòng lệnh): có thể chính biểu mẫu này đã tạo nó và vừa được gửi lại từ lịch sử trình "
        "duyệt; chưa lưu gì.",
        "Topic {slug} was deleted after this form was opened (in another admin page, through "
        "the API or the command line): this form may be the one that created it, sent again "
        "from the browser's history; nothing was saved.",
    ),
    # the API's 412 and the admin's 409 alike; the admin adds admin.changed_meanwhile_hint
    "op.topic_changed_meanwhile": (
        "Chủ đề {slug} đã được người khác sửa kể từ khi bạn đọc nó (ở trang quản trị khác, qua "
        "API hoặc dòng lệnh), đã đổi: {fields}; chưa lưu gì.",
        "Topic {slug} was changed by someone else since you read it (in another admin page, "
        "through the API or the command line), changed: {fields}; nothing was saved.",
    ),
    # the admin's delete form: subscriptions added since its question named fewer (the page
    # that refuses it shows them and asks again)
    "op.topic_gained_subscriptions": (
        "Chủ đề {slug} giờ có {subs}; trang bạn dùng để xoá chỉ hiện {shown} đăng ký. Chưa xoá gì.",
        "Topic {slug} now has {subs}; the page you deleted it from showed {shown}. Nothing was "
        "deleted.",
    ),
    "op.topic_version_missing": (
        "Biểu mẫu không có trường {field} (phiên bản của chủ đề {slug}): có thể trang được mở "
        "từ trước khi cập nhật feedsvc. Chưa lưu gì. Nội dung bạn gõ vẫn ở dưới đây: đối chiếu "
        "với chủ đề đang lưu rồi bấm Lưu lại, hoặc Huỷ.",
        "The form has no {field} field (the version of topic {slug}): the page may have been "
        "opened before feedsvc was updated. Nothing was saved. What you typed is below: check "
        "it against the stored topic, then Save again, or Cancel.",
    ),
    "op.backfill_topic_deleted": (
        "Chủ đề {slug} đã bị xoá trong lúc nạp lại; phần đã làm đi cùng chủ đề đó.",
        "Topic {slug} was deleted during the backfill; what was done went with it.",
    ),
    "op.backfill_topic_changed": (
        "Truy vấn của chủ đề {slug} (hoặc của một chủ đề nó tham chiếu) đã đổi trong lúc nạp "
        "lại; phần đã làm được giữ nguyên: hãy nạp lại lần nữa.",
        "The query of topic {slug} (or of a topic it references) changed during the backfill; "
        "what was done before stays: run the backfill again.",
    ),
    "op.backfill_stopped": (
        "Dịch vụ đang dừng: việc nạp lại chủ đề {slug} dừng sau {checked} bài; phần đã làm "
        "được lưu. Hãy nạp lại khi dịch vụ chạy trở lại.",
        "The service is stopping: the backfill of topic {slug} stopped after {checked} "
        "articles; what was done is stored. Run it again once the service is back.",
    ),
    "op.topic_has_subscriptions": (
        "Chủ đề {slug} có {subs}; xoá chủ đề sẽ xoá cả các đăng ký này. Muốn giữ chúng, hãy "
        "tắt chủ đề.",
        "Topic {slug} has {subs}; deleting it deletes them too. To keep them, disable the topic.",
    ),
    "op.delivery_not_found": ("Không có tin gửi #{id}.", "There is no delivery #{id}."),
    "op.delivery_not_dead": (
        "Tin gửi #{id} đang ở trạng thái {state}, không phải tin gửi hỏng.",
        "Delivery #{id} is {state}, not a dead letter.",
    ),
    "op.channel_off": (
        "Không gửi lại tin gửi #{id}: kênh {channel} chưa được cấu hình ({setting} chưa đặt), "
        "gửi lại chỉ lại kết thúc ở trạng thái lỗi. Hãy đặt {setting} và khởi động lại feedsvc, "
        "rồi gửi lại.",
        "Delivery #{id} was not re-sent: the {channel} channel is not configured ({setting} is "
        "not set), so it would only end failed again. Set {setting} and restart feedsvc, then "
        "re-send it.",
    ),
    "op.chat_type_invalid": ("Loại cuộc trò chuyện không hợp lệ.", "Invalid chat type."),
    # Telegram's id spaces (feedsvc.channels.recipients.CHANNEL_ID_BASE): "-100" followed by
    # the chat's own id, not "starts with -100" (-100123 starts with it and is a basic group).
    "op.chat_id_type_mismatch": (
        "{chat} không thể là mã của một cuộc trò chuyện loại {type}: chat riêng có mã dương; "
        "nhóm thường có mã âm từ -1 đến -999999999999; siêu nhóm và kênh có mã là -100 ghép "
        "với mã riêng của nó, từ 13 chữ số trở lên, nhỏ hơn -1000000000000 "
        "(ví dụ -1001234567890).",
        "{chat} cannot be the id of a {type} chat: private chats have positive ids; basic "
        "groups negative ones from -1 to -999999999999; supergroups and channels -100 followed "
        "by their own id, 13 or more digits in all, below -1000000000000 "
        "(e.g. -1001234567890).",
    ),
    "op.topic_or_query": (
        "Chọn đúng một: chủ đề hoặc truy vấn.",
        "Give exactly one of a topic or a query.",
    ),
    "op.query_empty": ("Truy vấn trống.", "The query is empty."),
    # a chat query's quotes that cannot be read (feedsvc.bot.typed.QuoteProblem): the bots'
    # refusal and the admin's and the API's (operations.recipients)
    "op.quote_unclosed": (
        "dấu {mark} mở một cụm từ nhưng không có dấu đóng",
        "the quote {mark} opens a phrase that is never closed",
    ),
    "op.quote_nested": (
        "dấu {mark} mở trong một cụm từ nhưng được đóng sau cụm từ ấy: đóng ngoặc trong "
        "trước ngoặc ngoài",
        "the quote {mark} opens inside a phrase but is closed after it: close the inner "
        "quotes before the outer ones",
    ),
    "op.quote_stray": (
        "dấu đóng {mark} không đóng dấu mở nào",
        "the closing quote {mark} closes no opening one",
    ),
    "op.topic_unknown": ("Không có chủ đề {slug}.", "There is no topic {slug}."),
    # added to op.topic_unknown (operations.recipients._unknown_hint): why the topic is not there
    "op.topic_unknown.not_imported": (
        "Chủ đề này có trong tệp chủ đề {path} nhưng chưa được nhập vào cơ sở dữ liệu trạng "
        "thái: chạy `{command} topics import`{start}.",
        "It is in the topics file {path} but not imported yet: run `{command} topics "
        "import`{start}.",
    ),
    "op.topic_unknown.start": (" (hoặc khởi động dịch vụ)", " (or start the service)"),
    "op.topic_unknown.no_topics": (
        "Cơ sở dữ liệu trạng thái chưa có chủ đề nào: thêm bằng `{command} topics add SLUG "
        "--title T --query Q`, hoặc nhập một tệp chủ đề: `{command} topics import FILE`.",
        "The state DB has no topics yet: add one with `{command} topics add SLUG --title T "
        "--query Q`, or import a topics file: `{command} topics import FILE`.",
    ),
    "op.topic_disabled": (
        "Chủ đề {slug} đang tắt: hãy bật nó trước (nút Bật ở danh sách chủ đề của trang quản "
        "trị, hoặc lệnh feedsvc topics enable) rồi đăng ký.",
        "Topic {slug} is switched off: switch it on first (Enable in the admin's topic list, "
        "or feedsvc topics enable) to subscribe to it.",
    ),
    "op.checkbox_invalid": (
        "Ô {field} chỉ nhận on hoặc off (true/false, 1/0, yes/no).",
        "The box {field} takes on or off (true/false, 1/0, yes/no).",
    ),
    "op.too_many_subscriptions": (  # never begun with {chat}: Vietnamese's is "chat Telegram 1"
        "Đã có {limit} đăng ký cho {chat}.",
        "{chat} already has {limit} subscriptions.",
    ),
    "op.subscription_not_found": ("Không có đăng ký #{id}.", "There is no subscription #{id}."),
    "op.chat_not_found": ("Không có cuộc trò chuyện {chat}.", "There is no chat {chat}."),
    "op.state_invalid": ("Trạng thái không hợp lệ.", "Unknown delivery state."),
    # -- the live preview's warnings (feedsvc.preview) ------------------------------------
    "warn.operator_word": (
        "“{word}” (ký tự {position}) là một từ bài viết phải có; muốn dùng toán tử thì viết"
        " {operator} (chữ hoa).",
        "“{word}” (character {position}) is a word the articles must contain; for the"
        " operator, write {operator} (capitals).",
    ),
    "warn.keyboard_quotes": (
        "{typed} (ký tự {position}) là các từ riêng lẻ trong truy vấn của chủ đề; muốn tìm"
        " cụm từ thì viết {phrase}.",
        "{typed} (character {position}) is separate words in a topic's query; for the"
        " phrase, write {phrase}.",
    ),
    "warn.broad_term": (
        "Từ {term} khớp {count} / {scanned} bài ({share}): có quá rộng không?",
        "The term {term} matches {count} of {scanned} articles ({share}): too broad?",
    ),
    "warn.broad_term_least": (  # the count cut at the preview's scan: a lower bound
        "Từ {term} khớp ít nhất {count} / {scanned} bài ({share}): có quá rộng không?",
        "The term {term} matches at least {count} of {scanned} articles ({share}): too broad?",
    ),
}
