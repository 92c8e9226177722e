"""``feedsvc run`` and ``feedsvc status``; :func:`one_scheduler` and :func:`stopped_early`, shared
with ``demo`` (``demo_cmd``), as is :func:`~feedsvc.cli.listening.listen` (its own module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, cast

import click

from feedsvc.cli.common import (
    EXIT_USAGE,
    cell,
    configure_logging,
    fail,
    lite_read,
    load_settings,
    open_db,
    run_async,
)
from feedsvc.cli.listening import listen
from feedsvc.cli.params import Int, config_option
from feedsvc.cli.pauses import English, error_lines, pause_lines, pause_objects
from feedsvc.local_times import local_time  # also `cli.service.local_time`, as before

if TYPE_CHECKING:
    from pathlib import Path

    from feedsvc.app import Service
    from feedsvc.config import Settings
    from feedsvc.db import Database
    from feedsvc.state_disk import StateDisk
    from feedsvc.store import lite


@click.command()
@config_option
@click.option("--no-http", is_flag=True, help="Do not serve HTTP (a worker replica).")
@click.option("--no-scheduler", is_flag=True, help="Do not ingest or dispatch (a web replica).")
@click.option(
    "--no-bot", is_flag=True, help="Do not run the chat bots (Telegram, Zalo) that answer commands."
)
@click.option("--log-json", is_flag=True, help="Log one JSON object per line.")
@click.option("--port", type=Int(0, 65535), default=None, help="HTTP port (default: http.port).")
def run(
    config_file: str | None,
    no_http: bool,
    no_scheduler: bool,
    no_bot: bool,
    log_json: bool,
    port: int | None,
) -> None:
    """Run the service in the foreground until SIGTERM, SIGINT or SIGHUP (a closed terminal)."""
    from feedsvc.shutdown import StartupStopped, StopSignals

    signals = StopSignals().install()  # first: a signal at any moment of start-up stops it
    try:
        with signals.interruptible():  # imports and config: nothing to undo
            from feedsvc.app import Roles, serve

            if no_http and no_scheduler and no_bot:  # it would start, do nothing, look healthy
                fail("--no-http, --no-scheduler and --no-bot leave nothing to run", EXIT_USAGE)
            settings = load_settings(config_file, logging_=False)
            if log_json:
                settings.log.format = "json"
            if port is not None:
                settings.http.port = port
            configure_logging(settings)
            roles = Roles(http=not no_http, scheduler=not no_scheduler, bot=not no_bot)
            if roles.scheduler:
                one_scheduler(settings.database.url)  # held until the process ends
            http = settings.http
            bound = listen(http.host, http.port, reuse_port=http.reuse_port) if roles.http else None
            if bound is not None:  # `--port 0`: the port the system gave, for the start-up log
                http.port = bound.port
            http.follow_listener()  # an unset http.public_url: the address listened on
        run_async(serve(settings, roles, listeners=bound, signals=signals))
    except StartupStopped as stopped:
        stopped_early(stopped.signum)
    finally:
        signals.restore()


def one_scheduler(url: str, *, replacing: bool = False) -> None:
    """On an SQLite state DB, hold its scheduler lock (:mod:`feedsvc.pid_lock`) for as long as
    the process runs (its descriptor is never closed; nothing on another database, nor when
    the state DB or the lock file cannot be made or written: the state DB's own errors say why
    next, and a refused ``run`` leaves no lock file behind); another ``run`` with the
    scheduler holding it is exit 2, before anything starts, and so is a lock file there that
    this user cannot open.

    Why: a dispatcher on SQLite takes back every lease at its start (one file, one process),
    so a second scheduler took the first one's alerts in flight and sent them twice (a
    tester's: 48 messages for 45 deliveries). Several schedulers need PostgreSQL, where leases
    expire; a second process on the same SQLite file may serve HTTP and the bot
    (``--no-scheduler``).

    A lock file this user may not open (left by a ``run`` of another user, an operator's on
    the service's DB) was taken for one that cannot be made: no lock was held, and two
    schedulers ran on one file without a word (a tester's). An orphaned state DB
    (``sqlite_file.orphan_problem``) is refused before the lock file is made (a tester's: one
    was left beside the leftovers); one missing while another scheduler holds the lock is
    exit 1, the served state DB's words (``served_state.served_problem``: removing the
    ``-wal`` the orphan's advice names would lose that service's writes). ``replacing`` (the
    demo, which removes the last demo's DB under this lock): the lock is taken whatever that
    file allows."""
    import os

    from feedsvc.db.errors import unwritable_file
    from feedsvc.db.served_claim import claimed
    from feedsvc.db.served_state import served_problem
    from feedsvc.db.sqlite_file import orphan_problem
    from feedsvc.db.sqlite_reading import process_user
    from feedsvc.db.where import state_db
    from feedsvc.disk_space import exit_code, no_space, out_of_space
    from feedsvc.pid_lock import Held, scheduler_lock, take

    where = state_db(url)
    if not where.sqlite or where.file is None:
        return
    if not replacing and (served := served_problem(where.file)) is not None:
        fail(served)  # the file gone under a running scheduler: not the orphan's advice
    if not replacing and (problem := orphan_problem(where.file)) is not None:
        fail(problem, EXIT_USAGE)  # the state DB's check's words, before a lock file is made
    if not replacing and (claim := claimed(where.file)) is not None and claim.schedulers:
        # its lock moved away with the glob, or removed: the claim still says who runs it
        two_schedulers(where.file, f" (pid {', '.join(map(str, claim.schedulers))})")
    if not replacing and unwritable_file(where) is not None:
        return
    lock = scheduler_lock(where.file)
    try:
        take(lock)
    except Held as held:
        two_schedulers(where.file, f" (pid {held.pid})" if held.pid else "")
    except OSError as exc:
        if out_of_space(exc):  # a moment's: exit 1, retried by a supervisor (disk_space)
            fail(f"{no_space(lock.parent)}, then start again (the scheduler lock {lock} "
                 "could not be written)", exit_code(exc))  # fmt: skip
        if not os.path.lexists(lock):
            return  # its directory takes no new file: the state DB's errors say so next
        why = (exc.strerror or type(exc).__name__).lower()
        fail(
            f"cannot open the scheduler lock {lock} ({why}), which keeps a second feedsvc run "
            f"with the scheduler off the SQLite state DB {where.file}: make it writable for the "
            f"user {process_user()} as the database file is (chown, chmod), or remove it while "
            "no feedsvc runs on that DB",
            exit_code(exc),
        )


def two_schedulers(file: Path, pid: str) -> NoReturn:
    """Refuse a second scheduler on the SQLite state DB ``file`` (exit 2; ``pid``: `` (pid
    N)``, or nothing): the one decision's words, whether the first one's scheduler lock or its
    served claim (``feedsvc.db.served_claim``: the lock went with ``mv state.db*``, or was
    removed; a tester's second scheduler then started beside the first) said so."""
    fail(
        f"another feedsvc run{pid} runs the scheduler (ingest and alerts) on the SQLite "
        f"state DB {file}: two would take each other's alerts in flight and send "
        "them twice. Stop it, or start this one with --no-scheduler (HTTP and the bot "
        "only); several schedulers need PostgreSQL",
        EXIT_USAGE,
    )


def stopped_early(signum: int) -> NoReturn:
    """A signal while the command imported or read its configuration: nothing had started,
    so nothing is left to stop. SIGTERM is exit 0 (README: an orderly stop), SIGINT 130,
    SIGHUP 129 (:attr:`feedsvc.shutdown.StopSignals.exit_code`)."""
    import signal

    from feedsvc.cli import terminate

    if signum == signal.SIGTERM:
        terminate.tell("feedsvc: stopped by SIGTERM during start-up")
        raise SystemExit(0)
    interrupt = terminate.interrupt_for(signum)
    terminate.say(interrupt)
    raise SystemExit(terminate.exit_code(interrupt))


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(config_file: str | None, as_json: bool) -> None:
    """What the service is doing: last ingest, lag, counts, queue depth."""
    from feedsvc.state_disk import said, seen_from_here
    from feedsvc.status import STATE_DISK_FULL

    settings = load_settings(config_file, secrets=False)
    # a time inside a listed line: ISO UTC for JSON (/api/status's), else as every other time
    when = None if as_json else partial(local_time, tz=settings.tz)
    disk = seen_from_here(settings.database.url)  # its file system now: no service's memory
    with lite_read(settings) as reader:
        if reader is not None:
            facts, pauses, errors, ingest = _lite_status(settings, reader, when, disk)
        else:
            facts, pauses, errors, ingest = _db_status(settings, when, disk)
    english = English(settings.tz)
    unset = _unset_tokens(settings)  # "no token set", not "not available", for these
    facts["chats_not_receiving"] = pause_lines(pauses, english)
    if as_json:  # /api/status's name and shape of the same chats (`chats_not_receiving`: kept)
        facts["chat_pauses"] = pause_objects(pauses, english)
    facts["recent_errors"] = error_lines(errors, english)
    if as_json:  # the text's notes on the channels: this command's reading, not the service's
        shown_modes = facts.get("channels") or {}
        noted = {k: english.channel_note(v, unset.get(k)) for k, v in shown_modes.items()}
        facts["channel_notes"] = {k: v for k, v in noted.items() if v is not None}
    if as_json:
        # as /api/status writes them (pydantic's JSON mode): ISO 8601 times, "Z" for UTC;
        # json's default=str wrote "2026-12-01 10:02:08.923653+00:00"
        from pydantic_core import to_jsonable_python

        shown = to_jsonable_python(facts, fallback=str)
        # a bidi override in an error or a CMS key as a JSON escape: nothing a terminal acts on
        from feedsvc.logs import escape_json

        click.echo(escape_json(json.dumps(shown, indent=2, ensure_ascii=False)))
        return
    # every value through `cell` once: a quarantined CMS row's key or an error holding a line
    # break or a bidi override printed raw forged a line of its own (the lines of
    # :data:`_SHOWN_LISTS` are cells already: `cell` doubles an escape's backslash)
    # a second key of a figure (`queue_depth`, `deliveries_pending`'s) is for scripts: a text
    # line of each said it twice
    from feedsvc.status import REFUSED_BY  # the channels line says it

    shown_facts = {k: v for k, v in facts.items() if k not in _JSON_ONLY | {REFUSED_BY}}
    width = max(len(k) for k in shown_facts)
    for key, value in shown_facts.items():
        if isinstance(value, dict):  # channels: "telegram on, zalo off, apprise on"
            refused = facts.get(REFUSED_BY) or {}
            shown = ", ".join(
                _channel_cell(k, v, english, refused.get(k, ()), settings.tz, unset.get(k))
                for k, v in value.items()
            )
            click.echo(f"{key.ljust(width)}  {shown}")
        elif isinstance(value, list):
            click.echo(f"{key.ljust(width)}  {_listed(key, value, facts)}")
            for line in value:
                click.echo(f"{'':{width}}    {line if key in _SHOWN_LISTS else cell(line)}")
        elif isinstance(value, datetime):
            click.echo(f"{key.ljust(width)}  {local_time(value, settings.tz)}")
        elif key == "ingest_lag_seconds" and (words := english.backlog(ingest)) is not None:
            click.echo(f"{key.ljust(width)}  {cell(value)} ({cell(words)})")
        elif key == STATE_DISK_FULL:  # yes/no and what is left where (JSON: `state_db_disk`)
            click.echo(f"{key.ljust(width)}  {cell(said(disk))}")
        elif key == "ingest_cursor" and isinstance(value, str):  # "<ISO UTC> / <row id>"
            at, _, row = value.partition(" / ")
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
            click.echo(f"{key.ljust(width)}  {local_time(moment, settings.tz)} / {cell(row)}")
        else:  # unknown (never ingested, no backlog) is "-", as in most CLIs; JSON keeps null
            click.echo(f"{key.ljust(width)}  {'-' if value is None else cell(value)}")


def _unset_tokens(settings: Settings) -> dict[str, str]:
    """``{channel: its token's setting}`` for each channel whose token this command's
    configuration does not set at all (``channel_modes.token_set``: neither the value nor its
    ``*_file``): its note says so (``English.channel_note``)."""
    from feedsvc.channel_modes import MISSING_SETTING, token_set

    return {c: key for c, key in MISSING_SETTING.items() if not token_set(settings, c)}


def _channel_cell(
    channel: str,
    shown: str,
    english: English,
    refused: Iterable[dict[str, Any]],
    tz: tzinfo,
    unset: str | None = None,
) -> str:
    """``telegram sent_elsewhere (sent by a running service; this shell has no token)``: a
    channel's shown mode (``channel_modes.shown_modes``) and the catalogue's note on it; for
    ``refused``, whose tokens (``status.refused_by``: ``token 1a2b3c4d refused in
    web-2:1:ab12cd at …``, the fingerprint, never the token)."""
    note = english.channel_note(shown, unset)
    whose = [
        f"token {r['token'] or '?'} refused in {r['process'] or 'a process'}"
        f" at {local_time(r['last_at'], tz)}"
        for r in refused
    ]
    notes = "; ".join([*([note] if note else []), *whose])
    return f"{cell(channel)} {cell(shown)}" + (f" ({cell(notes)})" if notes else "")


#: The facts whose lines ``status`` builds from cells itself (for ``--json`` too).
_SHOWN_LISTS = frozenset({"recent_errors", "chats_not_receiving"})

#: Keys ``--json`` gives that the text leaves out: a fact's second name
#: (:data:`feedsvc.status.ALIASES`), ``chat_pauses`` (``chats_not_receiving``'s lines) and
#: ``quarantined`` (:data:`feedsvc.status.QUARANTINED`: ``quarantined_rows``' lines as data),
#: ``channel_notes`` (the channels line's notes), ``state_db_disk`` (the disk line's figures).
_JSON_ONLY = frozenset(
    {"queue_depth", "chat_pauses", "quarantined", "channel_notes", "state_db_disk"}
)

RECENT_ERRORS = 10  # deliveries with an error listed by `feedsvc status`


def _listed(key: str, value: list[Any], facts: dict[str, Any]) -> str:
    """The heading of a listed fact: its length, or for the quarantine list (the newest
    ``status.QUARANTINE_LISTED``) "newest 20 of 31" when there are more than it lists: a bare
    20 beside ``ingest_quarantined 31`` read as a second, different count."""
    total = facts.get("ingest_quarantined")
    if key == "quarantined_rows" and isinstance(total, int) and total > len(value):
        return f"newest {len(value)} of {total}"
    return str(len(value))


#: facts, pauses, errors, the ingest state (``ingest_state.IngestState``: its words on the lag line)
_StatusParts = tuple[dict[str, Any], Sequence[Any], Sequence[Any], Any]


_When = Callable[[datetime], str] | None  # how a listed line writes a time (None: ISO UTC)


def _db_status(settings: Settings, when: _When, disk: StateDisk) -> _StatusParts:
    """The facts, paused chats and recent errors through SQLAlchemy (any state DB)."""
    from feedsvc import operations as ops
    from feedsvc.status import flatten, ingest_fact, status_facts

    db = open_db(settings, write=False)
    facts = status_facts(_status_view(settings, db), disk=disk)
    details = ops.status_details(db, RECENT_ERRORS)
    return flatten(facts, when), details.chat_pauses, details.recent_errors, ingest_fact(facts)


def _lite_status(
    settings: Settings, reader: lite.Reader, when: _When, disk: StateDisk
) -> _StatusParts:
    """The same over the driver itself (``feedsvc.store.lite``: SQLite or PostgreSQL): no
    SQLAlchemy import. ``now`` is ``Database.now``'s clock (the server's on PostgreSQL)."""
    from feedsvc.channel_modes import channel_modes
    from feedsvc.db.urls import shown_url
    from feedsvc.status import QUARANTINE_LISTED, facts_from, flatten, ingest_fact
    from feedsvc.store import lite

    source = _source_name(settings)
    now = reader.now()
    reads = lite.read_status(reader, source, QUARANTINE_LISTED)
    facts = facts_from(
        reads,
        source=source,
        now=now,
        poll_seconds=settings.source.poll_seconds,
        # the setting, as /api/status gives it (passwords masked); reader.shown names the file
        database=shown_url(settings.database.url) if reader.backend == "sqlite" else reader.shown,
        started_at=None,
        channels=channel_modes(settings, reads.tokens_seen),
        disk=disk,
    )
    pauses = lite.chat_pauses(reader, now)
    errors = lite.recent_errors(reader, RECENT_ERRORS)
    return flatten(facts, when), pauses, errors, ingest_fact(facts)


def _source_name(settings: Settings) -> str:
    """The name ingest records the configured source's cursor under."""
    from feedsvc.store.records import BUILTIN_SOURCE, external_source_name

    return external_source_name(settings.source.table) if settings.source.url else BUILTIN_SOURCE


class _SourceName:
    def __init__(self, name: str) -> None:
        self.name = name


class _StatusView:
    """What :func:`feedsvc.status.collect_status` reads from a Service (the state DB, the
    settings, the source's name), without building one: a Service brings the bot, the web
    app and the dispatcher with it, seconds of imports for a command that reads a few rows."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.started_at = None  # not a running service
        self.source = _SourceName(_source_name(settings))
        self.ingestor = self
        from feedsvc.store.channel_tokens import modes_on

        with db.read() as conn:  # as a service started with these settings would settle them
            self.channel_modes = modes_on(conn, settings)


def _status_view(settings: Settings, db: Database) -> Service:
    return cast("Service", _StatusView(settings, db))
