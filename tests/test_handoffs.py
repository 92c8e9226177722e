"""The times the rate tests measure (tests/handoffs.py) are not bunched by a stalled fake.

CI failed tests/test_zalo_budget.py with 12 calls in a window at 10/s: the fake's thread, in
the test process, stalled 0.39 s and then stamped three calls the client had sent properly
spaced within 1 ms. Here the fake's thread is stalled on purpose (the test holds the lock its
handler takes first) while a client sends three calls 0.2 s apart: the fake's own times come
out bunched, the hand-off times keep the spacing the client gave them (within half of it: the
client's own timers are late by tens of ms on a loaded machine).
"""

from __future__ import annotations

import asyncio
import itertools

from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from handoffs import handoffs
from patience import PATIENT_READ_TIMEOUT

from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.notify import TelegramSender

SPACING = 0.2


async def test_a_stalled_fake_bunches_its_own_times_not_the_handoffs() -> None:
    with FakeZaloAPI() as fake, handoffs(fake) as sent:
        async with ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT) as api:
            await api.get_me()

            async def send(chat: str, after: float) -> None:
                await asyncio.sleep(after)
                await api.send_message(chat, "Tin mới")

            with fake._cond:  # the fake's thread blocks at its handler's first step: a stall
                calls = [asyncio.create_task(send(c, i * SPACING)) for i, c in enumerate("abc")]
                await asyncio.sleep(3 * SPACING)
            await asyncio.gather(*calls)
    arrived = sorted(m.at for m in fake.all_messages())
    left = sent.times("sendMessage")
    assert len(arrived) == len(left) == 3
    # what the rate tests used to read: three calls sent 0.4 s apart end to end, stamped
    # within less than one spacing (~1 ms unloaded)
    assert arrived[-1] - arrived[0] < SPACING, arrived
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert min(gaps) >= SPACING / 2, gaps
    assert [c.chat for c in sent.calls("sendmessage")] == ["a", "b", "c"]


async def test_telegram_calls_are_stamped_with_their_method_and_chat() -> None:
    """python-telegram-bot's requests (form-encoded) name their method and chat; calls to
    another server are not recorded."""
    with FakeBotAPI() as fake, FakeBotAPI() as other, handoffs(fake) as sent:
        async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
            await sender.bot.send_message(chat_id=42, text="Tin mới")
        async with TelegramSender(other.token, base_url=other.base_url) as elsewhere:
            await elsewhere.bot.send_message(chat_id=43, text="Tin khác")
    assert [(c.method, c.chat) for c in sent.calls("sendMessage")] == [("sendmessage", "42")]
    assert len(sent.times("sendmessage", chat=42)) == 1 and sent.times(chat=43) == []
