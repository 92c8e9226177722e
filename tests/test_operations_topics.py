"""``feedsvc.operations.topics``: the one place deciding what saving and deleting a topic may do,
shared by the CLI, the JSON API and the admin (each front end's own tests check its words).

The chains nested too deep are given one backend each (``backend_cases.on_backends``): the
depth is refused by the matcher's parser before anything is saved."""

from __future__ import annotations

import pytest
from backend_cases import on_backends

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
    assert deleted == ops.TopicDeleted(False, {"telegram": 1, "apprise": 2}, "rt-1")
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


# -- "is used by": the parsed query's references, topics' and chat queries' (tester F3) --------


def test_only_real_references_refuse_a_delete(db: Database) -> None:
    for slug, query in (("rt", "a"), ("rt-1", "b"), ("ref", "@rt-1"), ("phr", '"email @rt là"')):
        ops.save_topic(db, TopicSpec(slug, slug.upper(), query), "cli")
    assert ops.delete_topic(db, "rt") == ops.TopicDeleted(False, {}, "rt")
    with pytest.raises(ops.OperationError) as refused:
        ops.delete_topic(db, "rt-1", with_subscriptions=True)
    assert (refused.value.code, refused.value.params["users"]) == ("topic_in_use", "ref")


@pytest.mark.parametrize("with_subscriptions", [False, True])
def test_a_chat_query_reference_refuses_a_delete(db: Database, with_subscriptions: bool) -> None:
    ops.save_topic(db, TopicSpec("rt-1", "R1", "b"), "cli")
    sub, _ = ops.add_subscription(db, 1003, "private", topic=None, query="@rt-1 c")
    ops.add_subscription(db, 1004, "private", topic=None, query='"@rt-1" c')  # a phrase
    with pytest.raises(ops.OperationError) as refused:
        ops.delete_topic(db, "rt-1", with_subscriptions=with_subscriptions)
    exc = refused.value
    assert (exc.kind, exc.code) == ("conflict", "topic_in_chat_queries")
    assert exc.params["chat_queries"] == ([("telegram chat 1003", sub.id)], -9)
    assert Translator("vi").operation_error(exc) == (
        f"Chủ đề rt-1 đang được truy vấn riêng của chat Telegram 1003 (đăng ký {sub.id}) "
        "dùng; hãy sửa những truy vấn đó trước (xoá đăng ký, hoặc cuộc trò chuyện đổi truy vấn "
        "của mình)."
    )
    assert ops.get_topic(db, "rt-1").slug == "rt-1"
    ops.remove_subscription(db, sub.id)
    assert ops.delete_topic(db, "rt-1").subscriptions == {}


def test_topics_and_chat_queries_refuse_together(db: Database) -> None:
    ops.save_topic(db, TopicSpec("rt", "R", "b"), "cli")
    ops.save_topic(db, TopicSpec("ref", "Ref", "(@rt OR x)"), "cli")
    sub, _ = ops.add_subscription(db, -1001009876543, "supergroup", topic=None, query="-@rt y")
    with pytest.raises(ops.OperationError) as refused:
        ops.delete_topic(db, "rt")
    assert refused.value.code == "topic_in_use_and_chat_queries"
    assert ENGLISH.operation_error(refused.value) == (
        "Topic rt is used by ref and by the own queries of telegram chat -1001009876543 "
        "(subscription "
        f"{sub.id}); change those first (a chat's query: remove the subscription, or the chat "
        "changes its query)."
    )


def test_saving_names_only_the_topics_that_reference_it(db: Database) -> None:
    """A topic whose query holds the text ``@rt`` in a phrase is no user of ``rt``: a save that
    breaks ``rt``'s users named it among them."""
    hundred = " OR ".join(f"w{i}" for i in range(100))
    ops.save_topic(db, TopicSpec("rt", "R", "b"), "cli")
    for i in range(1, 10):
        ops.save_topic(db, TopicSpec(f"h{i}", "H", hundred), "cli")
    hs = " OR ".join(f"@h{i}" for i in range(1, 10))
    ops.save_topic(db, TopicSpec("ref", "Ref", f"@rt OR {hs} OR z"), "cli")  # 902 terms
    ops.save_topic(db, TopicSpec("phr", "P", '"email @rt là"'), "cli")
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, TopicSpec("rt", "R", hundred), "cli")  # ref: 1001 terms
    assert (refused.value.code, refused.value.params["users"]) == ("breaks_users", "ref")
    assert ops.save_topic(db, TopicSpec("rt", "R", "b c"), "cli") == "updated"


# -- the admin's edit form only updates (tester F10: it re-created a topic deleted meanwhile) ---


