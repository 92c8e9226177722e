"""``feedsvc subs list|add|remove``: chat subscriptions from the shell.

The rules (enabled topics only, queries parsed, limits, idempotence) are those of the bot and
the API, in :mod:`feedsvc.operations`; this module only parses arguments and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import (
    CELL_CHARS,
    EXIT_USAGE,
    cell,
    cli_words,
    command_name,
    fail,
    note,
    run_operation,
    run_with_settings,
)
from feedsvc.cli.params import ID, config_option

if TYPE_CHECKING:
    from feedsvc.channel_modes import Mode
    from feedsvc.cli.pauses import English
    from feedsvc.config import Settings
    from feedsvc.db import Database
    from feedsvc.store import subscriptions as store

#: The chat types operations.add_subscription accepts for Telegram, and the channels (kept here
#: too so that parsing the command line imports nothing heavy; tests/test_cli_subs.py checks
#: they agree).
CHAT_TYPES = ("private", "group", "supergroup", "channel")
CHANNELS = ("telegram", "zalo", "apprise")


def _line(sub: store.Subscription) -> str:
    """``id  chat  channel  address  topic|query``; an Apprise URL only masked."""
    from feedsvc.channels.recipients import shown_address

    what = f"topic {sub.topic_slug}" if sub.topic_slug else f"query {sub.query}"
    address = shown_address(sub.channel, sub.address)
    return f"{sub.id}\t{sub.chat_id}\t{sub.channel}\t{cell(address)}\t{cell(what)}"


@click.group()
def subs() -> None:
    """Manage chat subscriptions (what the bot's /sub and /unsub do)."""


@subs.command("list")
@click.option("--chat", "chat_id", type=ID, default=None, help="Only this chat.")
@click.option("--channel", type=click.Choice(CHANNELS), default=None, help="Only this channel.")
@config_option
def list_cmd(chat_id: int | None, channel: str | None, config_file: str | None) -> None:
    """List subscriptions: id, chat, channel, address (Apprise URLs masked), topic or query.
    A listed chat that receives no alerts now (paused, switched off, a 429 pause) is said on
    stderr, with why."""
    from datetime import UTC, datetime

    from feedsvc.cli.pauses import English, why
    from feedsvc.store import subscriptions as store
    from feedsvc.store.chat_pauses import ChatPause, chat_pauses

    shown = ""
    pauses: list[ChatPause] = []
    english: English | None = None

    def action(db: Database, settings: Settings) -> list[store.Subscription]:
        nonlocal shown, english
        from feedsvc.db.urls import shown_db

        shown = shown_db(settings.database.url)
        english = English(settings.tz)
        with db.read() as conn:
            pauses.extend(chat_pauses(conn, datetime.now(UTC)))
            return store.list_subscriptions(conn, chat_id, channel=channel)

    subscriptions = run_with_settings(action, config_file, write=False)
    for sub in subscriptions:
        click.echo(_line(sub))
    listed = {sub.chat_id for sub in subscriptions}
    for pause in pauses:  # on stderr: the list's lines keep their columns for scripts
        if pause.chat_id in listed and english is not None:
            said = cell(why(pause, english), CELL_CHARS)
            # as operators know it (``zalo chat zb``, an Apprise URL masked), not feedsvc's number
            who = cell(pause.recipient)
            click.echo(f"feedsvc: {who} receives no alerts now: {said}", err=True)
    if not subscriptions:  # nothing printed: an empty state DB and a wrong one looked alike
        from feedsvc.catalogue import ENGLISH

        which = [f"--chat {chat_id}"] if chat_id is not None else []
        which += [f"--channel {channel}"] if channel else []
        said = (
            ENGLISH("cli.subs_none_matching", which=" ".join(which), db=shown)
            if which
            else ENGLISH("cli.subs_none", db=shown)
        )
        note(said)


@subs.command("add", context_settings={"ignore_unknown_options": True})  # CHAT_ID may be < 0
@click.argument("chat_id", type=ID, required=False)
@click.option(
    "--channel", type=click.Choice(CHANNELS), default="telegram", show_default=True,
    help="Where alerts go.",
)  # fmt: skip
@click.option(
    "--to", "address", default=None, metavar="ADDRESS",
    help="The recipient: an Apprise URL (apprise), a Zalo chat id (zalo).",
)  # fmt: skip
@click.option(
    "--type", "chat_type", type=click.Choice([*CHAT_TYPES, "destination"]), default=None,
    help="Chat type (required for telegram).",
)  # fmt: skip
@click.option("--topic", default=None, help="An enabled topic's slug.")
@click.option("--query", default=None, help="The recipient's own query.")
@config_option
def add(
    chat_id: int | None, channel: str, address: str | None, chat_type: str | None,
    topic: str | None, query: str | None, config_file: str | None,
) -> None:  # fmt: skip
    """Subscribe a recipient to a topic (--topic) or a query (--query); exactly one of them.

    Telegram (the default channel): CHAT_ID and --type. Other channels: --channel and --to, e.g.
    `feedsvc subs add --channel apprise --to 'discord://ID/TOKEN' --topic kien-thuy` (quote the
    URL; it is stored as a secret and only ever shown masked).
    """
    from feedsvc import operations as ops

    if (topic is None) == (query is None):
        fail("give exactly one of --topic or --query", EXIT_USAGE)
    if channel == "telegram" and (chat_id is None or chat_type is None) and address is None:
        # Name what is missing: "needs CHAT_ID and --type" read as a bad CHAT_ID when given.
        missing = [name for name, v in (("CHAT_ID", chat_id), ("--type", chat_type)) if v is None]
        types = f" ({', '.join(CHAT_TYPES)})" if chat_type is None else ""
        fail(
            f"telegram needs CHAT_ID and --type: {' and '.join(missing)} missing{types}", EXIT_USAGE
        )
    if channel != "telegram" and (address is None or chat_id is not None):
        fail(f"{channel} needs --to ADDRESS (and no CHAT_ID)", EXIT_USAGE)
    done, modes, words = run_with_settings(
        lambda db, settings: (
            ops.subscribe_recipient(
                db, chat_id, chat_type, topic=topic, query=query, channel=channel,
                address=address, topics_config=settings.topics, command=command_name(),
            ),
            _modes(db, settings),
            cli_words(settings.tz),
        ),
        config_file, secrets=True,  # _warn_if_off reads the channel's token: refused first
    )  # fmt: skip
    said = "added" if done.created else "already subscribed"
    click.echo(f"{_line(done.subscription)}\t{said}")
    # on stderr, as `subs list`'s notes (the line keeps its six columns for scripts): switched
    # back on (an Apprise URL added again), or why it still receives nothing — "already
    # subscribed" alone was all an admin was told
    for sentence in words.subscribed(done):  # bounded: a stored reason is at most 500 chars
        note(cell(sentence))
    _warn_if_not_sending(channel, modes)


def _modes(db: Database, settings: Settings) -> dict[str, Mode]:
    from feedsvc.store.channel_tokens import modes_on

    with db.read() as conn:
        return modes_on(conn, settings)


def _warn_if_not_sending(channel: str, modes: dict[str, Mode]) -> None:
    """A recipient on a channel this configuration cannot send on (no ``zalo.token``; a token
    this DB ran with, unset) is subscribed (the token may come later) but gets nothing until
    then: say so, on stderr."""
    from feedsvc.channel_modes import MISSING_SETTING

    mode, setting = modes.get(channel), MISSING_SETTING.get(channel)
    if mode == "off":
        click.echo(
            f"warning: channel {channel} is not configured ({setting} is not "
            "set): this recipient gets nothing until it is; its alerts end as failed",
            err=True,
        )
    elif mode == "waiting":
        click.echo(
            f"warning: {setting} is not set, but this state DB ran with it: this recipient's "
            "alerts wait until it is set again",
            err=True,
        )


@subs.command("remove")
@click.argument("sub_id", type=ID)
@config_option
def remove(sub_id: int, config_file: str | None) -> None:
    """Delete subscription SUB_ID (see `feedsvc subs list`)."""
    from feedsvc import operations as ops

    sub = run_operation(lambda db: ops.remove_subscription(db, sub_id), config_file)
    click.echo(f"{_line(sub)}\tremoved")
