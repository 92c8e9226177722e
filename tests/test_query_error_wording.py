"""Every query error code, worded by the one composer (``Translator.query_error``) in both
languages and for every author, in the frames that show it (tester: a search of 2,001
characters answered "Truy vấn không hợp lệ: tại ký tự 2001: Truy vấn quá dài: 2001 ký tự, tối
đa 2000. — tìm với ít từ hơn": the query named twice, a capital and a full stop inside the
line, a place that means nothing and a hint for too many words). The rule is the comment over
the query errors in ``feedsvc/catalogue/query_errors.py``."""

from __future__ import annotations

import re

import pytest

from feedsvc.catalogue import CATALOGUE, Translator
from feedsvc.matching import QueryError, parse_chat_query, parse_query
from feedsvc.matching.query import MAX_CHAT_QUERY_TERMS, MAX_NESTING, MAX_QUERY_CHARS, MAX_TERMS
from feedsvc.typed_query import parsed_form

#: other topics' queries the examples name by @slug
REFS = {
    "loop": "@loop",
    "bad": "a OR",
    "big": " OR ".join(f"w{i}" for i in range(90)),
    **{f"deep{i}": f"@deep{i + 1}" for i in range(12)},
    "deep12": "x",
}
#: code → a query that the parser (or, for ``quote_*``, the search's reading) refuses with it
EXAMPLES: dict[str, object] = {
    "detached_prefix": "- an",
    "unknown_field": "foo:bar",
    "field_meant": "tiêu_đề:an",
    "unterminated_phrase": '"an ninh',
    "stray_quote": "an ninh ”",
    "quote_unclosed": "«an ninh",
    "quote_nested": "«an „ninh» x“",
    "quote_stray": "an ninh 」",
    "bare_at": "@",
    "slug_chars": "@kiến-thụy",
    "too_long": "a" * (MAX_QUERY_CHARS + 1),
    "empty": "   ",
    "stray_paren": "a)",
    "mixed_and_or": "a AND b OR c",
    "mixed_or_implied": "a OR b c",
    "needs_term": "a OR",
    "ends_early": QueryError("it ends where a term is expected", 4, code="ends_early"),
    "too_deep": "(" * (MAX_NESTING + 5) + "a" + ")" * (MAX_NESTING + 5),
    "empty_parens": "a ()",
    "unclosed_paren": "(a",
    "misplaced_operator": "OR a",
    "wildcard": "an*",
    "regex": "/ninh/",
    "no_letters": '"!!!"',
    "spans_punctuation": '"a. b"',
    "too_many_terms": " ".join(f"w{i}" for i in range(MAX_TERMS + 1)),
    "circular_ref": "@loop",
    "refs_too_deep": "@deep0",
    "unknown_ref": "@nope",
    "in_ref": "x @bad",
    "too_many_expanded": " ".join(["@big"] * 12),
    "chat_query_too_big": "@big @big @big",
    "no_positive_term": "-a",
    "not_text": 5,
}
AUTHORS = ("topic", "search", "chat")
#: the frame each language's front ends put before a query error (the search feed's 400, the
#: bot's reply, the CLI's line: ``http.invalid_query``, ``bot.invalid_query``)
FRAME = {"vi": "Truy vấn không hợp lệ: ", "en": "Invalid query: "}
SUBJECT = {"vi": r"\btruy vấn\b", "en": r"\bquery\b"}
#: codes whose whole text is at fault: no one character to point at
NO_PLACE = {"too_long", "empty", "too_many_expanded", "no_positive_term", "chat_query_too_big"}


def refused(code: str) -> QueryError:
    example = EXAMPLES[code]
    if isinstance(example, QueryError):  # not reachable from text now; worded all the same
        return example
    with pytest.raises(QueryError) as caught:
        if code == "chat_query_too_big":
            parse_chat_query(str(example), REFS.get)
        elif code.startswith("quote_"):
            parse_query(parsed_form(str(example)), REFS.get)
        else:
            parse_query(example, REFS.get)  # type: ignore[arg-type]  (not_text: not a str)
    return caught.value


def codes_of(exc: QueryError) -> list[str]:
    found = [exc.code]
    while exc.cause is not None:
        exc = exc.cause
        found.append(exc.code)
    return found


