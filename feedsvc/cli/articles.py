"""``feedsvc articles hide|unhide|find``: an editor takes an article down (SPEC §10).

The rules are :mod:`feedsvc.lifecycle.editors`' (shared with the API and the web admin); this
module parses arguments (a key as printed, :func:`feedsvc.keys.spelled` — NFC as it is, any
other form code point by code point — read back by :data:`~feedsvc.cli.params.SHOWN`) and
prints. Exit codes: 0 done (``find`` finding none
too, said on stderr), 1 unknown article or a key that is the same text as several stored
keys in other Unicode forms (``article_key_ambiguous``: nothing done), 2 bad input. A key
given in another Unicode form than the stored one's acts on the stored one, said on stderr
with its code points (the two look the same), as are stored lookalikes left alone.

A row's time is in ``site.timezone`` with its offset, as every time the CLI prints for people
(``topics preview``, ``source check``): it was UTC (``2026-11-30T03:34Z`` for an article an
editor in Hải Phòng saw published at 10:34). ``--json`` is for scripts: ``find``'s is ``GET
/api/articles``' shape, ``hide``'s and ``unhide``'s the article as ``POST
/api/articles/{key}/hide|unhide`` answer it, times in ISO 8601 UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import (
    CELL_CHARS,
    EXIT_USAGE,
    cell,
    fail,
    note,
    run_with_settings,
)
from feedsvc.cli.params import SHOWN, Int, config_option

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from feedsvc.catalogue import Translator
    from feedsvc.config import Settings
    from feedsvc.db import Database
    from feedsvc.operations import OperationError
    from feedsvc.store.lifecycle import EditorState


#: the state of a hide recorded for a key ingest has not stored yet (``articles hide`` of it)
PENDING = "hidden (waiting for ingest)"


def _words(settings: Settings) -> Translator:
    """How a row's time is written: ``2026-11-30 10:34:07 +07:00``, in ``site.timezone``, to
    the second as every CLI line (:func:`~feedsvc.cli.common.cli_words`)."""
    from feedsvc.cli.common import cli_words

    return cli_words(settings.tz)


def _shown_key(key: str) -> str:
    """A key as every command prints it (:func:`feedsvc.keys.spelled`; imported when used)."""
    from feedsvc.keys import spelled

    return spelled(key)


def _line(a: EditorState, words: Translator) -> str:
    """``source_key  state  published  title  [reason]``, tab-separated, one line: the
    key (a CMS's), title and reason are free text (:func:`~feedsvc.cli.common.cell`); the time
    in ``site.timezone`` with its offset (``words``: :func:`_words`). A pending hide's state is
    :data:`PENDING`, its time ``-`` when no table here holds the key (an external CMS's)."""
    from datetime import UTC, datetime

    state = PENDING if a.pending else a.visibility(datetime.now(UTC)).value
    why = a.hidden_reason if a.hidden_at else a.withdrawn_reason if a.withdrawn_at else None
    when = "-" if a.published_at is None else words.time(a.published_at)
    texts = [cell(a.title, CELL_CHARS), *([cell(why, CELL_CHARS)] if why else [])]
    return "\t".join([_shown_key(a.source_key), state, when, *texts])


#: ``--json`` of the commands that print one article: the API's answer for the same action
_JSON_ONE = click.option(
    "--json", "as_json", is_flag=True,
    help="Machine-readable output: the article as the API's POST answers it (ISO 8601 UTC).",
)  # fmt: skip


@click.group()
def articles() -> None:
    r"""Hide and unhide stored articles (takedowns), and find them.

    A key (or TEXT) is read as these commands print it, so a printed key (a row of `find`, a
    key an error or note names) can be pasted back: \u0302 stands for U+0302 (any \uHHHH or
    \UHHHHHHHH naming a non-ASCII character: a key not in NFC is printed so, code point by
    code point, as it looks like its NFC; so is a character that shows as nothing or as a
    blank, an LRM \u200e or a no-break space \u00a0), \n for a line break, \\ for one
    backslash; any other backslash is itself (a key printed K\\u0302 holds those six
    characters)."""


@articles.command("hide")
@click.argument("source_key", type=SHOWN)
@click.option("--reason", default=None, help="Why (shown to editors, e.g. a legal notice).")
@click.option(
    "--pending",
    is_flag=True,
    help="Record the hide even though feedsvc knows no such key yet (an external CMS's "
    "article it has not read, or one to be imported): ingest applies it when it stores the "
    "article.",
)
@_JSON_ONE
@config_option
def hide(
    source_key: str, reason: str | None, pending: bool, as_json: bool, config_file: str | None
) -> None:
    """Hide SOURCE_KEY from every feed and alert until `unhide`, whatever the source says. A key
    imported but not ingested yet (or any key, with --pending) is hidden ahead: the article
    arrives hidden, never public, never alerted."""
    from feedsvc.lifecycle.editors import hide_article
    from feedsvc.operations.errors import OperationError

    def work(db: Database, settings: Settings) -> tuple[EditorState, Translator]:
        try:
            return hide_article(db, source_key, reason, "cli", pending=pending), _words(settings)
        except OperationError as exc:  # feedsvc cannot tell a typo from a key not read yet
            if exc.code != "article_not_found":
                raise
            # the message names the keys that begin with or contain it (part of one typed);
            # with the built-in table feedsvc knows it is not imported, a CMS it cannot see
            yet = "not read from the source yet" if settings.source.url else "not imported yet"
            hint = f"{exc.message} ({yet}? --pending hides it ahead, so it arrives hidden)"
            raise OperationError(exc.kind, hint, code=exc.code, params=exc.params) from None

    found, words = run_with_settings(work, config_file)
    said = None
    if found.pending:
        from feedsvc.catalogue import ENGLISH

        said = ENGLISH("hide_pending", key=_shown_key(found.source_key))
    notes = _key_notes(found)
    if as_json:
        _echo_json(_json_row(found, _joined(said, *notes)))
    else:
        click.echo(_line(found, words))
    for line in (said, *notes) if said is not None else notes:
        note(line)


def _key_notes(found: EditorState) -> list[str]:
    """What the answer says of the key (stderr lines): the stored key used when the key was
    given in another Unicode form, its lookalikes left alone (``lifecycle.typed_keys``)."""
    from feedsvc.catalogue import ENGLISH
    from feedsvc.lifecycle.typed_keys import key_notes

    return [ENGLISH(code, **params) for code, params in key_notes(found)]


def _joined(*said: str | None) -> str | None:
    """The ``--json`` answer's ``message``: its sentences, as the API's joins them."""
    return " ".join(s for s in said if s) or None


@articles.command("unhide")
@click.argument("source_key", type=SHOWN)
@_JSON_ONE
@config_option
def unhide(source_key: str, as_json: bool, config_file: str | None) -> None:
    """Show SOURCE_KEY again (unless the source itself withdrew it). One hidden since before
    its scheduled time alerts its subscribers now, as at its time; any other does not. A hide
    of a key not ingested yet is cancelled (said on stderr, no row: there is no article)."""
    from feedsvc.lifecycle.editors import unhide_article
    from feedsvc.lifecycle.hooks import release_hooks

    found, words = run_with_settings(
        lambda db, settings: (
            unhide_article(db, source_key, release_hooks(settings)),
            _words(settings),
        ),
        config_file,
    )
    cancelled = None
    if not found.ingested:
        from feedsvc.catalogue import ENGLISH

        cancelled = ENGLISH("hide_pending_cancelled", key=_shown_key(found.source_key))
    notes = _key_notes(found)
    if as_json:  # a cancelled hide too, as the API answers it: state not_ingested
        _echo_json(_json_row(found, _joined(cancelled, *notes)))
    if cancelled is not None:
        note(cancelled)
    else:
        if not as_json:
            click.echo(_line(found, words))
        if found.released:
            said = "public for the first time: its subscribers are alerted now, as at its time"
            click.echo(f"feedsvc: {_shown_key(found.source_key)}: {said}", err=True)
    for line in notes:
        note(line)


@articles.command("find")
@click.argument("text", default="", type=SHOWN)
@click.option("--limit", type=Int(1, 200), default=20, show_default=True)
@click.option(
    "--json", "as_json", is_flag=True,
    help="Machine-readable output: GET /api/articles' JSON, times in ISO 8601 UTC.",
)  # fmt: skip
@config_option
def find(text: str, limit: int, as_json: bool, config_file: str | None) -> None:
    """Articles whose key is TEXT or whose title contains it (newest first), with their state
    and time (in site.timezone). Finding none says so on stderr (exit 0: a search that finds
    nothing did its work)."""
    from feedsvc.catalogue import ENGLISH
    from feedsvc.lifecycle.editors import find_articles, search_problem, waiting_problem
    from feedsvc.lifecycle.typed_keys import listed, near_keys

    if (problem := search_problem(text)) is not None:  # named as the argument, not the web's q
        fail(ENGLISH(f"op.{problem.code}", **{**problem.params, "field": "TEXT"}), EXIT_USAGE)

    def work(
        db: Database, settings: Settings
    ) -> tuple[list[EditorState], OperationError | None, list[str], Translator]:
        found = find_articles(db, text, limit + 1)  # one more: whether the list is cut
        waiting = waiting_problem(db, text) if not found and text else None
        # part of a key typed (a key is matched whole): the keys it begins or is inside of
        near = near_keys(db, text) if not found and text and waiting is None else []
        return found, waiting, near, _words(settings)

    found, waiting, near, words = run_with_settings(work, config_file, write=False)
    if cut := len(found) > limit:  # said, never silent: 20 lines read as "all there are"
        found = found[:limit]
    if as_json:
        _echo_json({"articles": [_json_row(a) for a in found]})
    else:
        for article in found:
            click.echo(_line(article, words))
    if not found:  # it printed nothing at all: a typo and an empty DB looked alike
        said = ENGLISH("cli.find_none", text=f'"{cell(text, exact=True)}"') if text else None
        if waiting is not None:  # imported, not ingested yet: not a typo
            said = waiting.message
        elif near:
            said = f"{said}; keys that begin with or contain it: {listed(near)}"
        note(said or ENGLISH("cli.find_none_stored"))
    elif cut:
        note(ENGLISH("cli.find_more", limit=limit))


def _echo_json(value: dict[str, Any]) -> None:
    """``value`` as the API writes JSON (times ISO 8601 UTC, ``Z``, as pydantic writes them; a
    control character in free text a JSON escape: nothing a terminal acts on)."""
    import json

    from pydantic_core import to_jsonable_python

    from feedsvc.logs import escape_json

    shown = to_jsonable_python(value)
    click.echo(escape_json(json.dumps(shown, indent=2, ensure_ascii=False)))


def _json_row(a: EditorState, message: str | None = None) -> dict[str, Any]:
    """One article as the API's ``ArticleStateOut`` (its keys, in its order); ``message``: a
    pending hide's (or its cancel's) words, as the API's answer to that action gives them."""
    from datetime import UTC, datetime

    from feedsvc.feeds.sanitize import link_url

    now = datetime.now(UTC)

    def utc(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(UTC)

    return {
        "source_key": a.source_key,
        "title": a.title,
        "url": link_url(a.url),  # as stored, as the API's (outputs link feeds.links.article_link)
        "published_at": utc(a.published_at),
        "state": a.state(now),
        "pending": a.pending,
        "withdrawn_at": utc(a.withdrawn_at),
        "withdrawn_reason": a.withdrawn_reason,
        "hidden_at": utc(a.hidden_at),
        "hidden_reason": a.hidden_reason,
        "hidden_by": a.hidden_by,
        "message": message,
    }
