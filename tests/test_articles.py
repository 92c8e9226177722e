"""``parse_article``, the one validation of an article for import, match and ingest (newcomer F6,
F7): what an image URL may be, the whitespace around identifiers, every problem of a record at
once, and text stored in NFC."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from factories import article

from feedsvc.articles import ArticleError, parse_article

BASE: dict[str, Any] = article(1).to_json()
NFD = unicodedata.normalize("NFD", "Công an Kiến Thụy, Hải Phòng")
NFC = unicodedata.normalize("NFC", NFD)


def refused(**fields: Any) -> ArticleError:
    record = {**BASE, **fields}
    with pytest.raises(ArticleError) as info:
        parse_article({k: v for k, v in record.items() if v is not ...})
    return info.value


@pytest.mark.parametrize(
    "image",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1) ",
     "data:image/png;base64,iVBORw0KGgo=", "ftp://example.vn/a.jpg", "mailto:a@example.vn",
     "file:///etc/passwd", "vbscript:msgbox(1)"],
)  # fmt: skip
def test_an_image_that_is_not_http_is_refused_like_url(image: str) -> None:
    """It was stored, then left out of every feed without a word."""
    error = refused(image_url=image)
    assert error.field == "image_url" and error.problems == [(error.field, error.reason)]
    assert error.reason.startswith("must be an http(s) URL, absolute or relative to url")
    assert refused(url=image).field == "url"  # refused, as url is


@pytest.mark.parametrize(
    ("image", "stored"),
    [("https://cdn.example.vn/a.jpg", "https://cdn.example.vn/a.jpg"),
     ("  https://cdn.example.vn/a.jpg\n", "https://cdn.example.vn/a.jpg"),
     ("/anh/a.jpg", "https://example.vn/anh/a.jpg"),
     ("a.jpg", "https://example.vn/tin/a.jpg"),
     ("../anh/a.jpg", "https://example.vn/anh/a.jpg"),
     ("//cdn.example.vn/a.jpg", "https://cdn.example.vn/a.jpg"),
     ("HTTP://CDN.example.vn/a.jpg", "HTTP://CDN.example.vn/a.jpg")],
)  # fmt: skip
def test_a_relative_image_is_made_absolute(image: str, stored: str) -> None:
    """Feeds resolved it against the article's url at every render; a Telegram alert, which
    needs an absolute http(s) photo, dropped it. Resolved once, at the boundary."""
    assert parse_article({**BASE, "image_url": image}).image_url == stored


@pytest.mark.parametrize("space", [" ", "\t", "\n", "\u00a0", "\u2003", "\u3000", " \u00a0 "])
def test_identifiers_are_trimmed_alike(space: str) -> None:
    """`source_key: " spaced "` kept its spaces (hard to `hide` later) while `url` was
    trimmed: one rule for both."""
    a = parse_article(
        {
            **BASE,
            "source_key": f"{space}ANHP-1{space}",
            "url": f"{space}https://example.vn/a{space}",
        }
    )
    assert (a.source_key, a.url) == ("ANHP-1", "https://example.vn/a")
    assert parse_article({**BASE, "source_key": "AN HP 1"}).source_key == "AN HP 1"  # inside: kept


def test_a_key_of_only_whitespace_is_missing() -> None:
    assert refused(source_key=" \u00a0 ").problems == [("source_key", "is required")]


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    """A line missing both title and published_at reported only title."""
    error = refused(title=..., published_at=...)
    assert error.problems == [("title", "is required"), ("published_at", "is required")]
    assert str(error) == "title: is required; published_at: is required"
    many = refused(
        source_key="a\nb", url="ftp://x", image_url="data:x", published_at="15/12/2021",
        updated_at="hôm qua", tags=[1], withdrawn="yes", title=5,
    )  # fmt: skip
    assert [field for field, _ in many.problems] == [
        "title", "source_key", "url", "image_url", "published_at", "updated_at", "tags",
        "withdrawn",
    ]  # fmt: skip
    assert many.field == "title" and str(many).count("; ") == 7


def test_a_record_that_is_no_object_is_one_problem() -> None:
    with pytest.raises(ArticleError) as info:
        parse_article([1, 2])
    assert info.value.problems == [(None, "expected a JSON object, got an array [1, 2]")]


def test_a_source_value_that_is_no_json_value_is_named_by_its_type() -> None:
    """A driver value (bytes, a Decimal) has no JSON word: its type and repr, as before."""
    from decimal import Decimal

    row = {"source_key": "1", "url": "https://example.vn/1", "title": b"x",
           "published_at": Decimal(1), "withdrawn": b"\x01"}  # fmt: skip
    with pytest.raises(ArticleError) as info:
        parse_article(row)
    assert [reason for _, reason in info.value.problems] == [
        "expected a string, got bytes b'x'",
        "expected an ISO 8601 timestamp, got Decimal Decimal('1')",
        "expected true or false, got bytes b'\\x01'",
    ]


def test_a_source_row_is_not_checked_for_other_keys() -> None:
    """Unknown keys are the JSON line's rule (``jsonlines.parse_json_article``), not the
    record's: a source row's mapping (ingest) is read as before."""
    row = {"source_key": "42", "url": "https://example.vn/42", "title": "t",
           "published_at": "2026-11-26 09:00:00", "visible": 0, "id": 42}  # fmt: skip
    assert parse_article(row).withdrawn is False


def test_text_shown_to_readers_is_stored_in_nfc() -> None:
    """Decomposed Vietnamese (base letters + combining marks) was stored and served as typed."""
    assert NFD != NFC
    a = parse_article(
        {**BASE, "title": NFD, "summary": NFD, "body": f"<p class=\"x\">{NFD}</p>",
         "author": NFD, "section": NFD, "tags": [NFD, NFC]},
    )  # fmt: skip
    assert (a.title, a.summary, a.author, a.section) == (NFC, NFC, NFC, NFC)
    assert a.body == f'<p class="x">{NFC}</p>'
    assert a.tags == (NFC,)  # one tag, not two spellings of it


def test_nfc_leaves_html_structure_alone() -> None:
    """``<``/``=``/``>`` + U+0338 compose to ≮ ≠ ≯ under NFC, which would eat markup."""
    body = f'<p title="{NFD}">\u0338{NFD}<\u0338b>x</b\u0338><a href=\u0338"/">y</a></p>'
    a = parse_article({**BASE, "body": body, "summary": body})
    expected = f'<p title="{NFC}">\u0338{NFC}<\u0338b>x</b\u0338><a href=\u0338"/">y</a></p>'
    assert a.body == expected and a.summary == expected
    for c in "<>=\"'&;":
        assert a.body.count(c) == body.count(c)


def test_the_ingest_side_uses_the_same_rules() -> None:
    """A source row's mapping goes through the same parse (its quarantine reason lists every
    problem, readably)."""
    row = {"source_key": " 42 ", "url": "https://example.vn/42", "title": NFD,
           "published_at": "2026-11-26 09:00:00", "image_url": "/a.jpg"}  # fmt: skip
    a = parse_article(row)
    assert (a.source_key, a.title, a.image_url) == ("42", NFC, "https://example.vn/a.jpg")
    with pytest.raises(ArticleError) as info:
        parse_article({"source_key": "42", "url": "https://example.vn/42", "title": None})
    assert str(info.value) == "title: is required; published_at: is required"
