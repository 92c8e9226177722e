"""A field name or a topic slug typed in Vietnamese is refused saying what to write instead.

A tester's ``@kiến-thụy`` was "unknown topic @ki" (a slug is ASCII, so the reference stopped at
``ế``) and ``tiêu_đề:bão`` "term spans sentence punctuation" (a field name was read from ASCII
letters only); ``tieude:`` listed the fields without saying which one was meant. Now the error
names the slug form (``@kien-thuy``) or the field (``title:``) and the fields that exist
(:mod:`feedsvc.matching.typed_names`), in every front end's words.
"""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService
from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.matching import QueryError, parse_query

TOPICS = {"kien-thuy": '"Kiến Thụy"', "do-son": '"Đồ Sơn"'}

#: typed → (its slug form, column of the "@")
SLUGS = {
    "@kiến-thụy": ("kien-thuy", 1),  # the tester's
    '"an ninh" @kiến-thụy': ("kien-thuy", 11),
    "@Kiến_Thụy": ("kien-thuy", 1),
    "@KIẾN-THỤY": ("kien-thuy", 1),
    "@đồ-sơn": ("do-son", 1),  # "'@' must be followed by a topic slug" before
    "(@Đồ-Sơn OR bão)": ("do-son", 2),
    "@kien-thụy": ("kien-thuy", 1),
    "@ki\u00ean\u0301-thuy": ("kien-thuy", 1),  # a mark left decomposed
}
#: typed → (the name as typed, the field meant, column)
FIELDS = {
    "tiêu_đề:bão": ("tiêu_đề", "title", 1),  # the tester's
    "tiêu_đề:": ("tiêu_đề", "title", 1),
    'Tiêu_Đề:"bão số 3"': ("Tiêu_Đề", "title", 1),
    "bão tiêu_đề: x": ("tiêu_đề", "title", 5),
    "tieude:bão": ("tieude", "title", 1),  # "unknown field" with no word of title: before
    "tieu-de:bão": ("tieu-de", "title", 1),
    "nội_dung:bão": ("nội_dung", "body", 1),
    "-thẻ:bão x": ("thẻ", "tag", 2),
    "chuyên_mục:thể": ("chuyên_mục", "section", 1),
    "tác_giả:Lan": ("tác_giả", "author", 1),
}
VALID = "title, body, tag, section, author"


@pytest.mark.parametrize(("typed", "expected"), SLUGS.items())
def test_a_slug_typed_with_marks_is_refused_with_its_slug_form(
    typed: str, expected: tuple[str, int]
) -> None:
    slug, column = expected
    with pytest.raises(QueryError) as refused:
        parse_query(typed, TOPICS.get)
    error = refused.value
    assert (error.code, error.params["slug"], error.column) == ("slug_chars", slug, column)
    vi = Translator("vi").query_error(error, "topic")
    assert vi.endswith(f"viết @{slug}") and f"@{slug}, không phải @" in vi, vi
    en = Translator("en").query_error(error, "chat")
    assert en.endswith(f"write @{slug} (the topics' slugs: /topics)"), en
    assert f"@{slug}" in Translator("vi").query_error(error, "search")
    parse_query(typed.replace(f"@{error.params['typed']}", f"@{slug}"), TOPICS.get)  # as told


@pytest.mark.parametrize(("typed", "expected"), FIELDS.items())
def test_a_field_name_in_vietnamese_is_refused_naming_the_field(
    typed: str, expected: tuple[str, str, int]
) -> None:
    name, field, column = expected
    with pytest.raises(QueryError) as refused:
        parse_query(typed)
    error = refused.value
    assert (error.code, error.params["name"], error.params["field"]) == ("field_meant", name, field)
    assert error.column == column
    assert Translator("vi").query_error(error) == (
        f"không có trường {name!r}; các trường: {VALID} — muốn tìm theo trường này thì viết"
        f" {field}:"
    )
    assert Translator("en").query_error(error).endswith(f"{VALID} — for this field, write {field}:")
    assert VALID in error.message and f"write {field}:" in str(error)  # the CLI's, the API's


def test_another_name_glued_to_a_term_is_an_unknown_field() -> None:
    """Not a field's name: refused as the ASCII ``abc:x`` is, listing the fields."""
    for typed in ("giờ:10", "Hải_Phòng:bão"):
        with pytest.raises(QueryError) as refused:
            parse_query(typed)
        assert refused.value.code == "unknown_field" and refused.value.params["valid"] == VALID


def test_what_was_read_before_still_is() -> None:
    """Words before a colon and a space stay words; real fields and slugs read as before."""
    for typed in ("Hải Phòng: bão", "tiêu đề: bão", "title:bão", "TITLE:bão", "@kien-thuy"):
        parse_query(typed, TOPICS.get)
    with pytest.raises(QueryError) as unknown:
        parse_query("@kien-thuy", lambda _slug: None)
    assert unknown.value.code == "unknown_ref"
    with pytest.raises(QueryError) as bare:
        parse_query("@ -x")
    assert bare.value.code == "bare_at"


async def test_sub_says_the_slug_to_write(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, USER, "/sub @kiến-thụy")
    assert "viết @kien-thuy (các mã chủ đề: /topics)" in reply, reply
    reply = await ask(fake, USER, '/sub "an ninh" @kiến-thụy')
    assert "viết @kien-thuy (các mã chủ đề: /topics)" in reply, reply
    assert subs_of(lite_db, USER) == []
    reply = await ask(fake, USER, "/sub tiêu_đề:bão")
    assert "không có trường 'tiêu_đề'" in reply and "thì viết title:" in reply, reply
    assert subs_of(lite_db, USER) == []


@pytest.mark.parametrize(
    ("typed", "field"),
    [("tiêu đề:an ninh", "title"), ("Tiêu Đề:an", "title"), ("tác giả:Lan", "author"),
     ("nội dung:bão", "body"), ("tieu de:an", "title"), ("bão tiêu đề:an", "title")],
)  # fmt: skip
def test_a_field_named_as_people_write_it_with_a_space(typed: str, field: str) -> None:
    """``tiêu đề:an`` was "unknown field 'đề' … put text in quotes" (a verifier's N6): the two
    words are read together and the field to write is said."""
    with pytest.raises(QueryError) as caught:
        parse_query(typed)
    assert caught.value.code == "field_meant" and f"write {field}:" in caught.value.hint


def test_a_word_before_another_name_is_not_read_with_it() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("tin đề:an")
    assert caught.value.code == "unknown_field"