def test_an_update_only_save_never_creates(db: Database) -> None:
    """A slug no topic ever had is no topic deleted meanwhile (a tester's: the API's 412 said
    "deleted while you were editing it" of a typo): ``topic_not_found``."""
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, TopicSpec("ghost", "Ghost edited", "ma"), "admin", update_only=True)
    exc = refused.value
    assert (exc.kind, exc.code, exc.params) == ("not_found", "topic_not_found", {"slug": "ghost"})
    assert ENGLISH.operation_error(exc) == "There is no topic 'ghost'."
    with pytest.raises(ops.OperationError, match="unknown topic"):
        ops.get_topic(db, "ghost")


def test_an_update_only_save_updates(db: Database) -> None:
    ops.save_topic(db, TopicSpec("ghost", "Ghost", "ma"), "api")
    spec = TopicSpec("ghost", "Ghost edited", "ma")
    assert ops.save_topic(db, spec, "admin", update_only=True) == "updated"
    assert ops.save_topic(db, spec, "admin", update_only=True) == "unchanged"
    ops.delete_topic(db, "ghost")
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, spec, "admin", update_only=True)
    exc = refused.value
    assert (exc.kind, exc.code, exc.params) == (
        "conflict",
        "topic_deleted_meanwhile",
        {"slug": "ghost"},
    )
    assert ENGLISH.operation_error(exc) == (
        "Topic ghost was deleted while you were editing it (in another admin page, through the "
        "API or the command line); nothing was saved."
    )  # the admin's editor adds what to do with its form (admin.deleted_meanwhile_hint)
    assert ops.save_topic(db, spec, "admin") == "created"  # an upsert (the API's PUT) still is


# -- an update through edit_topic keeps what is not given (tester F2b) --------------------------


def test_an_edit_keeps_what_is_not_given(db: Database) -> None:
    first = ops.edit_topic(db, ops.TopicEdit("up", "Up", "a", "Mô tả dài", False), "cli")
    assert first == ops.Saved("created", slug="up")
    saved = ops.edit_topic(db, ops.TopicEdit("up", "Up 2", "b"), "cli")
    assert saved == ops.Saved("updated", ("title", "query"), "up")
    topic = ops.get_topic(db, "up")
    assert (topic.title, topic.query, topic.description, topic.enabled) == (
        "Up 2", "b", "Mô tả dài", False,
    )  # fmt: skip
    assert ops.edit_topic(db, ops.TopicEdit("up", "Up 2", "b"), "cli") == ops.Saved(
        "unchanged", slug="up"
    )
    saved = ops.edit_topic(db, ops.TopicEdit("up", "Up 2", "b", "", True), "cli")
    assert saved == ops.Saved("updated", ("description", "enabled"), "up")


def test_an_edit_creates_with_the_defaults(db: Database) -> None:
    assert ops.edit_topic(db, ops.TopicEdit("new", "N", "a"), "cli").outcome == "created"
    topic = ops.get_topic(db, "new")
    assert (topic.description, topic.enabled) == ("", True)
    assert ops.TopicEdit("x", "X", "q").over(None) == TopicSpec("x", "X", "q", "", True)
    assert ops.TopicEdit("x", "X", "q", enabled=False).over(topic) == TopicSpec(
        "x", "X", "q", "", False
    )


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (ops.TopicEdit("up", "Up", "a", "x\x07"), "control_character"),
        (ops.TopicEdit("up", "", "a"), "title_required"),
        (ops.TopicEdit("up", "Up", "a OR b c", enabled=True), "query_invalid"),
        (ops.TopicEdit("Up!", "Up", "a"), "slug_format"),
    ],
)
def test_an_edit_is_checked_like_a_save(db: Database, edit: ops.TopicEdit, code: str) -> None:
    ops.save_topic(db, TopicSpec("up", "Up", "a", "D", False), "cli")
    with pytest.raises(ops.OperationError) as refused:
        ops.edit_topic(db, edit, "cli")
    assert refused.value.code == code
    assert ops.get_topic(db, "up").spec == TopicSpec("up", "Up", "a", "D", False)


def test_a_save_that_breaks_a_chat_query_using_it_is_refused(db: Database) -> None:
    """A chat's own query that stops parsing is skipped from then on (its chat gets nothing):
    a topic grown to the expanded-term limit breaks every chat query adding a term to it."""
    hundred = " OR ".join(f"w{i}" for i in range(100))
    for i in range(1, 11):
        ops.save_topic(db, TopicSpec(f"h{i}", "H", hundred), "cli")
    ops.save_topic(db, TopicSpec("rt", "R", "b"), "cli")
    sub, _ = ops.add_subscription(db, 1003, "private", topic=None, query="@rt x")
    ops.add_subscription(db, 1004, "private", topic=None, query='"@rt" x')  # a phrase: no use
    grown = TopicSpec("rt", "R", " OR ".join(f"@h{i}" for i in range(1, 11)))  # 1000 terms
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, grown, "cli")
    exc = refused.value
    assert (exc.kind, exc.code, exc.field) == ("invalid", "breaks_chat_queries", "query")
    assert exc.message == (
        f"the own queries of telegram chat 1003 (subscription {sub.id}) use @rt and would no "
        "longer "
        "parse with this query"
    )
    assert Translator("vi").operation_error(exc) == (
        f"Truy vấn riêng của chat Telegram 1003 (đăng ký {sub.id}) dùng @rt sẽ không còn hợp "
        "lệ với truy vấn này."
    )
    assert ops.get_topic(db, "rt").query == "b"
    ops.remove_subscription(db, sub.id)
    assert ops.save_topic(db, grown, "cli") == "updated"


