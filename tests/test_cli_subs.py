"""`feedsvc subs list|add|remove`: the bot's subscription rules, from the shell, with exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feedsvc.cli import cli
from feedsvc.recipient_names import mask

Run = Callable[..., Result]


def with_topic(directory: Path) -> Run:
    """The CLI on a state DB in ``directory`` holding the topic ``kien-thuy``."""
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{directory / 'state.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
    }
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), env=env)

    invoke("topics", "add", "kien-thuy", "--title", "Kiến Thụy", "--query", '"Kiến Thụy"')
    return invoke


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return with_topic(tmp_path)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``run``'s state DB, one for the module's refusals (each case migrated its own): a
    refused recipient stores nothing, which each case checks (``subs list`` prints no line),
    so none depends on another."""
    return with_topic(tmp_path_factory.mktemp("subs"))


def test_add_list_remove(run: Run) -> None:
    ok = run("subs", "add", "42", "--type", "private", "--topic", "kien-thuy")
    assert ok.exit_code == 0, ok.output
    assert ok.output == "1\t42\ttelegram\t42\ttopic kien-thuy\tadded\n"
    again = run("subs", "add", "42", "--type", "private", "--topic", "kien-thuy")
    assert again.exit_code == 0 and "already subscribed" in again.output
    group = run("subs", "add", "-1001234567890", "--type", "supergroup", "--query", " công  an ")
    assert group.exit_code == 0 and "query công an" in group.output

    assert run("subs", "list").output.splitlines() == [
        "2\t-1001234567890\ttelegram\t-1001234567890\tquery công an",
        "1\t42\ttelegram\t42\ttopic kien-thuy",
    ]
    assert run("subs", "list", "--chat", "42").output.splitlines() == [
        "1\t42\ttelegram\t42\ttopic kien-thuy"
    ]
    assert run("subs", "list", "--chat", "-1001234567890").output.splitlines() == [
        "2\t-1001234567890\ttelegram\t-1001234567890\tquery công an"
    ]

    removed = run("subs", "remove", "1")
    assert removed.exit_code == 0 and "removed" in removed.output
    missing = run("subs", "remove", "1")
    assert missing.exit_code == 1 and "unknown subscription 1" in missing.output
    assert run("subs", "list", "--chat", "42").stdout == ""  # stderr says none matches


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--type", "private", "--query", '"công'), "unterminated"),
        (("--type", "private"), "exactly one"),
        (("--type", "private", "--topic", "kien-thuy", "--query", "x"), "exactly one"),
        (("--type", "bot", "--topic", "kien-thuy"), "Invalid value"),
    ],
)
def test_add_rejects_with_exit_2(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run("subs", "add", "42", *args)
    assert result.exit_code == 2
    assert message in result.output


TYPES = "(private, group, supergroup, channel)"


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (("42", "--topic", "kien-thuy"), f"--type missing {TYPES}"),
        (("-1001234567890", "--query", "x"), f"--type missing {TYPES}"),
        (("--type", "private", "--topic", "kien-thuy"), "CHAT_ID missing"),
        (("--topic", "kien-thuy"), f"CHAT_ID and --type missing {TYPES}"),
    ],
)
def test_a_telegram_add_names_what_is_missing(
    run: Run, args: tuple[str, ...], missing: str
) -> None:
    """`subs add 12 --topic t1` said "telegram needs CHAT_ID and --type" with CHAT_ID given."""
    result = run("subs", "add", *args)
    assert result.exit_code == 2
    assert result.output == f"feedsvc: telegram needs CHAT_ID and --type: {missing}\n"


def test_an_unknown_or_disabled_topic_is_not_found_exit_1(run: Run) -> None:
    """Exit 1 as `render` and `topics enable` give for a name not in the state DB (was 2);
    tests/test_cli_exit_codes.py checks every command."""
    result = run("subs", "add", "42", "--type", "private", "--topic", "nope")
    assert result.exit_code == 1 and "unknown topic 'nope'" in result.output
    run("topics", "disable", "kien-thuy")
    result = run("subs", "add", "42", "--type", "private", "--topic", "kien-thuy")
    assert result.exit_code == 1 and "disabled topic" in result.output


def test_the_cli_offers_exactly_the_chat_types_operations_accept() -> None:
    from feedsvc import operations
    from feedsvc.channels import CHANNELS
    from feedsvc.channels.recipients import TELEGRAM_TYPES
    from feedsvc.cli import subs as cli_subs

    assert cli_subs.CHAT_TYPES == operations.CHAT_TYPES == TELEGRAM_TYPES
    assert cli_subs.CHANNELS == CHANNELS


