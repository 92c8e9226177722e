"""``feedsvc topics list|add|remove|enable|disable|import|export|preview``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import click

from feedsvc.cli.common import (
    CELL_CHARS,
    EXIT_FAILED,
    EXIT_USAGE,
    cell,
    cli_words,
    command_name,
    fail,
    lite_read,
    load_settings,
    note,
    open_db,
    run_operation,
    run_with_settings,
    topics_file_problems,
)
from feedsvc.cli.output import STDOUT, OutputFile, write_output
from feedsvc.cli.params import Int, PathParam, config_option
from feedsvc.cli.query_caret import query_failed, refuse_controls

if TYPE_CHECKING:
    from feedsvc import operations as ops
    from feedsvc.config import Settings
    from feedsvc.db import Database
    from feedsvc.store.records import TopicSpec
    from feedsvc.topics_sync import Applied


@click.group()
def topics() -> None:
    """Manage topics (the state DB is the source of truth)."""


@topics.command("list")
@config_option
def list_cmd(config_file: str | None) -> None:
    """List topics: slug, state, title, query."""
    settings = load_settings(config_file, secrets=False)
    with lite_read(settings) as reader:
        if reader is not None:
            from feedsvc.store import lite

            rows = lite.list_topics(reader)
        else:
            from feedsvc.store import topics as store

            db = open_db(settings, write=False)
            with db.read() as conn:
                rows = store.list_topics(conn)
    for t in rows:
        state = "enabled" if t.enabled else "disabled"  # a tab-separated field: no padding
        click.echo(f"{t.slug}\t{state}\t{cell(t.title)}\t{cell(t.query)}")
    if not rows:  # nothing at all was printed: an empty state DB and a wrong one looked alike
        from feedsvc.catalogue import ENGLISH
        from feedsvc.db.urls import shown_db

        said = ENGLISH("cli.topics_none", db=shown_db(settings.database.url),
                       command=command_name())  # fmt: skip
        note(said)


@topics.command("add")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--query", "query", required=True)
@click.option(
    "--description",
    default=None,
    help="Default: empty for a new topic; kept as stored when updating one.",
)
@click.option(
    "--enabled",
    "enable",
    is_flag=True,
    help="Switch the topic on. Default: on for a new topic; kept as stored when updating one.",
)
@click.option(
    "--disabled",
    "disable",
    is_flag=True,
    help="Switch the topic off (not with --enabled).",
)
@config_option
def add(
    slug: str,
    title: str,
    query: str,
    description: str | None,
    enable: bool,
    disable: bool,
    config_file: str | None,
) -> None:
    """Create or update a topic (the query is validated first). Updating one changes what is
    given: --description and --enabled/--disabled left out keep the stored values."""
    from feedsvc import operations as ops

    # Two flags, not click's "--enabled/--disabled" pair: the pair let the last one win
    # silently, so a script giving both got whichever it happened to put last.
    if enable and disable:
        raise click.UsageError("give --enabled or --disabled, not both")
    enabled = True if enable else False if disable else None
    edit = ops.TopicEdit(slug, title, query, description, enabled)  # ops normalises
    saved = run_operation(lambda db: ops.edit_topic(db, edit, "cli"), config_file)
    changed = f" ({', '.join(saved.changed)})" if saved.changed else ""
    click.echo(f"{saved.slug}: {saved.outcome}{changed}")


@topics.command("remove")
@click.argument("slug")
@click.option(
    "--force",
    is_flag=True,
    help="Also delete the topic's subscriptions (refused without it when it has any).",
)
@config_option
def remove(slug: str, force: bool, config_file: str | None) -> None:
    """Delete a topic and its matches. A topic with subscriptions is refused unless --force is
    given (they would be deleted with it: an Apprise URL is only ever shown masked); `disable`
    keeps the topic, its subscriptions and its history. A topic of the topics file stays
    deleted at every start while its entry there is unchanged."""
    from feedsvc import operations as ops

    def delete(db: Database, settings: Settings) -> tuple[ops.TopicDeleted, Path]:
        try:
            return ops.delete_topic(db, slug, with_subscriptions=force), settings.topics.file
        except ops.OperationError as exc:
            if exc.code != "topic_has_subscriptions":
                raise
            _refuse_with_subscriptions(slug, exc)

    deleted, path = run_with_settings(delete, config_file)
    slug = deleted.slug  # as stored: SLUG may name it in another case
    if deleted.subscriptions:
        from feedsvc.catalogue import ENGLISH

        click.echo(f"{slug}: removed, with its {ENGLISH.subscriptions(deleted.subscriptions)}")
    else:
        click.echo(f"{slug}: removed")
    if deleted.kept_deleted:
        from feedsvc.catalogue import ENGLISH
        from feedsvc.topics_file import stays_deleted

        click.echo(cell(stays_deleted(ENGLISH, slug, path, command_name())))


def _refuse_with_subscriptions(slug: str, exc: ops.OperationError) -> NoReturn:
    """Exit 1 naming the subscriptions a remove would delete, and the two ways on."""
    from feedsvc.catalogue import ENGLISH

    counts, slug = exc.params["counts"], str(exc.params["slug"])  # the slug as stored
    assert isinstance(counts, dict)
    name = command_name()
    fail(
        f"{slug} has {ENGLISH.subscriptions(counts)}: removing it would delete them too, "
        "and an Apprise URL is only ever shown masked, so it cannot be entered again. "
        f"`{name} topics disable {slug}` stops the topic and keeps them; "
        f"`{name} topics remove {slug} --force` deletes them with it",
        EXIT_FAILED,
    )


@topics.command("enable")
@click.argument("slug")
@config_option
def enable(slug: str, config_file: str | None) -> None:
    """Enable a topic."""
    from feedsvc import operations as ops

    stored = run_operation(lambda db: ops.set_topic_enabled(db, slug, True), config_file)
    click.echo(f"{stored}: enabled")


@topics.command("disable")
@click.argument("slug")
@config_option
def disable(slug: str, config_file: str | None) -> None:
    """Disable a topic (its feed and matches are kept)."""
    from feedsvc import operations as ops

    stored = run_operation(lambda db: ops.set_topic_enabled(db, slug, False), config_file)
    click.echo(f"{stored}: disabled")


@topics.command("backfill")
@click.argument("slug")
@click.option(
    "--days",
    type=Int(0, 36500),  # whole days, as the README's N and the API's `days`
    default=30,  # feedsvc.backfill_window.BACKFILL_DAYS (only Click imported up here)
    show_default=True,
    help="Only articles published in the last N days (0: all).",
)
@config_option
def backfill(slug: str, days: int, config_file: str | None) -> None:
    """Bring a topic's feed up to its query from already stored articles (sends no alerts):
    adds the articles it matches, drops those it no longer matches (a narrowed query).

    A running service renders the topic's feeds again at its next feeds sync (within seconds),
    with its own settings (this command's may differ: `http.public_url`, `site`), also when
    the backfill stopped part-way (Ctrl-C, SIGTERM: exit 130/143; the query changed or the
    topic was deleted meanwhile: exit 1): the batches done before it stopped are stored.
    On a terminal, stderr shows its progress: articles done of the total, ETA, rate.
    """
    import sys

    from feedsvc import operations as ops
    from feedsvc.cli import terminate
    from feedsvc.cli.progress import ProgressLine

    line = ProgressLine("backfilling", sys.stderr)  # draws only when stderr is a TTY

    def run(db: Database) -> ops.BackfillResult:
        with line:  # its line ended (or erased) before any message about how it ended
            return ops.backfill_topic(db, slug, days or None, progress=line.update)

    try:
        result = run_operation(run, config_file)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (:mod:`feedsvc.cli.terminate`)
        lead = "" if line.erased else "\n"  # a "^C" echoed on the line: a line of its own
        terminate.tell(
            f"{lead}feedsvc topics backfill: {terminate.word(exc)}: the batches done are stored,"
            " and the service's feeds show them.\n  Run the same backfill again to finish it."
        )
        raise SystemExit(terminate.exit_code(exc)) from None
    from feedsvc.catalogue import ENGLISH

    # the admin's words (its flash): "in the feed" and "added" only what readers see
    click.echo(ENGLISH.backfilled(result.slug, result))


@topics.command("import")
@click.argument("file", required=False, type=PathParam(dir_okay=False))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what the import would do (created, updated, switched off: named) and write nothing.",
)
@config_option
def import_cmd(file: str | None, dry_run: bool, config_file: str | None) -> None:
    """Apply a topics TOML file (default: topics.file); nothing is written if it has errors.
    Topics the file does not list that an earlier import of topics.file created are switched
    off, and named (--dry-run shows them first)."""
    from feedsvc.topics_file import TopicsFileError, is_start_file, load_topics_file
    from feedsvc.topics_sync import FileNotApplied, relisted_words, switched_off_words

    settings = load_settings(config_file, secrets=False)
    path = Path(file) if file else settings.topics.file
    if not file and not settings.topics.file_is_set and not os.path.lexists(path):
        _no_default_file(path)
    try:
        specs = load_topics_file(path)
    except TopicsFileError as exc:
        topics_file_problems(exc.path, exc.problems)
    configured = is_start_file(path, settings.topics)
    db = open_db(settings, write=True)
    try:
        applied = _apply(db, specs, configured, dry_run)
    except FileNotApplied as exc:
        topics_file_problems(str(path), [str(exc)])
    would = "would be " if dry_run else ""
    click.echo(f"{path}: {would}{applied.summary()}")
    if not configured:
        click.echo(
            f"{path} is not topics.file ({settings.topics.file}): its topics {would or 'were '}"
            "applied as edits in the state DB (none switched off); a start applies an entry of "
            "topics.file over them only when that entry changes"
        )
    said = "(dry run) " if dry_run else ""
    for slug, fields in applied.replaced.items():  # edits made in the DB since, now undone
        done = ", ".join(fields)
        click.echo(f"{said}{slug}: the file's version replaced the state DB's edits ({done})")
    for slug, fields in applied.relisted.items():
        click.echo(f"{said}{slug}: {relisted_words(fields)}")
    if (off := switched_off_words(applied, command_name())) is not None:
        said_off = off.replace("switched off", "would switch off", 1) if dry_run else off
        click.echo(f"{path}: {said_off}")  # whose alerts and feeds stop
    if dry_run:
        click.echo(f"{path}: dry run: nothing was written")


class _DryRun(Exception):
    """Raised inside the import's transaction to roll it back, carrying what it did."""

    def __init__(self, applied: Applied) -> None:
        self.applied = applied


def _apply(db: Database, specs: list[TopicSpec], configured: bool, dry_run: bool) -> Applied:
    """The file applied in one transaction (its checks against the state DB, the queries it
    would break, are all-or-nothing), rolled back for ``dry_run``: the very same code
    decides what a dry run says, on the state DB as it is (PostgreSQL's advisory lock and
    SQLite's write lock held as briefly as the import's)."""
    from feedsvc.topics_sync import sync_topics

    try:
        with db.write() as conn:
            applied = sync_topics(conn, specs, datetime.now(UTC), configured=configured)
            if dry_run:
                raise _DryRun(applied)
    except _DryRun as done:
        return done.applied
    return applied


def _no_default_file(path: Path) -> NoReturn:
    """``topics import`` without FILE where ``topics.file`` is unset and its default,
    ``config/topics.toml``, is not in the working directory: a newcomer's first try outside the
    repository. It said "1 problem(s) in config/topics.toml: file not found", naming neither
    the default it had read nor the FILE argument it could have been given. Exit 2."""
    click.echo(
        f"feedsvc: no topics file to import: without FILE, `topics import` reads topics.file, "
        f"unset, so its default {path} in this directory ({path.absolute()}), which is not "
        f"there; give the file (`{command_name()} topics import FILE`), or set topics.file",
        err=True,
    )
    raise SystemExit(EXIT_USAGE)


@topics.command("export")
@click.option("-o", "--output", type=OutputFile(), default=STDOUT)
@config_option
def export(output: TextIO, config_file: str | None) -> None:
    """Write all topics as a topics TOML file (stdout by default)."""
    from feedsvc.store import topics as store
    from feedsvc.topics_file import dump_topics

    db = open_db(load_settings(config_file, secrets=False), write=False)
    with db.read() as conn:
        specs = [t.spec for t in store.list_topics(conn)]
    write_output(output, dump_topics(specs))  # a file to share: no path of this machine


@topics.command("preview")
@click.argument("query")
@click.option("--scan", type=Int(1, 1_000_000), default=2000, show_default=True)
@click.option("--samples", type=Int(0, 100), default=5, show_default=True)
@click.option("--slug", default=None, help="The topic whose query QUERY is (a reference back "
              "to it is refused, as saving it would).")  # fmt: skip
@config_option
def preview(query: str, scan: int, samples: int, slug: str | None, config_file: str | None) -> None:
    """How many stored articles QUERY (or @slug) matches, with highlighted samples: the whole
    archive through the search index, else the --scan latest."""
    from feedsvc.keys import spelled
    from feedsvc.matching import QueryError
    from feedsvc.preview import preview as run_preview

    refuse_controls(query)
    settings = load_settings(config_file, secrets=False)
    # a sample's time in site.timezone with its offset, as the admin's live preview shows it:
    # it printed the UTC wall time with no zone, 03:34 for an article published 10:34 +07:00
    words = cli_words(settings.tz)  # to the second, as every CLI line
    db = open_db(settings, write=False)
    try:
        result = run_preview(db, query, scan=scan, samples=samples, slug=slug)
    except QueryError as exc:
        query_failed(query, exc)
    click.echo(f"{result.english()} {cell(query)}")
    if result.indexed:
        bound = "exact" if result.exact else "a lower bound"
        click.echo(
            f"(whole archive via the search index: {result.checked} "
            f"candidate{'' if result.checked == 1 else 's'} checked, "
            f"count is {bound})"
        )
    if result.count:
        click.echo(result.english_window())
    for warning in result.warnings:
        click.echo(f"warning: {cell(warning)}")
    for sample in result.samples:
        a = sample.stored.article
        title = cell(a.title, CELL_CHARS)
        click.echo(f"\n{words.time(a.published_at)}  {spelled(a.source_key)}  {title}")
        for hit in sample.explanation.hits:
            click.echo(f"    {cell(hit.term)} in {hit.field}: {cell(hit.snippet_text)}")
