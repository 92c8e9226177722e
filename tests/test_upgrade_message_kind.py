"""Migration 0042 (``deliveries.message_kind``) on a state DB holding sent alerts, SQLite and
PostgreSQL: alerts sent before it — one a photo, one a text after its photo was refused — are
"not known" (NULL) after the upgrade, and their follow-ups edit what is there all the same: a
text edit first (never the settings' guess of a photo, which put a grey picture on the text
alert), the photo's refusal "there is no text in the message to edit" turning it to the cover;
what the edits found is recorded, so the notices' restores put the photo back and edit the
text. The rows survive a downgrade and an upgrade again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakebot import FakeBotAPI, Fault
from test_retraction import GROUP, NOTICE, PRIVATE, fresh, retraction_env
from test_retraction_message_kind import PHOTO, dispatched, edits, kinds
from upgrades import database_at, downgrade, sent_without_kind

from feedsvc.db import upgrade
from feedsvc.retraction.plan import OnWithdraw


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


async def test_alerts_sent_before_0042_are_edited_as_what_they_are(
    db_url: str, fake: FakeBotAPI
) -> None:
    db = database_at(db_url, "0041")
    try:
        async with retraction_env(db, fake) as env:
            fake.script(GROUP, Fault.photo_rejected())  # the group's alert: text after all
            with sent_without_kind():  # sent by the code before the column
                sent = await dispatched(env, fresh(1, image_url=PHOTO), images=True)
            assert fake.live(PRIVATE, sent[PRIVATE]).photo == PHOTO
            assert fake.live(GROUP, sent[GROUP]).kind == "text"
            upgrade(db)
            assert sorted(kinds(env)) == [(GROUP, None), (PRIVATE, None)]  # not known
            downgrade(db, "0041")
            upgrade(db)
            assert sorted(kinds(env)) == [(GROUP, None), (PRIVATE, None)]
            env.retire("TEST-00001")
            await env.follow_up(env.worker(images=True, on_withdraw=OnWithdraw.EDIT))
            group = fake.live(GROUP, sent[GROUP])
            assert group.visible == NOTICE and group.kind == "text" and group.photo is None
            assert edits(env, GROUP) == ["editmessagetext"]
            private = fake.live(PRIVATE, sent[PRIVATE])
            assert private.visible == NOTICE and str(private.photo).startswith("<upload")
            assert edits(env, PRIVATE) == ["editmessagetext", "editmessagemedia"]
            assert sorted(kinds(env)) == [(GROUP, "text"), (PRIVATE, "photo")]  # found out
            env.restore("TEST-00001", "withdrawn_at")  # public again: the notices go
            await env.follow_up(env.worker(images=True, on_withdraw=OnWithdraw.EDIT))
            group, private = fake.live(GROUP, sent[GROUP]), fake.live(PRIVATE, sent[PRIVATE])
            assert NOTICE not in group.visible and group.kind == "text" and group.photo is None
            assert NOTICE not in private.visible and private.photo == PHOTO  # its picture back
            assert edits(env, GROUP) == ["editmessagetext"] * 2
            assert edits(env, PRIVATE)[2:] == ["editmessagemedia"]
    finally:
        db.dispose()
