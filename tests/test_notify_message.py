"""Alert formatting: escaping, layout and Telegram's UTF-16 limits, checked by the fake's parser."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from factories import EMPTIED_SUMMARIES
from fakebot import check_html
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.articles import Article
from feedsvc.notify import AlertMessage, format_alert, utf16_len
from feedsvc.notify.message import CAPTION_LIMIT, TEXT_LIMIT, trim_utf16, visible_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WHEN = datetime(2021, 12, 15, 3, 34, tzinfo=UTC)  # 10:34 in Hanoi


def _article(**kw: object) -> Article:
    fields: dict[str, object] = {
        "source_key": "k1",
        "url": "https://news.example/a?x=1&y=2",
        "title": "Title",
        "published_at": WHEN,
    }
    fields.update(kw)
    return Article(**fields)  # type: ignore[arg-type]


def _check(msg: AlertMessage) -> str:
    """The fake's verdict: valid Telegram HTML within the limit; returns the visible text."""
    visible = check_html(msg.text)
    limit = CAPTION_LIMIT if msg.is_caption else TEXT_LIMIT
    assert utf16_len(visible) <= limit
    assert utf16_len(msg.plain_text) <= limit
    msg.text.encode("utf-8")  # no lone surrogates: httpx must be able to send it
    msg.plain_text.encode("utf-8")
    return visible


def test_layout() -> None:
    msg = format_alert(
        _article(section="Thời sự", summary="Tóm tắt."), ["Kiến Thụy", "Hải Phòng"], TZ
    )
    assert msg.text == (
        '<a href="https://news.example/a?x=1&amp;y=2"><b>Title</b></a>\n'
        "<i>Thời sự · 10:34 15/12/2021</i>\n\nTóm tắt.\n\nChủ đề: Kiến Thụy, Hải Phòng"
    )
    assert msg.plain_text == (
        "Title\nThời sự · 10:34 15/12/2021\n\nTóm tắt.\n\nChủ đề: Kiến Thụy, Hải Phòng\n"
        "https://news.example/a?x=1&y=2"
    )
    assert msg.photo_url is None and not msg.is_caption
    _check(msg)


def test_everything_is_escaped() -> None:
    hostile = "<b>A & B</b> \"q\" 's' &amp;"
    msg = format_alert(
        _article(title=hostile, summary=hostile, section=hostile, url='https://x.example/?a="<>"'),
        [hostile],
        TZ,
    )
    visible = _check(msg)
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in msg.text  # the topic name is plain text: verbatim
    assert visible.count("<b>A & B</b> \"q\" 's' &amp;") == 1  # only the topic name
    # Title, section and summary are CMS text (HTML): their visible text, escaped once.
    assert visible.count("A & B \"q\" 's' &") == 3
    assert "\n\nA &amp; B &quot;q&quot; &#x27;s&#x27; &amp;\n\n" in msg.text
    # the link: the feeds' address (feeds.links), escaped once more as an attribute
    assert 'href="https://x.example/?a=%22%3C%3E%22"' in msg.text


ISSUE_TITLE = "Bão số 3 &amp; mưa lớn: Công an &quot;trắng đêm&quot; <b>Kiến Thụy</b>"
ISSUE_VISIBLE = 'Bão số 3 & mưa lớn: Công an "trắng đêm" Kiến Thụy'


