"""What ``feedsvc source check`` says of a sample row's visibility (SPEC §10): ``[source.columns]
visible`` and a scheduled row.

A row the ``visible`` expression holds false or NULL is read and stored, never shown: no
feed, page, preview or alert. A mistyped expression (``post_status = 'published'`` where
WordPress writes ``'publish'``) therefore made every row a draft while ``source check``
listed each sample row as "published …" and said OK; the service then ran with empty feeds
and nothing in its log to say why. Each sample row the expression hides is marked, and a
sample with no visible row at all is a warning (stderr, exit unchanged: the newest rows of a
real CMS may all be drafts).

A row whose ``published_at`` is after now (a scheduled post) is stored and shown from that
time only; it was listed as if it would be alerted now, so a newsroom checking tomorrow
morning's scheduled story read "published …" and expected the alert. It is marked
``SCHEDULED: shown from <time>`` in ``site.timezone`` with its offset (as every time the CLI
prints for people), and the sample's summary counts each kind. A row both held back and
scheduled is ``NOT VISIBLE``: its time coming shows nothing (``lifecycle.visibility``).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from feedsvc.config import Settings
    from feedsvc.lifecycle.visibility import Visibility
    from feedsvc.source.rows import SourceRow


def not_visible_note(settings: Settings) -> str:
    """Appended to a sample row's line when the source holds the row back: why, in the
    source's own terms (an external CMS's ``visible``; the built-in table's ``withdrawn``)."""
    if settings.source.url:
        return "NOT VISIBLE: stored, never shown (source.columns.visible is false or NULL)"
    return 'NOT VISIBLE: stored, never shown (imported with "withdrawn": true)'


def hidden_by_source(row: SourceRow) -> bool:
    """Whether the source holds ``row`` back (its ``visible`` read into ``withdrawn``:
    ``feedsvc.source.values``)."""
    return bool(row.record.get("withdrawn"))


def visible_warning(settings: Settings, sample: list[SourceRow]) -> str | None:
    """The warning for a sample of an external source none of whose rows ``visible`` shows,
    or None (no sample, no ``visible`` mapped, the built-in table, or a row shown)."""
    visible = settings.source.columns.visible
    if not settings.source.url or not visible or not sample:
        return None
    if not all(hidden_by_source(row) for row in sample):
        return None
    count = len(sample)
    rows = "the newest row is not" if count == 1 else f"none of the newest {count} rows is"
    return (
        f"source.columns.visible: {rows} visible ({visible!r} is false or NULL): feedsvc "
        "stores such rows and shows none of them (no feed, page or alert). If the CMS has "
        "published what it holds, correct the expression to what the CMS writes for a "
        "published row (WordPress: post_status = 'publish'); `--rows 100` looks at more rows"
    )


def sample_state(row: SourceRow, published_at: datetime, now: datetime) -> Visibility:
    """What readers see of a parsed sample row at ``now`` (aware UTC), by the service's one
    rule (:func:`feedsvc.lifecycle.visibility.visibility`): ``WITHDRAWN`` when the source
    holds it back, whatever its date, else ``SCHEDULED`` while ``published_at`` is ahead."""
    from feedsvc.lifecycle.visibility import Lifecycle, visibility

    withdrawn = now if hidden_by_source(row) else None
    return visibility(Lifecycle(published_at, withdrawn_at=withdrawn), now)


def state_note(settings: Settings, state: Visibility, published_at: datetime) -> str:
    """Appended to a sample row's line: ``""`` for a row shown now, else why it is not."""
    from feedsvc.lifecycle.visibility import Visibility

    if state is Visibility.SCHEDULED:
        from feedsvc.local_times import local_time

        when = local_time(published_at, settings.tz)  # site.timezone, its offset, the second
        return f" | SCHEDULED: shown from {when} (no feed, page or alert before then)"
    if state is Visibility.PUBLIC:
        return ""
    return f" | {not_visible_note(settings)}"


def sample_summary(states: list[Visibility], rejected: int, held: int = 0) -> str:
    """The sample's rows counted by what readers see of them: ``N shown now, N scheduled,
    N not visible, N rejected`` (every count, zeros too: one shape to read), then ``, N held
    back`` when ingest holds ``held`` rows back for their cursor value (not in ``states``)."""
    from feedsvc.lifecycle.visibility import Visibility

    n = Counter(states)
    return (
        f"{n[Visibility.PUBLIC]} shown now, {n[Visibility.SCHEDULED]} scheduled, "
        f"{len(states) - n[Visibility.PUBLIC] - n[Visibility.SCHEDULED]} not visible, "
        f"{rejected} rejected" + (f", {held} held back" if held else "")
    )


def edit_time_note(settings: Settings, updated_at: datetime | None, now: datetime) -> str:
    """Appended to a sample row's line whose ``updated_at`` is more than a minute after
    ``now`` (this machine's clock, aware UTC): the CMS server that wrote it runs fast, or
    ``source.timezone`` is off. Ingest believes such a version only up to when it reads it
    (``feedsvc.versions.newer``) and logs it; said here so it is seen before a first sync."""
    from datetime import timedelta

    if updated_at is None or updated_at <= now + timedelta(minutes=1):
        return ""
    from feedsvc.local_times import local_time

    minutes = round((updated_at - now).total_seconds() / 60)
    when = local_time(updated_at, settings.tz)
    return (
        f" | updated_at {when} is {minutes} min after this machine's clock: a CMS server "
        "clock running fast, or source.timezone (its version counts as the time it is read)"
    )
