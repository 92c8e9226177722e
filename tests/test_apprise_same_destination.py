"""One Apprise destination, one recipient, however its URL is spelt (a tester's finding: three
spellings of one webhook were three recipients, and one article reached it three times, which
§6 forbids for any chat). Apprise's canonical form decides what is the same destination
(``channels.apprise_urls.same_destination``); spaces around a pasted address are dropped on every
channel. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import VN
from receiver import Receiver
from test_apprise import dispatch, done, publish, rows

from feedsvc import operations as ops
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.apprise_urls import same_destination
from feedsvc.channels.recipients import recipient_spec
from feedsvc.db import Database
from feedsvc.store.subscriptions import list_subscriptions
from feedsvc.store.topics import TopicSpec, save_topic

HOOK = "json://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    "other",
    [
        "JSON://127.0.0.1:9/hook",  # the tester's: the scheme in capitals
        "Json://127.0.0.1:9/hook?method=POST",  # a default spelt out
        "json://127.0.0.1:9/hook?wait=0.5&method=POST",  # two, in another order
    ],
)
def test_spellings_of_one_destination_are_one(other: str) -> None:
    assert same_destination(other, ["ntfy://ntfy.example/tin", HOOK]) == HOOK


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("json://127.0.0.1:9/hook/", HOOK),  # a web server may route /hook/ apart from /hook
        ("json://127.0.0.1:9/hook?format=text", HOOK),  # another option: another destination
        ("json://127.0.0.1:9/other", HOOK),
        ("ntfy://ntfy.example/an-ninh", "ntfy://ntfy.example/kien-thuy"),  # url_id() is one
        ("mailto://u:p@mail.example?to=a@b.vn", "mailto://u:p@mail.example?to=c@b.vn"),
        ("discord://123/abc", "discord://123/abd"),
    ],
)
def test_other_destinations_stay_apart(url: str, known: str) -> None:
    assert same_destination(url, [known]) is None


@pytest.mark.parametrize("channel", ["apprise", "zalo"])
@pytest.mark.parametrize("pad", [" ", "\t", " \n", "\u00a0"])
def test_spaces_around_a_pasted_address_are_dropped(channel: str, pad: str) -> None:
    address = HOOK if channel == "apprise" else "a1b2c3d4e5"
    spec = recipient_spec(channel, None, None, f"{pad}{address}{pad}")
    assert spec.address == address


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def topics(db: Database) -> None:
    with db.write() as conn:
        for slug, title, query in (
            ("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'),
            ("cong-an", "Công an", '"công an"'),
            ("trom-cap", "Trộm cắp", '"trộm cắp"'),
        ):
            save_topic(conn, TopicSpec(slug, title, query), "cli", datetime.now(UTC))


@pytest.mark.usefixtures("topics")
async def test_one_article_reaches_a_destination_once_whatever_the_spellings(
    db: Database, receiver: Receiver
) -> None:
    url = receiver.url("hook")
    spellings = {
        "kien-thuy": url,
        "cong-an": " " + url.replace("json://", "JSON://") + " ",  # pasted with spaces
        "trom-cap": url + "?method=POST",
    }
    created = [
        ops.add_subscription(
            db, None, None, topic=slug, query=None, channel="apprise", address=spelt
        )
        for slug, spelt in spellings.items()
    ]
    assert all(was_new for _, was_new in created)  # three subscriptions…
    assert len({sub.chat_id for sub, _ in created}) == 1  # …of one recipient
    publish(db, 1)  # "Công an Kiến Thụy bắt đối tượng trộm cắp số 1": all three topics
    await dispatch(db, AppriseChannel(VN), done)
    assert [s for s, _, _ in rows(db)] == ["sent"]
    assert len(receiver.at("hook")) == 1


@pytest.mark.usefixtures("topics")
async def test_another_path_or_option_is_another_recipient(
    db: Database, receiver: Receiver
) -> None:
    urls = [receiver.url("hook"), receiver.url("hook") + "/", receiver.url("hook") + "?format=text"]
    for url in urls:
        ops.add_subscription(db, None, None, topic="kien-thuy", query=None, channel="apprise",
                             address=url)  # fmt: skip
    with db.read() as conn:
        assert len({s.chat_id for s in list_subscriptions(conn, channel="apprise")}) == 3


def test_a_plugin_that_cannot_say_its_url_is_compared_by_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reviewer's: one stored URL whose plugin raised in ``url()`` would have failed every
    new subscription."""
    import feedsvc.channels.apprise_urls as module

    class Broken:
        def url(self, privacy: bool) -> str:
            raise RuntimeError("plugin bug")

    real = module.plugin_for
    monkeypatch.setattr(
        module, "plugin_for", lambda url: Broken() if "broken" in url else real(url)
    )
    assert same_destination(HOOK, ["json://127.0.0.1:9/broken", HOOK]) == HOOK
    assert same_destination("json://127.0.0.1:9/broken", [HOOK]) is None


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("json://LOCALHOST:9/hook", "json://localhost:9/hook"),  # a tester's
        ("json://LocalHost:80/hook", "json://localhost/hook"),  # and the default port spelt
        ("jsons://Example.COM:443/hook", "jsons://example.com/hook"),
        ("xml://User:PW@HOST.example:8080/x", "xml://User:PW@host.example:8080/x"),
        ("mailto://u:p@Mail.Example?to=a@b.vn", "mailto://u:p@mail.example?to=a@b.vn"),
    ],
)
def test_a_host_name_in_any_case_is_one_destination(url: str, known: str) -> None:
    """DNS reads a host name in any case (RFC 3986 §3.2.2): where every URL form of the
    service puts a host there (Apprise's ``templates``), ``LOCALHOST`` is ``localhost``."""
    assert same_destination(url, ["ntfy://ntfy.example/tin", known]) == known


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("tgram://123456789:ABCdefGHI/12345", "tgram://123456789:abcdefghi/12345"),  # a token
        ("ntfy://Tin-Nong", "ntfy://tin-nong"),  # a topic where ntfy.sh's host is implied
        ("slack://TokenA/TokenB/TokenC", "slack://tokena/TokenB/TokenC"),
        ("json://u:PW@localhost:9/hook", "json://u:pw@localhost:9/hook"),  # a password
        ("json://localhost:9/Hook", "json://localhost:9/hook"),  # a path: the server's to read
        ("ntfy://ntfy.example.com/Tin", "ntfy://ntfy.example.com/tin"),  # a topic, in a path
        ("ntfys://u:p@ntfy.example.com/Tin", "ntfys://u:p@ntfy.example.com/tin"),
        # ntfy.sh's topics where a host would stand: two topic sets, not one (a verifier's)
        ("ntfy://Breaking/News?mode=cloud", "ntfy://BREAKING/News?mode=cloud"),
        ("ntfy://Breaking/News", "ntfy://BREAKING/News"),
    ],
)
def test_case_that_may_be_a_secrets_stays_apart(url: str, known: str) -> None:
    assert same_destination(url, [known]) is None


@pytest.mark.usefixtures("topics")
async def test_a_host_in_capitals_reaches_the_destination_once(
    db: Database, receiver: Receiver
) -> None:
    url = receiver.url("hook").replace("127.0.0.1", "localhost")
    for slug, spelt in (("kien-thuy", url), ("cong-an", url.replace("localhost", "LOCALHOST")),
                        ("trom-cap", url.replace("localhost", "LocalHost"))):  # fmt: skip
        ops.add_subscription(db, None, None, topic=slug, query=None, channel="apprise",
                             address=spelt)  # fmt: skip
    with db.read() as conn:
        assert len({s.chat_id for s in list_subscriptions(conn, channel="apprise")}) == 1
    publish(db, 1)  # all three topics
    await dispatch(db, AppriseChannel(VN), done)
    assert [s for s, _, _ in rows(db)] == ["sent"]
    assert len(receiver.at("hook")) == 1
