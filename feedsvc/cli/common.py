"""Shared CLI plumbing: settings loading, the state DB, errors, cells of printed output.

Import cost is part of every command's latency, so this module (imported by every command
module) needs only Click at import time: configuration (pydantic), the DB (SQLAlchemy) and the
rest are imported inside the functions that use them. ``tests/test_cli_imports.py`` guards it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from feedsvc.catalogue import Translator
    from feedsvc.config import Settings
    from feedsvc.db import Database
    from feedsvc.store.lite import Reader

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
#: 128 + SIGINT: what a shell reports for a command Ctrl-C stopped (any command, `import` too)
EXIT_INTERRUPTED = 130

#: Cells of line-based output longer than this (titles, reasons) end in "…": a row stays readable
#: in a terminal; programs wanting the whole text use ``--json`` or the API.
CELL_CHARS = 200


def cell(text: object, limit: int | None = None, *, exact: bool = False) -> str:
    """Free text (a title, reason, query, chat title, a CMS key, a channel's error) as one cell
    of a line-based output: every control character (newline, tab, carriage return, C1,
    U+2028/9), bidi control (U+202E, the isolates U+2066–9…: :mod:`feedsvc.bidi`) and
    invisible format character (U+200B, U+FEFF…) as a visible escape (``\\n``, ``\\t``,
    ``\\x07``, ``\\u202e``; :func:`feedsvc.logs.escape_controls`, the same rule as the text
    logs, which says what is deliberately left alone: LRM/RLM, ZWJ, combining marks), so one
    row is one line, shown in the order it is stored with nothing hidden, and a tab-separated
    row keeps its columns whatever a user typed; ``exact`` (stored text a user may paste back:
    an article's key), a backslash that would read as an escape doubled too (``\\\\u202e``:
    the text holds those six characters), so a whole cell names one text, which a
    :data:`SHOWN` argument reads back (escape once); longer than ``limit`` characters (after
    escaping) cut with "…", between whole characters of the text (grapheme clusters, and
    never inside an escape: ``\\u20…`` named no character). The one rule every CLI printer
    uses."""
    from feedsvc.logs import escape_controls

    raw = str(text)
    shown = escape_controls(raw, exact=exact)
    if limit is None or len(shown) <= limit:
        return shown
    from feedsvc.graphemes import prefix  # only when cutting: regex costs start-up

    # the longest start of the text whose escaped form fits beside the "…" (the escaped
    # length only grows with the start, and is at least the start's own length)
    low, high = 0, min(len(raw), limit - 1)
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape_controls(prefix(raw, middle), exact=exact)) <= limit - 1:
            low = middle
        else:
            high = middle - 1
    return escape_controls(prefix(raw, low), exact=exact) + "…"


def cli_words(tz: ZoneInfo) -> Translator:
    """The command line's catalogue words: English, a chat named as the operators' lines name
    it (``operators``: ``apprise chat json://***#1edd70``), times in ``tz`` (``site.timezone``)
    to the second as every CLI line writes them (``seconds``:
    :func:`feedsvc.local_times.local_time`, ``2026-12-06 00:23:23 +07:00``; the admin's minutes
    said a 429 pause ended up to 59 s early). Every command that words a time through the
    catalogue takes its translator here; the catalogue (Babel) is imported only when called."""
    from feedsvc.catalogue import Translator

    return Translator("en", tz, operators=True, seconds=True)


def command_name(
    argv0: str | None = None,
    executable: str | None = None,
    path: str | None = None,
    *,
    config: bool = True,
) -> str:
    """How the user can type this feedsvc again, for the hints a command prints (``run
    `{command_name()} topics import```): ``feedsvc`` when that name on ``PATH`` is this very
    program; else the absolute path of the one running (``/srv/app/.venv/bin/feedsvc``: the
    README's install does not put the venv on ``PATH``, and a bare ``feedsvc`` was "command
    not found"), or ``/usr/bin/python3 -m feedsvc`` when started as a module; then
    :func:`given_config` (``config``: the demo exports ``FEEDSVC_CONFIG`` instead), so the
    command a hint names acts on the same state DB. Shell-quoted. The arguments default to
    ``sys.argv[0]``, ``sys.executable`` and ``$PATH`` (tests pass their own)."""
    import os
    import shlex
    import shutil
    import sys

    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    given = given_config() if config else ""
    if os.path.basename(argv0) == "__main__.py" or not argv0:  # `python -m feedsvc`
        # a venv's python is a symlink to the system's: the same file, not the same packages
        return f"{shlex.quote(_on_path(executable, path, same_file=False))} -m feedsvc{given}"
    found = argv0 if os.sep in argv0 else shutil.which(argv0, path=path)
    return shlex.quote(_on_path(os.path.abspath(found) if found else argv0, path)) + given


def given_config() -> str:
    """`` --config FILE``, shell-quoted, when the running command was given one (after its
    name or before it: ``params.config_option``'s value), else ``""`` (``FEEDSVC_CONFIG`` or
    the default file, which the hinted command reads too). Why: a hint without it — ``subs
    add --config site.toml`` answering "run `feedsvc topics import`" — named a command that
    acted on another state DB (a tester's)."""
    import shlex

    from feedsvc.cli.params import GIVEN_CONFIG

    ctx = click.get_current_context(silent=True)
    file = None if ctx is None else ctx.find_root().meta.get(GIVEN_CONFIG)
    return f" --config {shlex.quote(str(file))}" if file else ""


def config_hints(message: str, given: str | None = None) -> str:
    """``message`` (a state DB's error: ``db.revision``'s schema errors, ``db.connect_errors``'
    advice; a topics file the state DB refused, ``topics_sync``; a log line of ``run``) with
    each command it names between backticks, `feedsvc …`, carrying ``given`` (default
    :func:`given_config`; the log's filter passes it, read once, as its records come from
    threads with no Click context) unless it names a ``--config`` already."""
    import re

    given = given_config() if given is None else given
    if not given or "`feedsvc " not in message:
        return message
    return re.sub(
        r"`feedsvc ([^`]+)`",
        lambda m: m.group(0) if "--config" in m.group(1) else f"`feedsvc {m.group(1)}{given}`",
        message,
    )


def schema_failed(exc: Exception, code: int) -> NoReturn:
    """:func:`fail` with a state DB's schema error (``db.revision.SchemaError``)."""
    fail(str(exc), code)


def _on_path(program: str, path: str | None, *, same_file: bool = True) -> str:
    """``program``'s bare name when ``PATH`` finds it there (the same file, or with
    ``same_file`` false the same path), else its path."""
    import os
    import shutil

    name = os.path.basename(program)
    found = shutil.which(name, path=path)
    if found and os.path.abspath(found) == os.path.abspath(program):
        return name
    with suppress(OSError):
        if found and same_file and os.path.samefile(found, program):
            return name
    return program


def note(message: str) -> None:
    """``message`` as the command's own line on stderr, ``feedsvc: …``, each feedsvc command
    it names between backticks carrying the ``--config FILE`` given (:func:`config_hints`):
    the one way a command prints words it did not build with :func:`command_name` (a state
    DB's schema problem, an operation's refusal). ``db current --config F`` printed "run
    `feedsvc db upgrade`" bare, which typed as shown upgraded ``./var/feedsvc.db`` (a
    tester's U3)."""
    click.echo(f"feedsvc: {config_hints(message)}", err=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """:func:`note` ``message``, then exit ``code``."""
    note(message)
    raise SystemExit(code)


def topics_file_problems(path: str, problems: list[str], *, hint: str = "") -> NoReturn:
    """Every problem of a topics file, one per line under a count naming the file, then exit 2
    (bad configuration): how ``topics import`` and ``match --topics`` refuse a file. ``hint``:
    a line after them (the demo's: where the file came from, what to change)."""
    click.echo(f"feedsvc: {len(problems)} problem(s) in {path}:", err=True)
    for problem in problems:
        click.echo(f"  {config_hints(problem)}", err=True)
    if hint:
        click.echo(f"  {hint}", err=True)
    raise SystemExit(EXIT_USAGE)


def load_settings(
    config_file: str | None, *, logging_: bool = True, secrets: bool = True
) -> Settings:
    """The settings, or exit 2 naming every problem. ``secrets=False``: the command needs no
    secret (``status``, ``topics list``, ``render``…), so a ``*_file`` secret this user cannot
    read (the service's, mode 0600) is one warning line naming it, taken as unset, instead of a
    refusal, and a secret written in the config file one warning line too; commands that use a
    secret (``run``, ``subs add``'s channel check, ``config show``) refuse both, exit 2, naming
    the key."""
    from feedsvc.config import ConfigError, config_path, load_config

    try:
        path = config_path(config_file)
        settings = load_config(path, secrets=secrets)
    except ConfigError as exc:
        click.echo(f"feedsvc: invalid configuration ({exc.source}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {config_hints(str(problem))}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    if not secrets:
        from feedsvc.config.secrets import secrets_in_config_file, unreadable_secret_files

        for problem, _path in unreadable_secret_files(settings):
            _warn_once(problem, "without it; run it as the service's user to read it")
        for problem in secrets_in_config_file(path):
            _warn_once(problem, "all the same; `run` and `config check` refuse it")
    if logging_:
        configure_logging(settings)
    return settings


#: The secret problems a command of this process warned about (:func:`load_settings`): an
#: unreadable secret file, a secret written in the config file.
_WARNED: set[object] = set()


def _warn_once(problem: object, goes_on: str) -> None:
    """``problem`` of a secret as one warning line on stderr, once a process (`render` loads
    the settings twice), for a command that needs no secret and goes on ``goes_on``."""
    if problem not in _WARNED:
        _WARNED.add(problem)
        click.echo(
            f"feedsvc: warning: {problem} (this command needs no secret and goes on {goes_on})",
            err=True,
        )


def configure_logging(settings: Settings) -> None:
    """The process's logging set up from ``settings``, with the stop signals held meanwhile.

    Why held: a command's signal raises at whatever bytecode runs, and inside ``logging`` that
    can be the moment a handler is registered for ``logging.shutdown`` but has no lock yet;
    the command then ended in its one line, followed by "Exception ignored in atexit callback"
    and an ``AttributeError`` traceback (`import` hammered with signals, CI). Held, the signal
    is raised once the set-up is whole (:mod:`feedsvc.signal_hold`).

    A command a log line names (`feedsvc topics import`) carries this command's ``--config``
    (:func:`config_hints`): ``run --config site.toml`` logged hints that acted on the default
    file's state DB."""
    from functools import partial

    from feedsvc.logs import setup_logging
    from feedsvc.signal_hold import SignalHold

    secrets = _secrets(settings)  # reads token files: not held
    given = given_config()
    hints = partial(config_hints, given=given) if given else None
    hold = SignalHold()
    hold.hold()
    try:
        setup_logging(settings.log.level, settings.log.format, secrets, hints)
    finally:
        hold.release()


def _secrets(settings: Settings) -> list[str]:
    """Values the log filter blanks wherever they appear: tokens, and the passwords in the DB
    URLs (userinfo and query; a driver's error text could one day repeat one). A Telegram
    token's secret half (after ``<bot id>:``) is blanked on its own too: a ``telegram.base_url``
    without ``/bot`` split the token in the request URL, and httpx's error, logged by the bot
    at every retry, named that half alone (``InvalidURL("Invalid port: 'AAF…'")``)."""
    from feedsvc.db.urls import url_secrets

    urls = (settings.database.url, settings.source.url)
    out = [secret for url in urls if url for secret in url_secrets(url)]
    for getter in (
        settings.telegram_token,
        settings.admin_token,
        settings.zalo_token,
        settings.zalo_webhook_secret,
    ):
        try:
            value = getter()
        except OSError:
            value = None
        if value:
            out.append(value)
            if getter == settings.telegram_token and ":" in value:
                out.append(value.split(":", 1)[1])
    return out


def open_db(settings: Settings, *, write: bool) -> Database:
    """The state DB for one command.

    ``write=False`` (the command only reads): checked with one SELECT, never created or
    migrated (not even its directory); a missing or older DB ends the command with a message
    naming `feedsvc db upgrade` (exit 1). ``write=True``: migrated first when needed, as
    ``feedsvc run`` does; a new SQLite file's missing directory is made for a relative path,
    refused for an absolute one (exit 2, :func:`feedsvc.db.revision.ensure_schema`).
    """
    from feedsvc.db.revision import (
        DatabaseUrlError,
        SchemaError,
        ensure_schema,
        require_schema,
    )

    db = state_database(settings, reading=not write)
    try:
        (ensure_schema if write else require_schema)(db)
    except SchemaError as exc:
        schema_failed(exc, EXIT_USAGE if isinstance(exc, DatabaseUrlError) else EXIT_FAILED)
    return db


def state_database(settings: Settings, *, reading: bool = False) -> Database:
    """The state DB's engine for the running command, its connections closed when the command
    ends, however it ends (the CLI's root context's close: a return, ``fail``, Ctrl-C, SIGTERM).

    Why here: :func:`feedsvc.cli.main` freezes the collector at exit, so a pooled connection
    still open then is never closed, and SQLite checkpoints its WAL into the database file and
    removes ``-wal`` only when the last connection closes: after `db upgrade`, `topics import`
    or `import` the data sat in ``state.db-wal`` and ``cp state.db`` copied an empty DB. A
    connection a running service holds keeps its WAL (SQLite checkpoints on a close only when
    that close is the last one), so closing ours never disturbs it. Outside a command (a test
    calling this directly) the caller disposes. ``reading``: the command only reads (an SQLite
    file this user cannot write is opened read-only: ``feedsvc.db.sqlite_reading``)."""
    from feedsvc.db import Database

    db = Database(settings.database.url, timeouts=settings.database.timeouts(), reading=reading)
    if (ctx := click.get_current_context(silent=True)) is not None:
        # at the root context's close, after the command has ended (cli._Root.invoke): a
        # signal during the close is then ignored; at the command's own close, it ended an
        # `import` that had stored every line as "feedsvc: interrupted", exit 130 (CI)
        ctx.find_root().call_on_close(db.dispose)
    return db


@contextmanager
def lite_read(settings: Settings) -> Iterator[Reader | None]:
    """For a command that only reads: one read transaction over the driver itself when the
    state DB is a plain SQLite file (stdlib ``sqlite3``) or a PostgreSQL URL opened with
    psycopg (``feedsvc.store.lite``: no SQLAlchemy import, issue #17 §1), else None (use
    :func:`open_db`: other URL forms). A missing or older DB ends the command as
    :func:`open_db` does (exit 1, naming `feedsvc db upgrade`); a server that cannot be reached
    raises the driver's error, which the CLI's root reports in one line (exit 1)."""
    from feedsvc.db.revision import DatabaseUrlError, SchemaError
    from feedsvc.db.where import naming, state_db
    from feedsvc.store import lite

    opened = lite.read_only_url(settings.database.url, settings.database.timeouts())
    if opened is None:
        yield None
        return
    try:
        # the driver's errors name the state DB, as Database's engine does for SQLAlchemy's
        with naming(state_db(settings.database.url)), opened as reader:
            yield reader
    except SchemaError as exc:
        schema_failed(exc, EXIT_USAGE if isinstance(exc, DatabaseUrlError) else EXIT_FAILED)


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` on uvloop where it is installed (faster HTTP serving), else asyncio."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def run_operation(
    action: Callable[[Database], T], config_file: str | None, *, write: bool = True
) -> T:
    """One admin operation on the state DB (see :func:`open_db`); its errors become a message
    and the CLI's exit codes (2 for invalid input, 1 for not found / conflict, including an
    unknown or disabled topic named by ``subs add``: :data:`NOT_THERE`)."""
    return run_with_settings(lambda db, _settings: action(db), config_file, write=write)


def run_with_settings(
    action: Callable[[Database, Settings], T],
    config_file: str | None,
    *,
    write: bool = True,
    secrets: bool = False,
) -> T:
    """:func:`run_operation` for an action that needs the settings too (an unhide's alert
    hooks: ``telegram.alert_max_age_hours``). ``secrets``: the command uses a secret after the
    action (``subs add``: is the channel's token set?), so an unreadable one refuses first."""
    from feedsvc import operations as ops

    settings = load_settings(config_file, secrets=secrets)
    db = open_db(settings, write=write)  # closed when the command ends (state_database)
    try:
        return action(db, settings)
    except ops.OperationError as exc:
        if (query := ops.query_error_of(exc)) is not None:  # with its caret, as `match` does
            from feedsvc.cli.query_caret import query_failed

            query_failed(str(exc.params["query"]), query)
        invalid = exc.kind == "invalid" and exc.code not in NOT_THERE
        fail(exc.message, EXIT_USAGE if invalid else EXIT_FAILED)


#: Codes of an ``invalid`` operation error that name something not in the state DB rather than
#: something malformed: exit 1 like every other "not found" of the CLI (`render`, `topics
#: enable`, `subs remove` of an unknown name); the API keeps 422 for them (a body field).
NOT_THERE = frozenset({"topic_unknown", "topic_disabled"})
