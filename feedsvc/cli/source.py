"""``feedsvc source check``: is the source (built-in or a CMS table) mapped right?

Connects, reflects the table, prints each article field's column or expression with its type,
parses the three newest rows as articles, and lists *every* mapping problem by its config key,
so an operator fixes the mapping in one pass. Exit 0 ok, 2 mapping errors, 1 cannot connect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    cell,
    command_name,
    load_settings,
    note,
    open_db,
)
from feedsvc.cli.params import Int, config_option
from feedsvc.cli.source_cursor import SHOWN, cursor_warnings, held_back, mapping_problem
from feedsvc.cli.source_ids import id_warnings
from feedsvc.cli.source_reconcile import reconcile
from feedsvc.cli.source_visible import (
    edit_time_note,
    hidden_by_source,
    sample_state,
    sample_summary,
    state_note,
    visible_warning,
)
from feedsvc.cli.source_zones import zone_warnings

if TYPE_CHECKING:
    from datetime import datetime

    from feedsvc.config import Settings
    from feedsvc.lifecycle.visibility import Visibility
    from feedsvc.source import SqlSource
    from feedsvc.source.rows import SourceRow


def first_line(exc: BaseException) -> str:
    detail = getattr(exc, "orig", None) or exc
    return str(detail).strip().splitlines()[0][:1000] if str(detail).strip() else type(exc).__name__


def _expression_fails(expression: str | None, exc: BaseException) -> str:
    """A ``[source.columns]`` SQL expression's error as the operator wrote it: the expression
    quoted, the driver's first line without feedsvc's internal alias (``AS f_visible``) and the
    statement around it (``feedsvc.db.errors.unaliased``)."""
    from feedsvc.db.errors import unaliased

    return f'the SQL expression "{cell(expression, 200)}" fails: {unaliased(first_line(exc))}'


def _open(settings: Settings) -> tuple[SqlSource, str]:
    """The source and where it is, for printing (passwords masked, an SQLite file by its path:
    ``shown_db``)."""
    from feedsvc.db.urls import shown_db
    from feedsvc.source import builtin_source, external_source

    s = settings.source
    if s.url:
        source = external_source(s.url, s.table, s.columns, settings.source_tz, s.timeouts())
        return source, shown_db(s.url)
    db = open_db(settings, write=False)
    return builtin_source(db.engine), f"built-in table in {shown_db(settings.database.url)}"


@click.group()
def source() -> None:
    """Inspect the article source (the built-in table or an external CMS table), reconcile it."""


source.add_command(reconcile)


def connect_advice(exc: BaseException) -> str:
    """``": <what to do>"`` when the source's server refused the connection for a reason an
    operator acts on (no such database, a refused user, no server:
    :mod:`feedsvc.db.connect_errors`), else ``""``: it said only the driver's words."""
    from feedsvc.db.connect_errors import connect_advice, connect_trouble

    orig = getattr(exc, "orig", None)
    if not isinstance(orig, BaseException) or (kind := connect_trouble(orig)) is None:
        return ""
    return ": " + connect_advice(kind, orig, "source.url", "", state=False)


