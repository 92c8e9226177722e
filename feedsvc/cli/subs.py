"""``feedsvc subs list|add|remove``: chat subscriptions from the shell.

The rules (enabled topics only, queries parsed, limits, idempotence) are those of the bot and
the API, in :mod:`feedsvc.operations`; this module only parses arguments and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import EXIT_USAGE, config_option, fail, run_operation

if TYPE_CHECKING:
    from feedsvc.db import Database
    from feedsvc.store import subscriptions as store

#: The chat types operations.add_subscription accepts (kept here too so that parsing the
#: command line imports nothing heavy; tests/test_cli_subs.py checks the two agree).
CHAT_TYPES = ("private", "group", "supergroup", "channel")


def _line(sub: store.Subscription) -> str:
    what = f"topic {sub.topic_slug}" if sub.topic_slug else f"query {sub.query}"
    return f"{sub.id}\t{sub.chat_id}\t{what}"


@click.group()
def subs() -> None:
    """Manage chat subscriptions (what the bot's /sub and /unsub do)."""


@subs.command("list")
@click.option("--chat", "chat_id", type=int, default=None, help="Only this chat.")
@config_option
def list_cmd(chat_id: int | None, config_file: str | None) -> None:
    """List subscriptions: id, chat, topic or query."""
    from feedsvc.store import subscriptions as store

    def action(db: Database) -> list[store.Subscription]:
        with db.read() as conn:
            return store.list_subscriptions(conn, chat_id)

    for sub in run_operation(action, config_file, write=False):
        click.echo(_line(sub))


@subs.command("add", context_settings={"ignore_unknown_options": True})  # CHAT_ID may be < 0
@click.argument("chat_id", type=int)
@click.option(
    "--type", "chat_type", type=click.Choice(CHAT_TYPES), required=True, help="Chat type."
)
@click.option("--topic", default=None, help="An enabled topic's slug.")
@click.option("--query", default=None, help="The chat's own query.")
@config_option
def add(
    chat_id: int, chat_type: str, topic: str | None, query: str | None, config_file: str | None
) -> None:
    """Subscribe CHAT_ID to a topic (--topic) or a query (--query); exactly one of them."""
    from feedsvc import operations as ops

    if (topic is None) == (query is None):
        fail("give exactly one of --topic or --query", EXIT_USAGE)
    sub, created = run_operation(
        lambda db: ops.add_subscription(db, chat_id, chat_type, topic=topic, query=query),
        config_file,
    )
    click.echo(f"{_line(sub)}\t{'added' if created else 'already subscribed'}")


@subs.command("remove")
@click.argument("sub_id", type=int)
@config_option
def remove(sub_id: int, config_file: str | None) -> None:
    """Delete subscription SUB_ID (see `feedsvc subs list`)."""
    from feedsvc import operations as ops

    sub = run_operation(lambda db: ops.remove_subscription(db, sub_id), config_file)
    click.echo(f"{_line(sub)}\tremoved")
