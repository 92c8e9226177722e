"""Articles with bodies just under the limit must not stay resident (a tester's U5).

The structural bounds, not timings: the feed item memo keeps no article (its body) alive and
holds at most its characters' budget; work on big texts is noted and the heap trimmed at the
quiet points after it (``bench/huge_bodies.py`` measures the resident memory)."""

from __future__ import annotations

import gc
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from feedsvc import heap_trim
from feedsvc.articles import Article
from feedsvc.feeds import model
from feedsvc.feeds.item_memo import MAX_CHARS, SHORT, ItemMemo, item_chars, memo_key
from feedsvc.ingest import isolate
from feedsvc.on_demand import RenderJob

WHEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HUGE = "<p>" + "Kiến Thụy công an trật tự " * 20_000 + "</p>"  # ~520,000 characters


def article(n: int = 1, body: str | None = HUGE, **kw: Any) -> Article:
    return Article(
        source_key=f"HUGE-{n}",
        url=f"https://baohaiphong.vn/huge-{n}.html",
        title=f"Kiến Thụy: tin số {n}",
        published_at=WHEN,
        body=body,
        **kw,
    )


@pytest.fixture(autouse=True)
def _clean() -> None:
    model.clear_item_cache()


def _holders(obj: object) -> list[str]:
    gc.collect()
    return [type(r).__name__ for r in gc.get_referrers(obj) if isinstance(r, Article)]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_rendered_article_is_not_kept_alive_by_the_item_memo(language: str) -> None:
    body = HUGE + str(language)  # a string no other object holds
    items = model.prepare_items("https://baohaiphong.vn", [article(body=body)], language)
    assert items[0].content_html and len(items[0].content_html) < len(body)
    assert _holders(body) == []  # the old lru_cache kept the Article, and its body, as its key


def test_a_rendered_summary_is_not_kept_alive_either() -> None:
    summary = HUGE + "summary"
    model.prepare_items("https://baohaiphong.vn", [article(body=None, summary=summary)], "vi")
    assert _holders(summary) == []


def test_the_memo_still_answers_a_second_render_without_preparing_again() -> None:
    memo = ItemMemo()
    calls: list[str] = []

    def prepare(site: str, a: Article, language: str) -> Any:
        calls.append(a.source_key)
        return model.prepare_item(site, a, language)

    a = article(body="<p>ngắn</p>")
    first = memo.get("https://x.vn", a, "vi", prepare)
    again = memo.get("https://x.vn", replace(a), "vi", prepare)  # an equal copy, read again
    assert again is first and calls == ["HUGE-1"]
    edited = replace(a, body="<p>sửa</p>")  # a new version: a new item
    assert memo.get("https://x.vn", edited, "vi", prepare) is not first
    assert memo.get("https://x.vn", a, "en", prepare) is not first  # another language
    assert memo.get("https://y.vn", a, "vi", prepare) is not first  # another site
    assert len(calls) == 4


def test_the_memo_is_bounded_in_characters_and_items() -> None:
    memo = ItemMemo(max_items=5, max_chars=250_000)
    for n in range(20):
        memo.get("https://x.vn", article(n), "vi", model.prepare_item)
        items, chars = memo.held()
        assert items <= 5 and chars <= 250_000
    assert memo.held()[0] >= 2  # the newest stay
    for n in range(20):
        memo.get("https://x.vn", article(n, body=f"<p>{n}</p>"), "vi", model.prepare_item)
    assert memo.held()[0] == 5


def test_the_default_budget_holds_a_feed_of_ordinary_articles() -> None:
    body = "<p>" + "chữ " * 750 + "</p>"  # ~3,000 characters: an ordinary article
    ordinary = model.prepare_item("https://x.vn", article(body=body), "vi")
    key = memo_key(article(body=body))
    assert item_chars(ordinary, key) * model.ITEMS.max_items <= MAX_CHARS


def test_the_key_tells_every_field_apart_and_holds_no_long_text() -> None:
    a = article(tags=("a", "b"), author="A", section="S", summary="t", image_url="https://i/1.jpg")
    assert memo_key(a) == memo_key(replace(a))
    assert memo_key(a) == memo_key(replace(a, credentials_dropped=("url",)))
    others = [
        replace(a, source_key="HUGE-2"),
        replace(a, url="https://baohaiphong.vn/2.html"),
        replace(a, title="khác"),
        replace(a, published_at=datetime(2026, 12, 1, 8, 0, 1, tzinfo=UTC)),
        replace(a, updated_at=WHEN),
        replace(a, summary=None),
        replace(a, summary=""),
        replace(a, body=a.body + " "),  # type: ignore[operator]
        replace(a, body="<p>ngắn</p>"),
        replace(a, author=None),
        replace(a, section="T"),
        replace(a, tags=("ab",)),
        replace(a, tags=("a", "b", "")),
        replace(a, image_url=None),
        replace(a, withdrawn=True),
    ]
    keys = {memo_key(o) for o in others}
    assert len(keys) == len(others) and memo_key(a) not in keys
    assert memo_key(replace(a, tags=tuple("x" * 2000 for _ in range(5)))) != memo_key(
        replace(a, tags=tuple("x" * 2500 for _ in range(4)))
    )
    held = [v for v in memo_key(article(body=HUGE, summary=HUGE)) if isinstance(v, str)]
    assert max(map(len, held)) <= SHORT


def test_a_batch_read_and_a_render_are_noted_as_work_on_big_text() -> None:
    before = heap_trim.pending()
    model.prepare_items("https://x.vn", [article()], "vi")
    assert heap_trim.pending() - before >= len(HUGE)

    class Row:
        def __init__(self) -> None:
            self.record = {"body": HUGE, "title": "t"}

    before = heap_trim.pending()
    kept, cut = isolate._within_text_budget([Row(), Row()])  # type: ignore[list-item]
    assert len(kept) == 2 and not cut
    assert heap_trim.pending() - before == 2 * (len(HUGE) + 1)


def test_the_heap_is_trimmed_once_enough_big_text_was_worked_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(heap_trim, "_malloc_trim", lambda: trims.append)
    monkeypatch.setattr(heap_trim, "_worked", 0)
    heap_trim.worked_on(heap_trim.TRIM_AFTER - 1)
    assert not heap_trim.settle() and trims == []  # small work: no walk of every arena
    heap_trim.worked_on(1)
    assert heap_trim.settle() and trims == [0]
    assert heap_trim.pending() == 0 and not heap_trim.settle()


def test_no_trim_where_there_is_no_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap_trim, "_malloc_trim", lambda: None)
    heap_trim.worked_on(heap_trim.TRIM_AFTER)
    assert not heap_trim.settle()


def test_an_on_demand_render_settles_once_its_articles_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settled: list[bool] = []
    monkeypatch.setattr(heap_trim, "settle", lambda: settled.append(True) or True)
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    job = RenderJob(slots, lambda: "snapshot", None)  # type: ignore[arg-type,return-value]
    assert job() == "snapshot" and settled == [True]