@pytest.mark.parametrize(
    ("field", "raw", "shown"),
    [
        ("title", ISSUE_TITLE, ISSUE_VISIBLE),
        ("title", "&lt;img src=x onerror=alert(1)&gt; Tin", "<img src=x onerror=alert(1)> Tin"),
        ("title", "Giá vàng&#11;tăng &#x1b;mạnh&nbsp;&#8211; 5&#37;", "Giá vàng tăng mạnh – 5%"),
        ("title", "A < B & C", "A < B & C"),
        ("section", "An ninh &amp; Trật tự <i>mới</i>", "An ninh & Trật tự mới"),
        ("author", "Minh &amp; Châu &lt;b&gt;", "Minh & Châu <b>"),
    ],
)
def test_title_section_author_are_visible_text(field: str, raw: str, shown: str) -> None:
    """Issue #12 §6: CMS entities and tags showed literally ("&amp;", "<b>") in alerts."""
    msg = format_alert(_article(**{field: raw}), ["Kiến Thụy"], TZ)
    visible = _check(msg)
    assert shown in visible.splitlines()[0 if field == "title" else 1]
    assert shown in msg.plain_text.splitlines()[0 if field == "title" else 1]
    for literal in ("&amp;", "&quot;", "&lt;", "&#", "<b>", "<i>"):
        if literal not in shown:
            assert literal not in visible and literal not in msg.plain_text


def test_meta_line_reads_section_author_time() -> None:
    msg = format_alert(_article(section="Thời sự", author="Minh Châu"), [], TZ)
    assert "<i>Thời sự · Minh Châu · 10:34 15/12/2021</i>" in msg.text


async def test_telegram_displays_the_visible_title(tmp_path: object) -> None:
    """End to end: the text the fake Bot API parses (what Telegram would display)."""
    from fakebot import FakeBotAPI

    from feedsvc.notify import TelegramSender

    art = _article(
        title=ISSUE_TITLE,
        section="Thời sự &amp; <b>Pháp luật</b>",
        author="Minh &amp; Châu",
        summary="<p>Tóm&nbsp;tắt &amp; thêm</p>",
    )
    msg = format_alert(art, ["Kiến Thụy"], TZ)
    with FakeBotAPI() as fake:
        async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
            assert (await sender.send(7, msg, link_preview=False)).delivered
            assert (await sender.send_plain(7, msg, link_preview=False)).delivered
        html_sent, plain_sent = fake.messages(7)
    for sent in (html_sent, plain_sent):
        lines = sent.visible.splitlines()
        assert lines[0] == ISSUE_VISIBLE
        assert lines[1] == "Thời sự & Pháp luật · Minh & Châu · 10:34 15/12/2021"
        assert "Tóm tắt & thêm" in sent.visible


def test_summary_falls_back_to_visible_body_text() -> None:
    body = "<p>Hello <script>alert(1)</script><b>world</b>&nbsp;&amp; more</p><style>p{}</style>"
    msg = format_alert(_article(body=body), [], TZ)
    assert "Hello world\xa0&amp; more" in msg.text or "Hello world &amp; more" in msg.text
    assert "alert" not in msg.text and "Chủ đề" not in msg.text
    assert visible_text(" a \n\t b ") == "a b"


def test_section_missing_shows_time_only_and_empty_title_uses_url() -> None:
    msg = format_alert(_article(title=" "), [], TZ)
    assert "<i>10:34 15/12/2021</i>" in msg.text
    assert "<b>https://news.example/a?x=1&amp;y=2</b>" in msg.text


@pytest.mark.parametrize("unit", ["a", "é", "😀", "👨‍👩‍👧"])
def test_long_summary_is_trimmed_to_the_limit(unit: str) -> None:
    msg = format_alert(_article(summary=unit * 5000), ["T"], TZ)
    visible = _check(msg)
    assert utf16_len(visible) > TEXT_LIMIT - 20  # the budget is used, not wasted
    assert "…" in visible


def test_caption_limit_with_image() -> None:
    art = _article(summary="😀 " * 3000, image_url="https://img.example/a.jpg")
    msg = format_alert(art, ["T"], TZ, with_image=True)
    assert msg.is_caption and msg.photo_url == "https://img.example/a.jpg"
    assert CAPTION_LIMIT - 20 < utf16_len(_check(msg)) <= CAPTION_LIMIT
    assert not format_alert(art, ["T"], TZ).is_caption  # image not asked for
    no_image = format_alert(_article(), [], TZ, with_image=True)
    assert not no_image.is_caption and no_image.photo_url is None
    bad_scheme = format_alert(_article(image_url="file:///etc/passwd"), [], TZ, with_image=True)
    assert bad_scheme.photo_url is None


