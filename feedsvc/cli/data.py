"""``feedsvc db``, ``feedsvc import``, ``feedsvc render``.

Heavy modules (SQLAlchemy, the importer) are imported inside the commands: every CLI command
loads this module, and ``feedsvc match`` or ``--version`` should not pay for them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import click

from feedsvc.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    cell,
    command_name,
    config_hints,
    fail,
    load_settings,
    note,
    open_db,
    run_operation,
    state_database,
)
from feedsvc.cli.params import Int, config_option

if TYPE_CHECKING:
    from feedsvc.db import Database
    from feedsvc.importer import ImportAborted, ImportReport


@click.group()
def db() -> None:
    """State database maintenance."""


@db.command("upgrade")
@config_option
def db_upgrade(config_file: str | None) -> None:
    """Create or upgrade the state DB and the built-in source table."""
    from feedsvc.db.revision import schema_status
    from feedsvc.db.where import state_db

    settings = load_settings(config_file, secrets=False)
    # which DB: run without the unit's FEEDSVC_CONFIG, it made ./var/feedsvc.db where the
    # operator stood and said only the revision (README "Upgrading" step 4)
    where = state_db(settings.database.url)
    try:  # a directory this user cannot enter: open_db below says so, in its words
        new_file = where.file is not None and not where.file.exists()
    except OSError:
        new_file = False
    database = open_db(settings, write=True)
    place = where.shown  # an SQLite file by its path (db.urls.shown_db), as every message
    made = " (a new file)" if new_file else ""
    click.echo(f"database at revision {schema_status(database).revision}: {place}{made}")


@db.command("current")
@config_option
def db_current(config_file: str | None) -> None:
    """Print the state DB's schema revision ("empty" when it has none; creates nothing).

    Exit 0 when `feedsvc db upgrade` can bring it to this feedsvc's head (or it is there); 1,
    as every other command on that DB, when this feedsvc cannot use it: a newer revision, one
    that is no feedsvc revision, feedsvc's tables without one."""
    from feedsvc.db.revision import schema_status

    settings = load_settings(config_file, secrets=False)
    status = schema_status(state_database(settings, reading=True))
    click.echo(status.revision or "empty")
    if (problem := status.problem()) is not None:  # what to do about it, beside the answer
        note(problem)
        if not status.upgradable:
            sys.exit(EXIT_FAILED)


@db.command("forget-token")
@click.argument("channel", type=click.Choice(["telegram", "zalo"]))
@config_option
def db_forget_token(channel: str, config_file: str | None) -> None:
    """Drop CHANNEL for good on this state DB: it forgets that CHANNEL sent with a token.

    A DB that has sent with a channel's token makes a start without it wait (`telegram
    waiting`: its alerts wait for the token). Forgotten, a start without the token is a first
    install's again: the console logs Telegram's alerts as sent, Zalo's end as failed (the
    alerts waiting now too). Setting the token again later records it anew."""
    from feedsvc.store.channel_tokens import forget_token, queued_for

    def work(database: Database) -> tuple[bool, int]:
        with database.write() as conn:
            return forget_token(conn, channel), queued_for(conn, channel)

    forgot, queued = run_operation(work, config_file)
    if not forgot:
        click.echo(f"{channel}: this state DB has no token recorded: nothing to forget")
        return
    then = "logged as sent by the console" if channel == "telegram" else "ended as failed"
    click.echo(f"{channel}: forgotten; without its token the {queued} alert(s) queued for it "
               f"are {then} at the next start")  # fmt: skip


