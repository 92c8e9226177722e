"""A long article link in a plain-text alert (tester's T1): the link is what a reader taps, so
it wins over the summary — kept whole whenever it fits the channel's limit beside the title,
meta and topic lines, the summary trimmed to what is left; only a link that cannot fit even
without a summary is left out (and the channel logs it). A fixed 1,000-unit cap left Zalo's and
Apprise's alerts without a link of 1,024 units with 1,800 free, and a Vietnamese slug reaches
1,000 at about 400 letters once percent-encoded.

Pure formatter tests at each channel's limit (Zalo: titled, 2,000; Apprise: untitled, 2,000),
Telegram's plain fallback (the same rule), a digest's line, and one alert each through the fake
Zalo Bot API and an Apprise ``json://`` receiver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from factories import VN, article
from fakezalo import FakeZaloAPI
from receiver import Receiver

from feedsvc.articles import Article
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.base import Target
from feedsvc.channels.plain import plain_alert
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel, format_zalo_alert
from feedsvc.digest.message import DigestEntry, DigestGroup, DigestWords, format_digest
from feedsvc.feeds.links import article_link
from feedsvc.notify.message import ELLIPSIS, format_alert, utf16_len
from feedsvc.notify.outcome import OutcomeKind

LIMIT = 2000  # Zalo's text and Apprise's message (channels.zalo.message, channels.apprise)
TOPICS = ["Kiến Thụy"]
SHORT = "Tóm tắt ngắn."
LONG = "Lực lượng công an huyện Kiến Thụy nhanh chóng làm rõ vụ việc. " * 80  # ~5,000
SLUG = "công-an-huyện-kiến-thụy-bắt-giữ-đối-tượng-trộm-cắp-tài-sản-của-người-dân-xã-đoàn-xá-"
VN_URL = "https://example.vn/tin/" + SLUG * 5 + "12345.html"  # the tester's a18.jsonl


def ascii_url(units: int) -> str:
    """An ASCII article URL of exactly ``units`` characters (a16.jsonl's shape)."""
    return "https://example.vn/tin/" + "c" * (units - 28) + ".html"


def short_article(url: str, summary: str = SHORT) -> Article:
    """The tester's article: a short title and section, the summary given, no author."""
    return article(16, url=url, title="Kiến Thụy: link tiếng Việt 2", summary=summary,
                   body=None, author=None)  # fmt: skip


def zalo(item: Article) -> str:
    return format_zalo_alert(item, TOPICS, VN)


def apprise(item: Article) -> str:
    return plain_alert(item, TOPICS, VN, LIMIT, titled=False).text


Format = Callable[[Article], str]
CHANNELS = [pytest.param(zalo, id="zalo"), pytest.param(apprise, id="apprise")]


def test_the_testers_vietnamese_url_is_1183_units_encoded() -> None:
    assert len(VN_URL) == 453
    assert utf16_len(article_link(VN_URL)) == 1183


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("units", [1000, 1001, 1024, 1500, 1900])
@pytest.mark.parametrize("summary", [SHORT, LONG], ids=["short", "long"])
def test_a_long_link_is_kept_whole_on_the_last_line(
    channel: Format, units: int, summary: str
) -> None:
    url = ascii_url(units)
    text = channel(short_article(url, summary))
    assert utf16_len(text) <= LIMIT
    assert text.splitlines()[-1] == url  # whole, on its own line, after the topics
    assert "Chủ đề: Kiến Thụy\n" + url in text


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_testers_vietnamese_link_is_in_the_alert(channel: Format) -> None:
    """Got: 'Kiến Thụy: link tiếng Việt 2\\nAn ninh - Trật tự · 17:45 07/12/2026\\n\\nTóm tắt
    ngắn.\\n\\nChủ đề: Kiến Thụy', no link; the percent-encoded link is what every app opens."""
    link = article_link(VN_URL)
    text = channel(short_article(VN_URL))
    assert text.endswith("\n\n" + SHORT + "\n\nChủ đề: Kiến Thụy\n" + link)
    assert utf16_len(text) <= LIMIT


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_long_summary_is_trimmed_to_what_the_link_leaves(channel: Format) -> None:
    """The tester's 1,998 units of summary and no link: now the link, and the summary cut at a
    word to the rest (still shown: hundreds of units are left)."""
    link = article_link(VN_URL)
    text = channel(short_article(VN_URL, LONG))
    assert text.endswith("\n\nChủ đề: Kiến Thụy\n" + link)
    body = text.split("\n\n")[1]
    assert body.endswith(ELLIPSIS) and len(body) > 400
    assert LIMIT - 10 <= utf16_len(text) <= LIMIT  # the room all used


def _essentials(channel: Format, summary: str) -> int:
    """What a channel's alert holds besides its link: the alert with a known link, less it."""
    url = ascii_url(100)
    return utf16_len(channel(short_article(url, summary))) - 100


@pytest.mark.parametrize("channel", CHANNELS)
def test_at_the_limit_the_link_is_kept_and_one_more_unit_leaves_it_out(channel: Format) -> None:
    fits = LIMIT - _essentials(channel, "")
    exact = channel(short_article(ascii_url(fits), ""))
    assert utf16_len(exact) == LIMIT and exact.endswith(ascii_url(fits))
    for summary in (SHORT, LONG):  # the summary gives way to the link
        text = channel(short_article(ascii_url(fits), summary))
        assert text == exact
    over = channel(short_article(ascii_url(fits + 1), LONG))
    assert ascii_url(fits + 1) not in over and "https://" not in over
    assert over.endswith("\n\nChủ đề: Kiến Thụy")  # still a valid alert: the summary back
    assert LIMIT - 10 <= utf16_len(over) <= LIMIT


@pytest.mark.parametrize("titled", [True, False], ids=["zalo", "apprise"])
def test_a_link_left_out_is_said_with_its_length(titled: bool) -> None:
    url = "https://example.vn/" + "a" * 3000
    alert = plain_alert(short_article(url, LONG), TOPICS, VN, LIMIT, titled=titled)
    assert alert.link_left_out == len(url) and url not in alert.text
    assert utf16_len(alert.text) <= LIMIT
    kept = plain_alert(short_article(VN_URL, LONG), TOPICS, VN, LIMIT, titled=titled)
    assert kept.link_left_out == 0


def test_the_telegram_plain_fallback_keeps_a_link_that_fits() -> None:
    """Telegram's HTML alert carries the link in ``href``, which is not counted; its plain
    fallback (a "can't parse entities" re-send) wrote a link out only when it fitted beside the
    worst-case caps (a caption: 296 units) and under 2,000: the same rule now as Zalo's."""
    url = ascii_url(600)
    caption = format_alert(short_article(url, LONG), TOPICS, VN, caption=True)
    assert caption.plain_text.endswith("\n" + url) and utf16_len(caption.plain_text) <= 1024
    assert f'href="{url}"' in caption.text
    long = ascii_url(2500)
    msg = format_alert(short_article(long, LONG), TOPICS, VN)
    assert msg.plain_text.endswith("\n" + long) and utf16_len(msg.plain_text) <= 4096
    absurd = ascii_url(4050)
    msg = format_alert(short_article(absurd, LONG), TOPICS, VN)
    assert absurd not in msg.plain_text and utf16_len(msg.plain_text) <= 4096
    assert f'href="{absurd}"' in msg.text


def test_a_zalo_digest_line_keeps_the_vietnamese_link() -> None:
    """A digest line's link follows the same rule (kept when its line fits a part)."""
    link = article_link(VN_URL)
    group = DigestGroup("Kiến Thụy", "https://feeds.example/topics/kien-thuy")
    words = DigestWords("Tin tổng hợp · {count} tin", "Đọc tất cả", "(tiếp)")
    entries = [DigestEntry(n, article(n, url=VN_URL if n == 2 else f"https://example.vn/{n}"),
                           group) for n in range(1, 4)]  # fmt: skip
    parts = format_digest(entries, VN, words, LIMIT)
    plain = "\n".join(part.message.plain_text for part in parts)
    assert f"\n  {link}\n" in plain
    assert all(utf16_len(part.message.plain_text) <= LIMIT for part in parts)


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


async def test_through_the_fake_zalo_api(
    fake: FakeZaloAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api = ZaloBotAPI(fake.token, fake.base_url)
    channel = ZaloChannel(api, VN, global_rate=50)
    await channel.start()
    absurd = "https://example.vn/" + "b" * 2500
    try:
        with caplog.at_level(logging.INFO, logger="feedsvc.channels.zalo.channel"):
            for n, url in enumerate((VN_URL, absurd)):
                chat = f"z-{n}"
                target = Target(n, "zalo", chat, "private", link_preview=False, plain_text=True,
                                delivery_id=500 + n)  # fmt: skip
                outcome = await channel.deliver(target, short_article(url, LONG), TOPICS)
                assert outcome.kind is OutcomeKind.SENT, outcome
    finally:
        await channel.close()
    [first] = fake.messages("z-0")
    assert first.text.endswith("\n" + article_link(VN_URL)) and utf16_len(first.text) <= LIMIT
    [second] = fake.messages("z-1")
    assert "https://" not in second.text
    assert fake.violations == []
    said = [r.getMessage() for r in caplog.records if "without its link" in r.getMessage()]
    assert said == [
        "zalo: the alert of delivery 501 goes without its link: 2519 characters, more "
        "than fit in 2000 beside its title, time and topics"
    ]
    assert absurd not in caplog.text


async def test_through_an_apprise_receiver() -> None:
    channel = AppriseChannel(VN)
    await channel.start()
    try:
        with Receiver() as receiver:
            target = Target(1, "apprise", receiver.url("long"), "private", link_preview=False,
                            plain_text=True)  # fmt: skip
            outcome = await channel.deliver(target, short_article(VN_URL, LONG), TOPICS)
            assert outcome.kind is OutcomeKind.SENT, outcome
            [got] = receiver.at("long")
    finally:
        await channel.close()
    assert got.body["title"] == "Kiến Thụy: link tiếng Việt 2"
    message = got.body["message"]
    assert message.endswith("\nChủ đề: Kiến Thụy\n" + article_link(VN_URL))
    assert utf16_len(message) <= LIMIT