HOOK = "json://hook-user:s3cret-Pa55word@127.0.0.1:9/deliver/TOKEN-abcdef123456"


def test_apprise_and_zalo_recipients(run: Run) -> None:
    ok = run("subs", "add", "--channel", "apprise", "--to", HOOK, "--topic", "kien-thuy")
    assert ok.exit_code == 0, ok.output
    sub_id, chat_id, channel, shown, what, added = ok.output.rstrip("\n").split("\t")
    assert (sub_id, channel, what, added) == ("1", "apprise", "topic kien-thuy", "added")
    assert int(chat_id) == 2**52 and shown.startswith("json://***#")  # exact as a double
    again = run("subs", "add", "--channel", "apprise", "--to", HOOK, "--topic", "kien-thuy")
    assert again.exit_code == 0 and "already subscribed" in again.output
    zalo = run("subs", "add", "--channel", "zalo", "--to", "a1b2c3d4", "--query", "công an")
    assert zalo.exit_code == 0 and "\tzalo\ta1b2c3d4\tquery công an\t" in zalo.output
    tg = run("subs", "add", "42", "--type", "private", "--topic", "kien-thuy")
    assert tg.exit_code == 0
    listed = run("subs", "list").output
    assert HOOK not in listed and "s3cret-Pa55word" not in listed and "TOKEN-abcdef" not in listed
    assert [line.split("\t")[2] for line in listed.splitlines()] == ["telegram", "apprise", "zalo"]
    only = run("subs", "list", "--channel", "apprise").output.splitlines()
    assert len(only) == 1 and only[0].split("\t")[3] == shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--channel", "apprise", "--to", "notaurl://x", "--topic", "kien-thuy"), "Apprise"),
        (("--channel", "apprise", "--to", "json://" + "a" * 2100, "--topic", "kien-thuy"),
         "Apprise"),
        (("--channel", "apprise", "--topic", "kien-thuy"), "needs --to"),
        # a port no TCP port has: Apprise took it, and it failed only at the first send
        *[
            (("--channel", "apprise", "--to", url, "--topic", "kien-thuy"), "Apprise")
            for url in (
                "json://127.0.0.1:99999/x",
                "json://127.0.0.1:0/x",
                "jsons://hook.example:65536",
                "json://[::1]:70000/x",
                "mailto://user:pass@mail.example:123456",
                # an IPv6 bracket left open or stray: urlsplit's ValueError, a traceback
                "json://[::1",
                "json://user:pw@[::1/x",
                "json://a]b/x",
            )
        ],
        (("--channel", "zalo", "--to", "a b", "--topic", "kien-thuy"), "Zalo chat id"),
        (("--channel", "zalo", "--to", "z1", "--type", "channel", "--topic", "kien-thuy"),
         "chat_type"),
        (("--channel", "sms", "--to", "x", "--topic", "kien-thuy"), "Invalid value"),
        (("--topic", "kien-thuy"), "telegram needs"),
        # no Telegram chat has id 0, however it is written
        (("0", "--type", "private", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "-0", "--type", "private", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "000", "--type", "group", "--topic", "kien-thuy"), "not a Telegram chat id"),
        # ASCII digits only: int() reads these, "--5" passed the old check and crashed int()
        (("--to", "１２３", "--type", "private", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "-١٠٠١", "--type", "group", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "--5", "--type", "group", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "+42", "--type", "private", "--topic", "kien-thuy"), "not a Telegram chat id"),
        (("--to", "4_2", "--type", "private", "--topic", "kien-thuy"), "not a Telegram chat id"),
        # 52 significant bits at most (Bot API Chat.id): from 2**52 up are other channels' ids
        (("4503599627370496", "--type", "private", "--topic", "kien-thuy"), "not a Telegram"),
        (("--to", "-4503599627370496", "--type", "supergroup", "--topic", "kien-thuy"), "not a"),
        (("４２", "--type", "private", "--topic", "kien-thuy"), "Invalid value for '[CHAT_ID]'"),
        (("-１００１", "--type", "group", "--topic", "kien-thuy"), "Invalid value for '[CHAT_ID]'"),
        # CHAT_ID and --to naming two chats: --to was dropped without a word
        (("42", "--type", "private", "--to", "x", "--topic", "kien-thuy"), "not two different"),
        (("-1001", "--type", "group", "--to", "-1002", "--topic", "kien-thuy"), "not two"),
        (("42", "--type", "private", "--to", "", "--topic", "kien-thuy"), "not two different"),
    ],
)  # fmt: skip
def test_bad_recipients_exit_2(refusing: Run, args: tuple[str, ...], message: str) -> None:
    result = refusing("subs", "add", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "notaurl" not in result.output and "aaaaaaaa" not in result.output
    assert refusing("subs", "list").stdout == ""  # nothing stored: the next case's DB is clean


def test_the_same_chat_as_chat_id_and_address_is_one_recipient(run: Run) -> None:
    args = ("-1001", "--type", "group", "--to", " -1001 ", "--topic", "kien-thuy")
    result = run("subs", "add", *args)
    assert result.exit_code == 0, result.output
    assert run("subs", "list", "--chat=-1001").output.count("kien-thuy") == 1


def test_a_query_expanding_past_the_cap_is_refused(run: Run) -> None:
    for k in range(3):
        aliases = " OR ".join(f'"xã {k} {n}"' for n in range(1, 91))
        assert run("topics", "add", f"xa{k}", "--title", "Xã", "--query", aliases).exit_code == 0
    result = run("subs", "add", "42", "--type", "private", "--query", "@xa0 @xa1 @xa2")
    assert result.exit_code == 2
    assert "expands to 270 terms" in result.output and "at most 200" in result.output
    assert run("subs", "list").stdout == ""  # stderr says none is stored


def test_status_words_a_chats_switch_off_reason(run: Run, tmp_path: Path) -> None:
    """A stored reason is a code (+ the channel's words): ``feedsvc status`` words it."""
    from feedsvc.catalogue.reasons import stored_reason
    from feedsvc.db import Database
    from feedsvc.store import subscriptions as subs

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    with db.write() as conn:
        subs.ensure_chat(conn, -77, "group", "Nhóm", db.now())
        subs.subscribe(conn, -77, topic_id=None, query="mưa", now=db.now())
        subs.disable_chat(conn, -77, stored_reason("blocked", "Forbidden: bot was kicked"))
    db.dispose()
    out = run("status")
    assert out.exit_code == 0, out.output
    assert "-77 (the channel refused messages several times in a row" in out.output
    assert "(Forbidden: bot was kicked)" in out.output and "blocked|" not in out.output


def test_a_list_of_none_says_so_on_stderr(run: Run, tmp_path: Path) -> None:
    """`subs list` with nothing to list printed nothing, exit 0: an empty state DB, a filter
    that matches none and the wrong DB looked alike. It says which, on stderr; stdout empty."""
    db = (tmp_path / "state.db").resolve()  # the file, not its URL (db.urls.shown_db)
    none = run("subs", "list")
    assert none.exit_code == 0 and none.stdout == "", none.output
    assert none.stderr == f"feedsvc: no subscription is stored in the state DB {db}\n"
    assert run("subs", "add", "42", "--type", "private", "--topic", "kien-thuy").exit_code == 0
    other = run("subs", "list", "--channel", "zalo", "--chat", "42")
    assert other.exit_code == 0 and other.stdout == "", other.output
    assert other.stderr == (
        f"feedsvc: no subscription matches (--chat 42 --channel zalo) in the state DB {db}\n"
    )
    listed = run("subs", "list")
    assert "kien-thuy" in listed.stdout and listed.stderr == "", listed.output


def test_a_listed_chat_that_receives_no_alerts_is_said_on_stderr(run: Run, tmp_path: Path) -> None:
    """`subs list` showed a switched-off chat's subscriptions as any other: an operator read
    them as live (only `feedsvc status` said why nothing went). Each listed chat that receives
    nothing now is named on stderr, with why (switched off, paused, a 429 pause); stdout's
    lines keep their columns, and an unlisted chat is not named."""
    from datetime import timedelta

    from feedsvc.catalogue.reasons import stored_reason
    from feedsvc.db import Database
    from feedsvc.store import subscriptions as subs
    from feedsvc.store.claims import block_chat_until

    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    with db.write() as conn:
        for chat in (-77, 42, 43, 44):
            subs.ensure_chat(conn, chat, "group" if chat < 0 else "private", None, db.now())
            subs.subscribe(conn, chat, topic_id=None, query="mưa", now=db.now())
        subs.disable_chat(conn, -77, stored_reason("blocked", "Forbidden: bot was kicked"))
        subs.set_paused(conn, 43, True)
        block_chat_until(conn, 44, db.now() + timedelta(minutes=5))
    db.dispose()
    hook = run("subs", "add", "--channel", "apprise", "--to", HOOK, "--topic", "kien-thuy")
    apprise_id = int(hook.output.split("\t")[1])
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    with db.write() as conn:
        subs.disable_chat(conn, apprise_id, stored_reason("blocked", "HTTP 403: Forbidden"))
    db.dispose()
    listed = run("subs", "list", "--channel", "apprise")
    assert listed.stderr.startswith(  # named by its URL, masked: never feedsvc's own number
        f"feedsvc: apprise chat {mask(HOOK)} receives no alerts now: the destination refused"
    ), listed.stderr
    assert str(apprise_id) not in listed.stderr
    run("subs", "remove", hook.output.split("\t")[0])
    listed = run("subs", "list")
    assert listed.exit_code == 0, listed.output
    assert [line.count("\t") for line in listed.stdout.splitlines()] == [4, 4, 4, 4]
    notes = listed.stderr.splitlines()
    assert notes[0].startswith(
        "feedsvc: telegram chat -77 receives no alerts now: the channel refused messages "
        "several times"
    ), notes
    assert "(Forbidden: bot was kicked)" in notes[0] and "blocked|" not in notes[0]
    assert notes[1] == "feedsvc: telegram chat 43 receives no alerts now: paused"
    assert notes[2].startswith("feedsvc: telegram chat 44 receives no alerts now: 429 until ")
    assert notes[2].endswith("+07:00") and len(notes) == 3
    paused = run("subs", "list", "--chat", "43")
    assert paused.stderr == "feedsvc: telegram chat 43 receives no alerts now: paused\n"
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    with db.write() as conn:  # an empty reason is still off (delivery asks IS NULL)
        subs.disable_chat(conn, 43, "")
        subs.set_paused(conn, 43, False)
    db.dispose()
    empty = run("subs", "list", "--chat", "43")
    assert empty.stderr == "feedsvc: telegram chat 43 receives no alerts now: switched off\n"
    one = run("subs", "list", "--chat", "42")
    assert one.exit_code == 0 and one.stderr == "" and one.stdout.count("\n") == 1


def _fresh(tmp_path: Path, topics_file: Path) -> Run:
    """A state DB with no topic, ``topics.file`` at ``topics_file``."""
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TOPICS__FILE": str(topics_file),
    }
    return lambda *args: CliRunner().invoke(cli, list(args), env=env)


