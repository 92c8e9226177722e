"""Query errors worded by code: the query parser's (``query.<code>`` with ``query.<code>.hint``,
parameters as in :class:`feedsvc.matching.QueryError`), apart from the operations' errors
(:mod:`.errors`); worded by :meth:`feedsvc.catalogue.Translator.query_error`."""

from __future__ import annotations

_MIX_VI = 'thêm ngoặc đơn, ví dụ "(a b) OR c" hoặc "a (b OR c)"'
_MIX_EN = 'add parentheses, e.g. "(a b) OR c" or "a (b OR c)"'

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
}
