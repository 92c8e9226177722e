"""An Apprise alert's title is sent once (tester): in Apprise's title field, never again as the
body's first line, and still seen at a service without a title field, where Apprise itself puts
it above the body (``NotifyBase._apply_overflow``, ``title_maxlen`` 0: Mattermost here). The
summary's paragraphs arrive as lines. Real HTTP to a local receiver; no database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import VN, article
from receiver import Receiver

from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.base import OutcomeKind, Target
from feedsvc.notify.message import AlertMessage

TITLE = "Công an Kiến Thụy bắt đối tượng trộm cắp số 1"
SUMMARY = "<p>Đoạn 1 &amp; 2</p><p>Đoạn 2 của bản tin, đủ dài để được đưa vào tin báo.</p>"
SHOWN = "Đoạn 1 & 2\nĐoạn 2 của bản tin, đủ dài để được đưa vào tin báo."
TAIL = "Chủ đề: Kiến Thụy\nhttps://example.vn/tin/1.html"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def target(address: str) -> Target:
    return Target(1, "apprise", address, "private", link_preview=False, plain_text=True)


async def send(address: str, **over: object) -> None:
    channel = AppriseChannel(VN)
    await channel.start()
    try:
        outcome = await channel.deliver(target(address), article(1, **over), ["Kiến Thụy"])
    finally:
        await channel.close()
    assert outcome.kind is OutcomeKind.SENT, outcome


async def test_a_json_destination_gets_the_title_once_and_the_paragraphs_as_lines(
    receiver: Receiver,
) -> None:
    await send(receiver.url("a"), summary=SUMMARY)
    [got] = receiver.at("a")
    assert got.body["title"] == TITLE
    message = got.body["message"]
    assert TITLE not in message
    head, summary, tail = message.split("\n\n")
    assert head.startswith("An ninh - Trật tự · Minh Châu · ") and "\n" not in head
    assert summary == SHOWN
    assert tail == TAIL


async def test_a_service_without_a_title_field_shows_the_title_once_above_the_body(
    receiver: Receiver,
) -> None:
    """Mattermost's webhook (``mmost://``, ``title_maxlen`` 0): one ``text``, the title its
    first line, then the body, as Apprise joins them (``\\r\\n``)."""
    await send(f"mmost://127.0.0.1:{receiver.port}/abcdefghijklmnop", summary=SUMMARY)
    [got] = receiver.at("hooks/abcdefghijklmnop")
    text = got.body["text"]
    assert text.startswith(TITLE + "\r\nAn ninh - Trật tự · Minh Châu · ")
    assert text.count(TITLE) == 1
    assert text.endswith(f"\n\n{SHOWN}\n\n{TAIL}")


async def test_a_long_summary_still_fits_the_body_limit_with_its_link(receiver: Receiver) -> None:
    await send(receiver.url("a"), summary="<p>" + "Đoạn văn dài. " * 300 + "</p><p>cuối</p>")
    [got] = receiver.at("a")
    message = got.body["message"]
    assert len(message.encode("utf-16-le")) // 2 <= 2000
    assert message.endswith("…\n\n" + TAIL)
    assert TITLE not in message


async def test_a_digest_part_is_titled_by_its_heading_which_its_body_leaves_out(
    receiver: Receiver,
) -> None:
    channel = AppriseChannel(VN)
    await channel.start()
    try:
        plain = "Bản tin tổng hợp: 2 bài\nKiến Thụy\n• Tin một\n• Tin hai"
        msg = AlertMessage(text=plain, plain_text=plain)
        outcome = await channel.send_message(target(receiver.url("d")), msg)
        one_line = AlertMessage(text="Chỉ một dòng", plain_text="Chỉ một dòng")
        again = await channel.send_message(target(receiver.url("e")), one_line)
    finally:
        await channel.close()
    assert outcome.kind is OutcomeKind.SENT and again.kind is OutcomeKind.SENT
    [got] = receiver.at("d")
    assert got.body["title"] == "Bản tin tổng hợp: 2 bài"
    assert got.body["message"] == "Kiến Thụy\n• Tin một\n• Tin hai"
    [single] = receiver.at("e")
    assert (single.body["title"], single.body["message"]) == ("", "Chỉ một dòng")