APPRISE = ("subs", "add", "--channel", "apprise", "--to", "json://127.0.0.1:9/x", "--topic")


def test_a_topic_the_topics_file_lists_but_never_imported_is_told_how_to_import(
    tmp_path: Path,
) -> None:
    """Tester: on a fresh DB `subs add … --topic an-ninh` said only "unknown topic 'an-ninh'"
    while the topics file listed it (applied only by a start or `topics import`)."""
    from feedsvc.cli.common import command_name

    listed = tmp_path / "topics.toml"
    listed.write_text('[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = "\\"an ninh\\""\n')
    run = _fresh(tmp_path, listed)
    command = command_name()
    result = run(*APPRISE, "an-ninh")
    assert result.exit_code == 1
    assert result.output == (
        f"feedsvc: unknown topic 'an-ninh'. It is in the topics file {listed} but not imported "
        f"yet: run `{command} topics import` (or start the service).\n"
    )
    result = run(*APPRISE, "khac")  # not in the file either: the DB is empty, said so
    assert result.exit_code == 1
    assert result.output == (
        "feedsvc: unknown topic 'khac'. The state DB has no topics yet: add one with "
        f"`{command} topics add SLUG --title T --query Q`, or import a topics file: "
        f"`{command} topics import FILE`.\n"
    )
    assert run("topics", "import").exit_code == 0
    assert run(*APPRISE, "an-ninh").exit_code == 0
    result = run(*APPRISE, "khac")  # topics there, the file does not list it: no hint
    assert (result.exit_code, result.output) == (1, "feedsvc: unknown topic 'khac'\n")


@pytest.mark.parametrize("kind", ["directory", "not toml", "missing"])
def test_a_topics_file_that_cannot_be_read_gives_no_hint_and_no_failure(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "topics.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "not toml":
        path.write_bytes(b"\xff[[topic\n")
    run = _fresh(tmp_path, path)
    assert run("topics", "add", "khac", "--title", "Khác", "--query", "khác").exit_code == 0
    result = run(*APPRISE, "an-ninh")
    assert (result.exit_code, result.output) == (1, "feedsvc: unknown topic 'an-ninh'\n")