def framed(t: Translator, exc: QueryError, who: str) -> str:
    """As the search feed's 400 and the API's ``message`` put it: where, then the words."""
    said = t.query_error(exc, who)  # type: ignore[arg-type]
    if exc.column is not None:
        said = f"{t('at_position', position=exc.column)}: {said}"
    return t("http.invalid_query", details=said)


def assert_shape(text: str, language: str) -> None:
    assert len(re.findall(SUBJECT[language], text, re.IGNORECASE)) == 1, text  # named once
    assert not re.search(r"\.\s*—", text) and not text.rstrip().endswith("."), text
    for after in re.findall(r": (\S+)", text):  # lower case after a colon, but a code (AND)
        assert not after[0].isupper() or after.strip(",;)").isupper(), text


def test_every_query_error_code_has_an_example() -> None:
    catalogued = {
        k.split(".")[1] for k in CATALOGUE if k.startswith("query.") and k.count(".") == 1
    }
    assert catalogued == set(EXAMPLES)
    for code in EXAMPLES:
        assert code in codes_of(refused(code)), code


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_every_code_reads_as_one_line_after_its_frame(code: str, language: str) -> None:
    exc = refused(code)
    t = Translator(language)
    for who in AUTHORS:
        assert_shape(framed(t, exc, who), language)
    if language == "en":  # the CLI's line and the API's ``error``: the parser's English
        assert_shape(f"invalid query: {exc}", "en")
    if code in NO_PLACE:
        assert exc.position is None and exc.column is None, code


@pytest.mark.parametrize("length", [MAX_QUERY_CHARS + 1, MAX_QUERY_CHARS + 999])
@pytest.mark.parametrize("spaced", [False, True])
def test_a_query_too_long_says_so_once_without_a_place(length: int, spaced: bool) -> None:
    text = ("ab " * length)[: length - 1] + "z" if spaced else "a" * length
    exc = refused_text(text)
    said = {lang: framed(Translator(lang), exc, "search") for lang in ("vi", "en")}
    assert said["vi"] == (
        f"Truy vấn không hợp lệ: quá dài ({length} ký tự, tối đa 2000) — rút ngắn nội dung tìm kiếm"
    )
    assert said["en"] == (
        f"Invalid query: too long ({length} characters, at most 2000) — shorten the search"
    )
    t = Translator("vi")
    assert t.query_error(exc, "chat") == f"quá dài ({length} ký tự, tối đa 2000) — viết ngắn lại"
    assert t.query_error(exc, "topic").endswith("— tách thành nhiều chủ đề rồi ghép bằng @mã")
    assert str(exc) == (
        f"too long ({length} characters, at most 2000)"
        " (hint: split it into several topics and combine them with @slug)"
    )


def refused_text(text: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    return caught.value


def test_a_length_hint_speaks_of_length_and_a_count_hint_of_words() -> None:
    for language in ("vi", "en"):
        t = Translator(language)
        long_hint = t("query.too_long.hint.search")
        assert long_hint != t("query.too_many_terms.hint.search")
        assert not re.search(r"\bwords?\b|\btừ\b", long_hint), long_hint


@pytest.mark.parametrize(
    ("query", "vi", "en"),
    [
        ("   ", "trống — viết", "empty — write"),
        ("-a", "không có từ nào bắt buộc", "no positive term"),
    ],
)
def test_other_whole_query_errors_do_not_name_the_query_again(query: str, vi: str, en: str) -> None:
    exc = refused_text(query)
    assert framed(Translator("vi"), exc, "search").startswith(FRAME["vi"] + vi)
    assert framed(Translator("en"), exc, "search").startswith(FRAME["en"] + en)


def test_a_chat_querys_expansion_is_worded_without_the_query_twice() -> None:
    exc = refused("chat_query_too_big")
    said = Translator("vi").query_error(exc, "chat")
    assert said.startswith(
        f"mở rộng thành 270 từ cùng các tham chiếu @ (tối đa {MAX_CHAT_QUERY_TERMS} từ)"
    )


def test_the_bots_reply_reads_alike() -> None:
    from feedsvc.bot import texts

    query = "a" * (MAX_QUERY_CHARS + 1)
    reply = texts.invalid_query(query[:20], refused_text(query))
    language = texts.translator().language
    frame, error = reply.split("\n")[:2]  # then the bot's help line
    assert_shape(f"{frame} {error}", language)
    assert "2001" in reply and ("tại ký tự" not in reply and "at character" not in reply)
