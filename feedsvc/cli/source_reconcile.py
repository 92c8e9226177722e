"""``feedsvc source reconcile``: one reconciliation pass now (SPEC §10), as the service runs
every ``source.reconcile_seconds``, for what the service's passes leave public on purpose.

The service withdraws nothing when more than half of the window's articles would go at once
(a half-restored table looks so) and looks only ``source.reconcile_days`` back: a newsroom that
did delete a whole section, or a story older than the window, saw it stay in feeds with a
WARNING each pass and nothing to do about it (a tester's). ``--bulk`` confirms the deletions
(the other safety rules hold: an unreadable source or an empty window withdraws nothing);
``--days`` looks further back; ``--dry-run`` lists what would go (each mode's line says what
it did: "withdrew N", "would withdraw N (dry run: nothing changed)", "refused: N rows would
be withdrawn, …; re-run with --bulk"). The rows withdrawn end their
queued alerts and retract sent ones as the service's passes do; a running service renders the
feeds again within a minute (``touched``). Exit 0 when the pass ran, 1 when a safety rule
refused it or the source could not be read, 2 for a configuration it cannot run with.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import EXIT_FAILED, EXIT_USAGE, cell, fail, load_settings, open_db
from feedsvc.cli.params import Int, config_option

if TYPE_CHECKING:
    from feedsvc.lifecycle.reconcile import Pass

#: keys listed by name (the count says how many there are)
LISTED = 20


@click.command("reconcile")
@config_option
@click.option(
    "--days", type=Int(1, 3660), default=None,
    help="Look this many days back (default source.reconcile_days).",
)  # fmt: skip
@click.option(
    "--bulk", is_flag=True,
    help="Withdraw even when more than half of the window's articles are gone at once.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List what would be withdrawn; change nothing.")
def reconcile(config_file: str | None, days: int | None, bulk: bool, dry_run: bool) -> None:
    """Withdraw the articles whose source rows were deleted (one pass, now)."""
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.cli.source import connect_advice, first_line, report_mapping
    from feedsvc.lifecycle.reconcile import Reconciler
    from feedsvc.source import SourceError, external_source
    from feedsvc.source.driver_failed import DriverFailed
    from feedsvc.source.recent import NotReconcilable

    settings = load_settings(config_file, logging_=False)
    s = settings.source
    if not s.url:
        fail("the built-in table's rows are withdrawn by `feedsvc import` (\"withdrawn\": "
             "true): nothing to reconcile without source.url", EXIT_USAGE)  # fmt: skip
    window = float(days) if days is not None else s.reconcile_days
    # the pass's own WARNING on a refusal is the service's log line: here _report says it
    logging.getLogger("feedsvc.lifecycle.reconcile").setLevel(logging.ERROR)
    src = external_source(s.url, s.table, s.columns, settings.source_tz, s.timeouts())
    db = open_db(settings, write=not dry_run)
    try:
        done = Reconciler(db, src, window).run(bulk=bulk, dry_run=dry_run)
    except NotReconcilable as exc:
        fail(f"cannot reconcile: {exc}", EXIT_USAGE)
    except SourceError as exc:  # the mapping does not fit the table: `source check`'s words
        report_mapping(exc.problems)
    except SQLAlchemyError as exc:
        fail(f"cannot read the source: {first_line(exc)}{connect_advice(exc)}", EXIT_FAILED)
    except DriverFailed as exc:  # the database answered; its driver failed (named in one line)
        fail(f"cannot read the source: {exc}", EXIT_FAILED)
    finally:
        src.dispose()
    _report(done, window, dry_run)
    if done.refused is not None:
        raise SystemExit(EXIT_FAILED)


def _report(done: Pass, window: float, dry_run: bool) -> None:
    """What the pass found and did, in words that say which mode ran (``catalogue``'s
    ``cli.reconcile_*``): withdrew N; would withdraw N (``--dry-run``); refused, N rows would be
    withdrawn (the share rule: ``--bulk``); then the rows concerned (``LISTED`` of them). Under
    a header "refused to withdraw N" a dry run's list read as a refusal (an operator's)."""
    from feedsvc.catalogue import ENGLISH

    head = ENGLISH("cli.reconcile_head", days=f"{window:g}", held=done.held, seen=done.seen)
    if done.refused is not None and done.gone:
        said = ENGLISH("cli.reconcile_refused_share", count=len(done.gone), held=done.held)
    elif done.refused is not None:
        said = ENGLISH("cli.reconcile_refused", why=done.refused)
    elif dry_run:
        said = ENGLISH("cli.reconcile_would", count=len(done.gone))
    else:
        said = ENGLISH("cli.reconcile_withdrew", count=len(done.withdrawn))
    click.echo(f"{head}; {said}")
    for sid, key in done.gone[:LISTED]:
        click.echo(f"  row id={cell(sid)} ({cell(key)})")
    if len(done.gone) > LISTED:
        click.echo(f"  {ENGLISH('cli.reconcile_more', count=len(done.gone) - LISTED)}")
    if done.fallen_back:
        click.echo(ENGLISH("cli.reconcile_kept", count=len(done.fallen_back)))
    if done.refused is not None:
        click.echo(f"feedsvc: nothing withdrawn: {done.refused}", err=True)