def test_absurd_fields_stay_within_limits() -> None:
    art = _article(
        title="T" * 10_000,
        section="S" * 10_000,
        summary="x " * 10_000,
        url="https://e.example/" + "p" * 5000,
        image_url="https://i.example/i.jpg",
    )
    for with_image in (False, True):
        msg = format_alert(art, ["topic " * 500] * 50, TZ, with_image=with_image)
        _check(msg)


def test_trim_utf16() -> None:
    assert trim_utf16("abc", 3) == "abc"
    assert trim_utf16("abcd", 3) == "ab…"
    assert trim_utf16("a😀b", 3) == "a…"  # the emoji's pair would not fit: not split
    assert trim_utf16("😀😀", 3) == "😀…"
    assert trim_utf16("word another thing", 15) == "word another…"
    assert trim_utf16("abc", 0) == ""


def test_control_chars_and_lone_surrogates_are_cleaned() -> None:
    msg = format_alert(_article(title="a\x00b\ud800c", summary="s\x1bt"), [], TZ)
    _check(msg)
    assert "\x00" not in msg.text and "\ud800" not in msg.text


_pieces = st.one_of(
    st.sampled_from([*"<>&\"';/=#x \n", "&amp;", "&lt;", "</b>", "<b>", "\ud83d", "😀", "ệ"]),
    st.characters(codec=None, exclude_categories=()),  # any code point, surrogates included
)
_hostile = st.lists(_pieces, max_size=200).map("".join)


@settings(max_examples=200, deadline=None)
@given(
    title=_hostile,
    summary=st.one_of(st.none(), _hostile),
    body=st.one_of(st.none(), _hostile),
    section=st.one_of(st.none(), _hostile),
    topics=st.lists(_hostile, max_size=4),
    repeat=st.integers(1, 40),
    with_image=st.booleans(),
)
def test_fake_accepts_every_formatted_message(
    title: str,
    summary: str | None,
    body: str | None,
    section: str | None,
    topics: list[str],
    repeat: int,
    with_image: bool,
) -> None:
    art = _article(
        title=title,
        summary=summary and summary * repeat,
        body=body,
        section=section,
        image_url="https://img.example/a.jpg",
    )
    _check(format_alert(art, topics, TZ, with_image=with_image))


#: The bidirectional embedding, override and isolate controls (feedsvc.bidi), each one.
BIDI = [
    chr(c) for first, last in ((0x202A, 0x202E), (0x2066, 0x2069)) for c in range(first, last + 1)
]


