"""Deleting and editing sent alerts against the fake Bot API (real HTTP): every answer → EditKind.

The fake applies Telegram's rules (48 h delete window, text vs caption, "not modified"); the
classification table holds Telegram's wordings and their MTProto spellings, so a new wording of
the same meaning is caught by its words, not by a list.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fakebot import FakeBotAPI, Fault

from feedsvc.articles import Article
from feedsvc.notify import ConsoleSender, SendOutcome, TelegramSender, format_alert
from feedsvc.notify.edits import EditKind, blank_photo, classify_edit, editor_of
from feedsvc.notify.message import Button
from feedsvc.notify.refusals import classify_refusal

ARTICLE = Article(
    source_key="k",
    url="https://news.example/a",
    title="Đang cập nhật",
    published_at=datetime(2026, 11, 30, 3, 34, tzinfo=UTC),
    summary="Tóm tắt",
    image_url="https://img.example/a.jpg",
)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MSG = format_alert(ARTICLE, ["Kiến Thụy"], TZ)
PHOTO = format_alert(ARTICLE, ["Kiến Thụy"], TZ, with_image=True)


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


TIMEOUT = 2.0  # seconds: the sender's; a late answer comes after it


@pytest.fixture
async def sender(fake: FakeBotAPI) -> AsyncIterator[TelegramSender]:
    """Timeouts of :data:`TIMEOUT`: 0.5 s timed out a plain delete on a loaded CI machine (the
    fake's thread stalled), so a retry that should have settled was "transient"."""
    timeouts = {"connect_timeout": TIMEOUT, "read_timeout": TIMEOUT, "write_timeout": TIMEOUT}
    async with TelegramSender(fake.token, base_url=fake.base_url, **timeouts) as s:
        yield s


async def _sent(sender: TelegramSender, chat_id: int = 42, photo: bool = False) -> int:
    outcome = await sender.send(chat_id, PHOTO if photo else MSG, link_preview=False)
    assert outcome.message_id
    return outcome.message_id


async def test_delete_within_window_then_again_is_gone(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    mid = await _sent(sender)
    first = await sender.editor.delete(42, mid)
    again = await sender.editor.delete(42, mid)  # a retry after a crash: harmless
    assert (first.kind, again.kind) == (EditKind.DONE, EditKind.GONE)
    assert fake.live(42, mid).deleted
    assert "not found" in again.description


async def test_delete_past_48h_is_undeletable_but_edit_works(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    mid = await _sent(sender, -100777)
    fake.age_message(-100777, mid, 48 * 3600 + 1)
    refused = await sender.editor.delete(-100777, mid)
    assert refused.kind is EditKind.UNDELETABLE, refused
    notice = await sender.editor.edit(-100777, mid, "<i>Đã gỡ</i>", caption=False, html=True)
    assert notice.kind is EditKind.DONE
    live = fake.live(-100777, mid)
    assert live.alive and live.visible == "Đã gỡ"


async def test_edit_text_not_modified_and_missing(fake: FakeBotAPI, sender: TelegramSender) -> None:
    mid = await _sent(sender)
    done = await sender.editor.edit(42, mid, "<b>Mới</b>", caption=False, html=True)
    same = await sender.editor.edit(42, mid, "<b>Mới</b>", caption=False, html=True)
    missing = await sender.editor.edit(42, mid + 50, "x", caption=False, html=False)
    assert [o.kind for o in (done, same, missing)] == [
        EditKind.DONE,
        EditKind.NOT_MODIFIED,
        EditKind.GONE,
    ]
    assert fake.live(42, mid).edits == ["<b>Mới</b>"]


async def test_caption_message_needs_caption_edit(fake: FakeBotAPI, sender: TelegramSender) -> None:
    mid = await _sent(sender, photo=True)
    assert fake.live(42, mid).kind == "caption"
    wrong = await sender.editor.edit(42, mid, "Đã gỡ", caption=False, html=False)
    right = await sender.editor.edit(42, mid, "Đã gỡ", caption=True, html=False)
    assert (wrong.kind, right.kind) == (EditKind.WRONG_KIND, EditKind.DONE)
    text_mid = await _sent(sender)
    wrong_way = await sender.editor.edit(42, text_mid, "x", caption=True, html=False)
    assert wrong_way.kind is EditKind.WRONG_KIND


async def test_bad_html_in_an_edit_is_a_parse_error(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    mid = await _sent(sender)
    outcome = await sender.editor.edit(42, mid, "<x>oops", caption=False, html=True)
    assert outcome.kind is EditKind.PARSE_ERROR


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.flood(7).on("deletemessage"), EditKind.RETRY_AFTER),
        (Fault.server_error(502).on("deletemessage"), EditKind.TRANSIENT),
        (Fault.cant_delete(), EditKind.UNDELETABLE),
        (Fault.blocked().on("deletemessage"), EditKind.CHAT_GONE),
        (Fault.late(TIMEOUT + 1.5).on("deletemessage"), EditKind.TRANSIENT),  # answer lost
    ],
)
async def test_scripted_delete_faults(
    fake: FakeBotAPI, sender: TelegramSender, fault: Fault, kind: EditKind
) -> None:
    mid = await _sent(sender)
    fake.script(42, fault)
    outcome = await sender.editor.delete(42, mid)
    assert outcome.kind is kind, outcome
    if kind is EditKind.RETRY_AFTER:
        assert outcome.seconds == 7
    assert fake.token.split(":")[1] not in outcome.description
    retry = await sender.editor.delete(42, mid)  # the fault is used up: retrying settles it
    assert retry.kind.settled
    assert fake.live(42, mid).deleted


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.not_modified(), EditKind.NOT_MODIFIED),
        (Fault.edit_not_found(), EditKind.GONE),
        (Fault.cant_edit(), EditKind.REFUSED),
        (Fault.flood(3).on("editmessagetext"), EditKind.RETRY_AFTER),
    ],
)
async def test_scripted_edit_faults(
    fake: FakeBotAPI, sender: TelegramSender, fault: Fault, kind: EditKind
) -> None:
    mid = await _sent(sender)
    fake.script(42, fault)
    assert (await sender.editor.edit(42, mid, "x", caption=False, html=False)).kind is kind


