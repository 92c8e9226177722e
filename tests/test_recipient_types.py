"""A Telegram chat id and its type must agree, on every admin surface (defects §5).

``feedsvc subs add 5 --type supergroup`` was accepted: private chats have positive ids, basic
groups negative ones above -10**12, supergroups and channels "-100…" ids below it. One rule
(:func:`feedsvc.channels.recipients.telegram_type_fits`, inside ``recipient_spec``) serves the
CLI, the API and the admin (all through ``operations.add_subscription``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from migrated import premigrated

from feedsvc.app import Roles, Service, create_app
from feedsvc.channels.recipients import CHANNEL_ID_BASE, telegram_type_fits
from feedsvc.cli import cli
from feedsvc.config import load_config

SUPERGROUP = -1001234567890
WRONG = [  # (chat id, type): refused
    (5, "supergroup"), (5, "channel"), (5, "group"), (-5, "private"), (-5, "supergroup"),
    (-5, "channel"), (SUPERGROUP, "private"), (SUPERGROUP, "group"),
    (-100123, "supergroup"),  # "starts with -100" but a basic group's id (-100,123)
    (CHANNEL_ID_BASE, "group"), (CHANNEL_ID_BASE, "supergroup"),  # neither space holds it
]  # fmt: skip
RIGHT = [
    (5, "private"), (2**52 - 1, "private"), (-5, "group"), (-999_999_999_999, "group"),
    (SUPERGROUP, "supergroup"), (SUPERGROUP, "channel"), (CHANNEL_ID_BASE - 1, "channel"),
]  # fmt: skip


@pytest.mark.parametrize(("chat_id", "chat_type"), WRONG)
def test_the_rule_refuses(chat_id: int, chat_type: str) -> None:
    assert not telegram_type_fits(chat_id, chat_type)


@pytest.mark.parametrize(("chat_id", "chat_type"), RIGHT)
def test_the_rule_accepts(chat_id: int, chat_type: str) -> None:
    assert telegram_type_fits(chat_id, chat_type)


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", "adm-types-0123456789abcdef")
    url = premigrated(f"sqlite:///{tmp_path / 's.db'}")
    settings = load_config(None, {"database": {"url": url},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    yield service
    service.close()


def cli_run(service: Service, *args: str) -> object:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize(("chat_id", "chat_type"), WRONG)
def test_cli_refuses_a_mismatch(service: Service, chat_id: int, chat_type: str) -> None:
    cli_run(service, "topics", "add", "an-ninh", "--title", "An ninh", "--query", '"an ninh"')
    refused = cli_run(service, "subs", "add", str(chat_id), "--type", chat_type,
                      "--topic", "an-ninh")  # fmt: skip
    assert refused.exit_code == 2, refused.output  # type: ignore[attr-defined]
    assert f"{chat_id} cannot be the id of a {chat_type} chat" in refused.output  # type: ignore[attr-defined]
    assert cli_run(service, "subs", "list").stdout == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(("chat_id", "chat_type"), RIGHT)
def test_cli_accepts_a_match(service: Service, chat_id: int, chat_type: str) -> None:
    cli_run(service, "topics", "add", "an-ninh", "--title", "An ninh", "--query", '"an ninh"')
    done = cli_run(service, "subs", "add", str(chat_id), "--type", chat_type, "--topic", "an-ninh")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://test",
        headers={"Authorization": "Bearer adm-types-0123456789abcdef"},
    ) as c:
        yield c


@pytest.mark.parametrize(("chat_id", "chat_type"), WRONG[:4])
async def test_api_refuses_a_mismatch(
    client: httpx.AsyncClient, chat_id: int, chat_type: str
) -> None:
    for body in ({"chat_id": chat_id}, {"channel": "telegram", "address": str(chat_id)}):
        answer = await client.post(
            "/api/subscriptions",
            headers={"Accept-Language": "vi"},
            json=body | {"chat_type": chat_type, "query": "an ninh"},
        )
        assert answer.status_code == 422, answer.text
        data = answer.json()
        assert (data["code"], data["field"]) == ("chat_id_type_mismatch", "chat_type")
        assert (
            data["message"].startswith(f"{chat_id} không thể là mã") and "-100" in data["message"]
        )
    assert (await client.get("/api/subscriptions")).json()["subscriptions"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["5", "--type", "destination"],
         "a Telegram chat_type is 'private', 'group', 'supergroup' or 'channel'"),
        (["--channel", "zalo", "--to", "123", "--type", "supergroup"],
         "a Zalo chat_type is 'private' or 'group'"),
        (["--channel", "zalo", "--to", "123", "--type", "destination"],
         "a Zalo chat_type is 'private' or 'group'"),
    ],
)  # fmt: skip
def test_a_type_the_channel_has_not_is_worded(
    service: Service, args: list[str], words: str
) -> None:
    """`subs add 5 --type destination` (a choice --type offers, for Apprise) printed
    "chat_type must be one of ('private', 'group', 'supergroup', 'channel')", a Python tuple
    (found by the `breaker` pass)."""
    cli_run(service, "topics", "add", "an-ninh", "--title", "An ninh", "--query", '"an ninh"')
    refused = cli_run(service, "subs", "add", *args, "--topic", "an-ninh")
    assert refused.exit_code == 2, refused.output  # type: ignore[attr-defined]
    assert refused.output.strip() == f"feedsvc: {words}"  # type: ignore[attr-defined]


#: The real rule, every part of it, in the wording every surface shows (the catalogue's).
RULE_EN = (
    "private chats have positive ids; basic groups negative ones from -1 to -999999999999;"
    " supergroups and channels -100 followed by their own id, 13 or more digits in all, below"
    " -1000000000000 (e.g. -1001234567890)."
)


@pytest.mark.parametrize(
    ("chat_id", "chat_type"),
    [(-100123, "channel"), (-100123, "supergroup"), (-1001, "channel"), (-100, "channel"),
     (-100999999, "channel"), (-5, "channel"), (5, "supergroup"), (-1001234567890, "group"),
     (-1001234567890, "private"), (-999_999_999_999, "supergroup")],
)  # fmt: skip
def test_a_mismatch_gives_the_real_rule(service: Service, chat_id: int, chat_type: str) -> None:
    """`subs add -100123 --type channel` said "supergroups and channels start with -100",
    which -100123 does (newcomer F3): it is a basic group's id; the rule is -100 followed by
    the chat's own id, below -10**12. The CLI's words and the API's are the catalogue's."""
    cli_run(service, "topics", "add", "an-ninh", "--title", "An ninh", "--query", '"an ninh"')
    refused = cli_run(service, "subs", "add", str(chat_id), "--type", chat_type,
                      "--topic", "an-ninh")  # fmt: skip
    assert refused.exit_code == 2, refused.output  # type: ignore[attr-defined]
    said = refused.output.strip()  # type: ignore[attr-defined]
    assert said == f"feedsvc: {chat_id} cannot be the id of a {chat_type} chat: {RULE_EN}"
    assert "start with -100" not in said and "starting with -100" not in said


async def test_the_api_gives_the_real_rule_in_both_languages(client: httpx.AsyncClient) -> None:
    for language, words in (("en", RULE_EN), ("vi", "-100 ghép với mã riêng của nó")):
        answer = await client.post(
            "/api/subscriptions",
            headers={"Accept-Language": language},
            json={"chat_id": -100123, "chat_type": "channel", "query": "an ninh"},
        )
        assert answer.status_code == 422, answer.text
        message = answer.json()["message"]
        assert message.startswith("-100123 ") and words in message, message
        assert "-1001234567890" in message and "-1000000000000" in message


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "apprise", "address": "json://127.0.0.1:9/x", "chat_id": 5},
        {"channel": "zalo", "address": "1234567890123456789", "chat_id": 5},
        {"channel": "zalo", "address": "1234567890123456789", "chat_id": -1001},
    ],
)
async def test_api_refuses_a_chat_id_for_another_channel(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    """A tester's: the chat_id was dropped without a word (201), while `subs add` refuses a
    CHAT_ID for a channel other than Telegram."""
    answer = await client.post(
        "/api/subscriptions", headers={"Accept-Language": "en"}, json=body | {"query": "an ninh"}
    )
    assert answer.status_code == 422, answer.text
    data = answer.json()
    assert (data["code"], data["field"]) == ("chat_id_not_telegram", "chat_id"), data
    assert data["message"].startswith("chat_id is for the Telegram channel"), data
    assert (await client.get("/api/subscriptions")).json()["subscriptions"] == []