@pytest.mark.parametrize("bidi", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_reach_no_alert(bidi: str) -> None:
    """Tester F14: U+202E in an article's title, summary (HTML, or a character reference),
    section or author reached the Telegram alert (and the console's, its plain text), reversing
    the rest of the line in the chat. Cleaned as the feeds clean it; LRM stays."""
    msg = format_alert(
        _article(
            title=f"Kiến Thụy {bidi} điều khiển \x07 chuông",
            summary=f"<p>Công an {bidi}xã &#x{ord(bidi):x}; Đại Đồng\u200f</p>",
            section=f"Thời sự{bidi}",
            author=f"{bidi}Phạm Thu Hà",
        ),
        ["Kiến Thụy"],
        TZ,
    )
    for text in (msg.text, msg.plain_text, _check(msg)):
        assert bidi not in text and f"#x{ord(bidi):x};" not in text
    assert msg.plain_text.splitlines()[:2] == [
        "Kiến Thụy điều khiển chuông",
        "Thời sự · Phạm Thu Hà · 10:34 15/12/2021",
    ]
    assert "Công an xã Đại Đồng\u200f" in msg.plain_text  # a direction mark is kept
    assert visible_text(f"a{bidi}b") == "ab"  # Apprise's title


LONG = {"none": "", "short": "An ninh", "near": "Pháp luật " * 11, "huge": "Thời sự " * 700}


@pytest.mark.parametrize("section", LONG)
@pytest.mark.parametrize("author", LONG)
def test_the_meta_line_keeps_the_time_and_shares_the_rest(section: str, author: str) -> None:
    """A tester's: a 5,000-character section filled the 120 units and pushed the author and
    the time out of every channel's alert (SPEC §6: section and local time)."""
    from feedsvc.channels.plain import format_plain_alert
    from feedsvc.notify.message import META_CAP, meta_line

    article = _article(section=LONG[section], author=LONG[author] + "🇻🇳" * (author == "huge"))
    meta = meta_line(article, TZ)
    assert meta.endswith(" · 10:34 15/12/2021") or meta == "10:34 15/12/2021", meta
    assert utf16_len(meta) <= META_CAP
    for short in {LONG[section], LONG[author]} - {""}:
        if len(short) < 50:
            assert short.strip() in meta, meta  # a short one is whole
    for part in (LONG[section], LONG[author]):
        if part:
            assert part.strip()[:20] in meta, meta  # each is there, cut if it must be
    assert meta in format_alert(article, ["T"], TZ).text.replace("&amp;", "&")
    assert meta in format_plain_alert(article, ["T"], TZ)


@pytest.mark.parametrize("summary", [" ", "<p> </p>\n<p></p>", *EMPTIED_SUMMARIES])
def test_a_summary_that_shows_nothing_gives_way_to_the_body(summary: str) -> None:
    """A summary left as empty markup (``<p>&nbsp;</p>``) is no summary: the body's start shows,
    in the Telegram alert and in the plain one (Zalo, Apprise)."""
    from feedsvc.channels.plain import format_plain_alert

    body = "<p>Sáng nay, người dân xã Đoàn Xá phát hiện sự việc và báo cho công an.</p>"
    article = Article(
        source_key="k", url="https://example.vn/tin/1.html", title="Tiêu đề",
        published_at=datetime(2026, 11, 30, 1, tzinfo=UTC), summary=summary, body=body,
    )  # fmt: skip
    shown = "Sáng nay, người dân xã Đoàn Xá phát hiện sự việc"
    msg = format_alert(article, ["Kiến Thụy"], ZoneInfo("Asia/Ho_Chi_Minh"))
    assert shown in check_html(msg.text) and shown in msg.plain_text
    assert shown in format_plain_alert(article, ["Kiến Thụy"], ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        # a tester's: the topic Kiến Thụy and the chat's own query `Kiến Thụy`
        (["Kiến Thụy", "An ninh", "Kiến Thụy", "công an"], "Kiến Thụy, An ninh, công an"),
        (["Kiến Thụy", "Kiến Thụy"], "Kiến Thụy"),
        (["Kiến Thụy", '"Kiến Thụy"'], "Kiến Thụy"),  # the query between quotes
        (["Kiến Thụy", "KIẾN THỤY", "kiến  thụy"], "Kiến Thụy"),  # case, spaces
        (["Kie\u0302\u0301n Thu\u0323y", "Kiến Thụy"], "Kiến Thụy"),  # NFD
        (["An ninh", "“an ninh”"], "An ninh"),
        (["Kiến Thụy", "Kiến Thụy mới"], "Kiến Thụy, Kiến Thụy mới"),  # another label stays
    ],
)
def test_a_label_is_shown_once(labels: list[str], shown: str) -> None:
    """Telegram's alert and the plain channels' (Zalo, Apprise) alike."""
    from feedsvc.channels.plain import format_plain_alert

    msg = format_alert(_article(summary="Tóm tắt."), labels, TZ)
    assert f"Chủ đề: {shown}" in _check(msg).splitlines()
    assert f"Chủ đề: {shown}" in format_plain_alert(_article(), labels, TZ).splitlines()
