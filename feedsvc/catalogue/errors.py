"""Errors worded by code: the query parser's (``query.<code>`` with ``query.<code>.hint``,
parameters as in :class:`feedsvc.matching.QueryError`), the admin operations'
(``op.<code>``, :class:`feedsvc.operations.OperationError`) and the preview's warnings."""

from __future__ import annotations

_MIX_VI = 'thêm ngoặc đơn, ví dụ "(a b) OR c" hoặc "a (b OR c)"'
_MIX_EN = 'add parentheses, e.g. "(a b) OR c" or "a (b OR c)"'

#: A field over its limit (:mod:`feedsvc.limits`), the one sentence for every front end: the
#: operations' ``op.too_long`` (CLI, API, admin, topics file) and the bot's reply to a chat
#: query; ``{what}`` is ``too_long.<field>`` (:meth:`feedsvc.catalogue.Translator.too_long`).
#: The parser's ``query.too_long`` says the same figures as a query error says everything:
#: after words that already name the query (the query errors' rule, below).
TOO_LONG = (
    "{what} quá dài: {length} ký tự, tối đa {limit}.",
    "{what} is too long: {length} characters, at most {limit}.",
)

MESSAGES: dict[str, tuple[str, str]] = {
    # -- the query language (feedsvc.matching) --------------------------------------------
    # How a query error reads (``query.<code>`` and its hints; checked for every code by
    # tests/test_query_error_wording.py): every front end shows it after words that already
    # name the query ("Truy vấn không hợp lệ: …", "feedsvc: invalid query: …", the bot's
    # "Truy vấn không hợp lệ: <code>…</code>", a topic's slug on the status page), so it never
    # names the query again, begins in lower case (a code such as AND, a quote, an @slug
    # aside) and is no sentence: no full stop before the hint's " — " or at its end. A hint
    # fits the error and who wrote the query (``.hint.search``, ``.hint.chat``).
    "query.detached_prefix": (
        "{op} phải viết liền với từ đứng sau",
        "{op} must be followed directly by a term",
    ),
    "query.detached_prefix.hint": (
        "bỏ dấu cách, ví dụ {op}từ",
        "write it without a space, e.g. {op}term",
    ),
    "query.unknown_field": (
        "không có trường {name!r}; các trường: {valid}",
        "unknown field {name!r}; valid fields are {valid}",
    ),
    "query.unknown_field.hint": (
        "đặt đoạn chữ có dấu ':' trong ngoặc kép",
        "put text that contains ':' in quotes",
    ),
    "query.field_meant": (
        "không có trường {name!r}; các trường: {valid}",
        "unknown field {name!r}; valid fields are {valid}",
    ),
    "query.field_meant.hint": (
        "muốn tìm theo trường này thì viết {field}:",
        "for this field, write {field}:",
    ),
    "query.unterminated_phrase": ("cụm từ chưa đóng ngoặc kép", "unterminated phrase"),
    # {mark}: the mark that opened it, as typed; {close}: what closes it in that style
    # (feedsvc.phrase_marks.CLOSER: „an ninh is closed with “, never told to add a ")
    "query.unterminated_phrase.hint": (
        "đóng bằng dấu {close}, ví dụ {mark}an ninh{close}",
        "close it with {close}, as in {mark}an ninh{close}",
    ),
    "query.stray_quote": (
        "dấu đóng ngoặc kép không có dấu mở",
        "closing quote without an opening one",
    ),
    # a reader's phrase whose keyboard quotes cannot be read (feedsvc.typed_query.parsed_form:
    # the search feeds), as op.quote_* words it for a chat's query
    "query.quote_unclosed": (
        "dấu {mark} mở một cụm từ nhưng không có dấu đóng",
        "the quote {mark} opens a phrase that is never closed",
    ),
    "query.quote_nested": (
        "dấu {mark} mở trong một cụm từ nhưng được đóng sau cụm từ ấy: đóng ngoặc trong "
        "trước ngoặc ngoài",
        "the quote {mark} opens inside a phrase but is closed after it: close the inner "
        "quotes before the outer ones",
    ),
    "query.quote_stray": (
        "dấu đóng {mark} không đóng dấu mở nào",
        "the closing quote {mark} closes no opening one",
    ),
    "query.bare_at": ("sau '@' phải là mã chủ đề", "'@' must be followed by a topic slug"),
    "query.bare_at.hint": ("ví dụ @kien-thuy", "e.g. @kien-thuy"),
    "query.slug_chars": (
        "mã chủ đề viết không dấu, chỉ gồm chữ, số và '-': @{slug}, không phải @{typed}",
        "a topic slug is written without marks, in letters, digits and '-': @{slug}, not @{typed}",
    ),
    "query.slug_chars.hint": ("viết @{slug}", "write @{slug}"),
    "query.slug_chars.hint.chat": (
        "viết @{slug} (các mã chủ đề: /topics)",
        "write @{slug} (the topics' slugs: /topics)",
    ),
    "query.too_long": (
        "quá dài ({length} ký tự, tối đa {limit})",
        "too long ({length} characters, at most {limit})",
    ),
    "query.too_long.hint": (
        "tách thành nhiều chủ đề rồi ghép bằng @mã",
        "split it into several topics and combine them with @slug",
    ),
    "query.too_long.hint.search": ("rút ngắn nội dung tìm kiếm", "shorten the search"),
    "query.too_long.hint.chat": ("viết ngắn lại", "make it shorter"),
    "query.empty": ("trống", "empty"),
    "query.empty.hint": (
        'viết ít nhất một từ, ví dụ "an ninh"',
        'write at least one word, e.g. "an ninh"',
    ),
    "query.stray_paren": ("thừa dấu ')'", "unbalanced ')'"),
    "query.stray_paren.hint": (
        "bỏ nó đi hoặc thêm '(' tương ứng",
        "remove it or add a matching '('",
    ),
    "query.mixed_and_or": (
        "AND và OR dùng lẫn ở cùng một cấp",
        "AND and OR are mixed at this level",
    ),
    "query.mixed_and_or.hint": (_MIX_VI, _MIX_EN),
    "query.mixed_or_implied": (
        "OR và AND ngầm (các từ đứng cạnh nhau) dùng lẫn ở cùng một cấp",
        "OR and an implied AND are mixed at this level",
    ),
    "query.mixed_or_implied.hint": (_MIX_VI, _MIX_EN),
    "query.needs_term": ("sau {op} phải có một từ", "{op} needs a term after it"),
    "query.ends_early": (
        "kết thúc khi còn thiếu một từ",
        "it ends where a term is expected",
    ),
    "query.too_deep": ("lồng quá {limit} cấp", "nested more than {limit} levels deep"),
    "query.empty_parens": ("cặp ngoặc trống", "empty parentheses"),
    "query.empty_parens.hint": (
        "đặt một từ vào trong hoặc bỏ ngoặc",
        "put a term inside or remove them",
    ),
    "query.unclosed_paren": ("dấu '(' chưa được đóng", "unclosed '('"),
    "query.unclosed_paren.hint": ("thêm ')' tương ứng", "add a matching ')'"),
    "query.misplaced_operator": ("{op} đặt sai chỗ", "unexpected {op}"),
    "query.misplaced_operator.hint": ("{op} đứng giữa hai từ", "{op} goes between two terms"),
    "query.wildcard": ("không hỗ trợ ký tự đại diện (*)", "wildcards are not supported"),
    "query.wildcard.hint": ("liệt kê các biến thể, nối bằng OR", "list the variants with OR"),
    "query.regex": ("không hỗ trợ biểu thức chính quy", "regular expressions are not supported"),
    "query.regex.hint": ("dùng từ và OR", "use words and OR"),
    "query.no_letters": ("{term!r} không có chữ hay số", "{term!r} has no letters or digits"),
    "query.spans_punctuation": (
        "{term!r} có dấu câu ở giữa nên không bao giờ khớp",
        "{term!r} spans sentence punctuation, so it could never match",
    ),
    "query.spans_punctuation.hint": (
        "bỏ dấu câu hoặc tách thành hai từ",
        "remove the punctuation or split it into two terms",
    ),
    "query.too_many_terms": ("quá {limit} từ", "more than {limit} terms"),
    "query.too_many_terms.hint": ("tách thành nhiều chủ đề", "split it into several topics"),
    "query.too_many_terms.hint.search": ("tìm với ít từ hơn", "search with fewer words"),
    "query.too_many_terms.hint.chat": (
        "tách thành nhiều lệnh /sub",
        "split it into several /sub queries",
    ),
    "query.circular_ref": ("tham chiếu vòng {chain}", "circular reference {chain}"),
    "query.circular_ref.hint": (
        "một chủ đề không thể chứa chính nó",
        "a topic cannot include itself",
    ),
    "query.refs_too_deep": (
        "tham chiếu @ lồng quá {limit} cấp",
        "@references nested more than {limit} deep",
    ),
    "query.unknown_ref": ("không có chủ đề @{slug}", "unknown topic @{slug}"),
    "query.unknown_ref.hint": ("kiểm tra lại mã chủ đề", "check the slug"),
    "query.in_ref": ("trong @{slug}: {inner}", "in @{slug}: {inner}"),
    "query.too_many_expanded": (
        "quá {limit} từ sau khi mở rộng các tham chiếu @",
        "more than {limit} terms after expanding @references",
    ),
    "query.too_many_expanded.hint": ("tách chủ đề", "split the topic"),
    "query.too_many_expanded.hint.search": (
        "tìm với ít từ hoặc ít tham chiếu @ hơn",
        "search with fewer words or @references",
    ),
    "query.too_many_expanded.hint.chat": (
        "dùng ít từ hoặc ít tham chiếu @ hơn",
        "use fewer words or @references",
    ),
    "query.chat_query_too_big": (
        "mở rộng thành {terms} từ cùng các tham chiếu @ (tối đa {limit} từ)",
        "it expands to {terms} terms with its @references (at most {limit})",
    ),
    "query.chat_query_too_big.hint": (
        "đăng ký thẳng chủ đề đó, hoặc dùng ít tham chiếu @ hơn",
        "subscribe to the topic itself, or use fewer or smaller @references",
    ),
    "query.no_positive_term": (
        "không có từ nào bắt buộc phải có: nó sẽ khớp cả những bài không chứa từ nào",
        "no positive term: it would match articles containing none of its words",
    ),
    "query.no_positive_term.hint": (
        'thêm một từ bắt buộc, ví dụ "an ninh" -"quảng cáo"',
        'add a term that must occur, e.g. "an ninh" -"quảng cáo"',
    ),
    "query.not_text": ("không phải văn bản", "not text"),
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