@click.command("import")
@click.argument("file", type=click.File("rb"))
@config_option
def import_cmd(file: BinaryIO, config_file: str | None) -> None:
    """Import JSON Lines articles (FILE, or - for stdin) into the built-in source table.

    Prints inserted / updated / unchanged / rejected; exit 0 only if nothing was rejected, 1 if
    a line was rejected or the database stopped the import (the summary says what was stored),
    2 when `source.url` is set (an external source: ingest does not read the built-in table).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.db.errors import explain
    from feedsvc.importer import (
        BATCH_SECONDS,
        ImportAborted,
        ImportInterrupted,
        external_source_refusal,
        import_articles,
    )
    from feedsvc.jsonl_shape import NotJsonLines, checked_lines
    from feedsvc.jsonlines import OverlongLine, Pause, read_jsonl
    from feedsvc.pipe_lines import paced_lines, wait_for_input

    settings = load_settings(config_file, secrets=False)
    # before reading a line or touching the state DB: the rows would go where nothing reads
    refusal = external_source_refusal(settings.source.url, settings.source.table)
    if refusal is not None:
        fail(refusal, EXIT_USAGE)
    # psycopg logs "error ignored terminating Pipeline" with the failing row's values when a
    # batch is refused; the refused line is reported below, once and bounded.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # a closed stdin is said (feedsvc.cli.streams) before the state DB is created or migrated;
    # this waits for the first input (which the import needs anyway), reading none of it
    wait_for_input(file)
    shape = _shape_refusal(file)  # a regular file's head, read in place (a pipe's: its line 1)
    if shape is not None:
        fail(shape, EXIT_USAGE)
    try:
        database = open_db(settings, write=True)
    except SQLAlchemyError as exc:
        fail(config_hints(f"cannot prepare the state database: {explain(exc)}"))
    size = _size(file)

    def reject(r: object) -> None:
        # a value quoted from the line (a key holding U+202E) shown as an escape: one line,
        # in order (`cell`, no length limit: the whole reason is the point)
        click.echo(f"rejected {cell(r)}", err=True)

    def warn(w: object) -> None:  # a stored line: what changed (a URL's password dropped)
        click.echo(f"warning: {cell(w)}", err=True)

    report = None
    try:
        with click.progressbar(
            length=size or 0,
            label="importing",
            file=sys.stderr,
            hidden=not (sys.stderr.isatty() and size),
        ) as bar:

            def lines() -> Iterator[bytes | OverlongLine | Pause]:
                # bytes: invalid UTF-8 is reported per line, never replaced; a line too long
                # to be an article is read past, not held (a JSON array exported on one line);
                # a pipe's line that waits a batch's time with none after it is stored then
                for line in paced_lines(file, BATCH_SECONDS):
                    if not isinstance(line, Pause):
                        bar.update(line.size if isinstance(line, OverlongLine) else len(line))
                    yield line

            try:
                report = import_articles(
                    database,
                    read_jsonl(checked_lines(lines(), _typed_name(file)), settings.tz),
                    now=lambda: datetime.now(UTC),
                    on_reject=reject,
                    on_warning=warn,
                )
            except ImportAborted as exc:
                report = exc.report
                _aborted(exc)
            except ImportInterrupted as exc:
                _interrupted(exc.report, exc.interrupt, from_file=size is not None)
            except NotJsonLines as exc:  # its first line: nothing stored
                fail(str(exc), EXIT_USAGE)
        click.echo(report.summary())
    except KeyboardInterrupt as exc:
        if report is None:
            raise
        # every line was read and stored; a signal as the bar ended or the summary was written
        # got the root's bare "interrupted", as if nothing had been (a hammered import, CI)
        _interrupted(report, exc, from_file=size is not None, finished=True)
    if report.rejected:
        raise SystemExit(EXIT_FAILED)


def _typed_name(file: BinaryIO) -> str:
    """The FILE argument as typed (Click names standard input ``<stdin>``): ``-`` for it."""
    name = getattr(file, "name", "-")
    return name if isinstance(name, str) and name != "<stdin>" else "-"


def _shape_refusal(file: BinaryIO) -> str | None:
    """``jsonl_shape.shape_problem`` of a regular file's first bytes, read with ``pread`` (the
    file's position, where the import reads, stays at 0); None for a pipe or a terminal, whose
    first line is checked as it is read."""
    import os
    import stat

    from feedsvc.jsonl_shape import HEAD_BYTES, shape_problem

    try:
        fd = file.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        head = os.pread(fd, HEAD_BYTES, file.tell())
    except (OSError, ValueError, AttributeError):  # no descriptor (a test's BytesIO)
        return None
    return shape_problem(head, _typed_name(file))


def _stored(through: int) -> str:
    """What an import that stopped stored: "line 1", "lines 1-N", or nothing."""
    if not through:
        return "nothing was stored"
    return "line 1 is stored" if through == 1 else f"lines 1-{through} are stored"


def _aborted(exc: ImportAborted) -> NoReturn:
    """Say why the import stopped, what is stored, and how to go on; exit 1."""
    from feedsvc.db.errors import explain
    from feedsvc.db.where import is_database_error

    report = exc.report
    error = exc.__cause__
    if error is not None and is_database_error(error):  # which DB, what to do (db.errors)
        cause = explain(error)
    else:
        failed = "'s disk is full" if exc.disk_full else " failed"
        cause = f"the state database{failed} ({exc.reason})"
    stored = _stored(report.committed_through)
    click.echo(
        f"feedsvc import: stopped at line {exc.first_line}: {cause}.\n"
        f"  {stored} ({report.summary()}); lines from {exc.first_line} on were not.\n"
        "  Fix the cause and run the same import again: stored lines count as unchanged.",
        err=True,
    )
    raise SystemExit(EXIT_FAILED)


def _interrupted(
    report: ImportReport, interrupt: KeyboardInterrupt, *, from_file: bool, finished: bool = False
) -> NoReturn:
    """Ctrl-C, SIGTERM or SIGHUP: what is stored and how to go on, instead of Click's bare
    "Aborted!" (Ctrl-C) or nothing at all (SIGTERM: ``timeout``, systemd, cron); exit 130, 143
    or 129 (128 + the signal, as a shell reports it: :mod:`feedsvc.cli.terminate`). Every line
    read is stored (:func:`feedsvc.importer.import_articles`); a pipe's lines after them were
    not read, and only its producer can give them again (``from_file``: a regular file, run
    again).
    ``finished``: the signal came once every line was read and stored: nothing is left."""
    from feedsvc.cli import terminate

    stored = _stored(report.committed_through)
    how = (
        "Every line was read: nothing is left to import."
        if finished
        else "Run the same import again to go on: stored lines count as unchanged."
        if from_file
        else f"The lines after line {report.committed_through} were not read: send them again."
        if report.committed_through
        else "Send the lines again."
    )
    terminate.tell(
        f"{terminate.fresh_line()}feedsvc import: {terminate.word(interrupt)}: {stored} "
        f"({report.summary()}).\n  {how}"
    )
    raise SystemExit(terminate.exit_code(interrupt))


def _size(file: BinaryIO) -> int | None:
    """Bytes in a regular file (for the progress bar); None for stdin and pipes."""
    try:
        return os.fstat(file.fileno()).st_size or None
    except (OSError, AttributeError, ValueError):
        return None


@click.command("render")
@click.argument("slug")
@click.option(
    "--format", "fmt", type=click.Choice(["rss", "atom", "json"]), default="rss", show_default=True
)
@click.option(
    "--limit", type=Int(1, 200), default=50, show_default=True, help="Newest articles in it."
)
@config_option
def render(slug: str, fmt: str, limit: int, config_file: str | None) -> None:
    """Print one topic feed to stdout."""
    from feedsvc.logs import quoted
    from feedsvc.operations import refuse_control
    from feedsvc.publish import render_topic_feed

    settings = load_settings(config_file, secrets=False)
    if settings.http.port == 0 and "public_url" not in settings.http.model_fields_set:
        # an unset public_url is the address `run` listens on, learnt as it starts; this
        # process listens on none: every link read http://127.0.0.1:0/…, exit 0
        fail(
            "http.port is 0 (the system gives `run` a port as it starts) and http.public_url "
            "is unset: this feed's links would name no address; set http.public_url "
            "(FEEDSVC_HTTP__PUBLIC_URL) to where readers reach the service",
            EXIT_USAGE,
        )

    def rendered(database: Database) -> bytes | None:
        refuse_control("slug", slug)  # the use cases' check: a surrogate failed in the driver
        return render_topic_feed(database, settings, slug, fmt, limit)

    body = run_operation(rendered, config_file, write=False)
    if body is None:
        fail(f"unknown topic {quoted(slug)} (see `{command_name()} topics list`)", EXIT_FAILED)
    sys.stdout.buffer.write(body)
