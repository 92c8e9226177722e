"""``feedsvc articles hide|unhide|find``: an editor takes an article down (SPEC §10).

The rules are :mod:`feedsvc.lifecycle.editors`' (shared with the API and the web admin); this
module parses arguments (a key as :func:`~feedsvc.cli.common.cell` printed it, read back by
:data:`~feedsvc.cli.params.SHOWN`) and prints. Exit codes: 0 done (``find`` finding none
too, said on stderr), 1 unknown article, 2 bad input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import (
    CELL_CHARS,
    EXIT_USAGE,
    cell,
    fail,
    run_operation,
    run_with_settings,
)
from feedsvc.cli.params import SHOWN, Int, config_option

if TYPE_CHECKING:
    from feedsvc.db import Database
    from feedsvc.operations import OperationError
    from feedsvc.store.lifecycle import EditorState


#: the state of a hide recorded for a key ingest has not stored yet (``articles hide`` of it)
PENDING = "hidden (waiting for ingest)"


def _line(a: EditorState) -> str:
    """``source_key  state  published (UTC)  title  [reason]``, tab-separated, one line: the
    key (a CMS's), title and reason are free text (:func:`~feedsvc.cli.common.cell`). A
    pending hide's state is :data:`PENDING`, its time ``-`` when no table here holds the key
    (an external CMS's)."""
    from datetime import UTC, datetime

    state = PENDING if a.pending else a.visibility(datetime.now(UTC)).value
    why = a.hidden_reason if a.hidden_at else a.withdrawn_reason if a.withdrawn_at else None
    when = "-" if a.published_at is None else a.published_at.astimezone(UTC)
    when = when if isinstance(when, str) else when.strftime("%Y-%m-%dT%H:%MZ")
    texts = [cell(a.title, CELL_CHARS), *([cell(why, CELL_CHARS)] if why else [])]
    return "\t".join([cell(a.source_key, exact=True), state, when, *texts])


@click.group()
def articles() -> None:
    r"""Hide and unhide stored articles (takedowns), and find them.

    A key (or TEXT) is read as these commands print it, so a printed key can be pasted back:
    \u202e stands for U+202E, \n for a line break, \\ for one backslash; any other
    backslash is itself (a key printed K\\u202e holds those six characters)."""


@articles.command("hide")
@click.argument("source_key", type=SHOWN)
@click.option("--reason", default=None, help="Why (shown to editors, e.g. a legal notice).")
@click.option(
    "--pending",
    is_flag=True,
    help="Record the hide even though feedsvc knows no such key yet (an external CMS's "
    "article it has not read): ingest applies it when it stores the article.",
)
@config_option
def hide(source_key: str, reason: str | None, pending: bool, config_file: str | None) -> None:
    """Hide SOURCE_KEY from every feed and alert until `unhide`, whatever the source says. A key
    imported but not ingested yet (or any key, with --pending) is hidden ahead: the article
    arrives hidden, never public, never alerted."""
    from feedsvc.lifecycle.editors import hide_article
    from feedsvc.operations.errors import OperationError

    def work(db: Database) -> EditorState:
        try:
            return hide_article(db, source_key, reason, "cli", pending=pending)
        except OperationError as exc:  # feedsvc cannot tell a typo from a key not read yet
            if exc.code != "article_not_found":
                raise
            hint = f"{exc.message} (not read from the source yet? --pending hides it ahead)"
            raise OperationError(exc.kind, hint, code=exc.code, params=exc.params) from None

    found = run_operation(work, config_file)
    click.echo(_line(found))
    if found.pending:
        from feedsvc.catalogue import ENGLISH

        key = cell(found.source_key, exact=True)
        click.echo(f"feedsvc: {ENGLISH('hide_pending', key=key)}", err=True)


@articles.command("unhide")
@click.argument("source_key", type=SHOWN)
@config_option
def unhide(source_key: str, config_file: str | None) -> None:
    """Show SOURCE_KEY again (unless the source itself withdrew it). One hidden since before
    its scheduled time alerts its subscribers now, as at its time; any other does not. A hide
    of a key not ingested yet is cancelled (said on stderr, no row: there is no article)."""
    from feedsvc.lifecycle.editors import unhide_article
    from feedsvc.lifecycle.hooks import release_hooks

    found = run_with_settings(
        lambda db, settings: unhide_article(db, source_key, release_hooks(settings)), config_file
    )
    if not found.ingested:
        from feedsvc.catalogue import ENGLISH

        said = ENGLISH("hide_pending_cancelled", key=cell(found.source_key, exact=True))
        click.echo(f"feedsvc: {said}", err=True)
    else:
        click.echo(_line(found))
        if found.released:
            said = "public for the first time: its subscribers are alerted now, as at its time"
            click.echo(f"feedsvc: {cell(found.source_key, exact=True)}: {said}", err=True)


@articles.command("find")
@click.argument("text", default="", type=SHOWN)
@click.option("--limit", type=Int(1, 200), default=20, show_default=True)
@config_option
def find(text: str, limit: int, config_file: str | None) -> None:
    """Articles whose key is TEXT or whose title contains it (newest first), with their state.
    Finding none says so on stderr (exit 0: a search that finds nothing did its work)."""
    from feedsvc.catalogue import ENGLISH
    from feedsvc.lifecycle.editors import find_articles, search_problem, waiting_problem

    if (problem := search_problem(text)) is not None:  # named as the argument, not the web's q
        fail(ENGLISH(f"op.{problem.code}", **{**problem.params, "field": "TEXT"}), EXIT_USAGE)

    def work(db: Database) -> tuple[list[EditorState], OperationError | None]:
        found = find_articles(db, text, limit)
        return found, (waiting_problem(db, text) if not found and text else None)

    found, waiting = run_operation(work, config_file, write=False)
    for article in found:
        click.echo(_line(article))
    if not found:  # it printed nothing at all: a typo and an empty DB looked alike
        said = ENGLISH("cli.find_none", text=f'"{cell(text, exact=True)}"') if text else None
        if waiting is not None:  # imported, not ingested yet: not a typo
            said = waiting.message
        click.echo(f"feedsvc: {said or ENGLISH('cli.find_none_stored')}", err=True)