@source.command("check")
@config_option
@click.option(
    "--rows", type=Int(1, 100), default=3, show_default=True,
    help="Sample rows to parse (the newest; at most 100).",
)  # fmt: skip
def check(config_file: str | None, rows: int) -> None:
    """Reflect the table, show the mapping and sample rows; exit 2 on mapping errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.source import SourceError
    from feedsvc.source.diagnose import probe
    from feedsvc.source.driver_failed import DriverFailed

    settings = load_settings(config_file, logging_=False, secrets=False)
    src, where = _open(settings)
    table = settings.source.table if settings.source.url else "source_articles"
    click.echo(f"source: {where}, table {table}")
    try:
        bound = src.bind()
    except SourceError as exc:
        report_mapping(exc.problems)
    except SQLAlchemyError as exc:
        said = f"cannot connect to the source: {first_line(exc)}{connect_advice(exc)}"
        note(said)
        raise SystemExit(EXIT_FAILED) from None
    except DriverFailed as exc:  # the database answered; its driver failed: named, no traceback
        click.echo(f"feedsvc: cannot read the source: {exc}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    finally:
        if settings.source.url:
            src.dispose()
    problems: list[tuple[str, str]] = []
    cursor_col = settings.source.columns.cursor
    click.echo(f"cursor: {cursor_col} ({bound.ts.type}, compared as {bound.codec.kind})")
    click.echo(f"  id: {bound.id.name} ({bound.id.type})")
    click.echo("mapping:")
    for f in bound.mapping:
        if f.kind == "column":
            line = f"{f.source} ({f.type})"
        elif f.kind == "expression":
            line = f"expression {f.source}"
            try:
                probe(src, f.field)
            except SQLAlchemyError as exc:
                problems.append((f"source.columns.{f.field}", _expression_fails(f.source, exc)))
                line += "  ← FAILS"
        else:
            line = f"(absent: null{'' if f.source is None else f', no column {f.source!r}'})"
        click.echo(f"  {f.field:<13}{line}")
    unreadable: list[str] = []  # the sample's rows all rejected, each for its own reason
    if not problems:
        sample = _samples(src, settings, rows, problems, unreadable)
        if (hidden := visible_warning(settings, sample)) is not None:
            click.echo(f"warning: {cell(hidden, 1000)}", err=True)
        _misread_warnings(settings, sample)
        if (wrong := mapping_problem(src.codec, settings, sample)) is not None:
            problems.append(("source.columns.cursor", wrong))
        cursor_warnings(src, settings, len(sample), problems)
        id_warnings(src, settings, len(sample), problems)
        _key_warnings(src, settings)
        if not problems:
            zone_warnings(src, settings, sample, problems)
    if settings.source.url:
        src.dispose()
    if problems:
        report_mapping(problems)
    if unreadable:
        note(unreadable[0])
        raise SystemExit(EXIT_FAILED)
    click.echo("OK")


def _samples(
    src: SqlSource,
    settings: Settings,
    rows: int,
    problems: list[tuple[str, str]],
    unreadable: list[str],
) -> list[SourceRow]:
    """Print the newest ``rows`` rows parsed as articles; return those read (newest first).
    A sample the driver cannot read whole (any error: a value a conversion step refuses, as
    ingest's ``read_batch`` takes it) is read row by row, never a traceback.

    Every row rejected: by one mapping key they all name, a mapping problem (``problems``,
    exit 2); each for reasons of its own (a space in one's URL, another's title not UTF-8),
    the data (``unreadable``, exit 1): it blamed the first row's column's mapping (a tester's)."""
    listed: list[SourceRow | tuple[str, str]]
    try:
        listed = [*src.latest(rows)]
    except Exception as exc:
        found = _row_by_row(src, rows)
        if found is None:
            problems.append(("source.columns", f"sample query fails: {first_line(exc)}"))
            return []
        listed = found
    from datetime import UTC, datetime, timedelta

    click.echo(f"newest {len(listed)} row(s):")
    now = datetime.now(UTC)
    horizon = now + timedelta(seconds=settings.source.overlap_seconds)
    held = [
        None if isinstance(r, tuple) else held_back(src.codec, r.cursor, horizon) for r in listed
    ]
    shown = [_show_row(row, settings, now, note) for row, note in zip(listed, held, strict=True)]
    rejected = [r for r in shown if isinstance(r, tuple)]
    if listed:  # a row ingest holds back is no "shown now" (a tester's: a code as the cursor)
        states = [
            r for r, h in zip(shown, held, strict=True) if h is None and not isinstance(r, tuple)
        ]
        waiting = sum(
            h is not None and not isinstance(r, tuple) for r, h in zip(shown, held, strict=True)
        )
        click.echo(f"summary: {sample_summary(states, len(rejected), waiting)}")
    if listed and len(rejected) == len(listed):  # a bad row is quarantined; all: look why
        every = f"every one of the newest {len(listed)} row(s) is rejected"
        shared = frozenset.intersection(*(keys for _, keys, _ in rejected))
        named = [key for key in _key_order() if key in shared]
        if named:
            first, _, reason = rejected[0]
            said = f"{every}, e.g. id={first}: {cell(reason)}; check the mapping"
            problems.append((named[0], said))
        else:
            unreadable.append(
                f"{every}, each for reasons of its own (above): the CMS's data, not the mapping;"
                f" ingest quarantines such rows (`{command_name()} status` lists them)"
            )
    return [row for row in listed if not isinstance(row, tuple)]


def _key_order() -> list[str]:
    """The keys a rejected row's problems name, in the order a mapping problem names one."""
    from feedsvc.source.mapping import FIELDS

    return [*(f"source.columns.{field}" for field in FIELDS), "row"]


def _problem_keys(problem: str) -> frozenset[str]:
    """The mapping keys a read-stage problem names (``"summary is not valid UTF-8 …; title:
    cannot be read …"``: each of its parts starts with its field's name), else ``{"row"}``."""
    from feedsvc.source.mapping import FIELDS

    parts = problem.split("; ")
    keys = {
        f"source.columns.{f}"
        for f in FIELDS
        for part in parts
        if part.startswith((f"{f} ", f"{f}:"))
    }
    return frozenset(keys or {"row"})


def _show_row(
    row: SourceRow | tuple[str, str], settings: Settings, now: datetime, held: str | None = None
) -> tuple[str, frozenset[str], str] | Visibility:
    """Print one sampled row as the article it makes; (id, mapping keys, why) when rejected,
    else what readers see of it at ``now`` (:func:`~feedsvc.cli.source_visible.sample_state`)
    once ingest takes it — ``held``, when ingest holds it back now
    (:func:`~feedsvc.cli.source_cursor.held_back`), replaces that note on its line.
    ``(id, why)``: a row the driver cannot read (ingest quarantines it by its id)."""
    from feedsvc.articles import ArticleError, parse_article
    from feedsvc.keys import spelled
    from feedsvc.local_times import local_time

    if isinstance(row, tuple):
        id_, why = row
        click.echo(f"  id={cell(id_)}: REJECTED row: cannot be read: {cell(why)}")
        return id_, frozenset({"row"}), f"cannot be read: {why}"
    if row.problem is not None and hidden_by_source(row):  # ingest withdraws, as below
        from feedsvc.lifecycle.visibility import Visibility

        click.echo(
            f"  id={cell(row.id)} cursor={cell(row.cursor)}: NOT VISIBLE, its values not read"
            f" ({cell(row.problem)}): not stored; an article read from it before is withdrawn"
        )
        return Visibility.WITHDRAWN
    if row.problem is not None:  # ingest quarantines it (stage "read"): never shown as good
        click.echo(f"  id={cell(row.id)} cursor={cell(row.cursor)}: REJECTED {cell(row.problem)}")
        return str(row.id), _problem_keys(row.problem), row.problem
    try:
        a = parse_article(row.record, settings.source_tz)
    except ArticleError as exc:  # every problem of the row, each naming its mapping key
        said = "; ".join(
            f"{f'source.columns.{field}' if field else 'row'}: {cell(reason)}"
            for field, reason in exc.problems
        )
        if hidden_by_source(row):  # ingest withdraws its article, never quarantines it
            from feedsvc.lifecycle.visibility import Visibility

            click.echo(
                f"  id={cell(row.id)} cursor={cell(row.cursor)}: NOT VISIBLE, its values not"
                f" read ({said}): not stored; an article read from it before is withdrawn"
            )
            return Visibility.WITHDRAWN
        click.echo(f"  id={cell(row.id)} cursor={cell(row.cursor)}: REJECTED {said}")
        keys = frozenset(f"source.columns.{f}" if f else "row" for f, _ in exc.problems)
        return str(row.id), keys, exc.reason
    state = sample_state(row, a.published_at, now)
    click.echo(
        f"  id={cell(row.id)} cursor={cell(row.cursor)} → {spelled(a.source_key)} | "
        f"{cell(a.title, 60)} | published {local_time(a.published_at, settings.tz)} | "
        f"tags {cell(list(a.tags))} | {cell(a.url)}"
        + (state_note(settings, state, a.published_at) if held is None else f" | {held}")
        + edit_time_note(settings, a.updated_at, now)
    )
    return state


def _misread_warnings(settings: Settings, sample: list[SourceRow]) -> None:
    """Warn of sample text that is UTF-8 read as Latin-1 (:mod:`feedsvc.source.misread`)."""
    from feedsvc.source.misread import misread_fields

    for field, id_, read, meant in misread_fields((str(r.id), r.record) for r in sample):
        column = getattr(settings.source.columns, field)
        click.echo(
            f"warning: source.columns.{field}: row id={cell(id_)} reads {cell(read, 60)!r}, UTF-8"
            f" read as Latin-1 ({cell(meant, 60)!r} was meant): the CMS wrote UTF-8 into a"
            f" latin1 column; map it as CONVERT(CAST({column} AS BINARY) USING utf8mb4)"
            " (MySQL/MariaDB), or correct the column's character set",
            err=True,
        )


def _row_by_row(src: SqlSource, rows: int) -> list[SourceRow | tuple[str, str]] | None:
    """The newest ``rows`` rows, newest first, read as ingest reads a batch the driver refuses
    (:func:`feedsvc.ingest.isolate.read_isolated`); a row that does not read is (id, why).
    One bad value (PostgreSQL's ``'infinity'`` in a date column) made the whole sample "a
    mapping problem", exit 2, while ``run`` quarantines the row and goes on. None when no row
    of several reads alone (the mapping, or the source)."""
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.ingest.isolate import SystemicError, read_isolated

    try:
        keys = src.latest_positions(rows)
        good, bad = read_isolated(src, keys)
    except (SQLAlchemyError, SystemicError):
        return None
    read = {str(r.id): r for r in good}
    why = {q.source_id: q.reason for q in bad}
    return [read.get(k.id) or (k.id, why.get(k.id, "not read")) for k in reversed(keys)]


def _key_warnings(src: SqlSource, settings: Settings) -> None:
    """Warn (stderr, exit unchanged) when ``source_key`` is not unique among the newest rows
    (:data:`feedsvc.source.recent.DUPLICATE_SCAN`, by the cursor index: bounded on a big
    table): such rows are one article, the newest version's, and another row of the key takes
    over only when that row is deleted (README, "Keys given twice")."""
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.source.recent import duplicate_keys
    from feedsvc.source.row_ids import DUPLICATE_SCAN

    try:
        keys = duplicate_keys(src, SHOWN + 1)
    except SQLAlchemyError as exc:
        click.echo(f"warning: the key check fails: {first_line(exc)}", err=True)
        return
    if keys:
        more = ", and more" if len(keys) > SHOWN else ""
        shown = ", ".join(cell(k, 60) for k in keys[:SHOWN])
        click.echo(
            f"warning: source.columns.source_key = {settings.source.columns.source_key!r} is "
            f"not unique: several of the newest {DUPLICATE_SCAN} rows carry the key {shown}"
            f"{more}; they are one article (the newest version's row; another row of the key "
            "takes over only when that one is deleted)",
            err=True,
        )


def report_mapping(problems: list[tuple[str, str]]) -> None:
    """The mapping's problems (config key, message) on stderr, then exit 2 (``source check``'s
    and ``source reconcile``'s one wording)."""
    click.echo(f"{len(problems)} mapping problem(s):", err=True)
    for key, message in problems:
        click.echo(f"  {key}: {message}", err=True)
    raise SystemExit(EXIT_USAGE)
