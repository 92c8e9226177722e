"""A sent alert's follow-ups edit the message that is there: a photo or a text, as the send's
answer recorded it (``deliveries.message_kind``, migration 0042), never as the settings guess.

A chat tester's report: with ``telegram.images = true``, an article with an image whose alert
went out as text (Telegram refused the photo, so it fell back to ``sendMessage``; or images were
switched on after the send) was withdrawn with ``on_withdraw = "edit"``: the worker guessed a
photo and sent ``editMessageMedia``, which today's Bot API answers by adding the picture — the
alert became a blank grey photo captioned "Tin này đã được gỡ bỏ.". End to end through ingest,
the dispatcher and the follow-up worker against the fake Bot API (real HTTP), which answers an
edit of the wrong kind as Telegram does ("there is no text in the message to edit") and adds
the media to a text message as today's Bot API does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN
from fakebot import FakeBotAPI, Fault
from test_retraction import (
    GROUP,
    NOTICE,
    PRIVATE,
    Env,
    _until,
    fresh,
    retraction_env,
    subscribe_chat,
)

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.retraction.plan import OnWithdraw

PHOTO = "https://img.example/1.jpg"
NEW_TITLE = "Công an huyện Kiến Thụy bắt đối tượng trộm cắp tài sản"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(db, fake) as e:
        yield e


async def dispatched(env: Env, *items: Article, images: bool) -> dict[int, int]:
    """``items`` published to a private chat (An ninh) and a group (Kiến Thụy), sent by a
    dispatcher with ``telegram.images`` as given; chat → message id."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    subscribe_chat(env.db, GROUP, "group", "kien-thuy")
    env.publish(*items)
    d = Dispatcher(env.db, env.sender, VN, DispatchSettings(images=images, poll_seconds=0.5))
    task = asyncio.create_task(d.run())
    try:
        await _until(lambda: not any(
            s in ("pending", "sending") for (s,) in env.rows(deliveries.c.state)
        ))  # fmt: skip
    finally:
        d.stop()
        await task
    return env.sent()


def edits(env: Env, chat_id: int) -> list[str]:
    """The edit calls made on ``chat_id``'s messages, in order."""
    calls = env.fake.calls
    return [c.method for c in calls if c.method.startswith("edit") and c.chat_id == chat_id]


def kinds(env: Env) -> list[tuple[object, ...]]:
    """(chat, ``message_kind``) of each sent delivery."""
    rows = env.rows(deliveries.c.id, deliveries.c.chat_id, deliveries.c.message_kind)
    return [(chat, kind) for _, chat, kind in rows]


def reads_as_the_notice_in_text(env: Env, chat_id: int, mid: int) -> None:
    live = env.fake.live(chat_id, mid)
    assert live.alive and live.visible == NOTICE
    assert live.kind == "text" and live.photo is None  # no grey picture put on it
    assert edits(env, chat_id) == ["editmessagetext"]


# -- the tester's input: the photo refused, the alert sent as text --------------------------------
@pytest.mark.parametrize(
    ("db_url", "path"),
    on_backends(["edit", "delete past 48 h", "delete refused"]),
    indirect=["db_url"],
)
async def test_a_text_alert_whose_photo_was_refused_gets_a_text_notice(env: Env, path: str) -> None:
    """Every way a retraction comes to the notice: ``on_withdraw = "edit"``, a delete past
    Telegram's 48 h, a delete Telegram refuses."""
    env.fake.script(PRIVATE, Fault.photo_rejected())  # this chat's photo: refused
    sent = await dispatched(env, fresh(1, image_url=PHOTO), images=True)
    assert env.fake.live(PRIVATE, sent[PRIVATE]).kind == "text"  # fell back to sendMessage
    assert env.fake.live(GROUP, sent[GROUP]).photo == PHOTO  # the other chat: a photo
    assert sorted(kinds(env)) == [(GROUP, "photo"), (PRIVATE, "text")]  # as Telegram answered
    on_withdraw = OnWithdraw.EDIT if path == "edit" else OnWithdraw.DELETE
    if path == "delete past 48 h":
        env.age_sent(50)
    elif path == "delete refused":
        env.fake.script(PRIVATE, Fault.cant_delete())
        env.fake.script(GROUP, Fault.cant_delete())
    env.retire("TEST-00001")
    await env.follow_up(env.worker(images=True, on_withdraw=on_withdraw))
    reads_as_the_notice_in_text(env, PRIVATE, sent[PRIVATE])
    group = env.fake.live(GROUP, sent[GROUP])  # the photo alert: its picture covered
    assert group.visible == NOTICE and group.photo is not None
    assert group.photo.startswith("<upload") and edits(env, GROUP) == ["editmessagemedia"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_images_switched_on_after_the_send(env: Env) -> None:
    """Sent with ``telegram.images`` off (text alerts, though the article has an image), the
    worker running with it on: the notice and a correction edit the text, one call each (a
    correction edited the caption first, refused "there is no caption in the message to
    edit")."""
    first, second = fresh(1, image_url=PHOTO), fresh(2, title="Công an: tin hai", image_url=PHOTO)
    sent = await dispatched(env, first, second, images=False)
    assert [kind for _, kind in kinds(env)] == ["text"] * 3
    env.publish(replace(second, title=NEW_TITLE, updated_at=datetime.now(UTC) + timedelta(1)))
    await env.follow_up(env.worker(images=True))
    live = env.fake.live(PRIVATE, max(m.message_id for m in env.fake.messages(PRIVATE)))
    assert NEW_TITLE in live.visible and live.kind == "text" and live.photo is None
    assert edits(env, PRIVATE) == ["editmessagetext"]
    env.retire("TEST-00001")
    await env.follow_up(env.worker(images=True, on_withdraw=OnWithdraw.EDIT))
    reads_as_the_notice_in_text(env, GROUP, sent[GROUP])


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.mark.parametrize("db_url", [POSTGRES], indirect=True)
async def test_a_photo_alert_is_corrected_in_its_caption_with_images_switched_off(
    env: Env,
) -> None:
    """The other way round: sent as a photo, ``telegram.images`` off since: a correction edits
    the caption at once (the settings' guess edited the text first, refused "there is no text
    in the message to edit"), a retraction covers the picture."""
    sent = await dispatched(env, fresh(1, image_url=PHOTO), images=True)
    item = fresh(1, image_url=PHOTO)
    env.publish(replace(item, title=NEW_TITLE, updated_at=datetime.now(UTC) + timedelta(1)))
    await env.follow_up(env.worker(images=False))
    for chat_id, mid in sent.items():
        live = env.fake.live(chat_id, mid)
        assert NEW_TITLE in live.visible and live.photo == PHOTO
        assert edits(env, chat_id) == ["editmessagecaption"]
    env.retire("TEST-00001")
    await env.follow_up(env.worker(images=False, on_withdraw=OnWithdraw.EDIT))
    for chat_id, mid in sent.items():
        live = env.fake.live(chat_id, mid)
        assert live.visible == NOTICE and str(live.photo).startswith("<upload")
        assert edits(env, chat_id) == ["editmessagecaption", "editmessagemedia"]