# -- a save checks every topic and chat query reaching the topic, not only those naming it ------


def _chain(db: Database, prefix: str, length: int) -> None:
    """``{prefix}1`` → ``@{prefix}2`` → … → ``{prefix}{length}`` (``x``)."""
    for i in range(length, 0, -1):
        query = "x" if i == length else f"@{prefix}{i + 1} x"
        ops.save_topic(db, TopicSpec(f"{prefix}{i}", "N", query), "api")


@pytest.mark.parametrize(
    ("db_url", "edited", "added"),
    on_backends([("n10", "an-ninh"), ("n9", "z1"), ("n5", "y1")]),
    indirect=["db_url"],
)
def test_a_save_that_nests_a_chain_too_deep_is_refused(
    db: Database, edited: str, added: str
) -> None:
    """A chain ``n1`` → … → ``n10`` is as deep as the matcher takes (the topic and 9
    references below it: 10 levels, :func:`feedsvc.matching.parse_topic`): a new reference at
    any topic of it that reaches further made ``n1`` too deep, and the matcher skipped it for
    good (a newcomer's report: saved 200, only a log line per rebuild)."""
    ops.save_topic(db, TopicSpec("an-ninh", "An ninh", '"an ninh"'), "api")
    _chain(db, "n", 10)
    _chain(db, "z", 2)  # z1 reaches 1 deep: n9 → z1 → z2 is one level past n1's limit
    _chain(db, "y", 6)  # y1 reaches 5 deep
    query = ops.get_topic(db, edited).query
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, TopicSpec(edited, "N", f"{query} @{added}"), "api")
    assert (refused.value.code, refused.value.params["users"]) == ("breaks_users", "n1")
    assert "nested more than 10 deep" in refused.value.message
    assert ops.get_topic(db, edited).query == query
    assert ops.save_topic(db, TopicSpec(edited, "N", f"{query} y"), "api") == "updated"


def _diamond(db: Database, *, hubs: int, terms: int, c: str) -> None:
    """``h1``…``h{hubs}`` of ``terms`` terms each, ``c`` (query ``c``), and ``b`` and ``d``
    both ``@c``: whatever ``c`` grows to counts twice in a query naming ``@b OR @d``."""
    words = " OR ".join(f"w{i}" for i in range(terms))
    for i in range(1, hubs + 1):
        ops.save_topic(db, TopicSpec(f"h{i}", "H", words), "api")
    ops.save_topic(db, TopicSpec("c", "C", c), "api")
    ops.save_topic(db, TopicSpec("b", "B", "@c"), "api")
    ops.save_topic(db, TopicSpec("d", "D", "@c"), "api")


def test_a_save_that_grows_an_indirect_user_past_the_term_limit_is_refused(db: Database) -> None:
    _diamond(db, hubs=6, terms=100, c="b")
    ops.save_topic(db, TopicSpec("a", "A", "@b OR @d"), "api")
    grown = TopicSpec("c", "C", " OR ".join(f"@h{i}" for i in range(1, 7)))  # b, d: 600 terms
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, grown, "api")  # a: 1,200
    assert (refused.value.code, refused.value.params["users"]) == ("breaks_users", "a")
    assert ops.get_topic(db, "c").query == "b"


def test_a_save_that_breaks_a_chat_query_through_a_topic_is_refused(db: Database) -> None:
    """A chat's own query may expand to 200 terms (a topic to 1,000): ``@b`` → ``@c`` grown
    to 150 terms breaks the chat's ``@b OR @d`` (300) and no topic."""
    _diamond(db, hubs=3, terms=50, c="x")
    sub, _ = ops.add_subscription(db, 1003, "private", topic=None, query="@b OR @d")
    with pytest.raises(ops.OperationError) as refused:
        ops.save_topic(db, TopicSpec("c", "C", "@h1 OR @h2 OR @h3"), "api")
    assert refused.value.code == "breaks_chat_queries"
    assert refused.value.params["chat_queries"] == ([("telegram chat 1003", sub.id)], -9)
    assert ops.get_topic(db, "c").query == "x"
