"""``feedsvc.operations.topics``: the one place deciding what saving and deleting a topic may do,
shared by the CLI, the JSON API and the admin (each front end's own tests check its words)."""

from __future__ import annotations

import pytest

from feedsvc import operations as ops
from feedsvc.catalogue import ENGLISH, Translator
from feedsvc.db import Database
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.records import TopicSpec


def subscribe(db: Database, slug: str, *chats: int, apprise: int = 0, zalo: int = 0) -> None:
    for chat in chats:
        ops.add_subscription(db, chat, "private", topic=slug, query=None)
    for i in range(apprise):
        ops.add_subscription(
            db, None, None, topic=slug, query=None, channel="apprise",
            address=f"json://127.0.0.1:18099/{slug}/{i}",
        )  # fmt: skip
    for i in range(zalo):
        ops.add_subscription(
            db, None, None, topic=slug, query=None, channel="zalo", address=f"77{i}"
        )


# -- a topic's subscriptions go with it: refused unless asked for (tester F2) ------------------


def test_a_topic_with_subscriptions_is_not_deleted_by_default(db: Database) -> None:
    ops.save_topic(db, TopicSpec("rt-1", "R1", "b"), "cli")
    subscribe(db, "rt-1", 1004, 1005, apprise=1, zalo=1)
    with pytest.raises(ops.OperationError) as refused:
        ops.delete_topic(db, "rt-1")
    exc = refused.value
    assert (exc.kind, exc.code) == ("conflict", "topic_has_subscriptions")
    assert exc.params == {"slug": "rt-1", "counts": {"telegram": 2, "apprise": 1, "zalo": 1}}
    assert exc.message.startswith(
        "rt-1 has 4 subscriptions (1 Apprise, 2 Telegram, 1 Zalo); they would be deleted"
    )
    assert (
        Translator("vi")
        .operation_error(exc)
        .startswith("Chủ đề rt-1 có 4 đăng ký (1 Apprise, 2 Telegram, 1 Zalo); xoá chủ đề")
    )
    assert ops.get_topic(db, "rt-1").slug == "rt-1"
    with db.read() as conn:
        assert len(sub_store.list_subscriptions(conn)) == 4


def test_deleting_with_subscriptions_names_them(db: Database) -> None:
    ops.save_topic(db, TopicSpec("rt-1", "R1", "b"), "cli")
    ops.save_topic(db, TopicSpec("keep", "K", "c"), "cli")
    subscribe(db, "rt-1", 1004, apprise=2)
    subscribe(db, "keep", 1004)
    assert ops.subscription_counts(db) == {
        "rt-1": {"telegram": 1, "apprise": 2},
        "keep": {"telegram": 1},
    }
    deleted = ops.delete_topic(db, "rt-1", with_subscriptions=True)
    assert deleted == ops.TopicDeleted(False, {"telegram": 1, "apprise": 2})
    assert deleted.subscriptions_total == 3
    with db.read() as conn:
        assert [s.topic_slug for s in sub_store.list_subscriptions(conn)] == ["keep"]
    assert ops.subscription_counts(db) == {"keep": {"telegram": 1}}


def test_a_topic_without_subscriptions_is_deleted_as_before(db: Database) -> None:
    ops.save_topic(db, TopicSpec("bare", "B", "b"), "cli")
    deleted = ops.delete_topic(db, "bare")
    assert (deleted.kept_deleted, deleted.subscriptions, deleted.subscriptions_total) == (
        False,
        {},
        0,
    )
    with pytest.raises(ops.OperationError) as gone:
        ops.delete_topic(db, "bare", with_subscriptions=True)
    assert gone.value.code == "topic_not_found"


@pytest.mark.parametrize(
    ("counts", "en", "vi"),
    [
        ({"telegram": 1}, "1 subscription (1 Telegram)", "1 đăng ký (1 Telegram)"),
        ({"zalo": 2, "apprise": 1}, "3 subscriptions (1 Apprise, 2 Zalo)",
         "3 đăng ký (1 Apprise, 2 Zalo)"),
        ({"telegram": 1000}, "1000 subscriptions (1000 Telegram)",
         "1000 đăng ký (1000 Telegram)"),
    ],
)  # fmt: skip
def test_the_one_wording_of_subscriptions(counts: dict[str, int], en: str, vi: str) -> None:
    assert ENGLISH.subscriptions(counts) == en
    assert Translator("vi").subscriptions(counts) == vi