async def test_send_faults_are_not_consumed_by_edits(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    mid = await _sent(sender)
    fake.script(42, Fault.blocked())  # a send fault: the delete passes it by
    assert (await sender.editor.delete(42, mid)).kind is EditKind.DONE
    assert (await sender.send(42, MSG, link_preview=False)).kind.value == "blocked"


# Telegram's words for answers to deleteMessage / editMessage*, and what they mean.
WORDINGS = [
    ("Bad Request: message to delete not found", EditKind.GONE),
    ("Bad Request: message to edit not found", EditKind.GONE),
    ("Bad Request: MESSAGE_ID_INVALID", EditKind.GONE),
    ("Bad Request: message can't be deleted", EditKind.UNDELETABLE),
    ("Bad Request: message can't be deleted for everyone", EditKind.UNDELETABLE),
    ("Bad Request: MESSAGE_DELETE_FORBIDDEN", EditKind.UNDELETABLE),
    ("Bad Request: not enough rights to delete a message", EditKind.UNDELETABLE),
    ("Bad Request: message can't be edited", EditKind.REFUSED),
    ("Bad Request: MESSAGE_EDIT_TIME_EXPIRED", EditKind.REFUSED),
    ("Bad Request: MESSAGE_AUTHOR_REQUIRED", EditKind.REFUSED),
    ("Bad Request: message is not modified: specified new message content", EditKind.NOT_MODIFIED),
    ("Bad Request: MESSAGE_NOT_MODIFIED", EditKind.NOT_MODIFIED),
    ("Bad Request: there is no text in the message to edit", EditKind.WRONG_KIND),
    ("Bad Request: there is no caption in the message to edit", EditKind.WRONG_KIND),
    ("Bad Request: can't parse entities: unsupported start tag", EditKind.PARSE_ERROR),
    ("Bad Request: chat not found", EditKind.CHAT_GONE),
    ("Forbidden: bot was kicked from the supergroup chat", EditKind.CHAT_GONE),
    ("Bad Request: CHANNEL_PRIVATE", EditKind.CHAT_GONE),
    ("Bad Request: message is too long", EditKind.REFUSED),
]


@pytest.mark.parametrize(("description", "kind"), WORDINGS)
def test_edit_wordings(description: str, kind: EditKind) -> None:
    forbidden = description.startswith("Forbidden")
    outcome = classify_edit(classify_refusal(description, forbidden=forbidden))
    assert outcome.kind is kind


def test_unknown_outcomes_are_transient_and_sent_is_done() -> None:
    assert classify_edit(SendOutcome.ambiguous("ReadTimeout")).kind is EditKind.TRANSIENT
    assert classify_edit(SendOutcome.sent(0)).kind is EditKind.DONE
    assert classify_edit(SendOutcome.migrated(-100, "upgraded")).kind is EditKind.MIGRATED


async def test_capability_is_per_sender() -> None:
    assert editor_of(ConsoleSender()) is not None
    assert editor_of(object()) is None  # a channel that cannot edit: retractions are "kept"
    console = editor_of(ConsoleSender())
    assert console is not None and (await console.delete(1, 1)).kind is EditKind.DONE


@pytest.mark.parametrize("photo", [False, True], ids=["text", "caption"])
@pytest.mark.parametrize("url", ["http://intranet/tin/1", "https://example.vn/" + "a" * 11000])
async def test_a_correction_whose_keyboard_is_refused_goes_without_it(
    fake: FakeBotAPI, sender: TelegramSender, url: str, photo: bool
) -> None:
    """A correction names the alert's keyboard; one Telegram refuses (a bare host's URL
    button, a keyboard over ~10 KB) cost the whole correction (REFUSED, never retried)."""
    mid = await _sent(sender, photo=photo)
    buttons = ((Button("Đọc bài", url=url),),)
    done = await sender.editor.edit(42, mid, "<b>Đã sửa</b>", caption=photo, html=True,
                                    buttons=buttons)  # fmt: skip
    assert done.kind is EditKind.DONE, done
    assert fake.live(42, mid).visible == "Đã sửa" and fake.markups[(42, mid)] is None


async def test_a_refusal_of_the_text_itself_is_not_tried_twice(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """Only a keyboard is dropped: an edit refused with no buttons is refused as it was."""
    mid = await _sent(sender)
    fake.script(42, Fault.cant_edit())
    refused = await sender.editor.edit(42, mid, "<b>Đã sửa</b>", caption=False, html=True)
    assert refused.kind is EditKind.REFUSED and fake.live(42, mid).edits == []
    fake.script(42, Fault.cant_edit(), Fault.cant_edit())  # with buttons: two calls, both refused
    buttons = ((Button("Đọc bài", url="https://example.vn/1.html"),),)
    again = await sender.editor.edit(42, mid, "<b>Đã sửa</b>", caption=False, html=True,
                                     buttons=buttons)  # fmt: skip
    assert again.kind is EditKind.REFUSED and fake.live(42, mid).edits == []


async def test_cover_replaces_a_photos_picture_and_caption(
    fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """What a retracted photo alert becomes when it cannot be deleted: a blank picture, the
    notice as its caption (``editMessageMedia``, an upload); a text message takes the picture
    too (today's Bot API adds media to a text message; an older server's "there is no media"
    reads as the other kind, :func:`feedsvc.notify.edits.classify_edit`)."""
    mid = await _sent(sender, photo=True)
    done = await sender.editor.cover(42, mid, "<i>Tin này đã được gỡ bỏ.</i>", html=True)
    assert done.kind is EditKind.DONE, done
    live = fake.live(42, mid)
    assert live.visible == "Tin này đã được gỡ bỏ." and live.photo == "<upload blank.png>"
    again = await sender.editor.cover(42, mid, "<i>Tin này đã được gỡ bỏ.</i>", html=True)
    assert again.kind in (EditKind.DONE, EditKind.NOT_MODIFIED)  # a retry after a crash
    text = await _sent(sender)
    added = await sender.editor.cover(42, text, "Đã gỡ", html=False)
    assert added.kind is EditKind.DONE and fake.live(42, text).visible == "Đã gỡ"
    older = classify_edit(
        SendOutcome.bad_content("Bad Request: there is no media in the message to edit")
    )
    assert older.kind is EditKind.WRONG_KIND


def test_the_blank_photo_is_a_png_telegram_takes() -> None:
    """A valid PNG (signature, chunks with their CRCs, the pixels' size) within Telegram's
    photo rules: width + height ≤ 10,000, ratio ≤ 20."""
    png = blank_photo()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = {}, 8
    while at < len(png):
        (size,) = struct.unpack(">I", png[at : at + 4])
        tag, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + size]
        (crc,) = struct.unpack(">I", png[at + 8 + size : at + 12 + size])
        assert crc == zlib.crc32(tag + data), tag
        chunks[tag], at = data, at + 12 + size
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and width + height <= 10_000
    assert max(width, height) <= 20 * min(width, height)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
