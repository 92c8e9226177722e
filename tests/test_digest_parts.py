"""A digest sent in several messages says which part each is, ``(2/3)``, and every part stays
within the channel's limit in its units with the number counted (Telegram: 4096 UTF-16 units
of visible text; Zalo: 2,000 characters, never more than the UTF-16 units counted here).

Before, only the parts after the first said ``(tiếp)``: a reader of the first could not tell
more was coming, nor notice a part that never arrived. Parts are split between lines only (an
article's line, a heading, a "read all" link): never inside a link or an entity.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from backend_cases import module_on_sqlite
from fakebot import check_html
from test_digest_dispatch import CHAT, Env, local_hhmm, subscribe_chat
from test_digest_dispatch import env as env  # the fixture

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.digest.edge import DigestEdge
from feedsvc.digest.message import (
    DigestEntry,
    DigestGroup,
    DigestPart,
    DigestWords,
    format_digest,
)
from feedsvc.notify.message import TEXT_LIMIT, utf16_len

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
WORDS = DigestWords("Tin tổng hợp · {count} tin", "Đọc tất cả", "(tiếp)", "({part}/{parts})")
GROUPS = (
    DigestGroup("Kiến Thụy", "https://feeds.example/topics/kien-thuy"),
    DigestGroup("Đồ Sơn 🌊", "https://feeds.example/topics/do-son"),
    DigestGroup('truy vấn "công an"'),
)
_NUMBER = re.compile(r" \((\d+)/(\d+)\)$")


def _entry(n: int, title: str) -> DigestEntry:
    article = Article(
        source_key=f"k{n}",
        url=f"https://news.example/a/{n}?x=1&y=<{n}>",
        title=title,
        published_at=datetime(2026, 11, 30, 1, tzinfo=UTC) + timedelta(minutes=n),
    )
    return DigestEntry(n, article, GROUPS[n % 3])


def _entries(count: int, seed: int) -> list[DigestEntry]:
    """Titles of uneven lengths, Vietnamese with emoji (two UTF-16 units) and ``&``/``<``."""
    words = ["Kiến", "Thụy", "🚓", "mưa", "A&B", "<lũ>", "Hải Phòng", "𝓧"]
    return [
        _entry(n, " ".join(words[(n * seed + k) % len(words)] for k in range(3 + (n * seed) % 40)))
        for n in range(count)
    ]


def _check(parts: list[DigestPart], limit: int, count: int) -> None:
    seen: list[int] = []
    for k, part in enumerate(parts, 1):
        visible = check_html(part.message.text)  # Telegram parses it: tags closed, entities whole
        assert utf16_len(visible) <= limit, (k, utf16_len(visible))
        assert utf16_len(part.message.plain_text) <= limit
        first, plain_first = visible.split("\n", 1)[0], part.message.plain_text.split("\n", 1)[0]
        if len(parts) == 1:
            assert _NUMBER.search(first) is None and first == f"Tin tổng hợp · {count} tin"
        else:
            assert first.endswith(f" ({k}/{len(parts)})") and plain_first == first
            assert first.startswith("Tin tổng hợp" if k == 1 else "(tiếp)")
        assert part.delivery_ids  # no part without an article
        seen += part.delivery_ids
        for delivery in part.delivery_ids:  # an article's line whole, its link in one piece
            assert f'href="https://news.example/a/{delivery}?x=1&amp;y=%3C{delivery}%3E"' in (
                part.message.text
            )
    assert sorted(seen) == list(range(count))


@pytest.mark.parametrize("limit", [TEXT_LIMIT, 2000])
@pytest.mark.parametrize("seed", [1, 3, 7])
def test_parts_are_numbered_and_within_the_limit(limit: int, seed: int) -> None:
    entries = _entries(120, seed)
    parts = format_digest(entries, HANOI, WORDS, limit=limit)
    assert len(parts) > 1
    _check(parts, limit, 120)


def test_the_number_is_budgeted_at_every_limit() -> None:
    """A part filled to within the few units its number takes: at each limit from 1,000 to
    1,150 some part is that full, and none may pass the limit once numbered."""
    entries = _entries(60, 5)
    for limit in range(1000, 1150):
        _check(format_digest(entries, HANOI, WORDS, limit=limit), limit, 60)


def test_ten_parts_and_more_count_two_digits() -> None:
    entries = _entries(400, 3)
    parts = format_digest(entries, HANOI, WORDS, limit=1000)
    assert len(parts) >= 10
    _check(parts, 1000, 400)
    assert check_html(parts[9].message.text).startswith(f"(tiếp) (10/{len(parts)})")


def test_one_part_has_no_number() -> None:
    parts = format_digest(_entries(5, 1), HANOI, WORDS)
    assert len(parts) == 1
    _check(parts, TEXT_LIMIT, 5)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_service_words_the_number_from_the_catalogue(language: str) -> None:
    edge = DigestEdge(HANOI, language)
    assert edge.words.part == Translator(language, "UTC")("digest.part") == "({part}/{parts})"
    parts = format_digest(_entries(120, 1), HANOI, edge.words, limit=2000)
    assert check_html(parts[1].message.text).split("\n")[0].endswith(f"(2/{len(parts)})")


async def test_a_long_digest_reaches_telegram_numbered(env: Env) -> None:
    """Through the dispatcher and the fake Bot API (which parses the HTML and counts its UTF-16
    units as Telegram does): every part arrives whole, numbered, within the limit, in order
    (1,200 units here: the env publishes articles of the last ten minutes)."""
    env.dispatcher.digests.limit = 1200
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    due_wall = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due_wall,))))
    title = "Công an Kiến Thụy 🚓 tuần tra đêm & bắt <nhóm> trộm xe máy ở khu phố " * 4
    env.publish(*(f"{n} {title}" for n in range(8)))
    await env.step()
    assert env.states() == ["held"] * 8
    env.clock.at += timedelta(minutes=1, seconds=1)
    await env.step()
    messages = env.fake.messages(CHAT)
    assert len(messages) > 2 and env.states() == ["sent"] * 8
    for k, message in enumerate(messages, 1):
        first = message.visible.split("\n", 1)[0]
        assert first.endswith(f" ({k}/{len(messages)})")
        assert first.startswith("Tin tổng hợp · 8 tin" if k == 1 else "(tiếp)")
        assert utf16_len(message.visible) <= 1200
    assert sum(m.visible.count("• ") for m in messages) == 8
